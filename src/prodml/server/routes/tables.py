"""``/tables``: the tables of a schema, one table with its columns, and tables defined
through the API (EXTERNAL by location, MANAGED created empty)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from prodml.errors import NotFoundError, UsageError
from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, page, server
from prodml.workspace import Workspace

router = APIRouter(tags=["tables"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


def _new_table(body: wire.NewTable) -> dict[str, Any]:
    """What ``create_table`` is asked for, from the wire (the gate judges the definition)."""
    if (body.data_source_format or "DELTA").upper() != "DELTA":
        raise UsageError(
            f"data_source_format {body.data_source_format} is not supported: tables are Delta",
            hint="DELTA",
        )
    return {
        "table_type": body.table_type.strip().upper(),
        "columns": wire.arrow_schema(body.columns) if body.columns else None,
        "column_docs": {c.name: c.comment for c in body.columns if c.comment},
        "storage_location": body.storage_location,
        "comment": body.comment or "",
        "properties": body.properties,
    }


@router.post("/tables")
def create_table(body: wire.NewTable, catalogs: Server, token: Caller) -> dict[str, Any]:
    """Define a table (CREATE_TABLE and USE on the way, checked first; audited): its
    creator owns it."""
    full = f"{body.catalog_name}.{body.schema_name}.{body.name}"
    catalogs.securable("table", full)
    asked = _new_table(body)
    view = catalogs.view(body.catalog_name, token)
    view.create_table(full, **asked)
    return catalogs.table_info(view, _record(view, full))


@router.get("/tables")
def list_tables(
    catalog_name: str,
    schema_name: str,
    catalogs: Server,
    token: Caller,
    max_results: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """Tables of a schema the caller may see (USE_CATALOG and USE_SCHEMA on the way, audited;
    then the tables it may BROWSE, SELECT or MODIFY)."""
    full = f"{catalog_name}.{schema_name}"
    catalogs.securable("schema", full)
    view = catalogs.view(catalog_name, token)
    view.require("use_schema", "schema", full, client="uc-api")
    rows = [t for t in view.catalog_entries(catalog_name) if t["schema_name"] == schema_name]
    part, more = page(rows, max_results, page_token)
    return {"tables": [catalogs.table_info(view, t) for t in part], **more}


def _record(view: Workspace, full_name: str) -> dict[str, Any]:
    catalog, schema, name = full_name.split(".")
    record = next(
        (
            t
            for t in view.catalog_entries(catalog)
            if t["schema_name"] == schema and t["name"] == name
        ),
        None,
    )
    if record is None:  # files without a catalog entry: not a table of the catalog
        raise NotFoundError("table", full_name, message=f"table {full_name} does not exist")
    return record


@router.get("/tables/{full_name}")
def get_table(full_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """One table with its columns: its metadata (USE_CATALOG, USE_SCHEMA and BROWSE or
    SELECT), checked before it is looked up, so a missing table and a forbidden one answer
    alike to those who may not see it; audited."""
    catalogs.securable("table", full_name)
    view = catalogs.view(full_name.split(".", maxsplit=1)[0], token)
    try:
        view.table(full_name)  # the check first, then a 404 for those who may see it
    except NotFoundError as exc:
        raise NotFoundError(
            "table", full_name, message=f"table {full_name} does not exist", hint=exc.hint
        ) from None
    return catalogs.table_info(view, _record(view, full_name))


@router.delete("/tables/{full_name}")
def delete_table(full_name: str, catalogs: Server, token: Caller) -> dict[str, Any]:
    """Drop a table defined through the API (its owner, MANAGE holders, admins; checked
    before it is looked up; audited): a MANAGED table's files go, an EXTERNAL one's stay."""
    catalogs.securable("table", full_name)
    catalogs.view(full_name.split(".", maxsplit=1)[0], token).drop_table(full_name)
    return {}
