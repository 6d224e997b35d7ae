"""A real uvicorn server running an app in a background thread, for HTTP tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def leave_mid_body(
        self, path: str, sent: bytes, length: int, method: str = "POST", **headers: str
    ) -> None:
        """``method`` ``path`` announcing ``length`` body bytes, send ``sent``, and hang up (a
        client that disconnects mid-body)."""
        host, port = self.url.removeprefix("http://").split(":")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {length}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)
            time.sleep(0.2)  # the server is reading the body

    def stop(self) -> None:
        """Graceful stop: in-flight requests finish, the lifespan flushes the logs."""
        self.server.should_exit = True
        self.thread.join(60)
        assert not self.thread.is_alive(), "the server did not stop"


@contextlib.contextmanager
def serving(
    app: Any, *, ready: bool = True, headers: dict[str, str] | None = None
) -> Iterator[Live]:
    """Run ``app`` under uvicorn on a free port in a thread; waits for /ready (when ``ready``)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    live = Live(f"http://127.0.0.1:{config.port}", server, thread)
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive(), "the server failed to start"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        if ready:
            wait_ready(live.url, headers=headers)
        yield live
    finally:
        if thread.is_alive():
            live.stop()


def wait_ready(url: str, *, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
    """Poll /ready until 200."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/ready", timeout=5, headers=headers)
            if r.status_code == 200:
                return
            last = r.text
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"{url} not ready: {last}")
