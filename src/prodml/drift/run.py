"""One table's drift: cut the two windows in DuckDB, compare the columns, keep histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from prodml.config.product import DriftConfig, DriftTable
from prodml.drift import stats, summaries
from prodml.drift.windows import Window, bounds
from prodml.errors import NotFoundError, UsageError, did_you_mean
from prodml.names import quote_ident
from prodml.serialize import to_jsonable

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import Catalog, TableInfo
    from prodml.catalog.policies import Access
    from prodml.engine.base import Engine
    from prodml.names import TableName
    from prodml.products import Product

_TEMPORAL = ("date", "timestamp")


# the prediction of every served record, from a product's inference log (prediction drift)
PREDICTIONS = DriftTable(
    columns=[],
    derived={"prediction": "TRY_CAST(json_extract_string(outputs, '$.prediction') AS DOUBLE)"},
    where="NOT shadow",
    time_column="date",
)


def watched(
    catalog: Catalog, products: Mapping[str, Product], target: str
) -> tuple[Product | None, DriftConfig, dict[TableName, DriftTable]]:
    """What ``drift run TARGET`` compares: a product's ``drift.tables``, or one table (with the
    settings of the product that watches it, if one does)."""
    product = products.get(target)
    if product is not None:
        config = product.config.drift
        if not config.tables:
            raise UsageError(
                f"product {target} watches no tables for drift",
                hint="add drift.tables.<schema.table> to its product.yaml",
            )
        return product, config, {catalog.name(k): v for k, v in config.tables.items()}
    if "." not in target:
        raise NotFoundError("product", target, sorted(products))  # tables are schema.table
    table = catalog.name(target)
    for owner in products.values():
        tables = {catalog.name(k): v for k, v in owner.config.drift.tables.items()}
        if table in tables:
            return owner, owner.config.drift, {table: tables[table]}
    return None, DriftConfig(), {table: DriftTable()}


def compare(
    catalog: Catalog,
    engine: Engine,
    tables: Mapping[TableName, DriftTable],
    optional: Mapping[TableName, DriftTable],
    *,
    current: Window,
    reference: Window,
    correction: stats.Correction,
    access: Access,
) -> dict[str, Any]:
    """Every table's drift between the windows; ``optional`` tables that cannot be compared
    (e.g. an empty window) become notes instead of errors."""
    results = [
        table_drift(catalog, engine, t, c, current, reference, access, correction)
        for t, c in tables.items()
    ]
    notes = []
    for t, c in optional.items():
        try:
            results.append(
                table_drift(catalog, engine, t, c, current, reference, access, correction)
            )
        except UsageError as exc:
            notes.append(f"{t.short} not compared: {exc}")
    drifted = [r["table"] for r in results if r["result"]["drift"]]
    return {
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "current": current.spec,
        "reference": reference.spec,
        "drift": bool(drifted),
        "drifted_tables": drifted,
        "drifted_columns": [
            f"{r['table']}.{c['column']}"
            for r in results
            for c in r["result"]["columns"]
            if c["drift"]
        ],
        "notes": notes,
        "tables": results,
    }


def store_results(catalog: Catalog, report: Mapping[str, Any], access: Access) -> None:
    """One row per compared column in ``monitoring.drift_results``."""
    import pyarrow as pa

    rows = [
        {**c, "table_name": t["table"]} for t in report["tables"] for c in t["result"]["columns"]
    ]
    if not rows:
        return
    n = len(rows)
    stamp = datetime.fromisoformat(report["checked_at"])

    def col(key: str, kind: pa.DataType) -> pa.Array:
        return pa.array([r[key] for r in rows], kind)

    data = pa.table(
        {
            "checked_at": pa.array([stamp] * n, pa.timestamp("us", tz="UTC")),
            "target": pa.array([report["target"]] * n, pa.string()),
            "table_name": col("table_name", pa.string()),
            "column": col("column", pa.string()),
            "kind": col("kind", pa.string()),
            "method": col("method", pa.string()),
            "statistic": col("statistic", pa.float64()),
            "p_value": col("p_value", pa.float64()),
            "threshold": col("threshold", pa.float64()),
            "drift": col("drift", pa.bool_()),
            "status": col("status", pa.string()),
            "psi": col("psi", pa.float64()),
            "reference": pa.array([report["reference"]] * n, pa.string()),
            "current": pa.array([report["current"]] * n, pa.string()),
        }
    )
    catalog.append(
        catalog.name("monitoring.drift_results"),
        data,
        access,
        description="Drift results: one row per column per drift run.",
    )


def default_columns(info: TableInfo, schema: pa.Schema, time_column: str | None) -> list[str]:
    """Every column but keys, partitions, the time column and ``_meta`` ones."""
    skip = {*info.keys, *info.partition_by, *([time_column] if time_column else [])}
    return [f.name for f in schema if f.name not in skip and not f.name.startswith("_")]


def table_drift(
    catalog: Catalog,
    engine: Engine,
    table: TableName,
    config: DriftTable,
    current: Window,
    reference: Window,
    access: Access,
    correction: stats.Correction,
) -> dict[str, Any]:
    """The drift of ``table`` between the windows, as plain data (with histograms)."""
    info = catalog.describe(table, access)
    cur_ds, cur_version = catalog.read(table, access, version=current.version)
    ref_ds, ref_version = catalog.read(table, access, version=reference.version)
    time_column = _time_column(table, info, config, cur_ds.schema.names, current, reference)
    columns = _columns(table, info, cur_ds.schema, time_column, config)
    engine.register_alias("__drift_cur", cur_ds)
    engine.register_alias("__drift_ref", ref_ds)
    cur, ref, windows = _cut(engine, table, columns, time_column, config, (current, reference))
    kinds = {c: k for c, k in config.kinds.items() if c in columns}
    ref_cols = {c: _values(ref.column(c)) for c in columns}
    cur_cols = {c: _values(cur.column(c)) for c in columns}
    compared = [c for c in columns if c != config.target]
    result = stats.dataset_drift(ref_cols, cur_cols, kinds, correction=correction, columns=compared)
    histograms = {
        c.column: summaries.histogram(ref_cols[c.column], cur_cols[c.column], c.kind)
        for c in result.columns
    }
    correlations, relation = _relations(result, ref_cols, cur_cols, config.target)
    return {
        "table": str(table),
        "time_column": time_column,
        "current_version": cur_version,
        "reference_version": ref_version,
        "current_window": windows["current"],
        "reference_window": windows["reference"],
        "current_rows": cur.num_rows,
        "reference_rows": ref.num_rows,
        "result": to_jsonable(result),
        "correlations": correlations,
        "target_relation": relation,
        "histograms": histograms,
    }


def _time_column(
    table: TableName,
    info: TableInfo,
    config: DriftTable,
    names: list[str],
    current: Window,
    reference: Window,
) -> str | None:
    """The column windows are cut on (default: the table's partition column)."""
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
    return time_column


def _columns(
    table: TableName, info: TableInfo, schema: Any, time_column: str | None, config: DriftTable
) -> list[str]:
    """The columns compared: those listed (default: the table's), derived ones, the target."""
    listed = config.columns
    if listed is None:
        listed = default_columns(info, schema, time_column) if not config.derived else []
    columns = [*listed, *config.derived]
    if config.target and config.target not in columns:
        columns.append(config.target)
    names = schema.names
    unknown = [c for c in columns if c not in names and c not in config.derived]
    if unknown:
        hints = [did_you_mean(c, names) for c in unknown]
        raise UsageError(
            f"{table.short} has no column(s) {', '.join(unknown)} (drift columns)",
            hint="; ".join(h for h in hints if h) or f"columns: {', '.join(names)}",
        )
    return columns


def _cut(
    engine: Engine,
    table: TableName,
    columns: list[str],
    time_column: str | None,
    config: DriftTable,
    windows: tuple[Window, Window],
) -> tuple[pa.Table, pa.Table, dict[str, str]]:
    """The current and reference rows of the windows (neither may be empty), described."""
    current, reference = windows
    newest: date | None = None
    if time_column is not None:
        query = f"SELECT max({quote_ident(time_column)}) FROM __drift_cur"
        value = engine.sql(query).fetchall()[0][0]
        if value is not None and not isinstance(value, date):
            from prodml.drift.errors import DriftInputError

            raise DriftInputError(
                f"time column {time_column} of {table.short} holds {type(value).__name__} "
                "values, not dates: drift windows count days",
                hint="name a date or timestamp column as time_column, or cast this one in "
                "the step that writes the table",
            )
        newest = value.date() if isinstance(value, datetime) else value
    cur_bounds, ref_bounds = bounds(current, reference, newest)
    cur = _load(engine, "__drift_cur", columns, time_column, cur_bounds, config)
    ref = _load(engine, "__drift_ref", columns, time_column, ref_bounds, config)
    described = {
        "current": _describe(current, cur_bounds),
        "reference": _describe(reference, ref_bounds),
    }
    for side, data in (("current", cur), ("reference", ref)):
        if data.num_rows == 0:
            raise UsageError(
                f"the {side} window of {table.short} ({described[side]}) holds no rows",
                hint=f"the newest {time_column} is {newest}" if newest else "pick another window",
            )
    return cur, ref, described


def _relations(
    result: Any, ref_cols: dict[str, Any], cur_cols: dict[str, Any], target: str | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """How the numeric columns' correlations changed, and each one's with the target."""
    numeric = [c.column for c in result.columns if c.kind == "numeric" and c.status == "ok"]
    correlations = (
        summaries.correlation_change(ref_cols, cur_cols, numeric) if len(numeric) >= 2 else None
    )
    if not target:
        return correlations, None
    change = summaries.correlation_change(ref_cols, cur_cols, [*numeric, target], threshold=0.1)
    relation = {
        "target": target,
        "changed": [p for p in change["pairs"] if target in p["columns"]],
        "max_abs_diff": change["max_abs_diff"],
    }
    return correlations, relation


def _load(
    engine: Engine,
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
    if window.kind == "range":
        return f"{cut[0] or ''}..{cut[1] or ''}"
    if cut[0] is None:
        return f"{window.spec}: up to {cut[1]}"
    if cut[1] is None:
        return f"{window.spec}: from {cut[0]}"
    return f"{window.spec}: {cut[0]}..{cut[1]}"
