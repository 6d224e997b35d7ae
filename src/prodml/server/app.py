"""``prodml server``: the Unity Catalog REST subset over every environment's catalog.

``/api/2.1/unity-catalog``: ``catalogs``, ``schemas``, ``tables`` (list and get) and
``permissions/{securable_type}/{full_name}`` (GET, PATCH): enough for the official
``unitycatalog-client`` to browse, and to read and change privileges. Callers authenticate with
a platform token; what they see and change is decided by their grants, and audited. On the
wire privileges are Unity Catalog's (``USE CATALOG``): ``ALL_PRIVILEGES`` goes as what it
stands for, ``MANAGE`` (unknown to the client) is left off.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from prodml.errors import ProdmlError, UsageError, http_status
from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import catalogs, permissions, schemas, tables
from prodml.workspace import Workspace, connect_all

log = logging.getLogger(__name__)

PREFIX = "/api/2.1/unity-catalog"


def build(root: Path, *, no_auth: bool) -> tuple[FastAPI, list[Workspace]]:
    """The app over every environment's catalog, and the workspaces to close afterwards.
    Callers act as the principal of their token; without authentication (loopback only) as
    whoever started the server."""
    workspaces = connect_all(root)
    if not no_auth and not next(iter(workspaces.values())).governance_enabled:
        for ws in workspaces.values():
            ws.close()
        raise UsageError(
            "the catalog server authenticates callers with governance tokens, and governance "
            "is off",
            hint="set governance.enabled: true in prodml.yaml, or turn authentication off for development (loopback only)",
        )
    server = CatalogServer(workspaces, authenticate=not no_auth)
    return create_app(server), list(workspaces.values())


def create_app(server: CatalogServer) -> FastAPI:
    """The FastAPI app of the Unity Catalog subset."""
    app = FastAPI(
        title="prodml catalog server",
        version="1",
        description="The open-source Unity Catalog REST subset (catalogs, schemas, tables, "
        "permissions) over prodml's catalogs and grants.",
    )
    app.state.catalogs = server
    for group in (catalogs, schemas, tables, permissions):
        app.include_router(group.router, prefix=PREFIX)
    app.add_exception_handler(ProdmlError, _prodml_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


def error(status: int, message: str, code: str | None = None) -> Response:
    """Unity Catalog's error JSON."""
    body = {"error_code": code or wire.CODES.get(status, "INTERNAL"), "message": message}
    return Response(orjson.dumps(body), status, media_type="application/json")


async def _prodml_error(_request: Request, exc: Exception) -> Response:
    return error(http_status(exc), str(exc), getattr(exc, "error_code", None))


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's answers (no such route, a method a route does not have) in the API's JSON."""
    assert isinstance(exc, StarletteHTTPException)
    message = {
        404: f"no route {request.url.path}",
        405: f"{request.method} is not supported on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    answer = error(exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        answer.headers[name] = value
    return answer


async def _bad_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = next(iter(exc.errors()), {})
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "the request"
    return error(400, f"{where}: {first.get('msg', 'invalid')}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error(500, f"internal error ({type(exc).__name__}); the server log has the details")
