"""What an engine is to the rest of prodml: a place where a run's steps query their inputs.

The local engine (DuckDB over Arrow, in process) is the built-in; others (Spark) are backends
of kind ``engine`` (see ``prodml.backends``) built the same way, from the catalog's name and
the compute profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.config.platform import ComputeProfile
    from prodml.names import TableName


class Engine(Protocol):
    """One run's (or one check's) query engine."""

    name: str

    @property
    def version(self) -> str:
        """Engine name and version: part of every step's fingerprint."""

    @property
    def con(self) -> Any:
        """A DuckDB connection the engine exchanges relations with (the local engine's own)."""

    def register(self, table: TableName, data: Any, *, alias: str | None = None) -> None:
        """Make ``data`` (an Arrow table or dataset) queryable by the table's name (and
        ``alias``)."""

    def register_alias(self, alias: str, data: Any) -> None:
        """Make ``data`` queryable as ``alias``."""

    def sql(self, query: str, **params: Any) -> Any:
        """Run a query (``$name`` binds ``params``); returns a lazy relation."""

    def relation(self, data: Any) -> Any:
        """A relation over Arrow data."""

    def content_hash(self, data: pa.Table, *, float_digits: int = 10) -> tuple[int, str]:
        """(rows, an order-independent hash of the contents)."""

    def close(self) -> None:
        """Release the engine."""


class EngineFactory(Protocol):
    """Builds an engine for a catalog with a compute profile (a backend of kind ``engine``)."""

    def __call__(self, catalog: str, profile: ComputeProfile | None = None) -> Engine:
        """A fresh engine."""
