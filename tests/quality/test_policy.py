"""The quality policy on a real catalog gate (Delta tables, SQLite or PostgreSQL metadata):
rows dropped and quarantined before the commit, a ``fail`` rule stopping the write with an
alert, ``prepare`` without side effects, referential rules and anomaly history through the
catalog and the store, whole-table checks, and how failures are described."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import TypeAdapter

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access, RecordsPolicy
from prodml.catalog.store import MetadataStore
from prodml.config.expectations import Expectation
from prodml.errors import NotFoundError
from prodml.names import TableName
from prodml.quality.engine import RuleResult
from prodml.quality.errors import QualityFailedError
from prodml.quality.policy import QualityPolicy, check_table, describe_failures
from prodml.tables.delta import DeltaTables, WriteSpec

RULES = TypeAdapter(list[Expectation])
ACCESS = Access(principal="user:t", run_id="run-1", step="shop.clean")


@dataclass
class Gate:
    """A catalog whose writes pass the quality policy (then the records policy)."""

    catalog: Catalog
    store: MetadataStore
    rules: dict[str, list[Any]] = field(default_factory=dict)
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def expect(self, table: str, *rules: dict[str, Any]) -> TableName:
        name = self.catalog.name(table)
        self.rules[str(name)] = RULES.validate_python(list(rules))
        return name

    def write(self, table: TableName, data: Any, mode: str = "overwrite") -> int:
        spec = WriteSpec(str(table), mode)  # type: ignore[arg-type]
        return self.catalog.write(table, data, spec, ACCESS, sources={}).version

    def read(self, table: str) -> pa.Table:
        return self.catalog.read(self.catalog.name(table), ACCESS)[0].to_table()

    def results(self, table: TableName) -> list[dict[str, Any]]:
        return self.store.dq_results("dev", table=str(table))


def make_gate(url: str, tmp_path: Path) -> Gate:
    store = MetadataStore(url)
    gate = Gate(catalog=None, store=store)  # type: ignore[arg-type]

    def rules(table: TableName) -> tuple[list[Any], str] | None:
        found = gate.rules.get(str(table))
        return (found, "tests: expectations") if found else None

    policy = QualityPolicy(
        rules, store, lambda: gate.catalog, lambda t, m: gate.alerts.append((str(t), m))
    )
    gate.catalog = Catalog(
        "dev", store, DeltaTables(str(tmp_path / "data")), [policy, RecordsPolicy(store)]
    )
    return gate


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    made = make_gate(f"sqlite:///{tmp_path}/prodml.db", tmp_path)
    yield made
    made.store.close()


ORDERS = pa.table(
    {
        "order_id": ["o1", "o2", "o2", None, "o5"],
        "amount": [10.0, 20.0, 20.0, 5.0, 7.0],
        "status": ["placed", "placed", "placed", "placed", "lost"],
    }
)


def test_rows_are_dropped_and_quarantined_before_the_commit(gate: Gate) -> None:
    table = gate.expect(
        "silver.orders",
        {"rule": "not_null", "column": "order_id", "action": "quarantine"},
        {"rule": "unique", "columns": ["order_id"], "action": "drop"},
        {"rule": "allowed_values", "column": "status", "values": ["placed"], "action": "warn"},
    )
    version = gate.write(table, ORDERS)
    assert sorted(gate.read("silver.orders").column("order_id").to_pylist()) == ["o1", "o2", "o5"]
    quarantine = gate.read("silver.orders__quarantine").to_pylist()
    assert len(quarantine) == 1
    row = quarantine[0]
    assert (row["amount"], row["_dq_failed_rules"]) == (5.0, ["not_null_order_id"])
    assert (row["_dq_run_id"], row["_dq_step"]) == ("run-1", "shop.clean")
    assert row["_dq_checked_at"] is not None
    results = {r["rule"]: r for r in gate.results(table)}
    assert results["rows"]["message"] == "5 in = 3 kept + 1 dropped + 1 quarantined"
    assert results["unique_order_id"]["failed_rows"] == 1
    assert results["allowed_values_status"]["passed"] is False  # warn: kept, recorded
    assert {r["version"] for r in results.values()} == {version}
    assert {r["run_id"] for r in results.values()} == {"run-1"}
    # the results go to monitoring.dq_results too
    monitoring = gate.read("monitoring.dq_results")
    assert set(monitoring.column("rule").to_pylist()) == set(results)
    assert gate.alerts == []


def test_a_fail_rule_stops_the_write_and_alerts(gate: Gate) -> None:
    table = gate.expect("silver.orders", {"rule": "row_count", "min": 10, "action": "fail"})
    with pytest.raises(QualityFailedError) as info:
        gate.write(table, ORDERS)
    assert info.value.message == (
        "dev.silver.orders: expectation(s) with action fail failed: row_count "
        "(5 rows, outside [10, ])"
    )
    assert info.value.hint == (
        "nothing was written; fix the data or the rule "
        "('prodml quality report silver.orders' shows the history)"
    )
    assert not gate.catalog.exists(table)
    assert gate.alerts == [("dev.silver.orders", info.value.message)]
    results = {r["rule"]: r for r in gate.results(table)}
    assert results["row_count"]["passed"] is False and results["row_count"]["version"] is None
    assert results["rows"]["message"] == "5 in, nothing written"


def test_prepare_returns_the_rows_kept_and_records_nothing(gate: Gate) -> None:
    table = gate.expect(
        "silver.orders", {"rule": "unique", "columns": ["order_id"], "action": "drop"}
    )
    spec = WriteSpec(str(table), "overwrite")
    kept = gate.catalog.prepare(table, ORDERS, spec, ACCESS)
    assert kept.num_rows == 4
    assert gate.results(table) == [] and not gate.catalog.exists(table)
    gate.expect("silver.orders", {"rule": "row_count", "max": 2, "action": "fail"})
    with pytest.raises(QualityFailedError, match="row_count"):
        gate.catalog.prepare(table, ORDERS, spec, ACCESS)
    assert gate.alerts == []  # no alert for a dry run


def test_tables_without_rules_are_written_as_given(gate: Gate) -> None:
    table = gate.catalog.name("silver.free")
    assert gate.catalog.prepare(table, ORDERS, WriteSpec(str(table), "overwrite"), ACCESS) is ORDERS
    gate.write(table, ORDERS)
    assert gate.read("silver.free").num_rows == 5
    assert gate.store.dq_results("dev") == []


def test_a_streamed_write_is_judged_too(gate: Gate) -> None:
    table = gate.expect(
        "silver.orders", {"rule": "range", "column": "amount", "max": 15, "action": "drop"}
    )
    reader = pa.RecordBatchReader.from_batches(ORDERS.schema, ORDERS.to_batches(max_chunksize=2))
    gate.write(table, reader)
    assert sorted(gate.read("silver.orders").column("amount").to_pylist()) == [5.0, 7.0, 10.0]


def test_referential_rules_read_the_reference_through_the_catalog(gate: Gate) -> None:
    gate.write(gate.catalog.name("silver.statuses"), pa.table({"status": ["placed"]}))
    table = gate.expect(
        "silver.orders",
        {"rule": "referential", "column": "status", "table": "silver.statuses", "action": "drop"},
    )
    gate.write(table, ORDERS)
    assert set(gate.read("silver.orders").column("status").to_pylist()) == {"placed"}


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def test_an_anomaly_is_judged_against_the_stored_history(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path}/prodml.db"
        if store == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    gate = make_gate(url, tmp_path)
    try:
        table = gate.expect(
            "silver.orders",
            {"rule": "anomaly", "metric": "mean", "column": "amount", "min_history": 5},
        )
        for mean in (10.0, 10.4, 9.6, 10.2, 9.8):
            gate.write(table, pa.table({"amount": [mean]}), mode="append")
        gate.write(table, pa.table({"amount": [100.0]}), mode="append")
        observed = [r for r in gate.results(table) if r["rule"] == "anomaly_mean_amount"]
        # newest first: the sixth write had five earlier means to compare with, the others too few
        assert [r["passed"] for r in observed] == [False, None, None, None, None, None]
        assert "robust z" in observed[0]["message"]
        assert gate.store.dq_history("dev.silver.orders", "anomaly_mean_amount") == [
            10.0,
            10.4,
            9.6,
            10.2,
            9.8,
            100.0,
        ]
    finally:
        gate.store.close()


def test_check_table_judges_the_whole_table_as_it_is(gate: Gate) -> None:
    table = gate.catalog.name("silver.orders")
    gate.write(table, ORDERS)  # no rules yet: everything written
    rules = RULES.validate_python([{"rule": "unique", "columns": ["order_id"], "action": "drop"}])
    checker = Access(principal="user:t", step="quality check")
    checked = check_table(gate.catalog, gate.store, table, rules, "tests", checker)
    assert (checked["table"], checked["version"], checked["rows"]) == ("dev.silver.orders", 0, 5)
    (result,) = checked["results"]
    assert (result["rule"], result["passed"], result["failed_rows"]) == (
        "unique_order_id",
        False,
        1,
    )
    assert gate.read("silver.orders").num_rows == 5  # nothing dropped from a written table
    (recorded,) = gate.results(table)
    assert (recorded["run_id"], recorded["step"], recorded["version"]) == (None, "quality check", 0)
    with pytest.raises(NotFoundError, match=r"unknown table 'silver\.nope'"):
        check_table(gate.catalog, gate.store, gate.catalog.name("silver.nope"), rules, "t", checker)


def test_failures_are_described_rule_by_rule() -> None:
    failed = [
        RuleResult("not_null_id", "row", "fail", ["id"], False, 2, 10, samples=[None, None]),
        RuleResult("unique_id", "row", "fail", ["id"], False, 3, 10, samples=["a", "b", "c", "d"]),
        RuleResult("row_count", "table", "fail", [], False, None, 10, message="10 < 20"),
    ]
    assert describe_failures("dev.t", failed) == (
        "dev.t: expectation(s) with action fail failed: not_null_id (2 of 10 rows, e.g. "
        "[None, None]); unique_id (3 of 10 rows, e.g. ['a', 'b', 'c']); row_count (10 < 20)"
    )


# landing sales by day → bronze (replace_partitions) → silver (merge on id, partitioned by day,
# the day not among its columns); both quarantine rows without an amount
REPROCESSED = """
from prodml import step

@step(stage="ingress", inputs=["landing:sales"], outputs="bronze.sales",
      partition_by="day", mode="replace_partitions")
def sales(ctx, files):
    return ctx.read_files(files, format="csv", columns=["id", "day", "amount"])

@step(stage="ingress", inputs=["bronze.sales"], outputs="silver.sales", partition_by="day",
      output_partition_by=[], mode="merge", keys=["id"])
def clean(ctx, sales):
    return ctx.sql("SELECT id, try_cast(amount AS DOUBLE) AS amount FROM sales")
"""
REPROCESSED_RULES = """
tables:
  bronze.sales:
    expectations:
      - {rule: not_null, column: amount, action: quarantine}
  silver.sales:
    expectations:
      - {rule: not_null, column: amount, action: quarantine}
"""


def _sales_day(root: Path, day: str, amounts: list[str]) -> None:
    folder = root / "landing" / "sales" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{day}-{i},{day},{a}\n" for i, a in enumerate(amounts))
    (folder / "part.csv").write_text("id,day,amount\n" + rows)


def _counts(root: Path) -> tuple[int, int, int, int]:
    import prodml

    with prodml.connect(root) as ws:
        return (
            ws.read("bronze.sales__quarantine").num_rows,
            ws.read("silver.sales__quarantine").num_rows,
            ws.read("monitoring.dq_results").num_rows,
            len(ws.quality_report("bronze.sales")) + len(ws.quality_report("silver.sales")),
        )


def test_item4_quarantine_and_dq_results_are_idempotent_on_reprocess(tmp_path: Path) -> None:
    from tests.helpers import PRODUCT, make_platform, prodml_main

    root = make_platform(tmp_path / "p", {"shop": REPROCESSED})
    yaml_file = root / "products" / "shop" / "product.yaml"
    yaml_file.write_text(PRODUCT.format(name="shop") + REPROCESSED_RULES)
    _sales_day(root, "2024-01-01", ["1", "", "x"])  # '': bronze sets it aside, 'x': silver
    _sales_day(root, "2024-01-02", ["", "x", "6"])
    assert prodml_main("run", "shop", cwd=root).code == 0
    first = _counts(root)
    assert first[:2] == (2, 2)
    # the same batch again, nothing new, then everything: a full refresh replaces all results
    for again in (["--partitions", "2024-01-01..2024-01-02"], [], ["--full-refresh"]):
        assert prodml_main("run", "shop", *again, cwd=root).code == 0, again
        assert _counts(root) == first, again
    # a backfill of one day of that batch: its results are recorded once, whatever the repeats
    day2 = ["--partitions", "2024-01-02..2024-01-02"]
    assert prodml_main("run", "shop", *day2, cwd=root).code == 0
    once = _counts(root)
    assert once[:2] == first[:2]
    assert once[2] > first[2]
    assert prodml_main("run", "shop", *day2, cwd=root).code == 0
    assert _counts(root) == once
    # a partition fixed at the source: its quarantined rows go, the other day's stay
    _sales_day(root, "2024-01-02", ["4", "5", "6"])
    assert prodml_main("run", "shop", cwd=root).code == 0
    assert _counts(root)[:3] == (1, 1, once[2])
