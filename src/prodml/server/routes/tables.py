"""``/tables``: the tables of a schema, and one table with its columns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.errors import NotFoundError
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, server

router = APIRouter(tags=["tables"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


@router.get("/tables")
def list_tables(
    catalog_name: str, schema_name: str, catalogs: Server, token: Caller
) -> dict[str, Any]:
    """Tables of a schema the caller may see (USE_CATALOG and USE_SCHEMA on the way, audited;
    then the tables it may BROWSE, SELECT or MODIFY)."""
    full = f"{catalog_name}.{schema_name}"
    catalogs.securable("schema", full)
    view = catalogs.view(catalog_name, token)
    view.require("use_schema", "schema", full, client="uc-api")
    rows = [t for t in view.catalog_entries() if t["schema_name"] == schema_name]
    return {"tables": [catalogs.table_info(view, t) for t in rows]}


@router.get("/tables/{full_name}")
def get_table(full_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One table with its columns: its metadata (USE_CATALOG, USE_SCHEMA and BROWSE or
    SELECT), checked before it is looked up, so a missing table and a forbidden one answer
    alike to those who may not see it; audited."""
    catalogs.securable("table", full_name)
    catalog, schema, name = full_name.split(".")
    view = catalogs.view(catalog, token)
    try:
        view.table(full_name)  # the check first, then a 404 for those who may see it
    except NotFoundError as exc:
        raise NotFoundError(
            "table", full_name, message=f"table {full_name} does not exist", hint=exc.hint
        ) from None
    record = next(
        (t for t in view.catalog_entries() if t["schema_name"] == schema and t["name"] == name),
        None,
    )
    if record is None:  # files without a catalog entry: not a table of the catalog
        raise NotFoundError("table", full_name, message=f"table {full_name} does not exist")
    return catalogs.table_info(view, record)
