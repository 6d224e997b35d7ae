"""Leases: one holder at a time of a named thing (a product's runs in an environment, the
scheduler), kept in the metadata store so that every process on every host sees them.

A lease is taken with one INSERT (the name is the primary key) and taken over from a dead
holder with one conditional UPDATE (on the old holder's token), so two processes never both
hold it, on SQLite and PostgreSQL alike. A holder is dead when its process is gone (same
host: the pid, and the process's start time against pid reuse) or when it stopped renewing
(another host: the lease expired). A held lease is renewed in the background every third of
its time to live.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from prodml.catalog import schema as s
from prodml.errors import ConflictError

if TYPE_CHECKING:
    from prodml.catalog.store import MetadataStore

log = logging.getLogger(__name__)

#: seconds a lease lives without renewal (a holder on another host that stops renewing for
#: this long is taken to be dead)
LEASE_TTL = 60.0


def pid_alive(pid: int | None) -> bool:
    """Whether a process with ``pid`` is running on this host."""
    import psutil

    return pid is not None and pid > 0 and bool(psutil.pid_exists(pid))


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (None: it is gone): tells a live holder from a pid that
    the system gave to another process since."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease: ``holder`` says it in words (``run 2026… of churn by alice``)."""

    name: str
    token: str
    holder: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime
    info: dict[str, Any] = field(default_factory=dict)

    def alive(self, now: datetime) -> bool:
        """Whether the holder may still be working: its process runs (on this host), or it
        renewed the lease recently (on another)."""
        if self.host == socket.gethostname():
            started = process_started(self.pid)
            recorded = self.info.get("process_started")
            return started is not None and (recorded is None or abs(started - recorded) < 1.0)
        return self.expires_at > now

    def describe(self) -> str:
        """``run … by alice (pid 42 on host h) since 2026-12-03 06:12:03 UTC``."""
        since = self.acquired_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.holder} (pid {self.pid} on host {self.host}) since {since}"


class LeaseHeldError(ConflictError):
    """A live holder has the lease."""

    retryable = True

    def __init__(self, holder: LeaseHolder, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class LeaseLostError(ConflictError):
    """A held lease was taken over (its holder was thought dead): stop before writing more."""


class Lease:
    """A held lease, renewed in the background until released (a context manager)."""

    def __init__(self, leases: Leases, name: str, token: str) -> None:
        self.leases = leases
        self.name = name
        self.token = token
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {name}", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        period = self.leases.ttl / 3
        while not self._stop.wait(period):
            try:
                if not self.leases.renew(self.name, self.token):
                    self.lost = True
                    log.error("lease %s was taken over by another process", self.name)
                    return
            except Exception as exc:
                log.warning("could not renew lease %s: %s", self.name, exc)

    def check(self) -> None:
        """Raise if the lease was taken over (call before each commit of long work)."""
        if self.lost:
            raise LeaseLostError(
                f"{self.name} was taken over by another process while this one held it",
                hint="this process stopped renewing its lease (suspended?); run again",
            )

    def release(self) -> None:
        """Give the lease up (idempotent)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if not self.lost:
            self.leases.release(self.name, self.token)
            self.lost = True  # released: no longer held

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Leases:
    """The leases of one metadata store."""

    def __init__(self, store: MetadataStore, ttl: float = LEASE_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def holder(self, name: str) -> LeaseHolder | None:
        """Who holds ``name`` now (alive or not), or None."""
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(s.leases).where(s.leases.c.name == name)).first()
        return None if row is None else LeaseHolder(**dict(row._mapping))

    def held(self, prefix: str = "") -> list[LeaseHolder]:
        """The leases whose name starts with ``prefix``, by name."""
        query = sa.select(s.leases).order_by(s.leases.c.name)
        if prefix:
            query = query.where(s.leases.c.name.startswith(prefix, autoescape=True))
        with self.store.engine.connect() as conn:
            return [LeaseHolder(**dict(r._mapping)) for r in conn.execute(query)]

    def try_acquire(
        self, name: str, *, holder: str, info: dict[str, Any] | None = None
    ) -> Lease | LeaseHolder:
        """Take ``name`` (from a dead holder too): the lease, or the live holder that has it."""
        pid = os.getpid()
        info = {**(info or {}), "process_started": process_started(pid)}
        while True:
            now, token = datetime.now(UTC), uuid.uuid4().hex
            values: dict[str, Any] = {
                "token": token,
                "holder": holder,
                "host": socket.gethostname(),
                "pid": pid,
                "acquired_at": now,
                "expires_at": now + timedelta(seconds=self.ttl),
                "info": info,
            }
            try:
                with self.store.begin() as conn:
                    conn.execute(s.leases.insert().values(name=name, **values))
                return Lease(self, name, token)
            except sa.exc.IntegrityError:
                pass
            current = self.holder(name)
            if current is None:
                continue  # released in between: try again
            if current.alive(now):
                return current
            with self.store.begin() as conn:
                taken = conn.execute(
                    s.leases.update()
                    .where(s.leases.c.name == name, s.leases.c.token == current.token)
                    .values(**values)
                ).rowcount
            if taken == 1:
                log.warning("took over lease %s from a dead holder: %s", name, current.describe())
                return Lease(self, name, token)

    def acquire(
        self,
        name: str,
        *,
        holder: str,
        what: str,
        info: dict[str, Any] | None = None,
        wait: float | None = None,
        poll: float = 0.5,
        hint: str | None = None,
    ) -> Lease:
        """Take ``name``; when a live holder has it, wait up to ``wait`` seconds for it
        (``math.inf``: as long as it takes; None: not at all) then raise ``LeaseHeldError``
        saying ``what`` is held, by whom and since when."""
        deadline = time.monotonic() + (wait if wait is not None else 0.0)
        while True:
            got = self.try_acquire(name, holder=holder, info=info)
            if isinstance(got, Lease):
                return got
            if wait is None or (not math.isinf(wait) and time.monotonic() >= deadline):
                raise LeaseHeldError(got, f"{what} is held by {got.describe()}", hint=hint)
            time.sleep(poll)

    def acquire_all(
        self,
        wanted: dict[str, str],
        *,
        holder: str,
        info: dict[str, Any] | None = None,
        wait: float | None = None,
        hint: str | None = None,
    ) -> LeaseSet:
        """Take every lease of ``wanted`` (name → what it stands for, in words) or none: in
        name order, so that two takers of overlapping sets never wait for each other."""
        held: list[Lease] = []
        try:
            for name in sorted(wanted):
                held.append(
                    self.acquire(
                        name, holder=holder, what=wanted[name], info=info, wait=wait, hint=hint
                    )
                )
        except BaseException:
            for lease in held:
                lease.release()
            raise
        return LeaseSet(held)

    def renew(self, name: str, token: str) -> bool:
        """Extend a held lease; False when it is no longer this token's."""
        with self.store.begin() as conn:
            return bool(
                conn.execute(
                    s.leases.update()
                    .where(s.leases.c.name == name, s.leases.c.token == token)
                    .values(expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl))
                ).rowcount
            )

    def release(self, name: str, token: str) -> None:
        """Give up a held lease (nothing happens if it is no longer this token's)."""
        with self.store.begin() as conn:
            conn.execute(
                s.leases.delete().where(s.leases.c.name == name, s.leases.c.token == token)
            )


class LeaseSet:
    """Leases held together (a context manager that releases them all)."""

    def __init__(self, leases: list[Lease]) -> None:
        self.leases = leases

    def check(self) -> None:
        """Raise if any of them was taken over."""
        for lease in self.leases:
            lease.check()

    def release(self) -> None:
        """Give them all up."""
        for lease in self.leases:
            lease.release()

    def __enter__(self) -> LeaseSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
