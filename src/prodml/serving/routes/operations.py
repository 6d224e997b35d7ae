"""Operations: liveness, readiness (ours and MLflow's), version, Prometheus metrics, reload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from prodml.serving.openapi import SECURED
from prodml.serving.routes import allowed, authorize, json_response, state

router = APIRouter()


@router.get("/health", tags=["operations"])
async def health() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@router.get("/ping", tags=["mlflow"])
async def ping(request: Request) -> Response:
    """MLflow's readiness probe: 200 once the models are loaded."""
    server = state(request)
    ok = all(s.endpoint.ready for s in server.products.values())
    return Response(b"\n", status_code=200 if ok else 503, media_type="application/json")


@router.get("/version", tags=["mlflow"])
async def server_version() -> Response:
    """The server's version (MLflow's scoring servers answer theirs)."""
    from importlib.metadata import version as installed

    return Response(installed("prodml").encode(), media_type="text/plain")


@router.get("/ready", tags=["operations"])
async def ready(request: Request) -> Response:
    """Every product's models are loaded (503 with the reason otherwise)."""
    server = state(request)
    states = {name: s.endpoint.info() for name, s in server.products.items()}
    ok = all(s.endpoint.ready for s in server.products.values())
    doc = {
        "ready": ok,
        "products": {
            n: {v["name"]: v["state"] for v in info["variants"]} for n, info in states.items()
        },
    }
    return json_response(doc, 200 if ok else 503)


@router.get("/metrics", tags=["operations"])
async def prometheus(request: Request) -> Response:
    """Prometheus exposition: request durations, predictions, inference-log backlog."""
    server = state(request)
    for name, s in server.products.items():
        writer = s.endpoint.log_writer
        if writer is not None:
            server.metrics.log_pending.labels(name).set(writer.pending_rows)
            server.metrics.log_written.labels(name).set(writer.written_rows)
    return Response(server.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.post("/v1/admin/reload", tags=["operations"], openapi_extra=SECURED)
async def reload(request: Request) -> Response:
    """Check every alias now and swap in changed versions."""
    server = state(request)
    if not any(allowed(s, request) for s in server.products.values()):
        authorize(next(iter(server.products.values())), request)
    changes = {name: await s.endpoint.refresh() for name, s in server.products.items()}
    ready = all(s.endpoint.ready for s in server.products.values())
    return json_response({"changes": changes, "ready": ready})
