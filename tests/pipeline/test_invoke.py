"""Calling a step: what its code depends on (model config, shaping expectations), the params it
sees, the names its inputs bind to, input formats, and turning what it returns into tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from tests.helpers import PRODUCT, make_platform
from tests.pipeline.conftest import step_context

import prodml
from prodml.engine.base import Engine
from prodml.names import TableName
from prodml.pipeline.errors import StepFailedError
from prodml.pipeline.fingerprint import code_hash
from prodml.pipeline.invoke import as_format, param_names, produce, step_code, step_params
from prodml.pipeline.step import make_spec
from prodml.products import Product
from prodml.workspace import Workspace

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="silver.rows")
def rows(ctx):
    return ctx.sql("select 1 as x")

@step(stage="train", inputs=["silver.rows"], outputs="ml.fit")
def fit(ctx, rows):
    return rows
"""

MODEL = """
model:
  name: m
  gate: {{metrics: {{auc: {{min: {floor}}}}}}}
"""

TABLES = """
tables:
  silver.rows:
    expectations:
      - {{rule: not_null, column: x, action: {action}}}
"""


def load(tmp_path: Path, extra: str = "") -> Product:
    root = make_platform(tmp_path / "p", {"p": PIPELINE})
    (root / "products" / "p" / "product.yaml").write_text(PRODUCT.format(name="p") + extra)
    with prodml.connect(root) as ws:
        return ws.product("p")


def codes(product: Product) -> dict[str, str]:
    return {s.name: step_code(s, product) for s in product.steps}


def test_a_plain_step_depends_on_its_code_only(tmp_path: Path) -> None:
    product = load(tmp_path)
    assert codes(product) == {s.name: code_hash(s, product.path) for s in product.steps}


def test_a_model_step_depends_on_the_model_config(tmp_path: Path) -> None:
    plain = codes(load(tmp_path / "a"))
    strict = codes(load(tmp_path / "b", MODEL.format(floor=0.9)))
    lenient = codes(load(tmp_path / "c", MODEL.format(floor=0.5)))
    assert strict["fit"] != lenient["fit"] and strict["fit"] != plain["fit"]
    assert strict["rows"] == lenient["rows"] == plain["rows"]  # not a model stage


@pytest.mark.parametrize(
    ("action", "shapes"), [("drop", True), ("quarantine", True), ("warn", False), ("fail", False)]
)
def test_expectations_that_change_the_rows_written_are_part_of_the_code(
    tmp_path: Path, action: str, shapes: bool
) -> None:
    plain = codes(load(tmp_path / "a"))
    ruled = codes(load(tmp_path / "b", TABLES.format(action=action)))
    assert (ruled["rows"] != plain["rows"]) is shapes
    assert ruled["fit"] == plain["fit"]  # it does not write silver.rows


def test_params_a_step_sees(tmp_path: Path) -> None:
    product = load(tmp_path, "params: {c: 1, depth: 3}\n")
    everything = make_spec(name="a", stage="features", inputs=[], outputs="gold.a", sql="x")
    declared = make_spec(
        name="b", stage="features", inputs=[], outputs="gold.b", sql="x", params=["c"]
    )
    seen = step_params(everything, product.config.params)
    assert seen == {"c": 1, "depth": 3}
    seen["c"] = 99  # a copy: the product's params stay as configured
    assert product.config.params["c"] == 1
    assert step_params(declared, product.config.params) == {"c": 1}  # a missing one: load fails
    none = make_spec(name="n", stage="features", inputs=[], outputs="gold.n", sql="x", params=[])
    assert step_params(none, product.config.params) == {}


def test_inputs_bind_to_the_functions_parameters_or_their_conventional_names() -> None:
    def named(ctx, first, second):  # type: ignore[no-untyped-def]
        return first

    def star(ctx, *tables):  # type: ignore[no-untyped-def]
        return tables

    inputs = ["silver.orders", "landing:events"]
    spec = make_spec(name="named", stage="ingress", inputs=inputs, outputs="gold.x", fn=named)
    assert param_names(spec) == ["first", "second"]
    spec = make_spec(name="star", stage="ingress", inputs=inputs, outputs="gold.x", fn=star)
    assert param_names(spec) == ["orders", "events"]
    sql = make_spec(name="q", stage="ingress", inputs=inputs, outputs="gold.x", sql="select 1")
    assert param_names(sql) == ["orders", "events"]


@pytest.fixture
def dataset(engine: Engine) -> pads.Dataset:
    data = pads.dataset(pa.table({"n": [1, 2, 3]}))
    engine.register(TableName("dev", "silver", "numbers"), data, alias="nums")
    return data


def test_input_formats(engine: Engine, dataset: pads.Dataset) -> None:
    relation = as_format(engine, dataset, "duckdb", "nums")
    assert relation.aggregate("sum(n)").fetchall() == [(6,)]
    assert as_format(engine, dataset, "dataset", "nums") is dataset
    arrow = as_format(engine, dataset, "arrow", "nums")
    assert isinstance(arrow, pa.Table) and arrow.column("n").to_pylist() == [1, 2, 3]
    frame = as_format(engine, dataset, "pandas", "nums")
    assert isinstance(frame, pd.DataFrame) and frame["n"].tolist() == [1, 2, 3]
    polars = as_format(engine, dataset, "polars", "nums")
    assert isinstance(polars, pl.DataFrame) and polars["n"].to_list() == [1, 2, 3]


def test_a_sql_step_binds_only_the_params_it_names(shop_ws: Workspace, engine: Engine) -> None:
    spec = make_spec(
        name="q", stage="ingress", inputs=[], outputs="gold.q", sql="select $c * 2 as doubled"
    )
    ctx = step_context(shop_ws, engine, step="q")
    frames = produce(spec, ctx, [], engine, {"c": 21, "unused": "x"})
    assert frames["gold.q"].to_pylist() == [{"doubled": 42}]


def test_a_function_step_is_called_with_ctx_and_its_arguments(
    shop_ws: Workspace, engine: Engine
) -> None:
    def step_fn(ctx, numbers):  # type: ignore[no-untyped-def]
        return numbers.assign(step=ctx.step)

    spec = make_spec(
        name="f", stage="features", inputs=["silver.numbers"], outputs="gold.f", fn=step_fn
    )
    ctx = step_context(shop_ws, engine, step="f")
    frames = produce(spec, ctx, [pd.DataFrame({"n": [1, 2]})], engine, {})
    assert frames["gold.f"].to_pylist() == [{"n": 1, "step": "f"}, {"n": 2, "step": "f"}]


def test_several_outputs_come_back_as_a_dict(shop_ws: Workspace, engine: Engine) -> None:
    def split(ctx):  # type: ignore[no-untyped-def]
        reader = pa.RecordBatchReader.from_batches(
            pa.schema([("n", pa.int64())]), [pa.record_batch({"n": [2]})]
        )
        return {"gold.a": pa.table({"n": [1]}), "gold.b": reader}

    spec = make_spec(name="s", stage="ingress", inputs=[], outputs=["gold.a", "gold.b"], fn=split)
    frames = produce(spec, step_context(shop_ws, engine), [], engine, {})
    assert frames["gold.a"].to_pylist() == [{"n": 1}]
    assert isinstance(frames["gold.b"], pa.RecordBatchReader)  # streamed, not read here
    assert frames["gold.b"].read_all().to_pylist() == [{"n": 2}]


@pytest.mark.parametrize(
    "returned", [{"gold.a": pa.table({"n": [1]})}, [pa.table({"n": [1]})]], ids=["keys", "list"]
)
def test_several_outputs_need_exactly_their_keys(
    shop_ws: Workspace, engine: Engine, returned: object
) -> None:
    spec = make_spec(
        name="s", stage="ingress", inputs=[], outputs=["gold.a", "gold.b"], fn=lambda ctx: returned
    ).with_product("shop")
    with pytest.raises(StepFailedError) as info:
        produce(spec, step_context(shop_ws, engine), [], engine, {})
    assert (info.value.step, info.value.run_id) == ("shop.s", "r1")
    assert f"returned builtins.{type(returned).__name__}; a step with several outputs" in str(
        info.value
    )
    assert "exactly the keys gold.a, gold.b" in str(info.value)


def test_an_unsupported_return_names_the_output_and_the_code(
    shop_ws: Workspace, engine: Engine
) -> None:
    spec = make_spec(
        name="s",
        stage="ingress",
        inputs=[],
        outputs="gold.a",
        fn=lambda ctx: [1, 2],
        source_file="/code/pipeline.py",
        line=12,
    ).with_product("shop")
    with pytest.raises(StepFailedError) as info:
        produce(spec, step_context(shop_ws, engine), [], engine, {})
    assert info.value.message == (
        "step shop.s failed in run r1: returned builtins.list for gold.a; expected a pyarrow "
        "Table or RecordBatchReader, a DuckDB relation, a pandas or a Polars DataFrame"
    )
    assert info.value.hint == "return a frame from /code/pipeline.py:12"
