"""Turn whatever a step returns (Arrow, DuckDB, pandas, Polars) into an Arrow table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

ACCEPTED = "a pyarrow Table or RecordBatchReader, a DuckDB relation, a pandas or a Polars DataFrame"


def to_arrow(obj: Any) -> pa.Table | pa.RecordBatchReader | None:
    """Arrow data for ``obj`` (a reader stays a stream), or None for anything else."""
    if isinstance(obj, pa.Table | pa.RecordBatchReader):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    kind = type(obj).__name__
    if module in ("duckdb", "_duckdb") and kind == "DuckDBPyRelation":
        return _integers_stay_integers(obj).to_arrow_table()
    if module == "pandas" and kind == "DataFrame":
        return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars" and kind == "DataFrame":
        return obj.to_arrow()
    if module == "polars" and kind == "LazyFrame":
        return obj.collect().to_arrow()
    return None


def describe(obj: Any) -> str:
    """A short name of ``obj``'s type for error messages."""
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _integers_stay_integers(relation: Any) -> Any:
    """DuckDB's ``sum()`` of integers is a HUGEINT, which Arrow receives as decimal(38, 0):
    such columns become BIGINT (a sum beyond its range is an error, not a silent decimal)."""
    types = [str(t).upper() for t in relation.types]
    if not any(t in ("HUGEINT", "UHUGEINT") for t in types):
        return relation
    names = ['"' + c.replace('"', '""') + '"' for c in relation.columns]
    return relation.project(
        ", ".join(
            f"{n}::BIGINT AS {n}" if t in ("HUGEINT", "UHUGEINT") else n
            for n, t in zip(names, types, strict=True)
        )
    )
