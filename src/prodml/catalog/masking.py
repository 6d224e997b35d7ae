"""Column masks and row filters applied to what a reader gets of a table (DuckDB over the
Arrow dataset: one vectorised pass, no per-row Python)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from prodml.catalog.policies import Restriction
from prodml.errors import ConfigError
from prodml.names import quote_ident

if TYPE_CHECKING:
    import pyarrow.dataset as pads

#: what ``redact`` writes in place of a text value
REDACTED = "***"


def _text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def projection(name: str, kind: pa.DataType, mask: str | None) -> str:
    """The SQL that reads column ``name`` through ``mask`` (None: as it is)."""
    q = quote_ident(name)
    if mask is None:
        return q
    if mask == "hash":
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE sha256(CAST({q} AS VARCHAR)) END AS {q}"
    if mask == "redact" and _text(kind):
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE '{REDACTED}' END AS {q}"
    return f"CASE WHEN FALSE THEN {q} END AS {q}"  # null, of the column's type


def masked_schema(schema: pa.Schema, masks: dict[str, str]) -> pa.Schema:
    """The schema a masked read has: hashed columns are text, the others keep their type."""
    return pa.schema(
        [f.with_type(pa.string()) if masks.get(f.name) == "hash" else f for f in schema]
    )


def apply(dataset: pads.Dataset, restriction: Restriction, table: str) -> pads.Dataset:
    """The rows of ``dataset`` that pass the row filters, with masked columns masked."""
    import duckdb
    import pyarrow.dataset as pads

    masks = {k: v for k, v in restriction.masks.items() if k in dataset.schema.names}
    where = " AND ".join(f"({c})" for c in restriction.filters) or "TRUE"
    columns = ", ".join(projection(f.name, f.type, masks.get(f.name)) for f in dataset.schema)
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        con.register("t", dataset)
        # the filters see the stored values; the masks apply to the rows that pass
        result = con.sql(
            f"SELECT {columns} FROM (SELECT * FROM t WHERE {where}) AS t"
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise ConfigError(
            f"the row filter on {table} cannot be applied: {exc}",
            hint="fix governance.row_filters in prodml.yaml (a SQL condition over the table's columns)",
        ) from None
    finally:
        con.close()
    assert result is not None
    return pads.dataset(result.cast(masked_schema(dataset.schema, masks)))


def mask_value(value: object, mask: str) -> object:
    """One value through a mask, as :func:`apply` masks a column (for the few values of an
    online lookup): ``hash`` is the SHA-256 of its text, ``redact`` text is ``***``."""
    if value is None:
        return None
    if mask == "hash":
        import hashlib

        return hashlib.sha256(str(value).encode()).hexdigest()
    if mask == "redact" and isinstance(value, str):
        return REDACTED
    return None
