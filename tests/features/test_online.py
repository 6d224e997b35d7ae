"""One conformance suite for every online store backend: SQLite always, Redis when
``PRODML_TEST_REDIS_URL`` is set (CI sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from prodml.features.errors import OnlineStoreError
from prodml.features.online import (
    EXPIRED,
    NOT_FOUND,
    PRESENT,
    OnlineStore,
    Record,
    decode,
    encode_key,
    open_store,
)

REDIS_URL = os.environ.get("PRODML_TEST_REDIS_URL")


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        backend = open_store(None, tmp_path)
    else:
        if not REDIS_URL:
            pytest.skip("PRODML_TEST_REDIS_URL is not set (no Redis to test against)")
        backend = open_store(REDIS_URL, tmp_path)
    yield backend
    for table in backend.tables():
        if table.startswith("test_"):
            backend.drop(table)
    backend.close()


@pytest.fixture
def table() -> str:
    # unique per test: Redis is shared between the test processes
    return f"test_{uuid.uuid4().hex[:12]}.features.t"


def _rec(key: str, ts: int, created: int = 0, **values: object) -> Record:
    return Record(key, ts, created, orjson.dumps(values))


def test_write_then_read_in_order_with_misses(store: OnlineStore, table: str) -> None:
    assert store.read(table, ["a"]) == [None]  # an unknown table reads as all missing
    assert store.write(table, [_rec("a", 10, f=1.0), _rec("b", 20, f=2.0)]) == 2
    got = store.read(table, ["b", "zz", "a"])
    assert [r.key if r else None for r in got] == ["b", None, "a"]
    assert got[0] is not None and orjson.loads(got[0].values) == {"f": 2.0}
    assert got[0].event_us == 20


def test_an_older_event_never_replaces_a_newer_one(store: OnlineStore, table: str) -> None:
    store.write(table, [_rec("a", 100, f="new")])
    assert store.write(table, [_rec("a", 99, 999, f="old")]) == 0
    (got,) = store.read(table, ["a"])
    assert got is not None and orjson.loads(got.values) == {"f": "new"}
    assert store.write(table, [_rec("a", 101, f="newer")]) == 1
    (got,) = store.read(table, ["a"])
    assert got is not None and got.event_us == 101


def test_ties_later_ingestion_wins_identical_values_are_not_rewritten(
    store: OnlineStore, table: str
) -> None:
    store.write(table, [_rec("a", 100, 5, f=1)])
    assert store.write(table, [_rec("a", 100, 4, f=2)]) == 0  # earlier ingestion: kept out
    assert store.write(table, [_rec("a", 100, 5, f=1)]) == 0  # the same: nothing written
    assert store.write(table, [_rec("a", 100, 6, f=1)]) == 0  # re-ingested, same value
    assert store.write(table, [_rec("a", 100, 6, f=3)]) == 1  # a correction
    (got,) = store.read(table, ["a"])
    assert got is not None and orjson.loads(got.values) == {"f": 3}


def test_many_keys_in_one_write_and_read(store: OnlineStore, table: str) -> None:
    records = [_rec(f"k{i}", i + 1, v=i) for i in range(5000)]
    assert store.write(table, records) == 5000
    assert store.write(table, records) == 0
    keys = [f"k{i}" for i in range(0, 5000, 3)]
    got = store.read(table, keys)
    assert [orjson.loads(r.values)["v"] for r in got if r] == list(range(0, 5000, 3))


def test_state_and_tables_and_drop(store: OnlineStore, table: str) -> None:
    assert store.get_state(table) is None
    store.write(table, [_rec("a", 1, f=1)])
    store.set_state(table, {"version": 3, "key_kinds": ["str"]})
    assert store.get_state(table) == {"version": 3, "key_kinds": ["str"]}
    assert table in store.tables()
    store.drop(table)
    assert store.get_state(table) is None
    assert store.read(table, ["a"]) == [None]
    assert table not in store.tables()


def test_composite_keys_and_odd_characters(store: OnlineStore, table: str) -> None:
    a, b = encode_key([1, "x:y"]), encode_key([1, "x"])
    store.write(table, [_rec(a, 1, f="a"), _rec(b, 1, f="b")])
    got = store.read(table, [a, b])
    assert [orjson.loads(r.values)["f"] for r in got if r] == ["a", "b"]


def test_ttl_on_read_gives_statuses(store: OnlineStore, table: str) -> None:
    now = datetime(2024, 3, 10, 12, tzinfo=UTC)
    fresh = int((now - timedelta(hours=1)).timestamp() * 1e6)
    edge = int((now - timedelta(days=1)).timestamp() * 1e6)
    stale = edge - 1
    store.write(
        table,
        [_rec("fresh", fresh, f=1.0), _rec("edge", edge, f=2.0), _rec("stale", stale, f=3.0)],
    )
    found = decode(
        store.read(table, ["fresh", "edge", "stale", "none"]),
        ["f", "g"],
        ttl=timedelta(days=1),
        now=now,
    )
    assert [x.values["f"] for x in found] == [1.0, 2.0, None, None]
    assert [x.statuses["f"] for x in found] == [PRESENT, PRESENT, EXPIRED, NOT_FOUND]
    assert found[0].statuses["g"] == NOT_FOUND  # a feature the record does not hold
    assert found[2].event_timestamp == datetime.fromtimestamp(stale / 1e6, UTC)
    assert found[3].event_timestamp is None


def test_bad_urls_are_clear(tmp_path: Path) -> None:
    with pytest.raises(OnlineStoreError, match="unsupported online store URL 'mysql'"):
        open_store("mysql://x", tmp_path)
    with pytest.raises(OnlineStoreError, match="cannot reach the Redis online store"):
        open_store("redis://127.0.0.1:1/0", tmp_path)


@pytest.mark.services
def test_a_redis_failure_is_an_online_store_error(tmp_path: Path) -> None:
    if not REDIS_URL:
        pytest.skip("PRODML_TEST_REDIS_URL is not set (no Redis to test against)")
    import redis

    store = open_store(REDIS_URL, tmp_path)
    store._client = redis.Redis(port=1, socket_connect_timeout=1)  # type: ignore[attr-defined]
    with pytest.raises(OnlineStoreError, match="the Redis online store failed"):
        store.read("t", ["a"])
