"""Expectations on writes (drop / quarantine / fail / warn), on demand, and their bad input."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pydantic import TypeAdapter
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_cli, prodml_main

import prodml
from prodml.config.expectations import Expectation
from prodml.pipeline.errors import StepFailedError
from prodml.quality.engine import evaluate
from prodml.quality.errors import ExpectationError

RULES = TypeAdapter(list[Expectation])

PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.orders", params=["batch"])
def orders(ctx):
    b = ctx.params["batch"]
    return pa.table({
        "order_id": [f"{b}-1", f"{b}-2", f"{b}-2", None, f"{b}-5", f"{b}-6"],
        "amount": [10.0, 20.0, 20.0, 5.0, -3.0, 7.0],
        "status": ["placed", "placed", "placed", "placed", "placed", "lost"],
        "customer": ["c1", "c2", "c2", "c1", "c9", "c1"],
    })

@step(stage="ingress", outputs="silver.customers")
def customers(ctx):
    return pa.table({"customer": ["c1", "c2", "c3"]})

@step(stage="ingress", inputs=["bronze.orders", "silver.customers"], outputs="silver.orders")
def clean(ctx, orders, customers):
    return ctx.sql("SELECT * FROM orders")
"""

TABLES = """params: {{batch: b1}}
tables:
  silver.orders:
    expectations:
      - {{rule: not_null, column: order_id, action: quarantine}}
      - {{rule: unique, columns: [order_id], action: drop}}
      - {{rule: range, column: amount, min: 0, action: quarantine}}
      - {{rule: allowed_values, column: status, values: [placed, shipped], action: warn}}
      - {{rule: referential, column: customer, table: silver.customers, action: {ref}}}
      - {{rule: row_count, min: 1, action: fail}}
"""


def platform(tmp_path: Path, ref: str = "quarantine", extra: str = "") -> Path:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop") + TABLES.format(ref=ref) + extra
    )
    return root


def test_rows_are_dropped_and_quarantined_and_every_row_is_accounted_for(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("shop")
        kept = ws.read("silver.orders")
        quarantined = ws.read("silver.orders__quarantine")
        bronze = ws.read("bronze.orders")
        results = {r["rule"]: r for r in ws.quality_report("silver.orders")}
    # null id, negative amount and unknown customer are quarantined; the duplicate is dropped
    assert sorted(kept.column("order_id").to_pylist()) == ["b1-1", "b1-2", "b1-6"]
    reasons = dict(
        zip(
            quarantined.column("amount").to_pylist(),
            quarantined.column("_dq_failed_rules").to_pylist(),
            strict=True,
        )
    )
    assert reasons == {5.0: ["not_null_order_id"], -3.0: ["range_amount", "referential_customer"]}
    dropped = results["unique_order_id"]["failed_rows"]
    assert kept.num_rows + quarantined.num_rows + dropped == bronze.num_rows
    assert results["allowed_values_status"]["passed"] is False  # warn: recorded, row kept
    assert results["allowed_values_status"]["samples"] == ["lost"]
    assert results["row_count"]["passed"] is True
    assert quarantined.column("_dq_step").to_pylist() == ["shop.clean"] * 2
    with prodml.connect(root) as ws:
        monitoring = ws.read("monitoring.dq_results")
    assert set(monitoring.column("table_name").to_pylist()) == {"dev.silver.orders"}


def test_a_fail_rule_writes_nothing_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = platform(tmp_path, ref="fail")
    with prodml.connect(root) as ws:
        with pytest.raises(StepFailedError) as info, caplog.at_level("WARNING", "prodml.alerts"):
            ws.run("shop")
        alerts = [r.getMessage() for r in caplog.records if r.name == "prodml.alerts"]
        assert alerts and "ALERT quality" in alerts[0] and "referential_customer" in alerts[0]
        message = str(info.value)
        assert "referential_customer" in message and "c9" in message
        assert not ws.table_exists("silver.orders")
        assert not ws.table_exists("silver.orders__quarantine")
        failed = [r for r in ws.quality_report("silver.orders") if r["passed"] is False]
        assert {r["rule"] for r in failed} >= {"referential_customer"}
        assert all(r["version"] is None for r in failed)


def test_quality_check_and_report_on_the_cli(tmp_path: Path) -> None:
    root = platform(tmp_path)
    assert prodml_cli("run", "shop", cwd=root).code == 0
    checked = prodml_cli("quality", "check", "silver.orders", "--json", cwd=root)
    assert checked.code == 0, checked.err
    (item,) = json.loads(checked.out)
    verdicts = {r["rule"]: r["passed"] for r in item["results"]}
    # the written table is clean except for the warn rule's row
    assert verdicts["not_null_order_id"] and verdicts["unique_order_id"]
    assert verdicts["allowed_values_status"] is False
    by_product = prodml_cli("quality", "check", "shop", cwd=root)
    assert by_product.code == 0 and "allowed_values_status" in by_product.out
    report = prodml_cli("quality", "report", "silver.orders", "--json", cwd=root)
    steps = {r["step"] for r in json.loads(report.out)}
    assert steps == {"shop.clean", "quality check"}
    assert_clean_error(
        prodml_main("quality", "check", "silver.customers", cwd=root), "no expectations"
    )
    assert_clean_error(prodml_main("quality", "check", "silver.nope", cwd=root), "nope")


def test_unknown_column_says_did_you_mean(tmp_path: Path) -> None:
    root = platform(tmp_path, extra="      - {rule: not_null, column: amout}\n")
    with prodml.connect(root) as ws, pytest.raises(StepFailedError) as info:
        ws.run("shop")
    assert "has no column 'amout'" in str(info.value)
    assert "did you mean 'amount'" in str(info.value)
    assert "tables.silver.orders.expectations[6]" in str(info.value)


def test_anomaly_needs_history_then_flags_an_outlier() -> None:
    rules = RULES.validate_python(
        [{"rule": "anomaly", "metric": "mean", "column": "x", "min_history": 5}]
    )
    con = duckdb.connect()
    data = pa.table({"x": [100.0, 101.0]})
    short = evaluate(con, data, rules, table="t", history=lambda _: [1.0, 2.0])
    assert short.results[0].passed is None and "not enough history" in short.results[0].message
    steady = [10.0, 10.5, 9.5, 10.2, 9.8, 10.1]
    flagged = evaluate(con, data, rules, table="t", history=lambda _: steady)
    assert flagged.results[0].passed is False and "robust z" in flagged.results[0].message
    normal = evaluate(
        con, pa.table({"x": [10.0, 10.2]}), rules, table="t", history=lambda _: steady
    )
    assert normal.results[0].passed is True


@pytest.mark.parametrize(
    ("rule", "data", "needle"),
    [
        ({"rule": "range", "column": "s", "min": 0}, {"s": ["a"]}, "range needs a numeric"),
        (
            {"rule": "freshness", "column": "s", "max_age_hours": 1},
            {"s": ["a"]},
            "date or timestamp",
        ),
        (
            {"rule": "anomaly", "metric": "mean", "column": "s"},
            {"s": ["a"]},
            "needs a numeric column",
        ),
        ({"rule": "expression", "sql": "nope > 1"}, {"s": ["a"]}, "cannot be evaluated"),
    ],
)
def test_rules_that_cannot_apply_are_clear_errors(rule: dict, data: dict, needle: str) -> None:
    with pytest.raises(ExpectationError, match=needle):
        evaluate(duckdb.connect(), pa.table(data), RULES.validate_python([rule]), table="t")


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"rule": "row_count", "min": 1, "action": "drop"}, "action must be warn or fail"),
        ({"rule": "range", "column": "x"}, "needs min, max or both"),
        ({"rule": "pattern", "column": "x", "regex": "("}, "invalid regular expression"),
        ({"rule": "expression", "sql": "1; DROP TABLE x"}, "without ';'"),
        ({"rule": "nullable", "column": "x"}, "not_null"),
    ],
)
def test_bad_rule_config(rule: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        RULES.validate_python([rule])


def test_empty_input_is_judged_not_nan() -> None:
    rules = RULES.validate_python(
        [{"rule": "not_null", "column": "x"}, {"rule": "row_count", "min": 1}]
    )
    result = evaluate(duckdb.connect(), pa.table({"x": pa.array([], pa.int64())}), rules, table="t")
    assert [r.passed for r in result.results] == [True, False]
    assert result.results[0].observed == 0.0


def test_nan_is_missing_for_range_and_a_column_named_k_is_fine() -> None:
    rules = RULES.validate_python(
        [
            {"rule": "range", "column": "k", "min": 0},
            {"rule": "referential", "column": "c", "table": "s.t"},
            {"rule": "expression", "sql": "k < 100"},
            {"rule": "unique", "columns": ["c"], "action": "drop"},
        ]
    )
    data = pa.table({"k": [1.0, float("nan"), -1.0, 500.0], "c": ["a", "b", "z", "a"]})
    ref = pa.table({"c": ["a", "b"]})
    result = evaluate(duckdb.connect(), data, rules, table="t", reference=lambda _: ref)
    failed = {r.rule: r.failed_rows for r in result.results}
    # an expression is plain SQL: NaN < 100 is false there, so NaN fails it
    assert failed == {"range_k": 1, "referential_c": 1, "expression": 2, "unique_c": 1}
    assert result.kept.column("k").to_pylist()[:2] == [
        1.0,
        pytest.approx(float("nan"), nan_ok=True),
    ]


def test_changing_a_shaping_rule_reruns_the_step(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("shop")
    yaml = root / "products" / "shop" / "product.yaml"
    yaml.write_text(yaml.read_text().replace("min: 0, action: quarantine", "min: 0, action: drop"))
    with prodml.connect(root) as ws:
        steps = {s["step"]: s["status"] for s in ws.run("shop").steps}
        assert steps["shop.clean"] == "succeeded"  # the rows it writes change: not skipped
        assert steps["shop.orders"] == "skipped"


CODE_PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="silver.scores",
      expectations=[{"rule": "range", "column": "score", "min": 0, "max": 1, "action": "drop"}])
def scores(ctx):
    return pa.table({"score": [0.2, 1.5, 0.9, -0.1]})
"""


def test_expectations_declared_on_the_step(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"m": CODE_PIPELINE})
    with prodml.connect(root) as ws:
        ws.run("m")
        assert ws.read("silver.scores").column("score").to_pylist() == [0.2, 0.9]
        (rows,) = [r for r in ws.quality_report("silver.scores") if r["rule"] == "rows"]
        assert rows["message"] == "4 in = 2 kept + 2 dropped + 0 quarantined"


@pytest.mark.parametrize(
    ("expectations", "needle"),
    [
        ('[{"rule": "range", "column": "score"}]', "needs min, max or both"),
        ('{"silver.other": [{"rule": "not_null", "column": "x"}]}', "does not write"),
    ],
)
def test_bad_step_expectations_name_the_step(
    tmp_path: Path, expectations: str, needle: str
) -> None:
    code = CODE_PIPELINE.replace(
        '[{"rule": "range", "column": "score", "min": 0, "max": 1, "action": "drop"}]',
        expectations,
    )
    root = make_platform(tmp_path / "p", {"m": code})
    result = prodml_main("run", "m", cwd=root)
    assert_clean_error(result, "step scores", needle)


# -- per-partition table rules (issue 13 item 2) --------------------------------------------


def _days(counts: dict[str, int]) -> pa.Table:
    days = [d for d, n in counts.items() for _ in range(n)]
    return pa.table({"day": days, "x": [1.0] * len(days)})


def test_item2_row_count_per_partition_sees_an_empty_day_in_a_full_write() -> None:
    rules = RULES.validate_python([{"rule": "row_count", "min": 1, "scope": "partition"}])
    con = duckdb.connect()
    data = _days({"2024-01-01": 50, "2024-01-03": 48})  # 2024-01-02's file was empty
    covered = ("day", ["2024-01-01", "2024-01-02", "2024-01-03"])
    whole = RULES.validate_python([{"rule": "row_count", "min": 1}])
    assert evaluate(con, data, whole, table="t").results[0].passed is True  # before: unseen
    results = evaluate(con, data, rules, table="t", partitions=covered).results
    assert [(r.passed, r.observed) for r in results] == [(True, 50.0), (False, 0.0), (True, 48.0)]
    assert results[1].message == "day=2024-01-02: 0 rows, outside [1, ]"


def test_item2_anomaly_per_partition_flags_a_day_cut_short() -> None:
    rules = RULES.validate_python(
        [{"rule": "anomaly", "metric": "row_count", "scope": "partition", "min_history": 5}]
    )
    con = duckdb.connect()
    counts = {f"2024-01-{d:02d}": 100 + d % 4 for d in range(1, 9)}
    counts["2024-01-09"] = 41  # a file cut at a line end: a partial day
    covered = ("day", sorted(counts))
    results = evaluate(con, _days(counts), rules, table="t", partitions=covered).results
    assert [r.passed for r in results] == [True] * 8 + [False]  # judged against the others
    assert results[-1].message.startswith("day=2024-01-09: row_count 41 vs median 101.5")
    # a later write of one day: judged against the table's history of partitions
    one = ("day", ["2024-01-10"])
    history = [100.0, 101.0, 102.0, 103.0, 100.0, 101.0]
    later = evaluate(
        con, _days({"2024-01-10": 12}), rules, table="t", partitions=one, history=lambda _: history
    )
    assert later.results[0].passed is False
    fine = evaluate(
        con, _days({"2024-01-10": 101}), rules, table="t", partitions=one, history=lambda _: history
    )
    assert fine.results[0].passed is True


def test_item2_scope_partition_on_a_write_that_is_not_by_partition_is_an_error() -> None:
    rules = RULES.validate_python([{"rule": "row_count", "min": 1, "scope": "partition"}])
    con = duckdb.connect()
    with pytest.raises(ExpectationError, match="scope partition, but this write of t is not"):
        evaluate(con, _days({"a": 1}), rules, table="t")
    with pytest.raises(ExpectationError, match="have no month column"):
        evaluate(con, _days({"a": 1}), rules, table="t", partitions=("month", ["1", "2"]))
    one = evaluate(con, _days({"a": 3}), rules, table="t", partitions=("month", ["1"]))
    assert one.results[0].observed == 3.0  # one partition written: all its rows are in it


def test_scope_is_checked_in_config() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="scope"):
        RULES.validate_python([{"rule": "row_count", "min": 1, "scope": "day"}])
