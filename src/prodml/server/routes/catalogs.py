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
def list_catalogs(catalogs: Server, who: Caller) -> dict[str, Any]:
    """Catalogs the caller may use."""
    names = [c for c in catalogs.workspaces if catalogs.allowed(who, "USE_CATALOG", "catalog", c)]
    return {"catalogs": [catalogs.catalog_info(c) for c in names]}


@router.get("/catalogs/{name}")
def get_catalog(name: str, catalogs: Server, who: Caller) -> dict[str, Any]:
    """One catalog (USE_CATALOG)."""
    catalogs.workspace(name)
    catalogs.use(who, name)
    return catalogs.catalog_info(name)
