"""Three-level table names (``catalog.schema.table``): parsing, validation and quoting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prodml.errors import InvalidNameError

IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

#: data layers and platform areas: the only schemas a catalog holds
SCHEMAS = ("raw", "bronze", "silver", "gold", "features", "ml", "monitoring")
LAYERS = ("raw", "bronze", "silver", "gold")


@dataclass(frozen=True, order=True)
class TableName:
    """A validated ``catalog.schema.table`` name."""

    catalog: str
    schema: str
    table: str

    @classmethod
    def parse(cls, name: str, default_catalog: str) -> TableName:
        """Parse ``schema.table`` or ``catalog.schema.table``.

        Raises:
            InvalidNameError: the name has the wrong shape, an unknown schema, or characters
                outside ``[a-z0-9_]`` (nothing is ever interpolated into SQL or paths unchecked).
        """
        if not isinstance(name, str):
            raise InvalidNameError(f"table name must be a string, got {type(name).__name__}")
        parts = name.split(".")
        if len(parts) == 2:
            parts = [default_catalog, *parts]
        if len(parts) != 3:
            raise InvalidNameError(
                f"invalid table name {name!r}: expected 'schema.table' or 'catalog.schema.table'",
                hint=f"e.g. 'silver.orders' (schemas: {', '.join(SCHEMAS)})",
            )
        catalog, schema, table = parts
        for part, what in ((catalog, "catalog"), (schema, "schema"), (table, "table")):
            check_identifier(part, what, whole=name)
        if schema not in SCHEMAS:
            from prodml.errors import did_you_mean

            raise InvalidNameError(
                f"invalid table name {name!r}: unknown schema {schema!r}",
                hint=did_you_mean(schema, SCHEMAS) or f"schemas: {', '.join(SCHEMAS)}",
            )
        return cls(catalog, schema, table)

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"

    @property
    def short(self) -> str:
        """``schema.table``, the name product code uses inside one catalog."""
        return f"{self.schema}.{self.table}"

    @property
    def layer(self) -> str | None:
        """The data layer (raw/bronze/silver/gold) or None for platform areas."""
        return self.schema if self.schema in LAYERS else None

    def quoted(self) -> str:
        """The name quoted for SQL (DuckDB / ANSI)."""
        return ".".join(quote_ident(p) for p in (self.catalog, self.schema, self.table))


def check_identifier(value: str, what: str, *, whole: str | None = None) -> str:
    """Validate a lower-case identifier part of a name."""
    if not IDENT_RE.fullmatch(value):
        shown = f" in {whole!r}" if whole and whole != value else ""
        raise InvalidNameError(
            f"invalid {what} name {value!r}{shown}",
            hint="use lower-case letters, digits and _ (starting with a letter or _)",
        )
    return value


def check_column(value: str) -> str:
    """Validate a column name used in declarations (partition columns, keys)."""
    if not isinstance(value, str) or not COLUMN_RE.fullmatch(value):
        raise InvalidNameError(
            f"invalid column name {value!r}",
            hint="use letters, digits and _ (starting with a letter or _)",
        )
    return value


def quote_ident(value: str) -> str:
    """Quote an identifier for SQL, doubling embedded quotes."""
    return '"' + value.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for SQL, doubling embedded single quotes."""
    return "'" + value.replace("'", "''") + "'"
