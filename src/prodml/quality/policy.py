"""The quality policy on the catalog gate: every write of a table with expectations is judged
before its commit; failing rows are dropped or quarantined, a ``fail`` rule stops the write."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prodml.catalog.policies import AllowAll, WriteEvent
from prodml.names import quote_literal
from prodml.quality.engine import (
    FAILED_RULES,
    Evaluation,
    RuleResult,
    evaluate,
    quarantine_name,
)
from prodml.quality.errors import QualityFailedError
from prodml.serialize import to_jsonable

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads

    from prodml.catalog.gate import Catalog
    from prodml.catalog.policies import Access
    from prodml.catalog.store import MetadataStore
    from prodml.config.expectations import Expectation
    from prodml.names import TableName
    from prodml.tables.delta import WriteResult, WriteSpec

RESULTS_TABLE = "monitoring.dq_results"


# table → (its expectations, where they are declared)
Rules = Callable[["TableName"], "tuple[Sequence[Expectation], str] | None"]


def describe_failures(table: str, failed: Sequence[RuleResult]) -> str:
    """One line per failed rule: what, how many, examples."""
    parts = []
    for r in failed:
        count = f"{r.failed_rows} of {r.total_rows} rows" if r.failed_rows is not None else ""
        example = f", e.g. {r.samples[:3]}" if r.samples else ""
        parts.append(f"{r.rule} ({count or r.message}{example})")
    return f"{table}: expectation(s) with action fail failed: {'; '.join(parts)}"


class QualityPolicy(AllowAll):
    """Evaluates expectations on writes; records results; writes the quarantine."""

    def __init__(
        self,
        rules: Rules,
        store: MetadataStore,
        catalog: Callable[[], Catalog],
        on_failure: Callable[[TableName, str], None] | None = None,
    ) -> None:
        self._rules = rules
        self._store = store
        self._catalog = catalog
        self._on_failure = on_failure

    def prepare(self, event: WriteEvent) -> None:
        """The rows a write would keep (no results recorded, no quarantine written)."""
        import pyarrow as pa

        found = self._rules(event.table)
        if not found or not found[0]:
            return
        data = event.data if isinstance(event.data, pa.Table) else event.data.read_all()
        evaluation = evaluate_with(
            self._catalog(), None, data, found[0], event.table, found[1], event.spec
        )
        if evaluation.failed:
            raise QualityFailedError(describe_failures(str(event.table), evaluation.failed))
        event.data = evaluation.kept

    def before_write(self, event: WriteEvent) -> None:
        """Judge the rows; drop/quarantine them out of ``event.data``; stop on ``fail``."""
        import pyarrow as pa

        found = self._rules(event.table)
        if not found or not found[0]:
            return
        rules, where = found
        data = event.data if isinstance(event.data, pa.Table) else event.data.read_all()
        catalog = self._catalog()
        evaluation = evaluate_with(
            catalog, self._store, data, rules, event.table, where, event.spec
        )
        if evaluation.failed:
            self._record(event, evaluation, None)
            message = describe_failures(str(event.table), evaluation.failed)
            if self._on_failure is not None:
                self._on_failure(event.table, message)
            raise QualityFailedError(
                message,
                hint="nothing was written; fix the data or the rule "
                f"('prodml quality report {event.table.short}' shows the history)",
            )
        # the rows set aside are committed first: a kill between the two commits leaves
        # quarantined rows that the re-run replaces (never rows that are nowhere)
        write_quarantine(catalog, event, evaluation.quarantined)
        event.data = evaluation.kept
        event.notes["quality"] = evaluation

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        """Record the results against the new version."""
        evaluation: Evaluation | None = event.notes.get("quality")
        if evaluation is None:
            return
        self._record(event, evaluation, result.version)

    def _record(self, event: WriteEvent, evaluation: Evaluation, version: int | None) -> None:
        counts = evaluation.summary()
        accounting = RuleResult(
            rule="rows",
            kind="accounting",
            action="-",
            columns=[],
            passed=None,
            failed_rows=counts["dropped"] + counts["quarantined"],
            total_rows=counts["rows_in"],
            observed=float(counts["kept"]),
            message=(
                f"{counts['rows_in']:,} in = {counts['kept']:,} kept + {counts['dropped']:,} "
                f"dropped + {counts['quarantined']:,} quarantined"
                if version is not None
                else f"{counts['rows_in']:,} in, nothing written"
            ),
        )
        record(
            self._catalog(),
            self._store,
            event.table,
            [*evaluation.results, accounting],
            version=version,
            run_id=event.access.run_id,
            step=event.access.step,
            access=event.access,
            scope=Scope.of(event.spec),
        )


def evaluate_with(
    catalog: Catalog,
    store: MetadataStore | None,
    data: pa.Table,
    rules: Sequence[Expectation],
    table: TableName,
    where: str,
    spec: WriteSpec | None = None,
) -> Evaluation:
    """``evaluate`` with the catalog for referential rules, the store for history, and the
    partitions ``spec`` writes (for per-partition rules)."""
    import duckdb

    from prodml.catalog.policies import Access

    access = Access(principal="system:quality")
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        return evaluate(
            con,
            data,
            rules,
            table=str(table),
            where=where,
            reference=lambda name: catalog.read(catalog.name(name), access)[0],
            history=(lambda rule: store.dq_history(str(table), rule)) if store else None,
            now=datetime.now(UTC),
            partitions=_partitions(spec, data),
        )
    finally:
        con.close()


def _partitions(spec: WriteSpec | None, data: pa.Table) -> tuple[str, list[str]] | None:
    """The partition column of a write and the partitions it covers: those it replaces
    (even left empty), else those its rows fall in. None: the write is not by partition."""
    if spec is None:
        return None
    column = spec.partition_column or (spec.partition_by[0] if spec.partition_by else None)
    if column is None:
        return None
    if spec.partitions is not None:
        return column, [str(p) for p in spec.partitions]
    if column not in data.column_names:
        return None
    import pyarrow.compute as pc

    return column, [str(v) for v in pc.unique(data.column(column)).to_pylist()]


def check_table(
    catalog: Catalog,
    store: MetadataStore,
    table: TableName,
    rules: Sequence[Expectation],
    where: str,
    access: Access,
) -> dict[str, Any]:
    """Judge a whole table as it is now (nothing dropped or quarantined); record the results."""
    catalog.require(table)
    dataset, version = catalog.read(table, access)
    from prodml.tables.delta import WriteSpec

    data = dataset.to_table()
    entry = catalog.store.get_table(table.catalog, table.schema, table.table) or {}
    by = list(entry.get("partition_by") or [])
    spec = WriteSpec(str(table), "overwrite", partition_by=by) if by else None
    results = evaluate_with(catalog, store, data, rules, table, where, spec).results
    record(
        catalog,
        store,
        table,
        results,
        version=version,
        run_id=None,
        step=access.step,
        access=access,
    )
    return {
        "table": str(table),
        "version": version,
        "rows": results[0].total_rows if results else 0,
        "results": [to_jsonable(r) for r in results],
    }


@dataclass(frozen=True)
class Scope:
    """What a write replaces, so that its quarantine and results replace those of the write
    it redoes: ``whole`` (an overwrite: everything the step wrote before), ``partitions`` (a
    partitioned write: those partitions) or ``append`` (new rows: nothing is replaced)."""

    kind: str
    partitions: tuple[str, ...] = ()
    column: str | None = None

    @classmethod
    def of(cls, spec: WriteSpec) -> Scope:
        if spec.mode == "append":
            return cls("append")
        if spec.mode == "overwrite" and spec.replace_where is None:
            return cls("whole")
        if spec.partitions is not None and spec.partition_column:
            return cls("partitions", tuple(sorted(spec.partitions)), spec.partition_column)
        return cls("whole")

    @property
    def key(self) -> str | None:
        """The results' scope column: '' (whole), the partitions (JSON), or None (added)."""
        return {"whole": "", "append": None}.get(self.kind, json.dumps(list(self.partitions)))

    def covers(self, key: str) -> bool:
        """Whether this write redoes what a write of scope ``key`` covered."""
        return self.kind == "whole" or (
            self.kind == "partitions" and bool(key) and set(json.loads(key)) <= set(self.partitions)
        )


def _step_is(column: str, step: str | None) -> str:
    return f"{column} IS NULL" if step is None else f"{column} = {quote_literal(step)}"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(quote_literal(v) for v in values)})"


def _quarantine_columns(rows: pa.Table, event: WriteEvent, scope: Scope) -> pa.Table:
    """The quarantined rows with the run, step, time, partition and a hash of the row."""
    import duckdb
    import pyarrow as pa

    n = rows.num_rows
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register("q", rows.drop_columns([FAILED_RULES]))
        hashes = con.sql("SELECT md5(to_json(q)::VARCHAR) FROM q").to_arrow_table().column(0)
    finally:
        con.close()
    if scope.column is not None and scope.column in rows.column_names:
        partition = rows.column(scope.column).cast(pa.string())
    else:  # one partition processed: its rows are from it; else unknown (the hash decides)
        one = scope.partitions[0] if len(scope.partitions) == 1 else None
        partition = pa.array([one] * n, pa.string())
    extra = {
        "_dq_run_id": pa.array([event.access.run_id] * n, pa.string()),
        "_dq_step": pa.array([event.access.step] * n, pa.string()),
        "_dq_checked_at": pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
        "_dq_partition": partition,
        "_dq_row_hash": hashes.cast(pa.string()),
    }
    for name, values in extra.items():
        rows = rows.append_column(name, values)
    return rows


def write_quarantine(catalog: Catalog, event: WriteEvent, rows: pa.Table | None) -> None:
    """Write the quarantined rows (with the failed rules, run, step and time) to
    ``<table>__quarantine``, replacing what the write being redone had set aside there: an
    overwrite replaces the step's rows, a partitioned write those of its partitions (and any
    identical row); an append adds."""
    scope = Scope.of(event.spec)
    table = catalog.name(quarantine_name(f"{event.table.schema}.{event.table.table}"))
    existing = catalog.side_table(table)
    if rows is None and (scope.kind == "append" or existing is None):
        return
    if rows is not None:
        rows = _quarantine_columns(rows, event, scope)
    where = _step_is("_dq_step", event.access.step)
    if scope.kind == "partitions":
        hashes = rows.column("_dq_row_hash").to_pylist() if rows is not None else []
        parts = _in("_dq_partition", scope.partitions)
        where += f" AND ({parts} OR {_in('_dq_row_hash', hashes)})" if hashes else f" AND {parts}"
    if rows is None:  # nothing set aside this time: what the redone write set aside goes
        assert existing is not None
        if "_dq_row_hash" not in existing.schema.names or not _matches(existing, where):
            return  # nothing to replace: no empty commit
        rows = existing.schema.empty_table()
    if scope.kind == "append" or existing is None or "_dq_row_hash" not in existing.schema.names:
        catalog.append(
            table,
            rows,
            event.access,
            description=f"Rows of {event.table} set aside by its expectations.",
            column_docs={FAILED_RULES: "The expectations the row failed."},
            evolve=True,
        )
        return
    from prodml.tables.delta import WriteSpec

    spec = WriteSpec(str(table), "overwrite", evolve=True, replace_where=where)
    catalog.write(table, rows, spec, event.access)


def _matches(dataset: pads.Dataset, where: str) -> bool:
    """Whether any row of ``dataset`` matches the SQL predicate ``where``."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register("t", dataset)
        return bool(con.execute(f"SELECT 1 FROM t WHERE {where} LIMIT 1").fetchall())
    finally:
        con.close()


def record(  # noqa: PLR0913 - a result's context, keyword-only
    catalog: Catalog,
    store: MetadataStore,
    table: TableName,
    results: Sequence[RuleResult],
    *,
    version: int | None,
    run_id: str | None,
    step: str | None,
    access: Any,
    scope: Scope | None = None,
) -> None:
    """Store results in the metadata store and in ``monitoring.dq_results``. Results of a
    write replace those of the writes it redoes (same table and step, a ``scope`` it
    covers: a full refresh all of them, a partitioned write those of its partitions);
    results of appends and of checks (no scope) are added."""
    import pyarrow as pa

    key = scope.key if scope is not None else None
    context: Mapping[str, Any] = {
        "catalog": table.catalog,
        "table_name": str(table),
        "version": version,
        "run_id": run_id,
        "step": step,
        "scope": key,
    }
    rows = [
        {**context, **{k: v for k, v in to_jsonable(r).items() if k != "columns"}} for r in results
    ]
    # the results of earlier writes this one redoes (same table and step, scope covered)
    covered = (
        [k for k in store.dq_scopes(str(table), step) if scope.covers(k)]
        if scope is not None and key is not None and step is not None
        else []
    )
    store.record_dq(rows, replace_scopes=covered)
    stamp = datetime.now(UTC)
    target = catalog.name(RESULTS_TABLE)
    data = pa.table(
        {
            "table_name": pa.array([r["table_name"] for r in rows], pa.string()),
            "version": pa.array([r["version"] for r in rows], pa.int64()),
            "run_id": pa.array([r["run_id"] for r in rows], pa.string()),
            "step": pa.array([r["step"] for r in rows], pa.string()),
            "rule": pa.array([r["rule"] for r in rows], pa.string()),
            "kind": pa.array([r["kind"] for r in rows], pa.string()),
            "action": pa.array([r["action"] for r in rows], pa.string()),
            "passed": pa.array([r["passed"] for r in rows], pa.bool_()),
            "failed_rows": pa.array([r["failed_rows"] for r in rows], pa.int64()),
            "total_rows": pa.array([r["total_rows"] for r in rows], pa.int64()),
            "observed": pa.array([r["observed"] for r in rows], pa.float64()),
            "message": pa.array([r["message"] for r in rows], pa.string()),
            "checked_at": pa.array([stamp] * len(rows), pa.timestamp("us", tz="UTC")),
            "scope": pa.array([key] * len(rows), pa.string()),
        }
    )
    stored = catalog.side_table(target)
    if not covered or stored is None or "scope" not in stored.schema.names:
        catalog.append(
            target,
            data,
            access,
            description="Data-quality results: one row per expectation per judged write.",
            evolve=True,
        )
        return
    from prodml.tables.delta import WriteSpec

    where = f"table_name = {quote_literal(str(table))} AND {_step_is('step', step)}"
    where += f" AND {_in('scope', sorted({*covered, key or ''}))}"  # new rows match it too
    catalog.write(target, data, WriteSpec(str(target), "overwrite", replace_where=where), access)
