"""``prodml.utils.notify``: alerts always reach the log, and a webhook (a real local HTTP server)
when one is configured; a failing webhook never fails the caller."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from prodml.utils.notify import notify


@dataclass
class Hook:
    """A local webhook: what it answers, how long it waits, and what it received."""

    url: str
    status: int = 200
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A real HTTP server on loopback that records every POST."""
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(body),
                }
            )
            if state.delay:
                time.sleep(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_without_webhook_the_alert_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="prodml.alerts"):
        outcome = notify({"kind": "drift", "summary": "silver.events drifted"}, webhook=None)
    assert outcome == "logged"
    (record,) = caplog.records
    assert record.name == "prodml.alerts" and record.levelno == logging.WARNING
    assert record.getMessage() == "ALERT drift: silver.events drifted"


def test_empty_webhook_counts_as_none() -> None:
    assert notify({"kind": "x"}, webhook="") == "logged"


def test_missing_kind_and_summary_have_defaults(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="prodml.alerts"):
        notify({}, webhook=None)
    assert caplog.records[0].getMessage() == "ALERT alert: "


def test_webhook_gets_the_event_as_json(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    event = {
        "kind": "expectation",
        "summary": "3 rows failed",
        "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),  # not JSON: sent as its text
        "rows": [1, 2, 3],
    }
    with caplog.at_level(logging.WARNING, logger="prodml.alerts"):
        assert notify(event, webhook=hook.url) == "sent"
    (got,) = hook.received
    assert got["path"] == "/alerts"
    assert got["content_type"] == "application/json"
    assert got["body"] == {
        "kind": "expectation",
        "summary": "3 rows failed",
        "when": "2026-01-02 03:04:00+00:00",
        "rows": [1, 2, 3],
    }
    # the log has it too, whether or not the webhook worked
    assert [r.getMessage() for r in caplog.records] == ["ALERT expectation: 3 rows failed"]


def test_any_2xx_counts_as_sent(hook: Hook) -> None:
    hook.status = 204
    assert notify({"kind": "k"}, webhook=hook.url) == "sent"


def test_http_error_is_reported_not_raised(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    hook.status = 500
    with caplog.at_level(logging.WARNING, logger="prodml.alerts"):
        outcome = notify({"kind": "drift", "summary": "s"}, webhook=hook.url)
    assert outcome.startswith("webhook failed: ")
    assert "500" in outcome
    assert len(hook.received) == 1  # it was delivered, and refused
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "alert webhook failed" in errors[0].getMessage()
    assert "500" in errors[0].getMessage()


def test_unreachable_webhook_is_reported_not_raised() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = notify({"kind": "k"}, webhook=f"http://127.0.0.1:{port}/x", timeout=2)
    assert outcome.startswith("webhook failed: ")
    assert "refused" in outcome.lower()


def test_unsupported_url_scheme_is_reported_not_raised() -> None:
    outcome = notify({"kind": "k"}, webhook="gopher2://example.invalid/x")
    assert outcome.startswith("webhook failed: ")
    assert "unknown url type" in outcome


def test_webhook_url_without_scheme_is_reported_not_raised() -> None:
    outcome = notify({"kind": "k"}, webhook="hooks.example.com/alerts")
    assert outcome.startswith("webhook failed: ")
    assert "unknown url type" in outcome


def test_slow_webhook_times_out(hook: Hook) -> None:
    hook.delay = 1.0
    started = time.monotonic()
    outcome = notify({"kind": "k"}, webhook=hook.url, timeout=0.2)
    assert outcome.startswith("webhook failed: ")
    assert "timed out" in outcome
    assert time.monotonic() - started < 0.9  # the caller was not held for the whole delay
