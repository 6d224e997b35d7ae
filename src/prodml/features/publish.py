"""Publishing a feature table to the online store: the latest value per key, incrementally.

Each publish remembers the table version it read up to (in the online store itself, so a
wiped store is republished in full). The next one reads only the data files added after that
version — the rows new or rewritten since — reduces them to the latest row per key in DuckDB
and upserts them; the store keeps whichever of old and new has the later event time. With no
new table version nothing is read or written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.config.product import FeatureTable
from prodml.features.errors import FeatureJoinError
from prodml.features.online import KEY_SEPARATOR, OnlineStore, Record
from prodml.features.pit import require_aware, require_columns
from prodml.names import TableName, quote_ident
from prodml.tables.errors import TableError

#: rows per upsert call
_BATCH = 20_000


@dataclass(frozen=True)
class PublishResult:
    """What one publish did."""

    table: str
    store: str
    from_version: int | None
    to_version: int
    rows_read: int
    keys: int
    written: int
    seconds: float
    up_to_date: bool


def key_kinds(schema: pa.Schema, keys: list[str], table: str) -> list[str]:
    """``int`` or ``str`` per key column (other key types cannot be published)."""
    kinds = []
    for key in keys:
        kind = schema.field(key).type
        if pa.types.is_integer(kind):
            kinds.append("int")
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            kinds.append("str")
        else:
            raise FeatureJoinError(
                f"{table}: key column {key!r} is {kind}; online keys must be integers or strings",
                hint=f"cast it in the step that produces {table}",
            )
    return kinds


def _fingerprint(decl: FeatureTable) -> dict[str, Any]:
    """What makes published records comparable: a change republishes everything."""
    return {
        "keys": decl.keys,
        "timestamp": decl.timestamp,
        "created": decl.created,
        "features": sorted(decl.features),
    }


def publish(
    catalog: Catalog,
    access: Access,
    table: TableName,
    decl: FeatureTable,
    store: OnlineStore,
    *,
    full: bool = False,
) -> PublishResult:
    """Publish ``table`` (declared as ``decl``) to ``store``; ``full`` re-reads every row."""
    started = time.perf_counter()
    catalog.check_read(table, access)  # even when nothing changed: only readers publish
    if catalog.restriction(table, access):  # the online store serves everyone what it holds
        from prodml.errors import AccessDeniedError

        raise AccessDeniedError(
            f"{access.run_as or access.principal} reads {table} with columns masked or rows "
            "filtered: publishing that would serve it to every reader of the online store",
            hint="publish as a principal exempt from its masks and row filters (prodml.yaml)",
        )
    name = str(table)
    state = store.get_state(name)
    identity = catalog.table_id(table)
    since = None
    if (
        state
        and not full
        and state.get("fingerprint") == _fingerprint(decl)
        and state.get("table_id") == identity  # a re-created table is published in full
    ):
        since = int(state["version"])
    current = catalog.version(table)
    if since is not None and current == since:
        return PublishResult(name, store.kind, since, since, 0, 0, 0, 0.0, True)
    try:
        dataset, version = catalog.read_changes(table, access, since=since)
    except TableError:  # the version read last is gone (vacuumed log): read everything
        since = None
        dataset, version = catalog.read_changes(table, access, since=None)
    schema = dataset.schema
    features = list(decl.features)
    require_columns(schema, decl.keys, name, "key")
    require_columns(schema, features, name, "feature")
    require_columns(schema, [decl.timestamp], name, "timestamp")
    require_aware(schema, decl.timestamp, name)
    if decl.created:
        require_columns(schema, [decl.created], name, "created")
        require_aware(schema, decl.created, name)
    kinds = key_kinds(schema, decl.keys, name)
    records, rows_read = _latest(dataset, decl, features)
    written = 0
    for start in range(0, len(records), _BATCH):
        written += store.write(name, records[start : start + _BATCH])
    store.set_state(
        name,
        {
            "version": version,
            "table_id": identity,
            "fingerprint": _fingerprint(decl),
            "key_kinds": kinds,
            "features": features,
            "ttl": decl.ttl,
            "published_at": datetime.now(UTC).isoformat(),
        },
    )
    return PublishResult(
        name,
        store.kind,
        since,
        version,
        rows_read,
        len(records),
        written,
        round(time.perf_counter() - started, 3),
        False,
    )


def _latest(dataset: Any, decl: FeatureTable, features: list[str]) -> tuple[list[Record], int]:
    """The latest row per key, encoded, in one DuckDB query (no per-row Python but the
    construction of the records)."""
    q = quote_ident
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("changes", dataset)
        rows_read = int(con.sql("SELECT count(*) FROM changes").fetchall()[0][0])
        parts = [f"CAST({q(k)} AS VARCHAR)" for k in decl.keys]
        key = parts[0] if len(parts) == 1 else f"concat_ws('{KEY_SEPARATOR}', {', '.join(parts)})"
        created = f"epoch_us({q(decl.created)})" if decl.created else "0"
        values = "{" + ", ".join(f"{_literal(f)}: {q(f)}" for f in features) + "}"
        valid = " AND ".join(f"{q(c)} IS NOT NULL" for c in [*decl.keys, decl.timestamp])
        query = (
            f"SELECT {key} AS k, epoch_us({q(decl.timestamp)}) AS ts, "
            f"coalesce({created}, 0) AS created, to_json({values})::VARCHAR AS v "
            f"FROM changes WHERE {valid} "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(q(k) for k in decl.keys)} "
            f"ORDER BY {q(decl.timestamp)} DESC, {created} DESC NULLS LAST) = 1"
        )
        table = con.sql(query).to_arrow_table()
    finally:
        con.close()
    keys = table.column("k").to_pylist()
    ts = table.column("ts").to_pylist()
    created_us = table.column("created").to_pylist()
    values_json = table.column("v").to_pylist()
    records = [
        Record(k, t, c, v.encode())
        for k, t, c, v in zip(keys, ts, created_us, values_json, strict=True)
    ]
    return records, rows_read


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
