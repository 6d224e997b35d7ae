"""Unity Catalog's wire formats: privilege names, column types, and the info objects of
catalogs, schemas and tables (as the official client's models expect them)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prodml.errors import UsageError

#: Unity Catalog's securable types → prodml's
TYPES = {"catalog": "catalog", "schema": "schema", "table": "table", "registered_model": "model"}
#: the error code of each HTTP status
CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
}
#: Arrow type names → Unity Catalog column type names
COLUMN_TYPES = {
    "bool": "BOOLEAN",
    "int8": "BYTE",
    "int16": "SHORT",
    "int32": "INT",
    "int64": "LONG",
    "uint8": "SHORT",
    "uint16": "INT",
    "uint32": "LONG",
    "uint64": "LONG",
    "float": "FLOAT",
    "halffloat": "FLOAT",
    "double": "DOUBLE",
    "string": "STRING",
    "large_string": "STRING",
    "binary": "BINARY",
    "date32[day]": "DATE",
}


class Change(BaseModel):
    """One principal's privileges to add and remove (``PermissionsChange``)."""

    model_config = ConfigDict(extra="ignore")

    principal: str
    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class UpdatePermissions(BaseModel):
    """The body of ``PATCH /permissions/...``."""

    model_config = ConfigDict(extra="ignore")

    changes: list[Change]


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: bytes) -> M:
    """A request body as ``model`` (whatever its content type), or a ``UsageError`` that
    says what is wrong in the API's words."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise UsageError(describe_invalid(exc.errors())) from None


def describe_invalid(errors: Any) -> str:
    """What is wrong with a request body (from pydantic's errors)."""
    first: dict[str, Any] = next(iter(errors), {})
    loc = [str(p) for p in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return f"the body is not JSON: {first.get('ctx', {}).get('error', first.get('msg'))}"
    for field in ("add", "remove"):
        if field in loc:
            return f"{field} must be a list of privilege names"
    if "principal" in loc:
        return "each change needs a principal, and add and/or remove lists"
    return 'the body must be {"changes": [{principal, add, remove}]}'


def to_prodml(privilege: str) -> str:
    """``USE CATALOG`` → ``USE_CATALOG``."""
    return privilege.strip().upper().replace(" ", "_")


#: prodml's privileges the open-source client's enum does not know: left off the wire
UNKNOWN_TO_CLIENT = frozenset({"MANAGE", "BROWSE"})


def to_wire(privileges: list[str]) -> list[str]:
    """Privileges as Unity Catalog writes them; ``MANAGE`` and ``BROWSE`` (which the
    client's enum does not know) are left off, never sent raw."""
    return sorted(p.replace("_", " ") for p in privileges if p not in UNKNOWN_TO_CLIENT)


def make_id(*parts: str) -> str:
    """A stable id for a catalog, schema or table."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


def _ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def column_type(arrow: str) -> str:
    """The Unity Catalog type name of an Arrow type."""
    if arrow in COLUMN_TYPES:
        return COLUMN_TYPES[arrow]
    if arrow.startswith("timestamp"):
        return "TIMESTAMP" if "tz=" in arrow else "TIMESTAMP_NTZ"
    return "DECIMAL" if arrow.startswith("decimal") else "STRING"


def columns(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """ColumnInfo of a catalog record's columns (their Arrow types as text)."""
    partition = list(record.get("partition_by") or [])
    out = []
    for i, column in enumerate(record.get("columns") or []):
        arrow = str(column.get("type", ""))
        type_name = column_type(arrow)
        out.append(
            {
                "name": column["name"],
                "type_text": arrow,
                "type_name": type_name,
                "type_json": orjson.dumps(
                    {"name": column["name"], "type": type_name.lower(), "nullable": True}
                ).decode(),
                "position": i,
                "comment": column.get("doc") or None,
                "nullable": True,
                "partition_index": partition.index(column["name"])
                if column["name"] in partition
                else None,
            }
        )
    return out


def table_info(record: Mapping[str, Any], owner: str | None) -> dict[str, Any]:
    """TableInfo of a catalog record."""
    catalog, schema, name = record["catalog"], record["schema_name"], record["name"]
    properties = {
        k: str(v)
        for k, v in (
            ("prodml.owner_product", record.get("owner_product")),
            ("prodml.producer_step", record.get("producer_step")),
            ("prodml.layer", record.get("layer")),
        )
        if v
    }
    return {
        "name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "columns": columns(record),
        "storage_location": record.get("location"),
        "comment": record.get("description") or None,
        "properties": properties,
        "owner": owner,
        "created_at": _ms(record.get("created_at")),
        "updated_at": _ms(record.get("updated_at")),
        "table_id": make_id(catalog, schema, name),
    }


def schema_info(catalog: str, schema: str, owner: str | None) -> dict[str, Any]:
    """SchemaInfo."""
    return {
        "name": schema,
        "catalog_name": catalog,
        "full_name": f"{catalog}.{schema}",
        "comment": f"the {schema} layer",
        "owner": owner,
        "schema_id": make_id(catalog, schema),
        "properties": {},
    }


def catalog_info(name: str, env: str, platform: str, owner: str | None) -> dict[str, Any]:
    """CatalogInfo."""
    return {
        "name": name,
        "comment": f"environment {env} of {platform}",
        "properties": {"prodml.env": env},
        "owner": owner,
        "id": make_id(name),
    }
