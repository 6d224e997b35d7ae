"""The Redis online store (at ``PRODML_TEST_REDIS_URL``): the shared conformance suite, plus
what is Redis's own (the key layout, concurrent publishers, drops in batches, string replies)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.features.store_conformance import StoreConformance, cleanup, rec, unique_table

from prodml.features.errors import OnlineStoreError
from prodml.features.redis_store import RedisStore, open_store

REDIS_ENV = "PRODML_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} not set: Redis backend tests skipped")
    return url


@pytest.fixture
def store(redis_url: str, tmp_path: Path) -> Iterator[RedisStore]:
    backend = open_store(redis_url, tmp_path)
    yield backend
    backend.close()


@pytest.fixture
def table(store: RedisStore) -> Iterator[str]:
    name = unique_table()
    yield name
    cleanup(store, [name])


@pytest.mark.services
class TestConformance(StoreConformance):
    """The suite every backend passes, on Redis."""


def test_a_url_is_required() -> None:
    for url in (None, ""):
        with pytest.raises(OnlineStoreError) as err:
            open_store(url, Path("."))
        assert err.value.message == (
            "the redis online store needs online_store.url: redis://HOST:PORT/DB"
        )


@pytest.mark.services
def test_repr_names_host_port_and_db(store: RedisStore, redis_url: str) -> None:
    import redis

    kwargs = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    assert repr(store) == f"RedisStore({kwargs['host']}:{kwargs['port']}/{kwargs['db']})"


@pytest.mark.services
def test_the_key_layout(store: RedisStore, redis_url: str, table: str) -> None:
    """One string per entity and a state key per table: what other replicas (and versions)
    read, so it must not drift."""
    import redis

    store.write(table, [rec("c1", 1_700_000_000_000_000, 42, f=1.5)])
    store.set_state(table, {"version": 3})
    raw = redis.Redis.from_url(redis_url)
    try:
        assert raw.get(f"prodml:online:{table}:c1") == b'1700000000000000:42:{"f":1.5}'
        state = raw.get(f"prodml:online:state:{table}")
        assert isinstance(state, bytes) and orjson.loads(state) == {"version": 3}
        assert raw.sismember("prodml:online:tables", table)
    finally:
        raw.close()


@pytest.mark.services
def test_string_replies_are_read_too(redis_url: str, tmp_path: Path, table: str) -> None:
    sep = "&" if "?" in redis_url else "?"
    decoded = RedisStore(f"{redis_url}{sep}decode_responses=True")
    try:
        decoded.write(table, [rec("a", 5, 6, f="x")])
        decoded.set_state(table, {"version": 1})
        assert decoded.read(table, ["a"]) == [rec("a", 5, 6, f="x")]
        assert decoded.get_state(table) == {"version": 1}
        assert table in decoded.tables()
    finally:
        decoded.close()


@pytest.mark.services
def test_concurrent_publishers_keep_the_newest_event(
    store: RedisStore, redis_url: str, tmp_path: Path, table: str
) -> None:
    """The never-older rule runs on the server, so two replicas publishing at once cannot
    interleave a read and a write."""
    others = [open_store(redis_url, tmp_path) for _ in range(4)]

    def publish(worker: int) -> None:
        for ts in range(worker, 400, 4):  # each worker writes every 4th event time
            others[worker].write(table, [rec("k", ts, w=worker)])

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for other in others:
        other.close()
    (got,) = store.read(table, ["k"])
    assert got is not None and got.event_us == 399 and orjson.loads(got.values) == {"w": 3}


@pytest.mark.services
def test_drop_removes_every_record_in_batches(store: RedisStore, redis_url: str) -> None:
    import redis

    table, neighbour = unique_table(), unique_table()
    try:
        store.write(table, [rec(f"k{i}", 1) for i in range(5_001)])  # over one UNLINK batch
        store.write(neighbour, [rec("k1", 1)])
        store.set_state(table, {"version": 0})
        store.drop(table)
        raw = redis.Redis.from_url(redis_url)
        try:
            assert list(raw.scan_iter(match=f"prodml:online:{table}:*", count=5000)) == []
            assert not raw.exists(f"prodml:online:state:{table}")
            assert not raw.sismember("prodml:online:tables", table)
        finally:
            raw.close()
        assert store.read(neighbour, ["k1"]) == [rec("k1", 1)]
    finally:
        cleanup(store, [table, neighbour])


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(OnlineStoreError) as err:
        RedisStore("redis://127.0.0.1:1/0")
    assert err.value.message.startswith("cannot reach the Redis online store: ")
    assert err.value.hint == "check online_store.url and that Redis is running"
    assert err.value.retryable
