"""``/catalogs``: the environments' catalogs the caller may use."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, server

router = APIRouter(tags=["catalogs"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


@router.get("/catalogs")
def list_catalogs(catalogs: Server, token: Caller) -> dict[str, Any]:
    """Catalogs the caller may use."""
    views = catalogs.views(token)
    shown = [v for c, v in views.items() if v.holds("USE_CATALOG", "catalog", c)]
    return {"catalogs": [catalogs.catalog_info(v) for v in shown]}


@router.get("/catalogs/{name}")
def get_catalog(name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One catalog (USE_CATALOG; audited)."""
    view = catalogs.view(name, token)
    view.require("use_catalog", "catalog", name, client="uc-api")
    return catalogs.catalog_info(view)
