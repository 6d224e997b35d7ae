"""The SQLite online store: the shared conformance suite, plus what is SQLite's own (where the
file lives, WAL, persistence across connections, one transaction per write, failures as
``OnlineStoreError``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.features.store_conformance import StoreConformance, rec, unique_table

from prodml.features.errors import OnlineStoreError
from prodml.features.online import Record
from prodml.features.sqlite_store import SqliteStore, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    backend = open_store(None, tmp_path / ".prodml")
    yield backend
    backend.close()


class TestConformance(StoreConformance):
    """The suite every backend passes, on SQLite."""


def test_the_default_file_is_online_db_in_the_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "p" / ".prodml"
    store = open_store(None, state)
    try:
        assert store.path == state / "online.db" and store.path.is_file()
        assert repr(store) == f"SqliteStore({str(state / 'online.db')!r})"
    finally:
        store.close()


def test_a_relative_url_is_below_the_platform_directory(tmp_path: Path) -> None:
    state = tmp_path / "p" / ".prodml"
    relative = open_store("sqlite:///stores/online.db", state)
    absolute = open_store(f"sqlite:///{tmp_path / 'abs' / 'o.db'}", state)
    try:
        assert relative.path == tmp_path / "p" / "stores" / "online.db"
        assert absolute.path == tmp_path / "abs" / "o.db" and absolute.path.is_file()
    finally:
        relative.close()
        absolute.close()


def test_the_file_is_in_wal_mode_with_one_table_per_feature_table(
    store: SqliteStore,
) -> None:
    table = unique_table()
    store.write(table, [rec("a", 1, f=1)])
    con = sqlite3.connect(store.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()
    assert "t_" + table.replace(".", "__") in names and "_prodml_online_state" in names


def test_records_and_states_persist_across_connections(tmp_path: Path) -> None:
    table = unique_table()
    first = open_store(None, tmp_path)
    first.write(table, [rec("a", 10, f="kept")])
    first.set_state(table, {"version": 4, "key_kinds": ["str"]})
    other = open_store(None, tmp_path)  # another process's connection, while the first is open
    try:
        assert other.tables() == [table]
        (got,) = other.read(table, ["a"])
        assert got is not None and orjson.loads(got.values) == {"f": "kept"}
        # the never-older rule holds across connections
        assert other.write(table, [rec("a", 9, f="older")]) == 0
        first.close()
        reopened = open_store(None, tmp_path)
        assert reopened.get_state(table) == {"version": 4, "key_kinds": ["str"]}
        assert reopened.read(table, ["a"])[0] == got
        reopened.close()
    finally:
        other.close()


def test_a_write_is_one_transaction(store: SqliteStore) -> None:
    table = unique_table()
    good = rec("good", 1, f=1)
    bad = Record("bad", 1, 0, None)  # type: ignore[arg-type]  # violates NOT NULL
    with pytest.raises(OnlineStoreError) as err:
        store.write(table, [good, bad])
    assert "NOT NULL constraint failed" in str(err.value)
    assert store.read(table, ["good"]) == [None]  # rolled back with the bad one
    assert store.write(table, [good]) == 1  # and the connection is usable again
    assert store.read(table, ["good"]) == [good]


def test_threads_share_one_store(store: SqliteStore) -> None:
    table = unique_table()

    def write(offset: int) -> None:
        store.write(table, [rec(f"{offset}-{i}", i + 1, v=i) for i in range(200)])

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    keys = [f"{t}-{i}" for t in range(4) for i in range(200)]
    assert all(r is not None for r in store.read(table, keys))


def test_a_failure_names_the_file_and_what_to_do(store: SqliteStore) -> None:
    store.close()
    with pytest.raises(OnlineStoreError) as err:
        store.read(unique_table(), ["a"])
    assert str(store.path) in err.value.message and "closed database" in err.value.message
    assert err.value.hint == "another process may hold it locked; retry, or check the disk"
    assert err.value.retryable


def test_a_store_that_cannot_be_opened(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OnlineStoreError, match=r"cannot open the online store .*file/online\.db"):
        SqliteStore(blocker / "online.db")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "online.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(OnlineStoreError, match="cannot open the online store") as err:
        SqliteStore(path)
    assert "not a database" in str(err.value)
