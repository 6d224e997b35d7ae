"""The façade's monitoring: quality checks on demand and their recorded history, drift between
two windows of a product's watched tables (with the HTML report), and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform
from tests.helpers import SHOP_PIPELINE as PIPELINE

import prodml
from prodml.drift.errors import DriftInputError
from prodml.errors import NotFoundError, UsageError

TYPED = (
    PIPELINE
    + """
@step(stage="features", inputs=["bronze.sales"], outputs="silver.sales")
def typed(ctx, sales):
    return ctx.sql("SELECT CAST(day AS DATE) AS day, CAST(amount AS DOUBLE) AS amount FROM sales")
"""
)

SETTINGS = """
tables:
  gold.totals:
    expectations:
      - {rule: row_count, min: 100, action: warn}
      - {rule: not_null, column: day, action: warn}
drift:
  tables:
    silver.sales: {columns: [amount], time_column: day}
  current: last:2d
  reference: before
"""


def _landing(root: Path, days: int, *, shifted: int) -> None:
    """40 sales a day; the last ``shifted`` days sell at ten times the price."""
    for d in range(1, days + 1):
        folder = root / "landing" / "sales" / f"day=2024-01-{d:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        scale = 10 if d > days - shifted else 1
        rows = "".join(f"2024-01-{d:02d},{scale * (1 + i % 7)}\n" for i in range(40))
        (folder / "part.csv").write_text("day,amount\n" + rows)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_platform(tmp_path_factory.mktemp("mon") / "p", {"shop": TYPED})
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + SETTINGS)
    _landing(root, 8, shifted=2)
    with prodml.connect(root) as ws:
        ws.run("shop")
    return root


def test_a_quality_check_judges_whole_tables_and_is_recorded(monitored: Path) -> None:
    with prodml.connect(monitored) as ws:
        (checked,) = ws.quality_check("shop")  # gold.totals is the table with expectations
        assert ws.quality_check("gold.totals")[0]["table"] == "dev.gold.totals"
        recorded = ws.quality_report("gold.totals")
        assert len(ws.quality_report("gold.totals", limit=1)) == 1
        everything = ws.quality_report()
    assert (checked["table"], checked["version"], checked["rows"]) == ("dev.gold.totals", 0, 8)
    verdicts = {r["rule"]: (r["passed"], r["message"]) for r in checked["results"]}
    assert verdicts == {"row_count": (False, "8 rows, outside [100, ]"), "not_null_day": (True, "")}
    on_demand = [r for r in recorded if r["step"] == "quality check"]
    assert {r["rule"] for r in on_demand} == {"row_count", "not_null_day"}
    assert any(r["run_id"] for r in recorded)  # the run's own write was judged too
    assert {r["table_name"] for r in everything} == {"dev.gold.totals"}


def test_quality_of_something_unknown(monitored: Path) -> None:
    with prodml.connect(monitored) as ws:
        with pytest.raises(UsageError, match=r"gold\.nope has no expectations \(tables with"):
            ws.quality_check("gold.nope")
        with pytest.raises(NotFoundError, match=r"unknown table 'gold\.nope'"):
            ws.quality_report("gold.nope")  # nothing recorded, and no such table
        with pytest.raises(NotFoundError, match=r"unknown product 'shopp'.*shop"):
            ws.quality_check("shopp")


def test_drift_between_the_last_days_and_the_days_before(monitored: Path, tmp_path: Path) -> None:
    html = tmp_path / "drift.html"
    with prodml.connect(monitored) as ws:
        report = ws.drift_run("shop", html=html)
    assert report["drift"] is True and report["product"] == "shop"
    (table,) = report["tables"]
    assert table["table"] == "dev.silver.sales"
    assert table["current_window"] == "last:2d: 2024-01-07..2024-01-08"
    assert table["reference_window"] == "before: up to 2024-01-06"
    assert (table["current_rows"], table["reference_rows"]) == (80, 240)
    (column,) = table["result"]["columns"]
    assert column["column"] == "amount" and column["drift"] is True
    assert "amount" in html.read_text() and report["html"] == str(html)


def test_drift_of_one_table_in_windows_given_by_dates(monitored: Path, tmp_path: Path) -> None:
    with prodml.connect(monitored) as ws:
        report = ws.drift_run(
            "silver.sales",
            reference="2024-01-01..2024-01-03",
            current="2024-01-04..2024-01-06",
            html=tmp_path / "r.html",
        )
    assert report["drift"] is False  # the same prices on both sides
    assert report["tables"][0]["current_rows"] == 120


def test_drift_refuses_bad_windows_and_a_time_column_that_holds_no_dates(
    monitored: Path, tmp_path: Path
) -> None:
    with prodml.connect(monitored) as ws:
        with pytest.raises(UsageError, match="'yesterday' is not a current window"):
            ws.drift_run("shop", current="yesterday", html=tmp_path / "x.html")
        with pytest.raises(UsageError, match="holds no rows"):
            ws.drift_run("silver.sales", current="2025-01-01..2025-01-02", html=tmp_path / "y.html")
    # bronze.sales keeps the day as landed: text
    (monitored / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop")
        + SETTINGS.replace("silver.sales: {columns", "bronze.sales: {columns")
    )
    try:
        with prodml.connect(monitored) as ws, pytest.raises(DriftInputError) as err:
            ws.drift_run("shop", html=tmp_path / "z.html")
    finally:
        (monitored / "products" / "shop" / "product.yaml").write_text(
            PRODUCT.format(name="shop") + SETTINGS
        )
    assert "time column day of bronze.sales holds str values, not dates" in str(err.value)
    assert "cast this one" in (err.value.hint or "")
    assert not (tmp_path / "z.html").exists()
