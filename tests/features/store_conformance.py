"""The conformance suite every online-store backend passes (imported by each backend's test
module, which gives it a ``store`` fixture).

It complements ``tests/features/test_online.py`` (the never-older rule, ties, TTL statuses):
here batches that hold one entity twice, byte-exact round trips, table isolation, state
replacement, and the edges of empty calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest

from prodml.features.online import KEY_SEPARATOR, OnlineStore, Record, encode_key


def rec(key: str, ts: int, created: int = 0, **values: object) -> Record:
    """A record whose values are ``values`` as JSON."""
    return Record(key, ts, created, orjson.dumps(values))


def unique_table() -> str:
    """A table name of its own (Redis is shared between test processes)."""
    return f"test_{uuid.uuid4().hex[:12]}.features.t"


def cleanup(store: OnlineStore, tables: list[str]) -> None:
    """Drop what a test wrote (also tables that got records but no state)."""
    for table in tables:
        store.drop(table)


class StoreConformance:
    """What every backend does alike. Subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def tables(self, store: OnlineStore) -> Iterator[list[str]]:
        made = [unique_table(), unique_table()]
        yield made
        cleanup(store, made)

    def test_the_kind_names_the_backend(self, store: OnlineStore) -> None:
        assert store.kind in ("sqlite", "redis")
        assert store.kind.lower() in repr(store).lower()

    def test_empty_calls(self, store: OnlineStore, tables: list[str]) -> None:
        table = tables[0]
        assert store.read(table, []) == []
        assert store.write(table, []) == 0
        assert store.read(table, ["a"]) == [None]
        assert table not in store.tables()  # written to, but never published
        store.drop(tables[1])  # dropping what does not exist is fine
        assert store.get_state(tables[1]) is None

    def test_records_round_trip_byte_for_byte(self, store: OnlineStore, tables: list[str]) -> None:
        table = tables[0]
        values = orjson.dumps({"url": "http://x:80/a:b", "name": "Zoë ☕", "n": None, "f": 1.5})
        key = encode_key([42, "a b:c", "ü"])
        before_epoch = -86_400_000_000  # 1969-12-31
        far = 7_258_118_400_000_000  # 2200-01-01
        records = [
            Record(key, far, 1_700_000_000_123_456, values),
            Record("old", before_epoch, 0, b"{}"),
        ]
        assert store.write(table, records) == 2
        assert store.read(table, [key, "old"]) == records
        assert KEY_SEPARATOR in key

    def test_reads_keep_the_order_and_repeats_of_the_keys(
        self, store: OnlineStore, tables: list[str]
    ) -> None:
        table = tables[0]
        store.write(table, [rec("a", 1, f=1), rec("b", 2, f=2)])
        got = store.read(table, ["b", "a", "b", "missing", "a"])
        assert [r.key if r else None for r in got] == ["b", "a", "b", None, "a"]

    def test_one_entity_twice_in_a_batch_keeps_the_newer_event(
        self, store: OnlineStore, tables: list[str]
    ) -> None:
        first, second = tables
        assert store.write(first, [rec("a", 1, f="old"), rec("a", 2, f="new")]) == 2
        assert store.write(second, [rec("a", 2, f="new"), rec("a", 1, f="old")]) == 1
        for table in tables:
            (got,) = store.read(table, ["a"])
            assert got is not None and got.event_us == 2
            assert orjson.loads(got.values) == {"f": "new"}

    def test_a_batch_counts_only_the_entities_that_changed(
        self, store: OnlineStore, tables: list[str]
    ) -> None:
        table = tables[0]
        store.write(table, [rec("a", 10, f=1), rec("b", 10, f=1), rec("c", 10, f=1)])
        changed = store.write(
            table,
            [rec("a", 11, f=2), rec("b", 9, f=0), rec("c", 10, f=1), rec("d", 1, f=4)],
        )
        assert changed == 2  # a is newer, d is new; b is older, c is identical
        got = {r.key: orjson.loads(r.values)["f"] for r in store.read(table, list("abcd")) if r}
        assert got == {"a": 2, "b": 1, "c": 1, "d": 4}

    def test_tables_do_not_share_keys(self, store: OnlineStore, tables: list[str]) -> None:
        first, second = tables
        store.write(first, [rec("a", 5, t="first")])
        store.write(second, [rec("a", 1, t="second")])  # older, but another table
        store.set_state(first, {"version": 1})
        store.set_state(second, {"version": 2})
        (one,), (two,) = store.read(first, ["a"]), store.read(second, ["a"])
        assert one is not None and orjson.loads(one.values) == {"t": "first"}
        assert two is not None and orjson.loads(two.values) == {"t": "second"}
        store.drop(first)
        assert store.read(first, ["a"]) == [None] and store.get_state(first) is None
        assert store.read(second, ["a"]) == [two] and store.get_state(second) == {"version": 2}
        assert first not in store.tables() and second in store.tables()

    def test_set_state_replaces_the_whole_state(
        self, store: OnlineStore, tables: list[str]
    ) -> None:
        table = tables[0]
        store.set_state(table, {"version": 1, "key_kinds": ["int"], "ttl": "7d"})
        store.set_state(table, {"version": 2, "key_kinds": ["str"]})
        assert store.get_state(table) == {"version": 2, "key_kinds": ["str"]}

    def test_tables_are_listed_sorted(self, store: OnlineStore, tables: list[str]) -> None:
        for table in sorted(tables, reverse=True):
            store.set_state(table, {"version": 0})
        listed = [t for t in store.tables() if t in tables]
        assert listed == sorted(tables)

    def test_many_keys_cross_every_chunk_size(self, store: OnlineStore, tables: list[str]) -> None:
        table = tables[0]
        n = 4_503  # over SQLite's 900-key reads and Redis's 2000-record scripts, not a multiple
        assert store.write(table, [rec(str(i), i, v=i) for i in range(n)]) == n
        keys = [str(i) for i in reversed(range(n))]
        got = store.read(table, keys)
        assert [r.event_us if r else None for r in got] == list(reversed(range(n)))
        assert store.write(table, [rec(str(i), i + 1, v=-i) for i in range(0, n, 2)]) == 2_252
