"""Where expectations are declared: product.yaml's and ``@step``'s rules of a table merged in
one index with where they come from, and the tables ``quality check`` judges for a product or
a table (with the errors when there is nothing to judge)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.errors import InvalidNameError, NotFoundError, UsageError
from prodml.names import TableName
from prodml.quality.declared import checked_tables, expectation_index
from prodml.workspace import Workspace

PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="silver.orders",
      expectations=[{"rule": "range", "column": "amount", "min": 0, "action": "drop"}])
def orders(ctx):
    return pa.table({"order_id": ["o1"], "amount": [1.0]})

@step(stage="ingress", outputs=["silver.scores", "gold.report"],
      expectations={"silver.scores": [{"rule": "not_null", "column": "score"}]})
def scores(ctx):
    return {"silver.scores": pa.table({"score": [0.5]}), "gold.report": pa.table({"n": [1]})}
"""

TABLES = """tables:
  silver.orders:
    expectations:
      - {rule: not_null, column: order_id, action: quarantine}
      - {rule: unique, columns: [order_id], action: drop}
  gold.report:
    description: no expectations, only words
"""

PLAIN = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.plain")
def plain(ctx):
    return pa.table({"x": [1]})
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = make_platform(
        tmp_path_factory.mktemp("declared") / "p", {"shop": PIPELINE, "plain": PLAIN}
    )
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + TABLES)
    with prodml.connect(root) as ws:
        yield ws


def pipeline_file(ws: Workspace) -> Path:
    return ws.root / "products" / "shop" / "pipeline.py"


def test_yaml_rules_come_first_then_the_steps(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    assert sorted(index) == ["dev.silver.orders", "dev.silver.scores"]  # gold.report has none
    rules, where = index["dev.silver.orders"]
    assert [r.label() for r in rules] == ["not_null_order_id", "unique_order_id", "range_amount"]
    assert [r.action for r in rules] == ["quarantine", "drop", "drop"]
    assert where == (
        "products/shop/product.yaml: tables.silver.orders.expectations + "
        f"{pipeline_file(ws)}:5: @step orders expectations"
    )


def test_rules_declared_on_a_step_only(ws: Workspace) -> None:
    rules, where = expectation_index(ws.products, "dev")["dev.silver.scores"]
    assert [r.label() for r in rules] == ["not_null_score"]
    assert where == f"{pipeline_file(ws)}:10: @step scores expectations"


def test_the_index_is_of_one_catalog(ws: Workspace) -> None:
    assert sorted(expectation_index(ws.products, "prod")) == [
        "prod.silver.orders",
        "prod.silver.scores",
    ]


def test_checking_a_product_judges_each_of_its_tables_once(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    tables = checked_tables("shop", ws.products, ws._w.catalog, index)
    assert tables == [TableName("dev", "silver", "orders"), TableName("dev", "silver", "scores")]


def test_checking_a_table(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    catalog = ws._w.catalog
    assert checked_tables("silver.scores", ws.products, catalog, index) == [
        TableName("dev", "silver", "scores")
    ]
    assert checked_tables("dev.silver.orders", ws.products, catalog, index) == [
        TableName("dev", "silver", "orders")
    ]


def test_a_product_without_expectations(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    with pytest.raises(UsageError) as info:
        checked_tables("plain", ws.products, ws._w.catalog, index)
    assert info.value.message == "product plain declares no expectations"
    assert info.value.hint == "add expectations: under tables.<schema.table> in its product.yaml"


def test_a_table_without_expectations_lists_those_with(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    with pytest.raises(UsageError) as info:
        checked_tables("gold.report", ws.products, ws._w.catalog, index)
    assert info.value.message == "gold.report has no expectations"
    assert info.value.hint == "tables with expectations: dev.silver.orders, dev.silver.scores"
    with pytest.raises(UsageError, match="tables with expectations: none"):
        checked_tables("gold.report", ws.products, ws._w.catalog, {})


def test_a_target_that_is_neither_a_product_nor_a_table_name(ws: Workspace) -> None:
    index = expectation_index(ws.products, "dev")
    with pytest.raises(NotFoundError, match="unknown product 'shpo'") as info:
        checked_tables("shpo", ws.products, ws._w.catalog, index)
    assert info.value.hint == "did you mean 'shop'?"
    with pytest.raises(InvalidNameError, match="invalid table name"):
        checked_tables("silver.x;drop", ws.products, ws._w.catalog, index)
