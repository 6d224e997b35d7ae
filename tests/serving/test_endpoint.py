"""Traffic on a real server: sticky weighted split, shadow scoring, hot swap and graceful stop
under concurrent load, with the inference log checked afterwards."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from tests.live import serving
from tests.serving.conftest import (
    ROWS,
    aliases_restored,
    configure,
    log_rows,
    new_platform,
    sklearn_model,
    wait_loaded,
)

import prodml
from prodml.abtest.assign import Assigner

SPLIT_70_30 = """\
endpoint:
  unit_key: customer
  variants:
    champion: {alias: champion, weight: 0.7}
    challenger: {alias: challenger, weight: 0.3}
  inference_log: {flush_seconds: 0.2}
"""

SHADOW = """\
endpoint:
  shadow: challenger
  variants:
    champion: {alias: champion, weight: 1}
    challenger: {alias: challenger, weight: 0.5}
"""

ONLY_CHAMPION_FAST_FLUSH = """\
endpoint:
  reload_seconds: 3600
  variants:
    champion: {alias: champion}
  inference_log: {flush_seconds: 0.2}
"""


def test_assigner_shares_stickiness_and_salt() -> None:
    weights = {"champion": 0.7, "challenger": 0.3}
    assigner = Assigner(weights, "clf")
    units = [f"customer-{i}" for i in range(10_000)]
    got = [assigner.assign(u) for u in units]
    shares = {k: n / len(units) for k, n in Counter(got).items()}
    assert shares["champion"] == pytest.approx(0.7, abs=0.02)
    assert shares["challenger"] == pytest.approx(0.3, abs=0.02)
    # sticky: the same unit, another instance (another process) → the same variant
    assert [Assigner(weights, "clf").assign(u) for u in units[:500]] == got[:500]
    assert all(assigner.assign(u) == assigner.assign(u) for u in units[:100])
    # weights are normalised; another salt reshuffles units
    assert [Assigner({"champion": 7, "challenger": 3}, "clf").assign(u) for u in units] == got
    other = [Assigner(weights, "other-salt").assign(u) for u in units]
    assert 0.3 < sum(a != b for a, b in zip(got, other, strict=True)) / len(units) < 0.55
    assert assigner.shares == {"champion": 0.7, "challenger": 0.3}
    # a variant with weight 0 gets nobody
    assert {Assigner({"a": 1, "b": 0}, "s").assign(u) for u in units[:1000]} == {"a"}


@pytest.mark.slow
def test_weighted_sticky_split_over_http(trained: Path) -> None:
    configure(trained, SPLIT_70_30)
    assigner = Assigner({"champion": 0.7, "challenger": 0.3}, "clf")
    version = {"champion": 1, "challenger": 2}
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    served: dict[str, str] = {}
    ids: set[str] = set()
    with serving(app) as live, live.client() as http:
        wait_loaded(live.url)
        for i in range(500):
            customer = f"c-{i:04d}"
            record = {**ROWS[i % len(ROWS)], "customer": customer}
            r = http.post("/v1/products/clf/predict", json={"records": [record]})
            assert r.status_code == 200, r.text
            [p] = r.json()["predictions"]
            assert p["model_version"] == version[p["variant"]]
            assert r.headers["X-Prodml-Variant"] == p["variant"]
            served[customer] = p["variant"]
            ids.add(r.json()["request_id"])
        # the same unit: always the same variant
        sticky = {
            http.post(
                "/v1/products/clf/predict",
                json={"records": [{"a": 0.1 * k, "b": 1.0, "customer": "c-0007"}]},
            ).json()["predictions"][0]["variant"]
            for k in range(20)
        }
        assert sticky == {served["c-0007"]}
        # no unit id: still served; the X-Unit-Id header assigns when records lack the key
        r = http.post("/v1/products/clf/predict", json={"records": ROWS})
        assert r.status_code == 200 and len(r.json()["predictions"]) == len(ROWS)
        for unit in ("h-1", "h-2", "h-3", "h-4"):
            r = http.post(
                "/v1/products/clf/predict", json={"records": ROWS[:2]}, headers={"X-Unit-Id": unit}
            )
            assert r.status_code == 200
            assert {p["variant"] for p in r.json()["predictions"]} == {assigner.assign(unit)}
            ids.add(r.json()["request_id"])
    # the assignment is the sticky hash; the split is close to the weights
    assert served == {c: assigner.assign(c) for c in served}
    share = Counter(served.values())["challenger"] / len(served)
    assert share == pytest.approx(0.3, abs=0.05)
    # the inference log keeps each record's unit
    rows = log_rows(trained, ids)
    assert len(rows) == 500 + 4 * 2
    by_unit = {r["unit_id"]: r["variant"] for r in rows}
    assert {u: by_unit[u] for u in served} == served
    assert by_unit["h-1"] == assigner.assign("h-1")


@pytest.mark.slow
def test_shadow_is_scored_and_logged_but_never_returned(trained: Path) -> None:
    configure(trained, SHADOW)
    frame = pd.DataFrame(ROWS)
    with prodml.connect(trained) as ws:
        p1 = sklearn_model(ws, 1).predict_proba(frame)[:, 1]
        p2 = sklearn_model(ws, 2).predict_proba(frame)[:, 1]
        app = ws.serving_app(no_auth=True)
    with serving(app) as live, live.client() as http:
        wait_loaded(live.url)
        info = http.get("/v1/products/clf").json()
        assert info["shadow"] == "challenger"
        request_ids = set()
        for i in range(30):  # a weight on the shadow is irrelevant: nobody is served by it
            r = http.post(
                "/v1/products/clf/predict",
                json={"records": ROWS},
                headers={"X-Unit-Id": f"unit-{i}"},
            )
            assert r.status_code == 200, r.text
            preds = r.json()["predictions"]
            assert {(p["variant"], p["model_version"]) for p in preds} == {("champion", 1)}
            assert [p["prediction"] for p in preds] == pytest.approx(p1.tolist(), rel=1e-12)
            assert r.headers["X-Prodml-Variant"] == "champion"
            request_ids.add(r.json()["request_id"])
        inv = http.post("/invocations", json={"dataframe_records": ROWS})
        assert inv.status_code == 200 and inv.headers["X-Prodml-Model-Version"] == "1"
        request_ids.add(inv.headers["X-Request-Id"])
    rows = log_rows(trained, request_ids)  # after the stop: everything flushed
    assert len(rows) == 2 * len(ROWS) * len(request_ids)
    for rid in request_ids:
        mine = [r for r in rows if r["request_id"] == rid]
        live_rows = sorted((r for r in mine if not r["shadow"]), key=lambda r: r["row"])
        shadow_rows = sorted((r for r in mine if r["shadow"]), key=lambda r: r["row"])
        assert [(r["variant"], r["model_version"]) for r in live_rows] == [("champion", 1)] * 6
        assert [(r["variant"], r["model_version"]) for r in shadow_rows] == [("challenger", 2)] * 6
        assert [r["row"] for r in shadow_rows] == list(range(len(ROWS)))
        assert [json.loads(r["inputs"]) for r in shadow_rows] == ROWS
        route = mine[0]["route"]
        if route == "predict":
            shadow_pred = [json.loads(r["outputs"])["prediction"] for r in shadow_rows]
            assert shadow_pred == pytest.approx(p2.tolist(), rel=1e-12)
            live_pred = [json.loads(r["outputs"])["prediction"] for r in live_rows]
            assert live_pred == pytest.approx(p1.tolist(), rel=1e-12)
        else:
            assert route == "invocations"


class Load:
    """Threads posting predictions until stopped; records every answer."""

    def __init__(self, url: str, threads: int = 8) -> None:
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[float, int, dict[str, Any], dict[str, str]]] = []
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            i = 0
            while not self.stop.is_set():
                started = time.monotonic()
                record = {"a": (n * 1000 + i) / 997.0, "b": -1.0}
                try:
                    r = http.post("/v1/products/clf/predict", json={"records": [record]})
                except httpx.TransportError as exc:
                    with self.lock:
                        self.errors.append(exc)
                    return
                body = r.json() if r.headers.get("content-type") == "application/json" else {}
                with self.lock:
                    self.answers.append((started, r.status_code, body, dict(r.headers)))
                i += 1

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def wait_for(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answers) < n:
            assert time.monotonic() < deadline, f"only {len(self.answers)} answers"
            assert any(t.is_alive() for t in self.threads), self.errors
            time.sleep(0.01)


@pytest.mark.slow
def test_hot_swap_under_load_loses_no_request(trained: Path) -> None:
    configure(trained, ONLY_CHAMPION_FAST_FLUSH)
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with aliases_restored(trained), serving(app) as live:
        with Load(live.url) as load:
            load.wait_for(200)
            with prodml.connect(trained) as ws:
                ws.set_alias("clf", "champion", 2)
            swapped = httpx.post(f"{live.url}/v1/admin/reload", timeout=60)
            after = time.monotonic()
            assert swapped.status_code == 200, swapped.text
            assert swapped.json()["changes"] == {
                "clf": [{"variant": "champion", "from": 1, "to": 2}]
            }
            load.wait_for(len(load.answers) + 200)
        assert not load.errors, load.errors
        statuses = Counter(status for _, status, _, _ in load.answers)
        assert statuses == {200: len(load.answers)}, statuses
        versions = [body["predictions"][0]["model_version"] for _, _, body, _ in load.answers]
        assert set(versions) == {1, 2}
        # the header names the version that scored the record; after the reload answered,
        # every new request is scored by version 2
        for started, _, body, headers in load.answers:
            assert headers["x-prodml-model-version"] == str(body["predictions"][0]["model_version"])
            if started > after:
                assert body["predictions"][0]["model_version"] == 2
        info = httpx.get(f"{live.url}/v1/products/clf").json()
        assert [v["version"] for v in info["variants"]] == [2]


@pytest.mark.slow
@pytest.mark.parametrize(
    "flushing",
    [
        # written every 0.2 s while serving; the stop writes what the last 0.2 s queued
        pytest.param("{flush_seconds: 0.2}", id="periodic"),
        # written every 100 rows; the stop alone writes the tail (< 100 rows)
        pytest.param("{flush_rows: 100, flush_seconds: 3600}", id="by-rows"),
    ],
)
def test_graceful_stop_under_load_logs_every_answered_request(trained: Path, flushing: str) -> None:
    configure(
        trained,
        f"endpoint:\n  variants:\n    champion: {{alias: champion}}\n  inference_log: {flushing}\n",
    )
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with serving(app) as live, Load(live.url, threads=6) as load:
        load.wait_for(150)
        # flushes write while requests keep coming
        deadline = time.monotonic() + 30
        while not _written(live.url):
            assert time.monotonic() < deadline, "nothing was flushed"
            time.sleep(0.05)
        load.wait_for(len(load.answers) + 30)
        assert all(t.is_alive() for t in load.threads)
        live.stop()  # while the threads are still sending
    answered = {body["request_id"] for _, status, body, _ in load.answers if 200 <= status < 300}
    assert len(answered) >= 180
    others = Counter(status for _, status, _, _ in load.answers if not 200 <= status < 300)
    assert set(others) <= {503}, others  # only "stopping" answers, never a 500
    rows = log_rows(trained, answered)
    assert {r["request_id"] for r in rows} == answered
    assert len(rows) == len(answered)  # written once each, not twice


def _written(url: str) -> str:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return "\n".join(
        line
        for line in text.splitlines()
        if line.startswith("prodml_inference_log_written_rows") and not line.endswith(" 0.0")
    )


@pytest.mark.slow
def test_reload_loads_from_its_own_registry_after_another_workspace_opened(
    trained: Path, tmp_path: Path
) -> None:
    """Regression: models/loaded.py load() (and ModelRegistry.load) load `models:/<name>/<version>`
    through MLflow's process-global tracking/registry URIs, which ModelRegistry.client sets
    only when a client is first created. Opening any other workspace in the same process
    repoints them, so the server resolves the alias in its own registry (version 2) but then
    loads version 2 from the other platform's registry: "Registered Model ... not found",
    and /ready turns 503."""
    configure(
        trained, "endpoint:\n  reload_seconds: 3600\n  variants:\n    champion: {alias: champion}\n"
    )
    other = new_platform(tmp_path / "other")
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with aliases_restored(trained), serving(app) as live:
        with prodml.connect(trained) as ws:
            ws.set_alias("clf", "champion", 2)
        with prodml.connect(other) as ws:
            assert ws.model_versions("clf") == []  # e.g. a notebook looking at another platform
        r = httpx.post(f"{live.url}/v1/admin/reload", timeout=60)
        assert r.json()["ready"] is True, r.text
        assert r.json()["changes"] == {"clf": [{"variant": "champion", "from": 1, "to": 2}]}
