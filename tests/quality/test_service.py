"""Data quality of one environment: whole tables judged on demand (by table or product, with
rules changed since the write, nothing dropped), results recorded like those of writes, and the
report of recorded results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.errors import InvalidNameError, NotFoundError, UsageError
from prodml.quality.service import Quality
from prodml.workspace import Workspace

PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="silver.orders")
def orders(ctx):
    return pa.table({"order_id": ["o1", "o2", None], "amount": [10.0, -1.0, 5.0]})

@step(stage="ingress", outputs="silver.customers")
def customers(ctx):
    return pa.table({"customer": ["c1"]})

@step(stage="ingress", outputs="gold.unjudged")
def unjudged(ctx):
    return pa.table({"x": [1]})
"""

TABLES = """tables:
  silver.orders:
    expectations:
      - {{rule: not_null, column: order_id, action: warn}}
      - {{rule: range, column: amount, min: {floor}, action: warn}}
  silver.customers:
    expectations:
      - {{rule: row_count, min: 1, action: fail}}
"""


def configure(root: Path, floor: float) -> None:
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop") + TABLES.format(floor=floor)
    )


def quality(ws: Workspace, principal: str = "user:checker") -> Quality:
    w = ws._w
    return Quality(w.catalog, w.store, w.products, w.expectation_index, principal)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The shop run once with range amount >= -5 (every row passes it)."""
    root = make_platform(tmp_path / "p", {"shop": PIPELINE, "other": ""})
    configure(root, floor=-5)
    with prodml.connect(root) as ws:
        ws.run("shop")
    return root


@pytest.fixture
def ws(root: Path) -> Iterator[Workspace]:
    with prodml.connect(root) as ws:
        yield ws


def test_a_table_is_judged_whole_with_the_rules_as_they_are_now(root: Path) -> None:
    configure(root, floor=0)  # stricter since the write: -1.0 now fails
    with prodml.connect(root) as ws:
        (checked,) = quality(ws).check("silver.orders")
        rows = ws.read("silver.orders").num_rows
    assert (checked["table"], checked["version"], checked["rows"]) == ("dev.silver.orders", 0, 3)
    verdicts = {r["rule"]: (r["passed"], r["failed_rows"]) for r in checked["results"]}
    assert verdicts == {"not_null_order_id": (False, 1), "range_amount": (False, 1)}
    assert rows == 3  # a check judges, it drops nothing


def test_a_check_is_recorded_like_a_write(ws: Workspace) -> None:
    service = quality(ws)
    service.check("silver.orders")
    latest = service.report("silver.orders")
    checks = [r for r in latest if r["step"] == "quality check"]
    writes = [r for r in latest if r["step"] == "shop.orders"]
    assert {r["rule"] for r in checks} == {"not_null_order_id", "range_amount"}
    assert {r["run_id"] for r in checks} == {None}
    assert {r["run_id"] for r in writes} == {ws.runs()[0]["run_id"]}
    assert latest[0]["step"] == "quality check"  # newest first


def test_a_product_is_judged_table_by_table(ws: Workspace) -> None:
    checked = quality(ws).check("shop")
    assert [c["table"] for c in checked] == ["dev.silver.orders", "dev.silver.customers"]
    (count,) = checked[1]["results"]
    assert (count["rule"], count["passed"]) == ("row_count", True)


def test_nothing_to_judge(ws: Workspace) -> None:
    service = quality(ws)
    with pytest.raises(UsageError, match="product other declares no expectations"):
        service.check("other")
    with pytest.raises(UsageError, match=r"gold\.unjudged has no expectations"):
        service.check("gold.unjudged")


def test_a_declared_table_that_was_never_written(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    configure(root, floor=0)
    with (
        prodml.connect(root) as ws,
        pytest.raises(NotFoundError, match=r"unknown table 'silver\.orders'") as info,
    ):
        quality(ws).check("silver.orders")
    assert info.value.hint == "no table exists yet"


def test_the_report_of_one_table_or_all_newest_first(ws: Workspace) -> None:
    service = quality(ws)
    every = service.report()
    assert {r["table_name"] for r in every} == {"dev.silver.orders", "dev.silver.customers"}
    ids = [r["id"] for r in every]
    assert ids == sorted(ids, reverse=True)
    customers = service.report("silver.customers")
    assert {r["rule"] for r in customers} == {"row_count", "rows"}
    assert service.report("dev.silver.customers") == customers
    assert len(service.report(limit=2)) == 2
    assert service.report("gold.unjudged") == []
    with pytest.raises(InvalidNameError, match="invalid table name"):
        service.report("silver.x;drop")
