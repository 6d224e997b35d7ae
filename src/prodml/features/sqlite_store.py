"""The SQLite online store (the default): one table per feature table in ``online.db``."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from prodml.features.errors import OnlineStoreError
from prodml.features.online import Record
from prodml.names import quote_ident

T = TypeVar("T")

_STATE = "_prodml_online_state"
#: SQLite's default limit of host parameters per statement is 32766; stay well below
_CHUNK = 900


def _failing(method: Callable[..., T]) -> Callable[..., T]:
    """A SQLite failure (locked, disk full, corrupt) as :class:`OnlineStoreError`."""

    @functools.wraps(method)
    def run(self: SqliteStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise OnlineStoreError(
                f"the SQLite online store {self.path} failed: {exc}",
                hint="another process may hold it locked; retry, or check the disk",
            ) from None

    return run


class SqliteStore:
    """Records in a local SQLite file (WAL mode: readers never wait for a publish)."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute("PRAGMA busy_timeout=10000")
            self._con.execute(
                f"CREATE TABLE IF NOT EXISTS {_STATE} (name TEXT PRIMARY KEY, state TEXT NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise OnlineStoreError(f"cannot open the online store {path}: {exc}") from None
        self._lock = threading.Lock()
        self._known: set[str] = set()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    @staticmethod
    def _table(table: str) -> str:
        return quote_ident("t_" + table.replace(".", "__"))

    def _ensure(self, table: str) -> str:
        name = self._table(table)
        if table not in self._known:
            self._con.execute(
                f"CREATE TABLE IF NOT EXISTS {name} (k TEXT PRIMARY KEY, ts INTEGER NOT NULL, "
                "created INTEGER NOT NULL, v BLOB NOT NULL) WITHOUT ROWID"
            )
            self._known.add(table)
        return name

    @_failing
    def write(self, table: str, records: Sequence[Record]) -> int:
        """Upsert in one transaction; the WHERE clause is the never-older rule."""
        with self._lock:
            name = self._ensure(table)
            before = self._con.total_changes
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany(
                    f"INSERT INTO {name} (k, ts, created, v) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (k) DO UPDATE SET ts = excluded.ts, "
                    "created = excluded.created, v = excluded.v "
                    f"WHERE excluded.ts > {name}.ts OR (excluded.ts = {name}.ts "
                    f"AND excluded.created >= {name}.created AND excluded.v <> {name}.v)",
                    [(r.key, r.event_us, r.created_us, r.values) for r in records],
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            return self._con.total_changes - before

    @_failing
    def read(self, table: str, keys: Sequence[str]) -> list[Record | None]:
        """One ``IN`` query per 900 keys."""
        if table not in self._known and not self._exists(table):
            return [None] * len(keys)
        name = self._table(table)
        found: dict[str, Record] = {}
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                for k, ts, created, v in self._con.execute(
                    f"SELECT k, ts, created, v FROM {name} WHERE k IN ({marks})", chunk
                ):
                    found[k] = Record(k, ts, created, v)
        return [found.get(k) for k in keys]

    def _exists(self, table: str) -> bool:
        with self._lock:
            row = self._con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                ("t_" + table.replace(".", "__"),),
            ).fetchone()
        if row:
            self._known.add(table)
        return row is not None

    @_failing
    def get_state(self, table: str) -> dict[str, Any] | None:
        """The state JSON of ``table``."""
        with self._lock:
            row = self._con.execute(f"SELECT state FROM {_STATE} WHERE name = ?", (table,))
            found = row.fetchone()
        return orjson.loads(found[0]) if found else None

    @_failing
    def set_state(self, table: str, state: Mapping[str, Any]) -> None:
        """Replace the state JSON of ``table``."""
        with self._lock:
            self._con.execute(
                f"INSERT INTO {_STATE} (name, state) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state",
                (table, orjson.dumps(dict(state)).decode()),
            )

    @_failing
    def tables(self) -> list[str]:
        """Tables with a publish state."""
        with self._lock:
            return [r[0] for r in self._con.execute(f"SELECT name FROM {_STATE} ORDER BY name")]

    @_failing
    def drop(self, table: str) -> None:
        """Remove the records and the state."""
        with self._lock:
            self._con.execute(f"DROP TABLE IF EXISTS {self._table(table)}")
            self._con.execute(f"DELETE FROM {_STATE} WHERE name = ?", (table,))
            self._known.discard(table)

    def close(self) -> None:
        """Close the connection."""
        self._con.close()


def open_store(url: str | None, state_dir: Path) -> SqliteStore:
    """The ``sqlite`` online store backend: ``sqlite:///PATH`` (relative to the platform
    directory), default ``<state_dir>/online.db``."""
    path = Path(url[len("sqlite:///") :]) if url else state_dir / "online.db"
    if url and not path.is_absolute():
        path = state_dir.parent / path
    return SqliteStore(path)
