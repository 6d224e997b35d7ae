"""The catalog server's routes, one module per group of the Unity Catalog API."""

from __future__ import annotations

from fastapi import Request

from prodml.server.catalogs import CatalogServer


def server(request: Request) -> CatalogServer:
    """The app's catalog server (a FastAPI dependency)."""
    found: CatalogServer = request.app.state.catalogs
    return found


def caller(request: Request) -> str | None:
    """The authenticated caller's token (a FastAPI dependency; None without
    authentication): routes answer through workspaces acting as its principal."""
    return server(request).token(request)
