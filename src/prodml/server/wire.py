"""Unity Catalog's wire formats: privilege names, column types, and the info objects of
catalogs, schemas and tables (as the official client's models expect them)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prodml.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

#: Unity Catalog's securable types → prodml's
TYPES = {"catalog": "catalog", "schema": "schema", "table": "table", "registered_model": "model"}
#: the error code of each HTTP status (the open-source server's ``ErrorCode``; an error may
#: name a more precise one: ``error_code``)
CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ALREADY_EXISTS",
    413: "RESOURCE_EXHAUSTED",
    415: "INVALID_ARGUMENT",
    503: "UNAVAILABLE",
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


#: Unity Catalog type names → their SQL text (``type_text``) and Spark JSON name (``type_json``)
TYPE_TEXT = {
    "BOOLEAN": ("boolean", "boolean"),
    "BYTE": ("tinyint", "byte"),
    "SHORT": ("smallint", "short"),
    "INT": ("int", "integer"),
    "LONG": ("bigint", "long"),
    "FLOAT": ("float", "float"),
    "DOUBLE": ("double", "double"),
    "STRING": ("string", "string"),
    "BINARY": ("binary", "binary"),
    "DATE": ("date", "date"),
    "TIMESTAMP": ("timestamp", "timestamp"),
    "TIMESTAMP_NTZ": ("timestamp_ntz", "timestamp_ntz"),
}
_DECIMAL = re.compile(r"^decimal(?:128|256)?\((\d+),\s*(-?\d+)\)$")


def _decimal(text: str) -> tuple[int, int] | None:
    found = _DECIMAL.match(text.strip().lower())
    return (int(found[1]), int(found[2])) if found else None


def columns(
    record: Mapping[str, Any], controls: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """ColumnInfo of a catalog record's columns (Unity Catalog's type names and text); a
    column's declared tags and mask (``controls``) go in its ``type_json`` metadata, as a
    Spark field's metadata, and its comment says it is masked."""
    controls = controls or {}
    partition = list(record.get("partition_by") or [])
    out = []
    for i, column in enumerate(record.get("columns") or []):
        arrow = str(column.get("type", ""))
        type_name = column_type(arrow)
        precision_scale = _decimal(arrow) if type_name == "DECIMAL" else None
        if precision_scale:
            text = spark = "decimal({},{})".format(*precision_scale)
        else:
            text, spark = TYPE_TEXT[type_name]
        control = controls.get(column["name"]) or {}
        metadata = {
            k: v for k, v in (("tags", control.get("tags")), ("mask", control.get("mask"))) if v
        }
        comment = column.get("doc") or None
        if control.get("mask"):
            note = f"masked ({control['mask']}) unless exempt"
            comment = f"{comment} [{note}]" if comment else f"[{note}]"
        out.append(
            {
                "name": column["name"],
                "type_text": text,
                "type_name": type_name,
                "type_json": orjson.dumps(
                    {"name": column["name"], "type": spark, "nullable": True, "metadata": metadata}
                ).decode(),
                "type_precision": precision_scale[0] if precision_scale else None,
                "type_scale": precision_scale[1] if precision_scale else None,
                "position": i,
                "comment": comment,
                "nullable": True,
                "partition_index": partition.index(column["name"])
                if column["name"] in partition
                else None,
            }
        )
    return out


class NewColumn(BaseModel):
    """A column of ``POST /tables`` (``ColumnInfo``)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    type_name: str | None = None
    type_text: str | None = None
    type_precision: int | None = None
    type_scale: int | None = None
    nullable: bool = True
    comment: str | None = None
    position: int | None = None


def arrow_schema(new: list[NewColumn]) -> pa.Schema:
    """The Arrow schema of a new table's columns (in ``position`` order); a ``UsageError``
    naming the column whose type prodml cannot store."""
    import pyarrow as pa

    by_text = {text: name for name, (text, _) in TYPE_TEXT.items()} | {
        "integer": "INT",
        "long": "LONG",
    }
    simple = {
        "BOOLEAN": pa.bool_(),
        "BYTE": pa.int8(),
        "SHORT": pa.int16(),
        "INT": pa.int32(),
        "LONG": pa.int64(),
        "FLOAT": pa.float32(),
        "DOUBLE": pa.float64(),
        "STRING": pa.string(),
        "BINARY": pa.binary(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "TIMESTAMP_NTZ": pa.timestamp("us"),
    }
    fields = []
    for column in sorted(new, key=lambda c: (c.position is None, c.position or 0)):
        text = (column.type_text or "").strip().lower()
        name = (column.type_name or "").strip().upper() or by_text.get(text, "")
        if not name and _decimal(text):
            name = "DECIMAL"
        if name == "DECIMAL":
            precision, scale = (column.type_precision, column.type_scale)
            if precision is None:
                precision, scale = _decimal(text) or (None, None)
            if precision is None or not 1 <= precision <= 38 or not 0 <= (scale or 0) <= precision:
                raise UsageError(
                    f"column {column.name!r}: DECIMAL needs type_precision (1-38) and type_scale"
                )
            arrow = pa.decimal128(precision, scale or 0)
        elif name in simple:
            arrow = simple[name]
        else:
            shown = column.type_name or column.type_text or "none"
            raise UsageError(
                f"column {column.name!r}: type {shown} is not supported",
                hint=f"types: {', '.join([*simple, 'DECIMAL'])}",
            )
        fields.append(pa.field(column.name, arrow, nullable=column.nullable))
    return pa.schema(fields)


def table_info(
    record: Mapping[str, Any],
    owner: str | None,
    location: str,
    controls: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """TableInfo of a catalog record (``location``: where its files are, as a URI;
    ``controls``: its columns' declared tags and masks)."""
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
        "table_type": record.get("table_type") or "MANAGED",
        "data_source_format": "DELTA",
        "columns": columns(record, controls),
        "storage_location": location,
        "comment": record.get("description") or None,
        "properties": {**(record.get("properties") or {}), **properties},
        "owner": owner,
        "created_at": _ms(record.get("created_at")),
        "created_by": record.get("created_by") or record.get("owner_product"),
        "updated_at": _ms(record.get("updated_at")),
        "table_id": make_id(catalog, schema, name),
    }


def schema_info(
    catalog: str, schema: str, owner: str | None, record: Mapping[str, Any]
) -> dict[str, Any]:
    """SchemaInfo (``record``: what was recorded of it; a layer's tables' first time)."""
    return {
        "name": schema,
        "catalog_name": catalog,
        "full_name": f"{catalog}.{schema}",
        "comment": record.get("comment") or f"the {schema} layer",
        "owner": owner,
        "created_at": _ms(record.get("created_at")),
        "created_by": record.get("created_by"),
        "updated_at": _ms(record.get("updated_at")),
        "updated_by": record.get("updated_by"),
        "schema_id": make_id(catalog, schema),
        "properties": dict(record.get("properties") or {}),
    }


def catalog_info(name: str, owner: str | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """CatalogInfo (``record``: a made catalog's, or what stands for an environment's)."""
    return {
        "name": name,
        "comment": record.get("comment"),
        "properties": dict(record.get("properties") or {}),
        "owner": owner,
        "created_at": _ms(record.get("created_at")),
        "created_by": record.get("created_by"),
        "updated_at": _ms(record.get("updated_at")),
        "updated_by": record.get("updated_by"),
        "storage_root": record.get("storage_root"),
        "storage_location": record.get("storage_root"),
        "id": make_id(name),
    }


class NewCatalog(BaseModel):
    """The body of ``POST /catalogs`` (``CreateCatalog``)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    comment: str | None = None
    properties: dict[str, str] | None = None
    storage_root: str | None = None


class SecurableChange(BaseModel):
    """The body of ``PATCH /catalogs/{name}`` and ``/schemas/{full_name}``."""

    model_config = ConfigDict(extra="ignore")

    comment: str | None = None
    properties: dict[str, str] | None = None
    new_name: str | None = None


class NewSchema(BaseModel):
    """The body of ``POST /schemas`` (``CreateSchema``)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    catalog_name: str
    comment: str | None = None
    properties: dict[str, str] | None = None
    storage_root: str | None = None


class NewTable(BaseModel):
    """The body of ``POST /tables`` (``CreateTable``)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    catalog_name: str
    schema_name: str
    table_type: str
    data_source_format: str | None = None
    columns: list[NewColumn] = Field(default_factory=list)
    storage_location: str | None = None
    comment: str | None = None
    properties: dict[str, str] | None = None
