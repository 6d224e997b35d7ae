"""One table's drift: cut the two windows in DuckDB, compare the columns, keep histograms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from prodml.drift import stats, summaries
from prodml.drift.windows import Window, bounds
from prodml.errors import UsageError, did_you_mean
from prodml.names import quote_ident

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import Catalog, TableInfo
    from prodml.catalog.policies import Access
    from prodml.config.product import DriftTable
    from prodml.engine.local import LocalEngine
    from prodml.names import TableName

_TEMPORAL = ("date", "timestamp")


def default_columns(info: TableInfo, schema: pa.Schema, time_column: str | None) -> list[str]:
    """Every column but keys, partitions, the time column and ``_meta`` ones."""
    skip = {*info.keys, *info.partition_by, *([time_column] if time_column else [])}
    return [f.name for f in schema if f.name not in skip and not f.name.startswith("_")]


def table_drift(
    catalog: Catalog,
    engine: LocalEngine,
    table: TableName,
    config: DriftTable,
    current: Window,
    reference: Window,
    access: Access,
    correction: stats.Correction,
) -> dict[str, Any]:
    """The drift of ``table`` between the windows, as plain data (with histograms)."""
    catalog.require(table)
    info = catalog.describe(table)
    cur_ds, cur_version = catalog.read(table, access, version=current.version)
    ref_ds, ref_version = catalog.read(table, access, version=reference.version)
    schema = cur_ds.schema
    names = schema.names
    time_column = config.time_column or (info.partition_by[0] if info.partition_by else None)
    if (current.timed or reference.timed) and time_column is None:
        raise UsageError(
            f"{table.short} has no time column to cut windows on",
            hint="set drift.tables.<table>.time_column in product.yaml, or compare versions (vN)",
        )
    if time_column is not None and time_column not in names:
        raise UsageError(
            f"{table.short} has no column {time_column!r} (drift time_column)",
            hint=did_you_mean(time_column, names) or f"columns: {', '.join(names)}",
        )
    listed = config.columns
    if listed is None:
        listed = default_columns(info, schema, time_column) if not config.derived else []
    columns = [*listed, *config.derived]
    if config.target and config.target not in columns:
        columns.append(config.target)
    unknown = [c for c in columns if c not in names and c not in config.derived]
    if unknown:
        hints = [did_you_mean(c, names) for c in unknown]
        raise UsageError(
            f"{table.short} has no column(s) {', '.join(unknown)} (drift columns)",
            hint="; ".join(h for h in hints if h) or f"columns: {', '.join(names)}",
        )
    engine.register_alias("__drift_cur", cur_ds)
    engine.register_alias("__drift_ref", ref_ds)
    newest: date | None = None
    if time_column is not None:
        value = engine.sql(f"SELECT max({quote_ident(time_column)}) FROM __drift_cur").fetchall()[
            0
        ][0]
        newest = value.date() if hasattr(value, "date") else value
    cur_bounds, ref_bounds = bounds(current, reference, newest)
    cur = _load(engine, "__drift_cur", columns, time_column, cur_bounds, config)
    ref = _load(engine, "__drift_ref", columns, time_column, ref_bounds, config)
    windows = {
        "current": _describe(current, cur_bounds),
        "reference": _describe(reference, ref_bounds),
    }
    for side, data in (("current", cur), ("reference", ref)):
        if data.num_rows == 0:
            raise UsageError(
                f"the {side} window of {table.short} ({windows[side]}) holds no rows",
                hint=f"the newest {time_column} is {newest}" if newest else "pick another window",
            )
    kinds = {c: k for c, k in config.kinds.items() if c in columns}
    ref_cols = {c: _values(ref.column(c)) for c in columns}
    cur_cols = {c: _values(cur.column(c)) for c in columns}
    compared = [c for c in columns if c != config.target]
    result = stats.dataset_drift(ref_cols, cur_cols, kinds, correction=correction, columns=compared)
    histograms = {}
    for c in result.columns:
        histograms[c.column] = summaries.histogram(ref_cols[c.column], cur_cols[c.column], c.kind)
    numeric = [c.column for c in result.columns if c.kind == "numeric" and c.status == "ok"]
    correlations = (
        summaries.correlation_change(ref_cols, cur_cols, numeric) if len(numeric) >= 2 else None
    )
    relation = None
    if config.target:  # feature-target relation: the correlation of each feature with the label
        change = summaries.correlation_change(
            ref_cols, cur_cols, [*numeric, config.target], threshold=0.1
        )
        relation = {
            "target": config.target,
            "changed": [p for p in change["pairs"] if config.target in p["columns"]],
            "max_abs_diff": change["max_abs_diff"],
        }
    return {
        "table": str(table),
        "time_column": time_column,
        "current_version": cur_version,
        "reference_version": ref_version,
        "current_window": windows["current"],
        "reference_window": windows["reference"],
        "current_rows": cur.num_rows,
        "reference_rows": ref.num_rows,
        "result": result.to_json(),
        "correlations": correlations,
        "target_relation": relation,
        "histograms": histograms,
    }


def _load(
    engine: LocalEngine,
    source: str,
    columns: Sequence[str],
    time_column: str | None,
    window: tuple[date | None, date | None],
    config: DriftTable,
) -> pa.Table:
    where = [f"({config.where})"] if config.where else []
    params: dict[str, Any] = {}
    if time_column is not None and window[0] is not None:
        where.append(f"CAST({quote_ident(time_column)} AS DATE) >= $start")
        params["start"] = window[0]
    if time_column is not None and window[1] is not None:
        where.append(f"CAST({quote_ident(time_column)} AS DATE) <= $end")
        params["end"] = window[1]
    selected = [
        f"({config.derived[c]}) AS {quote_ident(c)}" if c in config.derived else quote_ident(c)
        for c in columns
    ]
    query = f"SELECT {', '.join(selected)} FROM {source}"
    if where:
        query += " WHERE " + " AND ".join(where)
    import duckdb

    try:
        return engine.sql(query, **params).to_arrow_table()
    except duckdb.Error as exc:
        raise UsageError(
            f"the drift columns cannot be read: {exc}",
            hint="check drift.tables.<table>.derived and where in product.yaml",
        ) from None


def _values(column: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column.to_numpy(zero_copy_only=False)


def _describe(window: Window, cut: tuple[date | None, date | None]) -> str:
    if window.kind == "version":
        return f"version {window.version}"
    if window.kind == "all":
        return "all rows"
    if cut[0] is None:
        return f"{window.spec}: up to {cut[1]}"
    if cut[1] is None:
        return f"{window.spec}: from {cut[0]}"
    return f"{window.spec}: {cut[0]}..{cut[1]}"
