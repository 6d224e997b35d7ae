"""``/schemas``: the layers (schemas) of a catalog that hold tables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.errors import NotFoundError
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, server

router = APIRouter(tags=["schemas"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


@router.get("/schemas")
def list_schemas(catalog_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """Schemas of a catalog the caller may use (USE_CATALOG on it; audited)."""
    view = catalogs.view(catalog_name, token)
    view.require("use_catalog", "catalog", catalog_name, client="uc-api")
    return {"schemas": [catalogs.schema_info(view, s) for s in view.schemas()]}


@router.get("/schemas/{full_name}")
def get_schema(full_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One schema (USE_CATALOG and USE_SCHEMA, checked before it is looked up; audited)."""
    catalogs.securable("schema", full_name)
    catalog, schema = full_name.split(".")
    view = catalogs.view(catalog, token)
    view.require("use_schema", "schema", full_name, client="uc-api")
    if schema not in view.schemas():
        raise NotFoundError("schema", full_name, message=f"schema {full_name} does not exist")
    return catalogs.schema_info(view, schema)
