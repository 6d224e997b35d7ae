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
def list_schemas(catalog_name: str, catalogs: Server, who: Caller) -> dict[str, Any]:
    """Schemas of a catalog the caller may use."""
    catalogs.workspace(catalog_name)
    catalogs.use(who, catalog_name)
    names = [
        s
        for s in catalogs.schemas(catalog_name)
        if catalogs.allowed(who, "USE_SCHEMA", "schema", f"{catalog_name}.{s}")
    ]
    return {"schemas": [catalogs.schema_info(catalog_name, s) for s in names]}


@router.get("/schemas/{full_name}")
def get_schema(full_name: str, catalogs: Server, who: Caller) -> dict[str, Any]:
    """One schema (USE_CATALOG and USE_SCHEMA)."""
    catalogs.securable("schema", full_name)
    catalog, schema = full_name.split(".")
    if schema not in catalogs.schemas(catalog):
        raise NotFoundError("schema", full_name, message=f"schema {full_name} does not exist")
    catalogs.use(who, catalog, schema)
    return catalogs.schema_info(catalog, schema)
