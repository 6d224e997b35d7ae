"""Prometheus metrics with OpenTelemetry HTTP names, and the ASGI middleware that records them."""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# set by ``prodml serve --workers N`` (N > 1) before the workers start: metrics live in files
# there and /metrics sums them, whichever worker answers
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# OpenTelemetry's http.server.request.duration buckets (seconds)
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """The server's metrics (one registry per app, so tests can run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
            ["http_request_method", "http_route", "http_response_status_code"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "prodml_predictions",
            "Records scored, per product, variant and model version.",
            ["product", "variant", "model_version", "shadow"],
            registry=self.registry,
        )
        self.log_pending = Gauge(
            "prodml_inference_log_pending_rows",
            "Inference-log rows queued and not yet written.",
            ["product"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.log_written = Gauge(
            "prodml_inference_log_written_rows",
            "Inference-log rows written since the server started.",
            ["product"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def scored(self, product: str, variant: str, version: int, shadow: bool, n: int) -> None:
        """Count ``n`` records scored."""
        self.predictions.labels(product, variant, str(version), str(shadow).lower()).inc(n)

    def render(self) -> bytes:
        """The exposition text (summed over worker processes with ``--workers`` > 1)."""
        if os.environ.get(MULTIPROC_DIR):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Observes every HTTP request's duration by method, route template and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.duration.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - start
            )
