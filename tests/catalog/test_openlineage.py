"""OpenLineage events: one COMPLETE event per step run, to a JSON-lines file and over HTTP."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import make_platform

import prodml
from prodml.errors import ConfigError

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="silver.numbers")
def numbers(ctx):
    return ctx.sql("SELECT range AS n FROM range(5)")

@step(stage="features", inputs=["silver.numbers"], outputs="gold.squares")
def squares(ctx, numbers):
    return ctx.sql("SELECT n, n * n AS sq FROM numbers")
"""


@pytest.fixture
def collector() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
            )
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()


def _platform(root: Path, openlineage: str) -> Path:
    return make_platform(
        root,
        {"nums": PIPELINE},
        platform=f"name: t\nstate_dir: .prodml\nstorage: {{root: data}}\n{openlineage}"
        "environments:\n  dev: {}\n",
    )


def test_events_go_to_the_file_and_the_endpoint(
    tmp_path: Path, collector: tuple[str, list[dict]]
) -> None:
    url, received = collector
    root = _platform(
        tmp_path / "p",
        f"openlineage: {{path: lineage.jsonl, url: '{url}', api_key: '${{secret:OL_KEY}}', "
        "namespace: retail}\n",
    )
    with prodml.connect(root, environ={"OL_KEY": "k3y"}) as ws:
        ws.run("nums")
    events = [json.loads(line) for line in (root / "lineage.jsonl").read_text().splitlines()]
    assert [e["job"]["name"] for e in events] == ["nums.numbers", "nums.squares"]
    squares = events[1]
    assert squares["eventType"] == "COMPLETE" and squares["job"]["namespace"] == "retail"
    assert [d["name"] for d in squares["inputs"]] == ["dev.silver.numbers"]
    assert [d["name"] for d in squares["outputs"]] == ["dev.gold.squares"]
    assert squares["outputs"][0]["facets"]["version"]["datasetVersion"] == "0"
    assert [r["path"] for r in received] == ["/api/v1/lineage"] * 2
    assert received[1]["run"]["runId"] == squares["run"]["runId"]
    assert received[0]["auth"] == "Bearer k3y"


def test_an_unreachable_endpoint_never_fails_a_run(tmp_path: Path) -> None:
    root = _platform(tmp_path / "p", "openlineage: {url: 'http://127.0.0.1:9'}\n")
    with prodml.connect(root) as ws:
        result = ws.run("nums")
    assert {s["status"] for s in result.steps} == {"succeeded"}


def test_only_http_urls(tmp_path: Path) -> None:
    root = _platform(tmp_path / "p", "openlineage: {url: 'file:///etc/passwd'}\n")
    with pytest.raises(ConfigError, match=r"openlineage\.url"):
        prodml.connect(root)
