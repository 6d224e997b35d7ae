"""Errors of the table layer."""

from __future__ import annotations

from prodml.errors import ProdmlError


class TableError(ProdmlError):
    """A table operation failed.

    Attributes:
        table: the full name of the table.
    """

    def __init__(self, table: str, message: str, *, hint: str | None = None) -> None:
        self.table = table
        super().__init__(f"table {table}: {message}", hint=hint)


class SchemaMismatchError(TableError):
    """Data does not fit the existing table's schema; nothing was written."""


class CommitConflictError(TableError):
    """Concurrent writers kept winning; the write was retried and gave up."""

    retryable = True
