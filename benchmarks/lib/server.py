"""Servers a benchmark starts (each in its own process group) and a plain HTTP client."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
_JSON = {"Content-Type": "application/json"}


class ServerFailedError(RuntimeError):
    """A server did not start (or died); the message carries its log tail."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server process started in its own process group, its output in ``log``.

    Subclasses say what "ready" means by calling :meth:`wait_until` with a probe.
    """

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    start_seconds: float = 0.0  # from start() until the probe said ready

    def start(self) -> None:
        """Start it (stdout and stderr to the log)."""
        self.started_at = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # its own process group: stopped as one
            )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of its log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def wait_until(self, probe: Callable[[], str | None], *, timeout: float, poll: float) -> None:
        """Poll ``probe`` (None: ready; else what it saw) until ready; a clear error with the
        log tail if the process dies or ``timeout`` seconds pass."""
        assert self.proc is not None
        last = "no answer"
        while time.perf_counter() - self.started_at < timeout:
            if self.proc.poll() is not None:
                raise ServerFailedError(
                    f"{self.label} exited with {self.proc.returncode} before it was ready "
                    f"({' '.join(self.argv)}); log {self.log} (tail):\n{self.log_tail()}"
                )
            try:
                seen = probe()
            except OSError as exc:
                seen = str(exc)
            if seen is None:
                self.start_seconds = time.perf_counter() - self.started_at
                return
            last = seen
            time.sleep(poll)
        raise ServerFailedError(
            f"{self.label} not ready after {timeout:.0f} s ({last}); "
            f"log {self.log} (tail):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM to its process group (graceful: servers flush their logs), SIGKILL after
        ``grace`` seconds; then the rest of the group (children that outlived the leader)."""
        import signal

        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def get_once(port: int, path: str, *, host: str = HOST, timeout: float = 2.0) -> tuple[int, bytes]:
    """``GET path`` on a new connection: status and body (any status)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def post_once(
    port: int, path: str, body: bytes, *, host: str = HOST, timeout: float = 10.0
) -> tuple[int, bytes]:
    """``POST path`` (JSON) on a new connection: status and body."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", path, body, _JSON)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class HttpClient:
    """One keep-alive connection to a server; JSON requests one at a time (``post`` to
    ``path``)."""

    def __init__(self, port: int, path: str = "/", *, host: str = HOST, timeout: float = 30.0):
        self.port = port
        self.path = path
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.headers = dict(_JSON)

    def post(self, body: bytes | str) -> tuple[int, bytes]:
        self.conn.request("POST", self.path, body, self.headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def reconnect(self) -> None:
        """A fresh connection, opened now (servers close idle keep-alive connections: uvicorn
        after 5 s); call it untimed."""
        self.conn.close()
        self.conn.connect()

    def close(self) -> None:
        self.conn.close()
