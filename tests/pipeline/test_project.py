"""Loading products: product directories, the steps of a pipeline module and of sql/ files,
relative imports within a product, fresh re-imports, and the definition errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests.helpers import PRODUCT

from prodml.errors import ConfigError, NotFoundError
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.pipeline.project import load_one, load_products, product_dirs, require_product

PIPELINE = """
from prodml import step
from .helpers import imported, double

@step(stage="ingress", outputs="bronze.first")
def first(ctx):
    return ctx.sql(f"select {double(1)} as x")

@step(stage="features", inputs=["bronze.first"], outputs="silver.second")
def second(ctx, first):
    return first
"""

HELPERS = """
from prodml import step

def double(x):
    return 2 * x

@step(stage="ingress", outputs="bronze.elsewhere")
def imported(ctx):
    return ctx.sql("select 1 as y")
"""

SQL = """/* prodml
stage: features
inputs: [silver.second]
outputs: gold.third
*/
select * from second
"""


def write_product(
    products: Path, name: str, pipeline: str | None = PIPELINE, extra: str = ""
) -> Path:
    path = products / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "product.yaml").write_text(PRODUCT.format(name=name) + extra)
    if pipeline is not None:
        (path / "pipeline.py").write_text(textwrap.dedent(pipeline))
        (path / "helpers.py").write_text(textwrap.dedent(HELPERS))
    return path


def test_product_dirs_are_those_with_a_product_yaml(tmp_path: Path) -> None:
    products = tmp_path / "products"
    write_product(products, "zeta", None)
    write_product(products, "alpha", None)
    (products / "notes").mkdir()
    (products / "README.md").write_text("x")
    assert product_dirs(products) == {"alpha": products / "alpha", "zeta": products / "zeta"}
    assert list(product_dirs(products)) == ["alpha", "zeta"]
    assert product_dirs(tmp_path / "missing") == {}


def test_steps_of_the_module_and_the_sql_files_in_order(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop")
    (path / "sql").mkdir()
    (path / "sql" / "third.sql").write_text(SQL)
    product = load_one(path, "dev", tmp_path)
    assert product.name == "shop" and product.path == path
    # helpers.imported is a step of another module: importing it does not make it one here
    assert [s.qualified for s in product.steps] == ["shop.first", "shop.second", "shop.third"]
    first, _, third = product.steps
    assert first.source_file == str(path / "pipeline.py") and first.line == 5
    assert third.sql == "select * from second" and third.inputs == ("silver.second",)


def test_a_product_module_imports_its_siblings(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop")
    first = load_one(path, "dev", tmp_path).steps[0]
    assert first.fn is not None
    assert first.fn.__module__ == "prodml_products.shop.pipeline"
    assert first.fn.__globals__["double"](4) == 8  # from .helpers


def test_every_product_is_loaded_for_the_environment(tmp_path: Path) -> None:
    products = tmp_path / "products"
    write_product(products, "a", extra="params: {n: 1}\nenvironments:\n  prod: {params: {n: 2}}\n")
    write_product(products, "b", None)
    dev = load_products(products, "dev", tmp_path, ["dev", "prod"])
    prod = load_products(products, "prod", tmp_path, ["dev", "prod"])
    assert sorted(dev) == ["a", "b"]
    assert (dev["a"].config.params, prod["a"].config.params) == ({"n": 1}, {"n": 2})
    assert dev["b"].steps == ()  # no pipeline.py: a product without steps


def test_an_overlay_for_an_unknown_environment_fails(tmp_path: Path) -> None:
    products = tmp_path / "products"
    write_product(products, "a", None, extra="environments:\n  prd: {}\n")
    with pytest.raises(ConfigError, match="unknown environment 'prd'") as info:
        load_products(products, "dev", tmp_path, ["dev", "prod"])
    assert info.value.file == "products/a/product.yaml"
    assert info.value.hint == "did you mean 'prod'?"


def test_changed_code_is_imported_afresh(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop")
    assert [s.name for s in load_one(path, "dev", tmp_path).steps] == ["first", "second"]
    (path / "pipeline.py").write_text(
        textwrap.dedent(PIPELINE.replace("def second", "def renamed"))
    )
    (path / "helpers.py").write_text("def double(x):\n    return 3 * x\n\nimported = None\n")
    product = load_one(path, "dev", tmp_path)
    assert [s.name for s in product.steps] == ["first", "renamed"]
    assert product.steps[0].fn.__globals__["double"](4) == 12  # type: ignore[union-attr]


def test_a_declared_pipeline_module_must_exist(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop", None, extra="pipeline: steps.py\n")
    with pytest.raises(PipelineDefinitionError) as info:
        load_one(path, "dev", tmp_path)
    assert info.value.message == (
        "products/shop/product.yaml: pipeline module 'steps.py' does not exist"
    )
    assert info.value.hint == f"create {path / 'steps.py'} or fix the 'pipeline' key"


def test_two_steps_of_one_name(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop")
    (path / "sql").mkdir()
    (path / "sql" / "first.sql").write_text(SQL.replace("gold.third", "gold.first"))
    with pytest.raises(PipelineDefinitionError) as info:
        load_one(path, "dev", tmp_path)
    message = info.value.message
    assert message.startswith("product shop: two steps are called 'first'")
    assert f"{path / 'pipeline.py'}:5" in message and f"{path / 'sql' / 'first.sql'}:1" in message


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_product(tmp_path / "products", "shop", "from prodml import step\n\ndef broken(:\n")
    with pytest.raises(PipelineDefinitionError) as info:
        load_one(path, "dev", tmp_path)
    assert info.value.message.startswith(f"{path / 'pipeline.py'}:3: syntax error in product shop:")


def test_an_import_that_raises_names_the_line_and_the_error(tmp_path: Path) -> None:
    code = "import os\n\nSETTING = int(os.environ.get('NOPE_NOT_SET', 'x'))\n"
    path = write_product(tmp_path / "products", "shop", code)
    with pytest.raises(PipelineDefinitionError) as info:
        load_one(path, "dev", tmp_path)
    assert info.value.message == (
        f"{path / 'pipeline.py'}:3: importing product shop raised ValueError: "
        "invalid literal for int() with base 10: 'x'"
    )
    assert isinstance(info.value.__cause__, ValueError)


def test_a_bad_declaration_in_the_module_is_raised_as_is(tmp_path: Path) -> None:
    code = (
        'from prodml import step\n\n@step(stage="nope", outputs="gold.x")\ndef x(ctx):\n    pass\n'
    )
    path = write_product(tmp_path / "products", "shop", code)
    with pytest.raises(PipelineDefinitionError, match="step x: unknown stage 'nope'") as info:
        load_one(path, "dev", tmp_path)
    assert "importing product" not in info.value.message


def test_require_product_suggests_the_right_name(tmp_path: Path) -> None:
    products = load_products(
        write_product(tmp_path / "products", "shop", None).parent, "dev", tmp_path
    )
    assert require_product(products, "shop") is products["shop"]
    with pytest.raises(NotFoundError, match="unknown product 'shpo'") as info:
        require_product(products, "shpo")
    assert info.value.hint == "did you mean 'shop'?"
