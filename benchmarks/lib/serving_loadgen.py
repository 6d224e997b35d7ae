"""The serving benchmark's load generator: asyncio (uvloop when installed) over raw sockets, one
HTTP/1.1 keep-alive connection per concurrent worker, responses framed by Content-Length. It
runs in its own process (``serving.py --loadgen-child``, config on stdin); the parent samples
the server's RSS and CPU time while it measures (:class:`Sampler`, :func:`run_loadgen`)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from lib.env import command_env
from lib.latency import percentile
from lib.server import HOST
from lib.timing import CommandFailedError

RSS_INTERVAL = 0.02


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self._fail(ConnectionError(f"response without Content-Length: {head[:200]!r}"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buf) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buf[end + 4 : total])
        del self.buf[:total]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"the server closed the connection ({exc})"))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self.waiter is None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter


def _http_request(port: int, body: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _loadgen(cfg: dict[str, Any]) -> dict[str, Any]:
    port = int(cfg["port"])
    requests = [_http_request(port, b.encode()) for b in cfg["bodies"]]
    expected = [e.encode() for e in cfg["expected"]]
    concurrency = int(cfg["concurrency"])
    loop = asyncio.get_running_loop()
    conns: list[_Conn] = []
    for _ in range(concurrency):
        _, proto = await loop.create_connection(_Conn, HOST, port)
        conns.append(proto)

    async def phase(seconds: float, cap: int, record: bool) -> dict[str, Any]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        wrong: list[str] = []
        issued = wrong_count = 0
        perf = time.perf_counter
        t_start = perf()
        deadline = t_start + seconds

        async def worker(w: int, conn: _Conn) -> None:
            nonlocal issued, wrong_count
            i = w  # each worker walks the rows from its own offset
            while issued < cap and perf() < deadline:
                issued += 1
                k = i % len(requests)
                i += concurrency
                t0 = perf()
                status, body = await conn.request(requests[k])
                t1 = perf()
                if not record:
                    continue
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if body != expected[k]:
                    wrong_count += 1
                    if len(wrong) < 5:
                        wrong.append(f"row {k}: status {status}, body {body[:300]!r}")

        cpu0 = time.process_time()
        await asyncio.gather(*(worker(w, c) for w, c in enumerate(conns)))
        elapsed = perf() - t_start
        cpu = time.process_time() - cpu0
        latencies.sort()
        n = len(latencies)
        return {
            "requests": issued,
            "answered": n,
            "elapsed": elapsed,
            "client_cpu": cpu,
            "statuses": {str(k): v for k, v in statuses.items()},
            "wrong": wrong_count,
            "wrong_sample": wrong,
            "p50": percentile(latencies, 0.50) if n else None,
            "p90": percentile(latencies, 0.90) if n else None,
            "p99": percentile(latencies, 0.99) if n else None,
            "max": latencies[-1] if n else None,
            "mean": sum(latencies) / n if n else None,
        }

    warm = await phase(float(cfg["warmup_seconds"]), int(cfg["max_requests"]), record=False)
    # the marker lets the parent start its per-phase RSS/CPU window right here
    print("MEASURING", flush=True)
    result = await phase(float(cfg["seconds"]), int(cfg["max_requests"]), record=True)
    result["warmup_requests"] = warm["requests"]
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return result


def loadgen_child() -> int:
    cfg = json.loads(sys.stdin.read())
    try:
        import uvloop

        runner: Any = uvloop.run
        loop_name = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is part of prodml[serve]
        runner = asyncio.run
        loop_name = "asyncio"
    result = runner(_loadgen(cfg))
    result["loop"] = loop_name
    print("RESULT " + json.dumps(result), flush=True)
    return 0


class Sampler:
    """Samples the RSS of the serving processes every 20 ms; peaks per named window."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self._procs = {label: psutil.Process(pid) for label, pid in pids.items()}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._windows: dict[str, dict[str, int]] = {}  # window -> label -> peak bytes
        self._open: set[str] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(RSS_INTERVAL):
            for label, proc in self._procs.items():
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                with self._lock:
                    for window in self._open:
                        peaks = self._windows[window]
                        peaks[label] = max(peaks.get(label, 0), rss)

    def cpu(self, label: str) -> float:
        t = self._procs[label].cpu_times()
        return float(t.user + t.system)

    def begin(self, window: str) -> None:
        """Start recording peaks under ``window`` (from the next sample on)."""
        with self._lock:
            self._windows.setdefault(window, {})
            self._open.add(window)

    def end(self, window: str) -> None:
        with self._lock:
            self._open.discard(window)

    def peak_mb(self, window: str, label: str) -> float | None:
        peak = self._windows.get(window, {}).get(label)
        return None if peak is None else peak / 2**20

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _Served(Protocol):
    label: str
    port: int

    def log_tail(self, lines: int = 30) -> str: ...


def run_loadgen(
    script: Path,
    server: _Served,
    bodies: Sequence[str],
    expected: Sequence[str],
    concurrency: int,
    args: Any,
    sampler: Sampler,
    window: str,
) -> dict[str, Any]:
    """One measurement of ``server`` at ``concurrency``: the load generator's result plus the
    server's CPU seconds and peak RSS during the measured phase (not the warm-up)."""
    cfg = {
        "port": server.port,
        "bodies": list(bodies),
        "expected": list(expected),
        "concurrency": concurrency,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "max_requests": args.max_requests,
    }
    proc = subprocess.Popen(
        [sys.executable, str(script.resolve()), "--loadgen-child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=command_env(Path(sys.executable).parent),
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(cfg))
    proc.stdin.close()
    result: dict[str, Any] | None = None
    lines = []
    cpu0 = cpu1 = None
    for line in proc.stdout:
        if line.startswith("MEASURING"):
            cpu0 = sampler.cpu(server.label)
            sampler.begin(window)
        elif line.startswith("RESULT "):
            cpu1 = sampler.cpu(server.label)
            sampler.end(window)
            result = json.loads(line[len("RESULT ") :])
        else:
            lines.append(line)
    sampler.end(window)
    stderr = proc.stderr.read() if proc.stderr else ""
    code = proc.wait()
    if code != 0 or result is None or cpu0 is None or cpu1 is None:
        raise CommandFailedError(
            ["loadgen", server.label, f"c={concurrency}"],
            code,
            "\n".join((stderr + "".join(lines)).strip().splitlines()[-25:])
            + f"\n{server.label} log tail:\n{server.log_tail(10)}",
        )
    result["server_cpu"] = cpu1 - cpu0
    result["rss_mb"] = sampler.peak_mb(window, server.label)
    return result
