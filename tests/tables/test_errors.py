"""``prodml.tables.errors``: table errors name their table, keep it as an attribute, and map
to the right kind (usage 400, conflict 409 and retryable)."""

from __future__ import annotations

import pytest

from prodml.errors import ConflictError, ProdmlError, UsageError, http_status
from prodml.tables.errors import CommitConflictError, SchemaMismatchError, TableError


def test_table_error_names_the_table_and_keeps_it() -> None:
    err = TableError("dev.silver.orders", "does not exist yet", hint="run the product first")
    assert err.table == "dev.silver.orders"
    assert err.message == "table dev.silver.orders: does not exist yet"
    assert err.hint == "run the product first"
    assert str(err) == "table dev.silver.orders: does not exist yet (run the product first)"


def test_table_error_without_hint() -> None:
    assert str(TableError("dev.gold.x", "cannot read version 7")) == (
        "table dev.gold.x: cannot read version 7"
    )


def test_table_error_is_a_usage_error() -> None:
    err = TableError("dev.gold.x", "bad")
    assert isinstance(err, UsageError) and isinstance(err, ProdmlError)
    assert (http_status(err), err.exit_code, err.retryable) == (400, 2, False)


def test_schema_mismatch_is_a_table_error() -> None:
    err = SchemaMismatchError("dev.silver.orders", "column 'amount' is int64, data has string")
    assert isinstance(err, TableError) and err.table == "dev.silver.orders"
    assert str(err) == "table dev.silver.orders: column 'amount' is int64, data has string"
    assert (http_status(err), err.retryable) == (400, False)


def test_commit_conflict_is_a_retryable_conflict_about_a_table() -> None:
    err = CommitConflictError("dev.gold.x", "gave up after 5 attempts", hint="try again")
    assert isinstance(err, ConflictError) and isinstance(err, TableError)
    assert err.retryable is True and TableError.retryable is False
    assert http_status(err) == 409  # ConflictError comes first in its bases
    assert err.exit_code == 2
    assert str(err) == "table dev.gold.x: gave up after 5 attempts (try again)"


@pytest.mark.parametrize("cls", [TableError, SchemaMismatchError, CommitConflictError])
def test_each_is_caught_as_a_table_error(cls: type[TableError]) -> None:
    with pytest.raises(TableError) as info:
        raise cls("dev.raw.t", "x")
    assert info.value.table == "dev.raw.t"
