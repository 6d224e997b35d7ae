"""``/catalogs``: the environments' catalogs and those made through the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, page, server

router = APIRouter(tags=["catalogs"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


@router.post("/catalogs")
def create_catalog(body: wire.NewCatalog, catalogs: Server, token: Caller) -> dict[str, Any]:
    """Create a catalog (admins; audited): its creator owns it."""
    view = catalogs.home_view(token)
    view.create_catalog(
        body.name,
        comment=body.comment,
        properties=body.properties,
        storage_root=body.storage_root,
    )
    return catalogs.catalog_info(view, body.name)


@router.get("/catalogs")
def list_catalogs(
    catalogs: Server,
    token: Caller,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """Catalogs the caller may use (a page of them)."""
    views = catalogs.views(token)
    shown = [(c, v) for c, v in views.items() if v.holds("USE_CATALOG", "catalog", c)]
    part, more = page(shown, max_results, page_token)
    return {"catalogs": [catalogs.catalog_info(v, c) for c, v in part], **more}


@router.get("/catalogs/{name}")
def get_catalog(name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One catalog (USE_CATALOG; audited)."""
    view = catalogs.view(name, token)
    view.require("use_catalog", "catalog", name, client="uc-api")
    return catalogs.catalog_info(view, name)


@router.patch("/catalogs/{name}")
def update_catalog(
    name: str, body: wire.SecurableChange, catalogs: Server, token: Caller
) -> dict[str, Any]:
    """Change a catalog's comment or properties (its owner, MANAGE holders, admins;
    checked before it is looked up; audited)."""
    view = catalogs.view(name, token)
    view.update_catalog(
        name, comment=body.comment, properties=body.properties, new_name=body.new_name
    )
    return catalogs.catalog_info(view, name)


@router.delete("/catalogs/{name}")
def delete_catalog(
    name: str, catalogs: Server, token: Caller, force: bool = False
) -> dict[str, Any]:
    """Drop a catalog made through the API (its owner, MANAGE holders, admins; audited);
    ``force`` drops what it holds too."""
    catalogs.view(name, token).drop_catalog(name, force=force)
    return {}
