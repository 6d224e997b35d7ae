"""Leases in the metadata store (SQLite and PostgreSQL): one holder at a time, even when
processes race for it; a dead holder (gone process, or expired on another host) is taken
over; waiting, renewal, loss and release."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from prodml.catalog import schema as s
from prodml.catalog.leases import (
    Lease,
    LeaseHeldError,
    LeaseHolder,
    LeaseLostError,
    Leases,
    pid_alive,
)
from prodml.catalog.store import MetadataStore


@pytest.fixture
def leases(store_url: str) -> Iterator[Leases]:
    store = MetadataStore(store_url)
    try:
        yield Leases(store)
    finally:
        store.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _plant(leases: Leases, name: str, **values: object) -> None:
    """A lease row as another process (or host) left it."""
    now = datetime.now(UTC)
    row = {
        "name": name,
        "token": "theirs",
        "holder": "run r-1 of churn by bob",
        "host": "elsewhere",
        "pid": 1,
        "acquired_at": now - timedelta(minutes=5),
        "expires_at": now + timedelta(minutes=1),
        "info": {},
        **values,
    }
    with leases.store.begin() as conn:
        conn.execute(s.leases.insert().values(**row))


def test_second_taker_is_refused_with_who_and_since(leases: Leases) -> None:
    with leases.acquire("run:dev:churn", holder="run r-1 of churn by alice", what="churn"):
        with pytest.raises(LeaseHeldError) as info:
            leases.acquire("run:dev:churn", holder="run r-2", what="product churn in dev")
        message = str(info.value)
        assert "product churn in dev is held by run r-1 of churn by alice" in message
        assert " since " in message and " UTC" in message
        assert info.value.holder.token  # the live holder, for callers that want more
    # released: free again
    leases.acquire("run:dev:churn", holder="run r-3", what="churn").release()
    assert leases.holder("run:dev:churn") is None


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over(leases: Leases) -> None:
    import socket

    _plant(leases, "run:dev:churn", host=socket.gethostname(), pid=_dead_pid())
    with leases.acquire("run:dev:churn", holder="run r-2", what="churn") as lease:
        current = leases.holder("run:dev:churn")
        assert current is not None and current.token == lease.token
        assert current.holder == "run r-2"


def test_a_reused_pid_is_not_the_holder(leases: Leases) -> None:
    import os
    import socket

    # this process's pid, but a start time that is not this process's: the holder is gone
    _plant(leases, "x", host=socket.gethostname(), pid=os.getpid(), info={"process_started": 1.0})
    leases.acquire("x", holder="me", what="x").release()


def test_another_hosts_lease_holds_until_it_expires(leases: Leases) -> None:
    _plant(leases, "live", expires_at=datetime.now(UTC) + timedelta(minutes=1))
    with pytest.raises(LeaseHeldError, match="pid 1 on host elsewhere"):
        leases.acquire("live", holder="me", what="live")
    _plant(leases, "expired", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    leases.acquire("expired", holder="me", what="expired").release()


def test_wait_queues_behind_the_holder(leases: Leases) -> None:
    first = leases.acquire("q", holder="first", what="q")
    threading.Timer(0.6, first.release).start()
    began = time.monotonic()
    with leases.acquire("q", holder="second", what="q", wait=30, poll=0.05):
        assert time.monotonic() - began >= 0.5
    with leases.acquire("q", holder="third", what="q"), pytest.raises(LeaseHeldError):
        leases.acquire("q", holder="fourth", what="q", wait=0.3, poll=0.05)


def test_renewal_extends_and_a_taken_over_lease_is_lost(store_url: str) -> None:
    store = MetadataStore(store_url)
    try:
        fast = Leases(store, ttl=0.3)
        lease = fast.acquire("r", holder="me", what="r")
        first = fast.holder("r")
        assert first is not None
        time.sleep(0.5)
        renewed = fast.holder("r")
        assert renewed is not None and renewed.expires_at > first.expires_at
        with store.begin() as conn:  # another process decided this one was dead
            conn.execute(s.leases.update().values(token="someone-else"))
        time.sleep(0.4)
        with pytest.raises(LeaseLostError, match="taken over"):
            lease.check()
        lease.release()  # does not release the new holder's lease
        assert fast.holder("r") is not None
    finally:
        store.close()


def test_acquire_all_is_all_or_nothing(leases: Leases) -> None:
    _plant(leases, "b")  # held elsewhere
    with pytest.raises(LeaseHeldError):
        leases.acquire_all({"a": "a", "b": "b", "c": "c"}, holder="me")
    assert leases.holder("a") is None and leases.holder("c") is None
    with leases.acquire_all({"a": "a", "c": "c"}, holder="me") as held:
        assert [h.name for h in leases.held()] == ["a", "b", "c"]
        held.check()
    assert [h.name for h in leases.held()] == ["b"]


def _race(
    url: str, barrier: multiprocessing.synchronize.Barrier, won: multiprocessing.Queue
) -> None:  # type: ignore[name-defined]
    store = MetadataStore(url)
    leases = Leases(store)
    barrier.wait()
    got = leases.try_acquire("race", holder="racer")
    won.put(isinstance(got, Lease))
    barrier.wait()  # everyone has tried while the winner holds it
    if isinstance(got, Lease):
        got.release()
    store.close()


def test_racing_processes_never_both_hold_it(store_url: str) -> None:
    MetadataStore(store_url).close()  # migrated once, before the race
    ctx = multiprocessing.get_context("spawn")
    barrier, won = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(store_url, barrier, won)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    results = [won.get(timeout=5) for _ in procs]
    assert sorted(results) == [False, False, False, True]


def test_holder_description_never_cuts_ids() -> None:
    now = datetime(2026, 12, 3, 6, 12, 3, tzinfo=UTC)
    holder = LeaseHolder(
        "n", "t", "run 20261203T061203-0a1b2c3d of churn by alice", "h", 42, now, now
    )
    assert holder.describe() == (
        "run 20261203T061203-0a1b2c3d of churn by alice (pid 42 on host h) "
        "since 2026-12-03 06:12:03 UTC"
    )


def test_the_leases_table_is_in_the_store(store_url: str) -> None:
    store = MetadataStore(store_url)
    try:
        assert "prodml_leases" in sa.inspect(store.engine).get_table_names()
    finally:
        store.close()


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(None)
    assert not pid_alive(0)
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert not pid_alive(pid_max + 1)


def test_a_process_that_ended_is_not_alive() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert not pid_alive(child.pid)
