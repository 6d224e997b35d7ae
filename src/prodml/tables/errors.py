"""Errors of the table layer."""

from __future__ import annotations

from prodml.errors import ConflictError, UsageError


class TableError(UsageError):
    """A table operation cannot be done as asked (a missing table or version, data that does
    not fit).

    Attributes:
        table: the full name of the table.
    """

    def __init__(self, table: str, message: str, *, hint: str | None = None) -> None:
        self.table = table
        super().__init__(f"table {table}: {message}", hint=hint)


class SchemaMismatchError(TableError):
    """Data does not fit the existing table's schema; nothing was written."""


class CommitConflictError(ConflictError, TableError):
    """Concurrent writers kept winning; the write was retried and gave up."""

    retryable = True
