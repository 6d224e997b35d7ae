"""``prodml.products``: step declarations as metadata (names, table inputs, where they are
declared, ownership), loaded products, and looking a product up by name."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from prodml.config.product import ProductConfig
from prodml.errors import NotFoundError
from prodml.products import (
    LANDING_PREFIX,
    MODEL_STAGES,
    MODES,
    STAGES,
    TRACKED_STAGES,
    Product,
    StepSpec,
    require_product,
)


def config(name: str) -> ProductConfig:
    return ProductConfig.model_validate(
        {
            "name": name,
            "description": f"{name} product",
            "owners": [{"name": "a", "role": "accountable"}],
        }
    )


def orders(x: object) -> object:
    return x


STEP = StepSpec(
    name="orders",
    stage="ingress",
    inputs=("landing:orders_csv", "bronze.customers", "landing:returns"),
    outputs=("silver.orders",),
    fn=orders,
    source_file="products/shop/pipeline.py",
    line=12,
)


def test_stages_and_modes_are_the_declared_literals() -> None:
    assert STAGES == (
        "ingress",
        "features",
        "train",
        "evaluate",
        "monitor",
        "apply",
        "deliver",
        "api",
    )
    assert MODES == ("append", "overwrite", "replace_partitions", "merge")
    assert set(TRACKED_STAGES) <= set(MODEL_STAGES) <= set(STAGES)


def test_step_defaults() -> None:
    step = StepSpec("s", "features", (), ("gold.x",))
    assert (step.mode, step.input_format, step.partition_by) == ("overwrite", "duckdb", None)
    assert step.params is None and step.keys == () and step.references == ()
    assert step.schema_evolution is False and step.product == ""


def test_table_inputs_leave_landing_sources_out() -> None:
    assert LANDING_PREFIX == "landing:"
    assert STEP.table_inputs == ("bronze.customers",)
    assert StepSpec("s", "train", ("gold.a", "gold.b"), ()).table_inputs == ("gold.a", "gold.b")


def test_where_is_file_and_line_or_the_name() -> None:
    assert STEP.where() == "products/shop/pipeline.py:12"
    assert StepSpec("sql_step", "features", (), ()).where() == "sql_step"


def test_with_product_copies_and_names_the_step() -> None:
    owned = STEP.with_product("shop")
    assert owned.product == "shop" and owned.qualified == "shop.orders"
    assert STEP.product == "" and STEP.qualified == ".orders"  # the original is unchanged
    assert owned.fn is orders and owned.inputs == STEP.inputs


def test_steps_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        STEP.name = "other"  # type: ignore[misc]


def test_equality_ignores_the_function() -> None:
    other = StepSpec(**{**STEP.__dict__, "fn": lambda x: x})
    assert other == STEP and hash(other) == hash(STEP)
    assert STEP.with_product("shop") != STEP
    assert "fn=" not in repr(STEP)


def test_product_name_comes_from_its_config(tmp_path: Path) -> None:
    product = Product(config("shop"), tmp_path / "products" / "shop", (STEP.with_product("shop"),))
    assert product.name == "shop"
    assert [s.qualified for s in product.steps] == ["shop.orders"]


def test_require_product_finds_it(tmp_path: Path) -> None:
    products = {n: Product(config(n), tmp_path / n, ()) for n in ("churn", "demand")}
    assert require_product(products, "demand") is products["demand"]


def test_require_product_unknown_suggests_the_closest(tmp_path: Path) -> None:
    products = {n: Product(config(n), tmp_path / n, ()) for n in ("churn", "demand")}
    with pytest.raises(NotFoundError) as info:
        require_product(products, "chrun")
    err = info.value
    assert (err.kind, err.name, err.known) == ("product", "chrun", ["churn", "demand"])
    assert str(err) == "unknown product 'chrun' (did you mean 'churn'?)"


def test_require_product_unknown_lists_the_products(tmp_path: Path) -> None:
    products = {n: Product(config(n), tmp_path / n, ()) for n in ("churn", "demand")}
    with pytest.raises(NotFoundError, match=r"unknown product 'xyz' \(known: churn, demand\)"):
        require_product(products, "xyz")
    with pytest.raises(NotFoundError, match=r"no product exists yet"):
        require_product({}, "churn")
