"""The online lookup benchmark over HTTP: ``prodml serve`` and ``feast serve`` side by side, a
sequential keep-alive client (this process), request bodies and answers, the timed rounds
(servers alternating per block of keys) and the ``GET /health`` floor."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.env import command_env, prodml_bin
from lib.latency import p99_ms
from lib.online_lookup_data import (
    BLOCK,
    CHILD_ENV,
    FEAST_REFS,
    KEY,
    PRODUCT,
    TABLE,
    epoch_us,
    normalise_values,
)
from lib.server import (
    HOST,
    HttpClient,
    ServerFailedError,
    ServerProcess,
    free_port,
    get_once,
    post_once,
)

START_TIMEOUT = 120.0


@dataclass
class Server(ServerProcess):
    """A server this script started: ready once a lookup answers 200 (and, for prodml,
    once ``settle`` no longer says "loading")."""

    path: str = "/"  # the lookup route
    probe: bytes = b""  # a request body that must answer 200
    settle: str | None = None  # GET path whose body must stop saying "loading"
    rss: float | None = None

    def wait_ready(self) -> None:
        def probe() -> str | None:
            status, body = post_once(self.port, self.path, self.probe)
            return None if status == 200 and self._settled() else f"{status} {body[:300]!r}"

        self.wait_until(probe, timeout=START_TIMEOUT, poll=0.25)

    def _settled(self) -> bool:
        """prodml loads its models in the background at start (importing MLflow, full GC
        passes): measure only once ``/ready`` no longer says ``loading``."""
        if self.settle is None:
            return True
        _, body = get_once(self.port, self.settle, timeout=10)
        return b'"loading"' not in body

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s."""
        super().stop(grace)


class Client(HttpClient):
    """One keep-alive connection to a lookup route; ``make_body(key)`` is its request body."""

    def __init__(self, port: int, path: str, make_body: Callable[[int], bytes]) -> None:
        super().__init__(port, path)
        self.make_body = make_body


def prodml_body(key: int) -> bytes:
    return json.dumps({"table": TABLE, "entities": [{KEY: key}]}).encode()


def feast_body(key: int) -> bytes:
    return json.dumps({"features": FEAST_REFS, "entities": {KEY: [key]}}).encode()


def parse_prodml(body: bytes) -> tuple[tuple[Any, ...], list[str], int | None]:
    from datetime import datetime

    (hit,) = json.loads(body)["results"]
    event = hit["event_timestamp"]
    event_us = None if event is None else epoch_us(datetime.fromisoformat(event))
    return normalise_values(hit["values"]), sorted(set(hit["statuses"].values())), event_us


def parse_feast(body: bytes) -> tuple[Any, ...]:
    doc = json.loads(body)
    names = doc["metadata"]["feature_names"]
    return normalise_values({n: r["values"][0] for n, r in zip(names, doc["results"], strict=True)})


@dataclass
class HttpRun:
    """Latencies (ns), statuses and bodies of one server's timed requests, over all rounds."""

    lat: list[int] = field(default_factory=list)
    rounds_p99: list[float] = field(default_factory=list)
    bad_status: int = 0
    bodies: list[bytes] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)


def http_round(
    clients: dict[str, Client], keys: Sequence[int], runs: dict[str, HttpRun], flip: bool
) -> None:
    """One round: blocks of BLOCK keys, the servers alternating per block (ABBA), each block on
    a connection opened (untimed) just before it: a server closes a keep-alive connection that
    idles longer than its timeout (uvicorn: 5 s) while the other server's block runs."""
    perf = time.perf_counter_ns
    bodies = {label: [c.make_body(k) for k in keys] for label, c in clients.items()}
    names = list(clients)
    before = {label: len(runs[label].lat) for label in names}
    for b, start in enumerate(range(0, len(keys), BLOCK)):
        order = names if (b % 2 == 0) != flip else names[::-1]
        stop = min(start + BLOCK, len(keys))
        for label in order:
            client, run = clients[label], runs[label]
            lat, got, mine = run.lat, run.bodies, bodies[label]
            client.reconnect()  # untimed: the connection may have idled past the keep-alive
            for i in range(start, stop):
                t0 = perf()
                status, data = client.post(mine[i])
                lat.append(perf() - t0)
                got.append(data)
                if status != 200:
                    run.bad_status += 1
            run.keys.extend(keys[start:stop])
    for label in names:
        mine_lat = sorted(runs[label].lat[before[label] :])
        runs[label].rounds_p99.append(p99_ms(mine_lat))


def warm_up(client: Client, keys: Sequence[int], min_seconds: float) -> None:
    """The warm-up keys, repeated until at least ``min_seconds`` have passed."""
    t0 = time.perf_counter()
    while True:
        for k in keys:
            client.post(client.make_body(k))
        if time.perf_counter() - t0 >= min_seconds:
            return


def http_floor(clients: dict[str, Client], n: int) -> dict[str, list[int]]:
    """``GET /health`` n times per server (blocks alternating): the HTTP stack's own cost."""
    perf = time.perf_counter_ns
    lat: dict[str, list[int]] = {label: [] for label in clients}
    names = list(clients)
    for b, start in enumerate(range(0, n, BLOCK)):
        for label in names if b % 2 == 0 else names[::-1]:
            client, out = clients[label], lat[label]
            client.reconnect()
            for _ in range(start, min(start + BLOCK, n)):
                t0 = perf()
                status, _body = client.get("/health")
                out.append(perf() - t0)
                if status != 200:
                    raise ServerFailedError(f"{label}: GET /health answered {status}")
    return lat


def server_pair(
    store: str, root: Path, repo: Path | None, feast_bin: Path | None, logs: Path
) -> dict[str, Server]:
    """``prodml serve`` of the store's environment and ``feast serve`` of its repo."""
    port = free_port(HOST)
    servers = {
        "prodml": Server(
            label=f"prodml serve ({store})",
            argv=[
                str(prodml_bin()),
                "serve",
                "--product",
                PRODUCT,
                "--env",
                store,
                "--no-auth",
                "--host",
                HOST,
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=command_env(prodml_bin().parent),
            cwd=root,
            log=logs / f"prodml_serve_{store}.log",
            port=port,
            path="/v1/features/online",
            probe=prodml_body(1),
            settle="/ready",
        )
    }
    if repo is not None and feast_bin is not None:
        port = free_port(HOST)
        servers["feast"] = Server(
            label=f"feast serve ({store})",
            argv=[
                str(feast_bin / "feast"),
                "-c",
                str(repo),
                "serve",
                "-h",
                HOST,
                "-p",
                str(port),
                "--no-access-log",
                "--workers",
                "1",
                "--max-requests",
                "0",
                "--max-requests-jitter",
                "0",
                "--registry_ttl_sec",
                "3600",
            ],
            env=command_env(feast_bin, CHILD_ENV),
            cwd=repo,
            log=logs / f"feast_serve_{store}.log",
            port=port,
            path="/get-online-features",
            probe=feast_body(1),
        )
    return servers


@contextlib.contextmanager
def running(servers: dict[str, Server]) -> Iterator[dict[str, Server]]:
    """Start the servers, wait until each answers a lookup, stop them at the end."""
    try:
        for s in servers.values():
            s.start()
        for s in servers.values():
            s.wait_ready()
        yield servers
    finally:
        for s in servers.values():
            s.stop()
