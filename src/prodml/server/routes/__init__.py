"""The catalog server's routes, one module per group of the Unity Catalog API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import Request

from prodml.errors import UsageError
from prodml.server.catalogs import CatalogServer

T = TypeVar("T")


def server(request: Request) -> CatalogServer:
    """The app's catalog server (a FastAPI dependency)."""
    found: CatalogServer = request.app.state.catalogs
    return found


def caller(request: Request) -> str | None:
    """The authenticated caller's token (a FastAPI dependency; None without
    authentication): routes answer through workspaces acting as its principal."""
    return server(request).token(request)


def page(
    items: Sequence[T], max_results: int | None, page_token: str | None
) -> tuple[list[T], dict[str, Any]]:
    """One page of a listing, as Unity Catalog pages: ``max_results`` (0 or none: all; at
    most 1000) items from ``page_token`` on, and the token of the next page if there is one."""
    if max_results is not None and not 0 <= max_results <= 1000:
        raise UsageError(f"max_results must be 0 to 1000, not {max_results}")
    start = 0
    if page_token:
        if not page_token.isdigit() or int(page_token) > len(items):
            raise UsageError(f"page_token {page_token!r} is not one this server gave")
        start = int(page_token)
    end = start + max_results if max_results else len(items)
    more = {"next_page_token": str(end)} if end < len(items) else {}
    return list(items[start:end]), more
