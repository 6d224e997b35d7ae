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
    catalog_name: str, schema_name: str, catalogs: Server, who: Caller
) -> dict[str, Any]:
    """Tables of a schema the caller may read or modify."""
    catalogs.securable("schema", f"{catalog_name}.{schema_name}")
    catalogs.use(who, catalog_name, schema_name)
    rows = [
        t
        for t in catalogs.tables(catalog_name)
        if t["schema_name"] == schema_name
        and any(
            catalogs.allowed(who, p, "table", f"{catalog_name}.{schema_name}.{t['name']}")
            for p in ("SELECT", "MODIFY")
        )
    ]
    return {"tables": [catalogs.table_info(t) for t in rows]}


@router.get("/tables/{full_name}")
def get_table(full_name: str, catalogs: Server, who: Caller) -> dict[str, Any]:
    """One table with its columns (USE_CATALOG, USE_SCHEMA and SELECT; audited)."""
    catalogs.securable("table", full_name)
    catalog, schema, name = full_name.split(".")
    record = next(
        (t for t in catalogs.tables(catalog) if t["schema_name"] == schema and t["name"] == name),
        None,
    )
    if record is None:
        raise NotFoundError("table", full_name, message=f"table {full_name} does not exist")
    catalogs.require(who, "read", "table", full_name)
    return catalogs.table_info(record)
