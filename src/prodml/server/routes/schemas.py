"""``/schemas``: the schemas (layers and areas) of a catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.errors import NotFoundError, UsageError
from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, page, server

router = APIRouter(tags=["schemas"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


@router.post("/schemas")
def create_schema(body: wire.NewSchema, catalogs: Server, token: Caller) -> dict[str, Any]:
    """Create a schema (CREATE_SCHEMA and USE_CATALOG on the catalog; audited): its creator
    owns it."""
    if body.storage_root:
        raise UsageError(
            "storage_root is not supported: a schema's managed tables live in its catalog's "
            "storage",
            hint="leave storage_root out",
        )
    view = catalogs.view(body.catalog_name, token)
    view.create_schema(
        body.catalog_name, body.name, comment=body.comment, properties=body.properties
    )
    return catalogs.schema_info(view, body.catalog_name, body.name)


@router.get("/schemas")
def list_schemas(
    catalog_name: str,
    catalogs: Server,
    token: Caller,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """Schemas of a catalog the caller may use (USE_CATALOG on it; audited; a page)."""
    view = catalogs.view(catalog_name, token)
    view.require("use_catalog", "catalog", catalog_name, client="uc-api")
    names, more = page(view.schemas(catalog_name), max_results, page_token)
    return {"schemas": [catalogs.schema_info(view, catalog_name, s) for s in names], **more}


def _split(catalogs: CatalogServer, full_name: str) -> tuple[str, str]:
    catalogs.securable("schema", full_name)
    catalog, schema = full_name.split(".")
    return catalog, schema


@router.get("/schemas/{full_name}")
def get_schema(full_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One schema (USE_CATALOG and USE_SCHEMA, checked before it is looked up; audited)."""
    catalog, schema = _split(catalogs, full_name)
    view = catalogs.view(catalog, token)
    view.require("use_schema", "schema", full_name, client="uc-api")
    if view.schema_record(full_name) is None:
        raise NotFoundError("schema", full_name, message=f"schema {full_name} does not exist")
    return catalogs.schema_info(view, catalog, schema)


@router.patch("/schemas/{full_name}")
def update_schema(
    full_name: str, body: wire.SecurableChange, catalogs: Server, token: Caller
) -> dict[str, Any]:
    """Change a schema's comment or properties (its owner, MANAGE holders, admins; checked
    before it is looked up; audited)."""
    catalog, schema = _split(catalogs, full_name)
    view = catalogs.view(catalog, token)
    view.update_schema(
        full_name, comment=body.comment, properties=body.properties, new_name=body.new_name
    )
    return catalogs.schema_info(view, catalog, schema)


@router.delete("/schemas/{full_name}")
def delete_schema(
    full_name: str, catalogs: Server, token: Caller, force: bool = False
) -> dict[str, Any]:
    """Drop a schema (its owner, MANAGE holders, admins; audited); ``force`` drops the
    tables defined in it too."""
    catalog, _ = _split(catalogs, full_name)
    catalogs.view(catalog, token).drop_schema(full_name, force=force)
    return {}
