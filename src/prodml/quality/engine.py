"""Expectations evaluated in one DuckDB pass over the data being written (or a whole table).

Every row rule becomes a boolean column of one query (with the row's position), so the rules
cost one scan whatever their number; the table rules are aggregates of the same query. The
flags come back as NumPy masks that split the input into kept, dropped and quarantined rows.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prodml.config.expectations import (
    AllowedValues,
    Anomaly,
    Expectation,
    Expression,
    Freshness,
    NotNull,
    Pattern,
    Range,
    Referential,
    RowCount,
    SchemaRule,
    Unique,
)
from prodml.errors import did_you_mean
from prodml.names import quote_ident, quote_literal
from prodml.quality.errors import ExpectationError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

SAMPLES = 5
FAILED_RULES = "_dq_failed_rules"
_IDX = "__dq_idx"


@dataclass
class RuleResult:
    """What one rule found."""

    rule: str
    kind: str
    action: str
    columns: list[str]
    passed: bool | None  # None: not judged (e.g. not enough history for an anomaly check)
    failed_rows: int | None
    total_rows: int
    observed: float | None = None
    samples: list[Any] = field(default_factory=list)
    message: str = ""

    def __post_init__(self) -> None:
        # samples are shown and stored as they print: dates and decimals as their text
        self.samples = [
            v if isinstance(v, int | float | str | bool) or v is None else str(v)
            for v in self.samples
        ]


@dataclass
class Evaluation:
    """The verdict on one write: results per rule and the rows to keep and to quarantine."""

    table: str
    rows_in: int
    results: list[RuleResult]
    kept: pa.Table
    quarantined: pa.Table | None
    dropped: int

    @property
    def failed(self) -> list[RuleResult]:
        """Rules with action ``fail`` that failed: the write must not happen."""
        return [r for r in self.results if r.action == "fail" and r.passed is False]

    def summary(self) -> dict[str, int]:
        """Row accounting: in = kept + dropped + quarantined."""
        quarantined = 0 if self.quarantined is None else self.quarantined.num_rows
        return {
            "rows_in": self.rows_in,
            "kept": self.kept.num_rows,
            "dropped": self.dropped,
            "quarantined": quarantined,
        }


_NUMERIC_TYPES = ("integer", "floating", "decimal")


def _type_class(t: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def check_rules(rules: Sequence[Expectation], schema: pa.Schema, table: str, where: str) -> None:
    """Columns exist and have types the rules can judge; raises ``ExpectationError``."""
    have = {f.name: _type_class(f.type) for f in schema}
    for i, rule in enumerate(rules):
        at = f"{where}[{i}] ({rule.label()})"
        columns = _columns_of(rule)
        for col in columns:
            if col not in have:
                hint = did_you_mean(col, list(have)) or f"columns: {', '.join(have)}"
                raise ExpectationError(f"{at}: {table} has no column {col!r}", hint=hint)
        if isinstance(rule, Range) and have[rule.column] not in (
            "integer",
            "float",
            "decimal",
            "null",
        ):
            raise ExpectationError(
                f"{at}: range needs a numeric column; {rule.column} is {have[rule.column]}",
                hint="for dates use freshness or an expression rule; for text allowed_values "
                "or pattern",
            )
        if isinstance(rule, Freshness) and have[rule.column] not in ("date", "timestamp", "null"):
            raise ExpectationError(
                f"{at}: freshness needs a date or timestamp column; {rule.column} is "
                f"{have[rule.column]}"
            )
        if (
            isinstance(rule, Anomaly)
            and rule.metric in ("mean", "p50", "p95")
            and rule.column is not None
            and have[rule.column] not in ("integer", "float", "decimal", "null")
        ):
            raise ExpectationError(
                f"{at}: the {rule.metric} of {rule.column} needs a numeric column; it is "
                f"{have[rule.column]}",
                hint="use metric: null_rate or row_count for other columns",
            )


def _columns_of(rule: Expectation) -> list[str]:
    if isinstance(rule, Unique):
        return list(rule.columns)
    if isinstance(rule, SchemaRule | RowCount | Expression):
        return []
    column = getattr(rule, "column", None)
    return [column] if column else []


def evaluate(  # noqa: PLR0913 - the context of a judgement, keyword-only
    con: duckdb.DuckDBPyConnection,
    data: pa.Table,
    rules: Sequence[Expectation],
    *,
    table: str,
    where: str = "expectations",
    reference: Callable[[str], Any] | None = None,
    history: Callable[[str], list[float]] | None = None,
    now: datetime | None = None,
    partitions: tuple[str, Sequence[str]] | None = None,
) -> Evaluation:
    """Judge ``data`` (about to be written to ``table``) by ``rules``.

    Args:
        con: a DuckDB connection (the engine's).
        data: the rows.
        rules: the table's expectations.
        table: its name (messages, results).
        where: where the rules are declared (messages).
        reference: resolves a referential rule's table name to an Arrow dataset/table.
        history: earlier observed values of a rule (by label), oldest first, for anomalies.
        now: the time freshness is judged at (default: now, UTC).
        partitions: the partition column and the partitions this write replaces (those
            left empty included), for rules with ``scope: partition``.
    """
    now = now or datetime.now(UTC)
    check_rules(rules, data.schema, table, where)
    row_rules = [r for r in rules if not r.table_level]
    masks, values = _scan(con, data, rules, where, reference)
    n = data.num_rows
    results = _row_results(row_rules, masks, data)
    for i, rule in enumerate(rules):
        if getattr(rule, "scope", "write") == "partition":
            at = f"{where}[{i}] ({rule.label()})"
            per = _per_partition(con, data, rule, partitions, table=table, at=at)
            results.extend(_partition_results(rule, per, history))
        elif rule.table_level:
            results.append(_table_result(rule, values.get(f"a{i}"), n, data.schema, history, now))
    order = {r.label(): k for k, r in enumerate(rules)}
    results.sort(key=lambda r: order[r.rule])
    kept, quarantined, dropped = _split(data, row_rules, masks)
    return Evaluation(table, n, results, kept, quarantined, dropped)


def _scan(
    con: duckdb.DuckDBPyConnection,
    data: pa.Table,
    rules: Sequence[Expectation],
    where: str,
    reference: Callable[[str], Any] | None,
) -> tuple[list[Any], dict[str, Any]]:
    """The failing-row mask of each row rule (one scan, plus one query per ``unique`` rule)
    and the aggregates the table rules judge."""
    import numpy as np
    import pyarrow as pa

    n = data.num_rows
    con.register("__dq_data", data.append_column(_IDX, pa.array(np.arange(n, dtype=np.int64))))
    row_rules = [r for r in rules if not r.table_level]
    joins: list[str] = []
    exprs = [
        "" if isinstance(rule, Unique) else _predicate(rule, i, joins, con, reference)
        for i, rule in enumerate(row_rules)
    ]
    # duplicates are judged among the rows that stay: a quarantined copy never shadows a good one
    held = " OR ".join(
        f"coalesce({e}, false)"
        for e, r in zip(exprs, row_rules, strict=True)
        if r.action == "quarantine" and e
    )
    source = f"__dq_data d {' '.join(joins)}"
    named = [(f"a{i}", expr) for i, rule in enumerate(rules) if (expr := _aggregate(rule))]
    masks: list[Any] = [None] * len(row_rules)
    try:
        plain = [(i, e) for i, e in enumerate(exprs) if e]
        if plain:  # one scan; only the failing rows come back
            flags = ", ".join(f"coalesce({e}, false) AS f{i}" for i, e in plain)
            any_fails = " OR ".join(f"coalesce({e}, false)" for _, e in plain)
            query = f"SELECT d.{_IDX}, {flags} FROM {source} WHERE {any_fails}"
            failing = _run(con, query, where).to_arrow_table()
            for i, _ in plain:
                masks[i] = _mask(n, failing.column(_IDX).to_numpy(), failing.column(f"f{i}"))
        for i, rule in enumerate(row_rules):
            if isinstance(rule, Unique):  # its own query: the window needs only the keys
                idx = _run(con, _duplicates_query(rule, held, source), where)
                masks[i] = _mask(n, idx.to_arrow_table().column(0).to_numpy(), None)
        selects = ", ".join(["count(*) AS n"] + [f"{e} AS {k}" for k, e in named])
        agg = _run(con, f"SELECT {selects} FROM __dq_data", where).fetchall()[0]
    finally:
        con.unregister("__dq_data")
        for j in range(len(joins)):
            con.unregister(f"__dq_ref{j}")
    return masks, dict(zip(["n"] + [k for k, _ in named], agg, strict=True))


def _mask(n: int, rows: Any, flags: Any) -> Any:
    """A boolean mask of ``n`` rows, true at ``rows`` (where ``flags`` is, when given)."""
    import numpy as np

    mask = np.zeros(n, dtype=bool)
    mask[rows] = True if flags is None else flags.to_numpy(zero_copy_only=False)
    return mask


def _row_results(
    row_rules: Sequence[Expectation], masks: Sequence[Any], data: pa.Table
) -> list[RuleResult]:
    """Each row rule's verdict: failing rows, their share, examples."""
    import numpy as np
    import pyarrow as pa

    n = data.num_rows
    results = []
    for rule, mask in zip(row_rules, masks, strict=True):
        failed = int(mask.sum())
        cols = _columns_of(rule)
        samples: list[Any] = []
        if failed and cols:
            rows = np.flatnonzero(mask)[:SAMPLES]
            samples = data.column(cols[0]).take(pa.array(rows)).to_pylist()
        results.append(
            RuleResult(
                rule=rule.label(),
                kind=rule.rule,
                action=rule.action,
                columns=cols,
                passed=failed == 0,
                failed_rows=failed,
                total_rows=n,
                observed=float(failed) / n if n else 0.0,
                samples=samples,
                message=f"{failed:,} of {n:,} rows fail" if failed else "",
            )
        )
    return results


def _split(
    data: pa.Table, row_rules: Sequence[Expectation], masks: Sequence[Any]
) -> tuple[pa.Table, pa.Table | None, int]:
    """(kept rows, quarantined rows with the rules they failed, how many were dropped):
    quarantine wins over drop, so nothing leaves without a trace."""
    import numpy as np
    import pyarrow as pa

    n = data.num_rows
    quarantine = np.zeros(n, dtype=bool)
    drop = np.zeros(n, dtype=bool)
    labels: list[tuple[str, Any]] = []
    for rule, mask in zip(row_rules, masks, strict=True):
        if rule.action == "quarantine":
            quarantine |= mask
            labels.append((rule.label(), mask))
        elif rule.action == "drop":
            drop |= mask
    drop &= ~quarantine
    keep = ~(quarantine | drop)
    kept = data if keep.all() else data.filter(pa.array(keep))
    quarantined = None
    if quarantine.any():
        rows = np.flatnonzero(quarantine)
        part = data.take(pa.array(rows))
        reasons = [[label for label, m in labels if m[r]] for r in rows.tolist()]
        quarantined = part.append_column(FAILED_RULES, pa.array(reasons, pa.list_(pa.string())))
    return kept, quarantined, int(drop.sum())


def _run(con: duckdb.DuckDBPyConnection, query: str, where: str) -> Any:
    import duckdb

    try:
        return con.sql(query)
    except duckdb.Error as exc:
        raise ExpectationError(
            f"{where}: the expectations cannot be evaluated: {exc}",
            hint="check the column names and SQL of expression rules",
        ) from None


def _predicate(
    rule: Expectation,
    i: int,
    joins: list[str],
    con: duckdb.DuckDBPyConnection,
    reference: Callable[[str], Any] | None,
) -> str:
    """The SQL that is true when the row FAILS ``rule``."""
    if isinstance(rule, NotNull):
        return f"d.{quote_ident(rule.column)} IS NULL"
    if isinstance(rule, Range):
        col = f"d.{quote_ident(rule.column)}"
        parts = []
        if rule.min is not None:
            parts.append(f"{col} < {rule.min!r}")
        if rule.max is not None:
            parts.append(f"{col} > {rule.max!r}")
        # NaN is a missing value, as a null is (not_null judges those)
        return f"coalesce(({' OR '.join(parts)}) AND {col} = {col}, false)"
    if isinstance(rule, AllowedValues):
        col = f"d.{quote_ident(rule.column)}"
        values = ", ".join(_literal(v) for v in rule.values)
        return f"({col} IS NOT NULL AND {col} NOT IN ({values}))"
    if isinstance(rule, Pattern):
        col = f"d.{quote_ident(rule.column)}"
        return (
            f"({col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), "
            f"{quote_literal(rule.regex)}))"
        )
    if isinstance(rule, Expression):
        return f"NOT coalesce(({rule.sql}), false)"
    if isinstance(rule, Referential):
        if reference is None:
            raise ExpectationError(f"{rule.label()}: no catalog to look up {rule.table}")
        alias = f"__dq_ref{len(joins)}"
        con.register(alias, reference(rule.table))
        key = quote_ident(rule.key or rule.column)
        j = len(joins)
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {key} AS __dq_k{j} FROM {alias}) __dq_r{j} "
            f"ON d.{quote_ident(rule.column)} = __dq_r{j}.__dq_k{j}"
        )
        return f"(d.{quote_ident(rule.column)} IS NOT NULL AND __dq_r{j}.__dq_k{j} IS NULL)"
    raise AssertionError(f"not a row rule: {rule.rule}")


def _duplicates_query(rule: Unique, held: str, source: str) -> str:
    """The positions of every row of a key after its first (in input order), among the rows
    not quarantined by another rule."""
    keys = ", ".join(f"d.{quote_ident(c)}" for c in rule.columns)
    hold = f"({held})" if held else "false"
    return (
        f"SELECT {_IDX} FROM (SELECT d.{_IDX}, {hold} AS held, row_number() OVER "
        f"(PARTITION BY {keys}, {hold} ORDER BY d.{_IDX}) AS rn FROM {source}) "
        "WHERE rn > 1 AND NOT held"
    )


def _aggregate(rule: Expectation) -> str | None:
    if isinstance(rule, Freshness):
        return f"max({quote_ident(rule.column)})"
    if isinstance(rule, Anomaly) and rule.column is not None:
        col = quote_ident(rule.column)
        return {
            "null_rate": f"avg(CASE WHEN {col} IS NULL THEN 1.0 ELSE 0.0 END)",
            "mean": f"avg({col})",
            "p50": f"quantile_cont({col}, 0.5)",
            "p95": f"quantile_cont({col}, 0.95)",
        }.get(rule.metric)
    return None


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(str(value))


def _table_result(
    rule: Expectation,
    value: Any,
    n: int,
    schema: pa.Schema,
    history: Callable[[str], list[float]] | None,
    now: datetime,
) -> RuleResult:
    """A table rule's verdict: ``(passed, observed, message)`` by kind, with the rule's facts."""
    if isinstance(rule, RowCount):
        verdict = _row_count(rule, n)
    elif isinstance(rule, Freshness):
        verdict = _freshness(rule, value, now)
    elif isinstance(rule, SchemaRule):
        verdict = _schema(rule, schema)
    elif isinstance(rule, Anomaly):
        observed = (
            float(n) if rule.metric == "row_count" else (None if value is None else float(value))
        )
        verdict = _anomaly(rule, observed, history(rule.label()) if history else [])
    else:
        raise AssertionError(f"not a table rule: {rule.rule}")
    return _verdict_result(rule, verdict, n)


def _verdict_result(rule: Expectation, verdict: Verdict, n: int, where: str = "") -> RuleResult:
    """A table rule's result from its verdict (``where``: the partition it is about)."""
    passed, observed, message = verdict
    return RuleResult(
        rule=rule.label(),
        kind=rule.rule,
        action=rule.action,
        columns=_columns_of(rule),
        passed=passed,
        failed_rows=None,
        total_rows=n,
        observed=observed,
        message=f"{where}: {message}" if where and message else message,
    )


def _per_partition(
    con: duckdb.DuckDBPyConnection,
    data: pa.Table,
    rule: Expectation,
    partitions: tuple[str, Sequence[str]] | None,
    *,
    table: str,
    at: str,
) -> dict[str, tuple[int, Any]]:
    """Each partition the write covers: (rows, the rule's aggregate); the partitions it
    replaces that received no rows are there with 0 rows."""
    if partitions is None:
        raise ExpectationError(
            f"{at}: scope partition, but this write of {table} is not by partition",
            hint="partition the table (partition_by on its step) or use scope: write",
        )
    column, covered = partitions
    expected = {f"{column}={p}": (0, None) for p in covered}
    if column not in data.column_names:
        if len(covered) == 1:  # the write is one partition: every row is in it
            _n, value = _run_aggregate(con, data, rule, None)
            return {f"{column}={covered[0]}": (data.num_rows, value)}
        raise ExpectationError(
            f"{at}: scope partition, but the rows written to {table} have no {column} column",
            hint="keep the partition column in the step's output, or use scope: write",
        )
    found = _run_aggregate(con, data, rule, column)
    return {**expected, **{f"{column}={p}": v for p, v in found.items()}}


def _run_aggregate(
    con: duckdb.DuckDBPyConnection, data: pa.Table, rule: Expectation, column: str | None
) -> Any:
    """``(rows, aggregate)`` of ``data``, or per value of ``column`` (as text)."""
    agg = _aggregate(rule) or "NULL"
    con.register("__dq_part", data)
    try:
        if column is None:
            (row,) = con.execute(f"SELECT count(*), {agg} FROM __dq_part").fetchall()
            return tuple(row)
        key = f"CAST({quote_ident(column)} AS VARCHAR)"
        found = con.execute(f"SELECT {key}, count(*), {agg} FROM __dq_part GROUP BY 1").fetchall()
    finally:
        con.unregister("__dq_part")
    return {str(p): (int(c), v) for p, c, v in found}


def _partition_results(
    rule: Expectation,
    per: dict[str, tuple[int, Any]],
    history: Callable[[str], list[float]] | None,
) -> list[RuleResult]:
    """One result per partition: row counts within bounds, or a metric against the table's
    earlier partitions and the write's others (one value each)."""
    past = history(rule.label()) if history and isinstance(rule, Anomaly) else []
    out = []
    for partition, (n, value) in sorted(per.items()):
        if isinstance(rule, RowCount):
            verdict = _row_count(rule, n)
        else:
            assert isinstance(rule, Anomaly)
            observed = float(n) if rule.metric == "row_count" else value
            others = [
                float(c) if rule.metric == "row_count" else v
                for p, (c, v) in per.items()
                if p != partition and (rule.metric == "row_count" or v is not None)
            ]
            value_seen = None if observed is None else float(observed)
            verdict = _anomaly(rule, value_seen, past + others)
        out.append(_verdict_result(rule, verdict, n, partition))
    return out


#: a table rule's (passed — None: not judged —, observed value, message)
Verdict = tuple[bool | None, float | None, str]


def _row_count(rule: RowCount, n: int) -> Verdict:
    low = rule.min is not None and n < rule.min
    high = rule.max is not None and n > rule.max
    bounds = f"[{rule.min if rule.min is not None else ''}, {rule.max or ''}]"
    return not (low or high), float(n), f"{n} rows, outside {bounds}" if low or high else ""


def _freshness(rule: Freshness, value: Any, now: datetime) -> Verdict:
    if value is None:
        return False, None, f"{rule.column} has no values"
    newest = (
        value
        if isinstance(value, datetime)
        else datetime(value.year, value.month, value.day, tzinfo=UTC)
    )
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    age = (now - newest).total_seconds() / 3600.0
    if age <= rule.max_age_hours:
        return True, age, ""
    return False, age, f"newest {rule.column} is {age:,.1f} h old (max {rule.max_age_hours:g} h)"


def _schema(rule: SchemaRule, schema: pa.Schema) -> Verdict:
    have = {f.name: _type_class(f.type) for f in schema}
    wrong = [
        f"{c}: {have.get(c, 'missing')} (expected {t})"
        for c, t in rule.columns.items()
        if have.get(c) != t
    ]
    return not wrong, float(len(wrong)), "; ".join(wrong)


def _anomaly(rule: Anomaly, observed: float | None, past: list[float]) -> Verdict:
    """A robust z-score (median and MAD) of the observed value against the table's history."""
    if observed is None:
        return None, None, "no values to measure"
    if len(past) < rule.min_history:
        needed = f"{len(past)} earlier values, {rule.min_history} needed"
        return None, observed, f"not enough history: {needed}"
    median = statistics.median(past)
    mad = statistics.median(abs(x - median) for x in past)
    if mad == 0:
        z = 0.0 if observed == median else float("inf")
    else:
        z = 0.6745 * (observed - median) / mad
    if abs(z) <= rule.threshold:
        return True, observed, ""
    return (
        False,
        observed,
        f"{rule.metric} {observed:.4g} vs median {median:.4g} "
        f"(robust z {z:+.2f}, threshold {rule.threshold:g})",
    )


def quarantine_name(table: str) -> str:
    """``<table>__quarantine``."""
    return f"{table}__quarantine"
