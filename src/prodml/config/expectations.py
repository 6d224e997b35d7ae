"""Data-quality expectations, declared per table in ``product.yaml`` (``tables.<t>.expectations``).

Row rules judge each row (not_null, unique, range, allowed_values, pattern, referential,
expression) and may ``warn``, ``drop`` the failing rows, ``quarantine`` them (to
``<table>__quarantine`` with the names of the rules they failed) or ``fail`` the write. Table
rules judge the whole write (row_count, freshness, schema, anomaly) and may ``warn`` or ``fail``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from prodml.config.platform import AtKey, Closed

Action = Literal["warn", "drop", "quarantine", "fail"]
ROW_ACTIONS = ("warn", "drop", "quarantine", "fail")
TABLE_ACTIONS = ("warn", "fail")


class _Rule(Closed):
    name: str | None = Field(None, description="the rule's name in results (default: derived)")
    action: Action = "warn"
    description: str = ""

    # the kind of DQ issue the rule catches (the seven types of the docs), optional
    catches: (
        Literal[
            "out_of_spec",
            "entered_incorrectly",
            "qc_gap",
            "duplicate",
            "misinterpretation",
            "incomplete_integration",
            "too_old",
        ]
        | None
    ) = None

    @property
    def table_level(self) -> bool:
        """Whether the rule judges the whole write rather than rows."""
        return False

    @model_validator(mode="after")
    def _action(self) -> _Rule:
        if self.table_level and self.action not in TABLE_ACTIONS:
            raise AtKey(
                ("action",),
                f"a {getattr(self, 'rule', '')} rule judges the whole table: "
                f"action must be warn or fail, not {self.action}",
            )
        return self

    def label(self) -> str:
        """The rule's name (given, or ``<rule>_<column(s)>``)."""
        if self.name:
            return self.name
        rule = getattr(self, "rule", "rule")
        column = getattr(self, "column", None)
        columns = getattr(self, "columns", None)
        if isinstance(columns, list):
            return f"{rule}_{'_'.join(columns)}"
        if getattr(self, "metric", None):
            return f"{rule}_{getattr(self, 'metric', '')}" + (f"_{column}" if column else "")
        return f"{rule}_{column}" if column else str(rule)


class NotNull(_Rule):
    """The column has a value."""

    rule: Literal["not_null"]
    column: str


class Unique(_Rule):
    """No two rows share the key (with drop/quarantine, the first row of a key is kept)."""

    rule: Literal["unique"]
    columns: list[str] = Field(..., min_length=1)


class Range(_Rule):
    """Values within [min, max] (nulls are not judged: use not_null)."""

    rule: Literal["range"]
    column: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.min is None and self.max is None:
            raise AtKey(("min",), "a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise AtKey(("min",), f"min {self.min} is above max {self.max}")
        return self


class AllowedValues(_Rule):
    """Values from a fixed set."""

    rule: Literal["allowed_values"]
    column: str
    values: list[str | int | float | bool] = Field(..., min_length=1)


class Pattern(_Rule):
    """Text values that match a regular expression in full (RE2 syntax, as DuckDB's)."""

    rule: Literal["pattern"]
    column: str
    regex: str = Field(..., min_length=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class Referential(_Rule):
    """Every value is present as a key of another table (complete integration)."""

    rule: Literal["referential"]
    column: str
    table: str = Field(..., description="schema.table (or catalog.schema.table)")
    key: str | None = Field(None, description="the key column there (default: the same name)")


class Expression(_Rule):
    """A SQL boolean expression over the row's columns that must hold (null counts as false)."""

    rule: Literal["expression"]
    sql: str = Field(..., min_length=1)

    @field_validator("sql")
    @classmethod
    def _single(cls, value: str) -> str:
        if ";" in value:
            raise ValueError("an expression is one SQL boolean expression, without ';'")
        return value


#: what a table rule judges: the rows of the whole write, or each partition it writes
Scope = Literal["write", "partition"]


class RowCount(_Rule):
    """The number of rows written within bounds (per partition with ``scope: partition``)."""

    rule: Literal["row_count"]
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    scope: Scope = Field(
        "write",
        description="write: the rows of the whole write; partition: each partition it writes "
        "(an empty or header-only landing file is an empty partition)",
    )

    @model_validator(mode="after")
    def _bounds(self) -> RowCount:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise AtKey(("min",), f"min {self.min} is above max {self.max}")
        return self

    @property
    def table_level(self) -> bool:
        """Judges the whole write."""
        return True


class Freshness(_Rule):
    """The newest value of a timestamp/date column is at most this old."""

    rule: Literal["freshness"]
    column: str
    max_age_hours: float = Field(..., gt=0)

    @property
    def table_level(self) -> bool:
        """Judges the whole write."""
        return True


class SchemaRule(_Rule):
    """Columns present with these types (string, integer, float, boolean, date, timestamp,
    decimal, binary)."""

    rule: Literal["schema"]
    columns: dict[
        str,
        Literal["string", "integer", "float", "boolean", "date", "timestamp", "decimal", "binary"],
    ] = Field(..., min_length=1)

    @property
    def table_level(self) -> bool:
        """Judges the whole write."""
        return True

    def label(self) -> str:
        """``schema`` unless named."""
        return self.name or "schema"


class Anomaly(_Rule):
    """A metric of the write against its own history: robust z-score (median/MAD)."""

    rule: Literal["anomaly"]
    metric: Literal["row_count", "null_rate", "mean", "p50", "p95"]
    column: str | None = None
    threshold: float = Field(3.5, gt=0, description="|robust z| above this is an anomaly")
    min_history: int = Field(7, ge=3, description="earlier values needed before judging")
    scope: Scope = Field(
        "write",
        description="write: the metric of the whole write against earlier writes; partition: "
        "of each partition written against the table's other partitions (a file cut short)",
    )

    @property
    def table_level(self) -> bool:
        """Judges the whole write."""
        return True

    @model_validator(mode="after")
    def _column(self) -> Anomaly:
        if self.metric != "row_count" and self.column is None:
            raise AtKey(("column",), f"the {self.metric} metric needs a column")
        return self


Expectation = Annotated[
    NotNull
    | Unique
    | Range
    | AllowedValues
    | Pattern
    | Referential
    | Expression
    | RowCount
    | Freshness
    | SchemaRule
    | Anomaly,
    Field(discriminator="rule"),
]
