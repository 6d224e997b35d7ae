"""The HTTP server: FastAPI routes over the served endpoints (one module per route group in
``routes``), with auth, metrics, one error mapping, and a lifespan that loads the models,
watches their aliases, and flushes the logs on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from prodml.errors import ProdmlError, http_status
from prodml.serving.build import Served
from prodml.serving.metrics import Metrics, MetricsMiddleware
from prodml.serving.routes import FeatureReader, ServerState, abtest, operations, products
from prodml.serving.routes import features as features_routes

log = logging.getLogger(__name__)

#: MLflow's error codes, by HTTP status
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
}
#: headers an answer of a status carries
_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}


def create_app(
    served: Mapping[str, Served],
    *,
    reload_seconds: float | None = None,
    on_shutdown: Callable[[], None] | None = None,
    features: FeatureReader | None = None,
) -> FastAPI:
    """The server for ``served`` products (``/invocations`` exists when there is one;
    ``/v1/features/online`` when a feature store is given)."""
    server = ServerState(dict(served), Metrics(), features)
    for s in server.products.values():
        s.endpoint.on_scored = server.metrics.scored
    app = FastAPI(
        title="prodml serving",
        version="1",
        lifespan=_lifespan(server, reload_seconds, on_shutdown),
        description="Real-time endpoints of prodml products: the product's own API and "
        "MLflow's scoring protocol.",
    )
    app.state.serving = server
    app.add_middleware(MetricsMiddleware, metrics=server.metrics)
    app.include_router(operations.router)
    app.include_router(products.router)
    if len(server.products) == 1:
        app.include_router(products.single)
    app.include_router(abtest.router)
    if features is not None:
        app.include_router(features_routes.router)
    app.add_exception_handler(ProdmlError, _prodml_error)
    app.add_exception_handler(Exception, _prodml_error)  # our bugs too: a JSON 500, logged
    _bearer_scheme(app)
    return app


def _lifespan(
    server: ServerState, reload_seconds: float | None, on_shutdown: Callable[[], None] | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    endpoints = [s.endpoint for s in server.products.values()]
    poll = reload_seconds or min(e.config.reload_seconds for e in endpoints)

    async def watch() -> None:
        while True:
            await asyncio.sleep(poll)
            for endpoint in endpoints:
                with contextlib.suppress(Exception):
                    await endpoint.refresh()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = [asyncio.create_task(e.refresh()) for e in endpoints]
        watcher = asyncio.create_task(watch())
        try:
            yield
        finally:
            watcher.cancel()
            for task in loading:
                task.cancel()
            for endpoint in endpoints:
                await endpoint.close()
            await _flush_logs(server)
            if on_shutdown is not None:
                on_shutdown()

    return lifespan


async def _flush_logs(server: ServerState) -> None:
    """The logs last: every answered request is queued by now."""
    for s in server.products.values():
        if s.endpoint.log_writer is not None:
            await asyncio.to_thread(s.endpoint.log_writer.close)
        if s.outcomes is not None:
            await asyncio.to_thread(s.outcomes.writer.close)


async def _prodml_error(_request: Request, exc: Exception) -> Response:
    """Any error, answered with its kind's status as MLflow's error body (500 for what is not
    a prodml error: a bug, logged with its traceback)."""
    status = http_status(exc)
    if status >= 500 and not isinstance(exc, ProdmlError):
        log.error("request failed", exc_info=exc)
    body = {"error_code": CODES.get(status, "ERROR"), "message": str(exc)}
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers=_HEADERS.get(status),
    )


def _bearer_scheme(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        doc = original()
        doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
