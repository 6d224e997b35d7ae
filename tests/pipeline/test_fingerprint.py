"""Fingerprints: the stable digest, and the code hash of a step (its source, the product code
it reaches, whole product modules it uses; library code left out)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import PRODUCT

from prodml.pipeline.fingerprint import code_hash, digest
from prodml.pipeline.project import load_one
from prodml.pipeline.step import make_spec
from prodml.products import StepSpec

PIPELINE = """
import functools
import json
from prodml import step
from . import rates
from .shapes import Shape

def helper(x):
    return x + 1

def unrelated():
    return "not used by the step"

def ping(n):
    return pong(n - 1) if n else 0

def pong(n):
    return ping(n)

def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper

@traced
def wrapped_helper(x):
    return x * 2

@step(stage="ingress", outputs="bronze.a")
def a(ctx):
    return json.dumps([helper(1), ping(2), wrapped_helper(3)])

@step(stage="ingress", outputs="bronze.b")
def b(ctx):
    return rates.RATE

@step(stage="ingress", outputs="bronze.c")
def c(ctx):
    return Shape().area()
"""

RATES = "RATE = 0.5\n"

SHAPES = """
def side():
    return 2

class Shape:
    def area(self):
        return side() ** 2
"""


def write(root: Path, pipeline: str = PIPELINE, rates: str = RATES, shapes: str = SHAPES) -> Path:
    product = root / "p"
    product.mkdir(parents=True, exist_ok=True)
    (product / "product.yaml").write_text(PRODUCT.format(name="p"))
    (product / "pipeline.py").write_text(textwrap.dedent(pipeline))
    (product / "rates.py").write_text(rates)
    (product / "shapes.py").write_text(textwrap.dedent(shapes))
    return product


def hashes(product: Path) -> dict[str, str]:
    """The code hash of each step of the product, freshly imported."""
    loaded = load_one(product, "dev", product.parent)
    return {s.name: code_hash(s, product) for s in loaded.steps}


def test_digest_is_short_stable_and_ignores_key_order() -> None:
    first = digest({"a": 1, "b": [1, 2]}, "x")
    assert first == digest({"b": [1, 2], "a": 1}, "x")
    assert len(first) == 24 and int(first, 16) >= 0
    assert first != digest({"a": 2, "b": [1, 2]}, "x")
    assert digest("a", "b") != digest("b", "a")  # the order of parts counts


def test_digest_takes_values_json_does_not_know_as_text() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert digest(moment, Path("/x")) == digest(str(moment), "/x")


def test_a_sql_step_hashes_its_sql() -> None:
    spec = make_spec(name="s", stage="features", inputs=[], outputs="gold.s", sql="select 1")
    assert code_hash(spec, Path("/anywhere")) == digest("sql", "select 1")
    other = make_spec(name="s", stage="features", inputs=[], outputs="gold.s", sql="select 2")
    assert code_hash(other, Path("/anywhere")) != code_hash(spec, Path("/anywhere"))


def test_the_helpers_a_step_calls_are_part_of_its_code(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)
    write(tmp_path, PIPELINE.replace("return x + 1", "return x + 2"))
    after = hashes(product)
    assert after["a"] != before["a"]
    assert after["b"] == before["b"] and after["c"] == before["c"]  # they do not call helper


def test_code_the_step_does_not_reach_is_not(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)
    write(tmp_path, PIPELINE.replace('"not used by the step"', '"still not used by the step"'))
    assert hashes(product) == before


def test_mutually_recursive_and_decorated_helpers_are_followed(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)["a"]
    write(tmp_path, PIPELINE.replace("return ping(n)", "return ping(n) + 0"))
    assert hashes(product)["a"] != before
    write(tmp_path, PIPELINE.replace("return x * 2", "return x * 3"))
    assert hashes(product)["a"] != before  # reached through functools.wraps


def test_a_product_module_used_as_a_whole_is_hashed_whole(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)
    write(tmp_path, rates="RATE = 0.75\n")
    after = hashes(product)
    assert after["b"] != before["b"] and after["a"] == before["a"]


def test_a_class_brings_its_methods(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)["c"]
    write(tmp_path, shapes=SHAPES.replace("side() ** 2", "side() ** 3"))
    assert hashes(product)["c"] != before


def test_a_class_brings_what_its_methods_call(tmp_path: Path) -> None:
    product = write(tmp_path)
    before = hashes(product)["c"]
    write(tmp_path, shapes=SHAPES.replace("return 2", "return 3"))
    assert hashes(product)["c"] != before


def test_code_outside_the_product_is_left_to_the_package_versions(tmp_path: Path) -> None:
    product = write(tmp_path)
    steps = {s.name: s for s in load_one(product, "dev", tmp_path).steps}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # nothing of the steps lies under that root: they hash like a step with no code of its own
    assert code_hash(steps["a"], elsewhere) == code_hash(steps["b"], elsewhere) == digest([])
    assert code_hash(steps["a"], product) != digest([])


def test_a_step_without_source_hashes_like_no_code() -> None:
    fn = eval("lambda ctx: None")  # defined by eval: no source file
    spec = StepSpec(name="x", stage="ingress", inputs=(), outputs=("bronze.x",), fn=fn)
    assert code_hash(spec, Path.cwd()) == digest([])
