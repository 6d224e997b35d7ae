"""Prometheus metrics with OpenTelemetry's HTTP names (``Metrics``) and the ASGI middleware that
observes every request by method, route template and status, on a real FastAPI app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from prodml.serving.metrics import MULTIPROC_DIR, Metrics, MetricsMiddleware

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: bytes | str) -> Samples:
    body = text.decode() if isinstance(text, bytes) else text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _duration_count(samples: Samples, method: str, route: str, status: str) -> float:
    labels = (
        ("http_request_method", method),
        ("http_response_status_code", status),
        ("http_route", route),
    )
    return samples.get(("http_server_request_duration_seconds_count", labels), 0.0)


def test_scored_counts_records_per_product_variant_version_and_shadow() -> None:
    metrics = Metrics()
    metrics.scored("clf", "champion", 3, False, 5)
    metrics.scored("clf", "champion", 3, False, 2)
    metrics.scored("clf", "challenger", 4, True, 7)
    samples = _samples(metrics.render())
    key = "prodml_predictions_total"
    champion = (
        ("model_version", "3"),
        ("product", "clf"),
        ("shadow", "false"),
        ("variant", "champion"),
    )
    shadow = (
        ("model_version", "4"),
        ("product", "clf"),
        ("shadow", "true"),
        ("variant", "challenger"),
    )
    assert samples[(key, champion)] == 7
    assert samples[(key, shadow)] == 7


def test_each_metrics_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.scored("clf", "champion", 1, False, 3)
    labels = (
        ("model_version", "1"),
        ("product", "clf"),
        ("shadow", "false"),
        ("variant", "champion"),
    )
    assert _samples(first.render())[("prodml_predictions_total", labels)] == 3
    assert not any(name == "prodml_predictions_total" for name, _ in _samples(second.render()))


def test_the_log_gauges_and_the_duration_buckets() -> None:
    metrics = Metrics()
    metrics.log_pending.labels("clf").set(12)
    metrics.log_written.labels("clf").set(3000)
    metrics.duration.labels("GET", "/health", "200").observe(0.003)
    samples = _samples(metrics.render())
    assert samples[("prodml_inference_log_pending_rows", (("product", "clf"),))] == 12
    assert samples[("prodml_inference_log_written_rows", (("product", "clf"),))] == 3000
    buckets = sorted(
        float(dict(labels)["le"])
        for name, labels in samples
        if name == "http_server_request_duration_seconds_bucket"
    )
    # OpenTelemetry's http.server.request.duration boundaries, then +Inf
    assert buckets[:3] == [0.0005, 0.001, 0.0025] and buckets[-2:] == [1.0, float("inf")]
    labels = (
        ("http_request_method", "GET"),
        ("http_response_status_code", "200"),
        ("http_route", "/health"),
        ("le", "0.005"),
    )
    assert samples[("http_server_request_duration_seconds_bucket", labels)] == 1


def test_with_worker_processes_the_files_are_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = Metrics()
    metrics.scored("clf", "champion", 1, False, 3)
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))  # no worker has written a file yet
    assert metrics.render() == b""
    monkeypatch.delenv(MULTIPROC_DIR)
    assert b"prodml_predictions_total" in metrics.render()


@pytest.fixture
def observed() -> tuple[TestClient, Metrics]:
    metrics = Metrics()
    app = FastAPI()
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/items/{item}")
    async def item(item: int) -> dict[str, int]:
        return {"item": item}

    @app.post("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return TestClient(app, raise_server_exceptions=False), metrics


def test_requests_are_observed_by_route_template_and_status(
    observed: tuple[TestClient, Metrics],
) -> None:
    client, metrics = observed
    for item in (1, 2, 3):
        assert client.get(f"/items/{item}").status_code == 200
    assert client.get("/items/x").status_code == 422
    assert client.get("/nowhere").status_code == 404
    assert client.post("/boom").status_code == 500
    samples = _samples(metrics.render())
    assert _duration_count(samples, "GET", "/items/{item}", "200") == 3
    assert _duration_count(samples, "GET", "/items/{item}", "422") == 1
    assert _duration_count(samples, "GET", "unmatched", "404") == 1
    assert _duration_count(samples, "POST", "/boom", "500") == 1
    assert not any("/items/1" in dict(labels).get("http_route", "") for _, labels in samples)


def test_the_lifespan_passes_through() -> None:
    metrics = Metrics()
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    with TestClient(app):
        assert events == ["started"]
    assert events == ["started", "stopped"]
    assert not any(
        name.startswith("http_server_request_duration") for name, _ in _samples(metrics.render())
    )
