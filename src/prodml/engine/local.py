"""The local engine: DuckDB in process over Arrow datasets read from Delta."""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import Any

import duckdb
import pyarrow as pa

from prodml.config.platform import ComputeProfile
from prodml.names import TableName, quote_ident

_counter = itertools.count()

#: database names DuckDB reserves (``main`` is Unity Catalog's default catalog name) or
#: uses itself (``memory``: the connection's own database)
RESERVED_DATABASES = frozenset({"main", "temp", "system", "memory"})


def attached_name(catalog: str) -> str:
    """The DuckDB database a catalog's tables live in: the catalog's own name, unless DuckDB
    reserves it (then ``<catalog>_catalog``; ``schema.table`` names resolve either way)."""
    return f"{catalog}_catalog" if catalog.lower() in RESERVED_DATABASES else catalog


class LocalEngine:
    """One DuckDB connection per run; tables appear under their catalog/schema/table names.

    Extension auto-install and auto-load are off: nothing is downloaded at run time.
    """

    name = "duckdb"

    def __init__(self, catalog: str, profile: ComputeProfile | None = None) -> None:
        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if profile is not None:
            if profile.threads:
                config["threads"] = profile.threads
            if profile.memory_limit:
                config["memory_limit"] = profile.memory_limit
        self._config = config
        self.catalog = catalog
        self._schemas: set[str] = set()

    @cached_property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened on first use (a run whose steps all skip never needs it)."""
        con = duckdb.connect(":memory:", config=self._config)
        con.execute("SET TimeZone = 'UTC'")
        database = quote_ident(attached_name(self.catalog))
        con.execute(f"ATTACH ':memory:' AS {database}")
        con.execute(f"USE {database}")
        return con

    @property
    def version(self) -> str:
        """Engine name and version (part of every step fingerprint)."""
        return f"duckdb-{duckdb.__version__}"

    def register(self, table: TableName, data: Any, *, alias: str | None = None) -> None:
        """Make ``data`` (an Arrow table or dataset) queryable as ``schema.table`` and ``alias``."""
        internal = f"__prodml_in_{next(_counter)}"
        self.con.register(internal, data)
        if table.catalog == self.catalog:
            if table.schema not in self._schemas:
                self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(table.schema)}")
                self._schemas.add(table.schema)
            self.con.execute(
                f"CREATE OR REPLACE VIEW {quote_ident(table.schema)}.{quote_ident(table.table)} "
                f"AS SELECT * FROM {quote_ident(internal)}"
            )
        if alias:
            self.con.execute(
                f"CREATE OR REPLACE VIEW {quote_ident(alias)} AS SELECT * FROM {quote_ident(internal)}"
            )

    def register_alias(self, alias: str, data: Any) -> None:
        """Make ``data`` queryable as ``alias`` only."""
        internal = f"__prodml_in_{next(_counter)}"
        self.con.register(internal, data)
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_ident(alias)} AS SELECT * FROM {quote_ident(internal)}"
        )

    def sql(self, query: str, **params: Any) -> duckdb.DuckDBPyRelation:
        """Run SQL; names of registered tables and aliases resolve."""
        return self.con.sql(query, params=params or None)

    def relation(self, data: Any) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over an Arrow table or dataset."""
        return self.con.from_arrow(data)

    def content_hash(self, data: pa.Table, *, float_digits: int = 10) -> tuple[int, str]:
        """Row count and an order-independent hash of the rows (duplicates count).

        Floating-point columns are compared at ``float_digits`` significant digits: parallel
        aggregation sums in a different order each time, which changes the last bits.
        """
        if not data.num_columns:  # DuckDB cannot register a table without columns
            return data.num_rows, "0"
        internal = f"__prodml_hash_{next(_counter)}"
        self.con.register(internal, data)
        try:
            rows = self.con.execute(
                f"SELECT count(*), coalesce(sum({row_hash(data.schema, float_digits)}::HUGEINT), "
                f"0)::VARCHAR FROM {quote_ident(internal)}"
            ).fetchall()
        finally:
            self.con.unregister(internal)
        return int(rows[0][0]), str(rows[0][1])

    def close(self) -> None:
        """Close the connection (if it was ever opened)."""
        if "con" in self.__dict__:
            self.con.close()


def row_hash(schema: pa.Schema, float_digits: int = 10) -> str:
    """A SQL expression hashing a row (floats at ``float_digits`` significant digits: parallel
    aggregation sums in a different order each time, which changes the last bits)."""
    cols = []
    for field in schema:
        name = quote_ident(field.name)
        if pa.types.is_floating(field.type):
            cols.append(
                f"CASE WHEN {name} = 0 OR NOT isfinite({name}) THEN {name}::DOUBLE "
                f"ELSE round({name}, {float_digits} - ceil(log10(abs({name})))::INTEGER) END"
            )
        else:
            cols.append(name)
    return f"hash({', '.join(cols)})"


def content_ids(data: pa.Table, column: str | None = None) -> dict[str, str]:
    """An order-independent content id of ``data`` (key ``''``), or of each value of
    ``column`` (as text): the row count and the sum of the row hashes."""
    if not data.num_columns:
        return {"": f"{data.num_rows}:0"}
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register("__data", data)
        key = f"CAST({quote_ident(column)} AS VARCHAR)" if column else "''"
        rows = con.execute(
            f"SELECT {key}, count(*), coalesce(sum({row_hash(data.schema)}::HUGEINT), 0)::VARCHAR "
            "FROM __data GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    found = {str(k): f"{n}:{h}" for k, n, h in rows}
    return found if column or found else {"": "0:0"}  # no rows: GROUP BY gives no group
