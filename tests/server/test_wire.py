"""Unity Catalog's wire formats: privilege names both ways, Arrow → UC column types, request
bodies parsed with errors in the API's words, and the info objects as the official client's
models read them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pytest

from prodml.errors import UsageError
from prodml.governance.privileges import ALL
from prodml.server import wire

RECORD: dict[str, Any] = {
    "catalog": "prod",
    "schema_name": "gold",
    "name": "orders",
    "owner_product": "shop",
    "producer_step": "shop.orders",
    "layer": "gold",
    "description": "Orders.",
    "columns": [
        {"name": "order_id", "type": "int64", "doc": ""},
        {"name": "day", "type": "date32[day]", "doc": "The order day."},
        {"name": "amount", "type": "decimal128(10, 2)", "doc": "Euros."},
    ],
    "partition_by": ["day"],
    "location": "/data/prod/gold/orders",
    "created_at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    "updated_at": None,
}
#: the Arrow types prodml's tables hold whose Unity Catalog text reads back as themselves
ARROWS = [
    pa.bool_(),
    pa.int8(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.float32(),
    pa.float64(),
    pa.string(),
    pa.binary(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("us"),
    pa.decimal128(10, 2),
]


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        (pa.bool_(), "BOOLEAN"),
        (pa.int8(), "BYTE"),
        (pa.int16(), "SHORT"),
        (pa.int32(), "INT"),
        (pa.int64(), "LONG"),
        (pa.uint8(), "SHORT"),  # widened: UC has no unsigned types
        (pa.uint32(), "LONG"),
        (pa.float16(), "FLOAT"),
        (pa.float32(), "FLOAT"),
        (pa.float64(), "DOUBLE"),
        (pa.string(), "STRING"),
        (pa.large_string(), "STRING"),
        (pa.binary(), "BINARY"),
        (pa.date32(), "DATE"),
        (pa.timestamp("us", tz="UTC"), "TIMESTAMP"),
        (pa.timestamp("ms", tz="Europe/Berlin"), "TIMESTAMP"),
        (pa.timestamp("us"), "TIMESTAMP_NTZ"),
        (pa.decimal128(10, 2), "DECIMAL"),
        (pa.list_(pa.int64()), "STRING"),  # anything else is shown as text
    ],
)
def test_column_type_of_real_arrow_types(arrow: pa.DataType, expected: str) -> None:
    assert wire.column_type(str(arrow)) == expected


def test_every_column_type_sent_is_one_the_client_knows() -> None:
    from unitycatalog.client.models import ColumnTypeName

    known = {c.value for c in ColumnTypeName}
    sent = {*wire.COLUMN_TYPES.values(), "TIMESTAMP", "TIMESTAMP_NTZ", "DECIMAL", "STRING"}
    assert sent <= known, sent - known


def test_privileges_both_ways() -> None:
    assert wire.to_prodml(" use catalog ") == "USE_CATALOG"
    assert wire.to_prodml("SELECT") == "SELECT"
    assert wire.to_prodml("all privileges") == "ALL_PRIVILEGES"
    assert wire.to_wire(["USE_SCHEMA", "MANAGE", "SELECT", "USE_CATALOG"]) == [
        "SELECT",
        "USE CATALOG",
        "USE SCHEMA",
    ]
    assert wire.to_wire(["MANAGE"]) == []
    assert wire.to_prodml(wire.to_wire(["CREATE_TABLE"])[0]) == "CREATE_TABLE"


def test_what_all_privileges_stands_for_is_known_to_the_client() -> None:
    from unitycatalog.client.models import Privilege

    known = {p.value for p in Privilege}
    sent = wire.to_wire(sorted(p.value for p in ALL))
    assert len(sent) == len(ALL - {"BROWSE"}) and set(sent) <= known, set(sent) - known
    assert wire.to_wire(["BROWSE", "SELECT"]) == ["SELECT"]  # unknown to the client's enum


def test_parse_a_permissions_body_ignoring_unknown_fields() -> None:
    body = b'{"changes": [{"principal": "eve", "add": ["SELECT"], "extra": 1}], "x": true}'
    parsed = wire.parse(wire.UpdatePermissions, body)
    assert len(parsed.changes) == 1
    change = parsed.changes[0]
    assert (change.principal, change.add, change.remove) == ("eve", ["SELECT"], [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "the body is not JSON: "),
        (b"", "the body is not JSON: "),
        (b'{"changes": [{"principal": "eve", "add": "SELECT"}]}', "add must be a list of"),
        (b'{"changes": [{"principal": "eve", "remove": [1]}]}', "remove must be a list of"),
        (b'{"changes": [{"add": ["SELECT"]}]}', "each change needs a principal"),
        (b'{"changes": 1}', 'the body must be {"changes": [{principal, add, remove}]}'),
        (b"[]", 'the body must be {"changes": [{principal, add, remove}]}'),
    ],
)
def test_bad_permission_bodies_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(UsageError) as err:
        wire.parse(wire.UpdatePermissions, body)
    assert str(err.value).startswith(message), str(err.value)


def test_describe_invalid_without_errors_gives_the_expected_shape() -> None:
    assert wire.describe_invalid([]) == 'the body must be {"changes": [{principal, add, remove}]}'


def test_ids_are_stable_hex_and_differ_by_name() -> None:
    first = wire.make_id("prod", "gold", "orders")
    assert first == wire.make_id("prod", "gold", "orders")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != wire.make_id("prod", "gold", "order")
    assert first != wire.make_id("dev", "gold", "orders")


def test_item5_columns_carry_uc_type_text_position_comment_and_partition_index() -> None:
    cols = wire.columns(RECORD)
    assert [(c["name"], c["type_name"], c["type_text"], c["position"]) for c in cols] == [
        ("order_id", "LONG", "bigint", 0),
        ("day", "DATE", "date", 1),
        ("amount", "DECIMAL", "decimal(10,2)", 2),
    ]
    assert [(c["type_precision"], c["type_scale"]) for c in cols][2] == (10, 2)
    assert [c["comment"] for c in cols] == [None, "The order day.", "Euros."]
    assert [c["partition_index"] for c in cols] == [None, 0, None]
    assert orjson.loads(cols[0]["type_json"]) == {
        "name": "order_id",
        "type": "long",
        "nullable": True,
        "metadata": {},
    }
    assert wire.columns({"columns": None, "partition_by": None}) == []


@pytest.mark.parametrize(
    ("column", "arrow"),
    [
        ({"type_name": "LONG"}, pa.int64()),
        ({"type_text": "bigint"}, pa.int64()),
        ({"type_name": "int"}, pa.int32()),
        ({"type_text": "integer"}, pa.int32()),
        ({"type_name": "STRING", "nullable": False}, pa.string()),
        ({"type_name": "TIMESTAMP"}, pa.timestamp("us", tz="UTC")),
        ({"type_name": "TIMESTAMP_NTZ"}, pa.timestamp("us")),
        ({"type_name": "DECIMAL", "type_precision": 12, "type_scale": 3}, pa.decimal128(12, 3)),
        ({"type_text": "decimal(10,2)"}, pa.decimal128(10, 2)),
    ],
)
def test_item5_new_columns_become_arrow_types(column: dict[str, Any], arrow: pa.DataType) -> None:
    schema = wire.arrow_schema([wire.NewColumn(name="c", **column)])
    assert schema.field("c").type == arrow
    assert schema.field("c").nullable == column.get("nullable", True)


@pytest.mark.parametrize(
    ("column", "needle"),
    [
        ({"type_name": "ARRAY", "type_text": "array<int>"}, "column 'c': type ARRAY is not"),
        ({"type_text": "struct<a:int>"}, "column 'c': type struct<a:int> is not supported"),
        ({}, "column 'c': type none is not supported"),
        ({"type_name": "DECIMAL"}, "DECIMAL needs type_precision (1-38)"),
        ({"type_name": "DECIMAL", "type_precision": 50, "type_scale": 1}, "needs type_precision"),
    ],
)
def test_item5_unsupported_new_column_types_are_named(column: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError) as err:
        wire.arrow_schema([wire.NewColumn(name="c", **column)])
    assert needle in str(err.value)


def test_item5_every_type_text_sent_reads_back_as_its_type() -> None:
    record = {"columns": [{"name": f"c{i}", "type": str(a)} for i, a in enumerate(ARROWS)]}
    sent = wire.columns(record)
    back = wire.arrow_schema(
        [wire.NewColumn(name=c["name"], type_text=c["type_text"]) for c in sent]
    )
    assert [str(f.type) for f in back] == [str(a) for a in ARROWS]


def test_table_info() -> None:
    info = wire.table_info(RECORD, "ana", "file:///data/prod/gold/orders")
    assert info["name"] == "orders" and info["catalog_name"] == "prod"
    assert info["schema_name"] == "gold" and info["owner"] == "ana"
    assert (info["table_type"], info["data_source_format"]) == ("MANAGED", "DELTA")
    assert info["storage_location"] == "file:///data/prod/gold/orders"
    assert info["comment"] == "Orders."
    assert info["created_at"] == 1767323045678 and info["updated_at"] is None
    assert info["table_id"] == wire.make_id("prod", "gold", "orders")
    assert info["properties"] == {
        "prodml.owner_product": "shop",
        "prodml.producer_step": "shop.orders",
        "prodml.layer": "gold",
    }
    bare = wire.table_info({**RECORD, "description": "", "producer_step": None}, None, "x")
    assert bare["comment"] is None and "prodml.producer_step" not in bare["properties"]


def test_schema_and_catalog_info() -> None:
    assert wire.schema_info("prod", "gold", None, {}) == {
        "name": "gold",
        "catalog_name": "prod",
        "full_name": "prod.gold",
        "comment": "the gold layer",
        "owner": None,
        "created_at": None,
        "created_by": None,
        "updated_at": None,
        "updated_by": None,
        "schema_id": wire.make_id("prod", "gold"),
        "properties": {},
    }
    made = {"comment": "Ours.", "properties": {"k": "v"}, "created_by": "ops"}
    made |= {"created_at": RECORD["created_at"], "storage_root": "file:///data/sales"}
    assert wire.catalog_info("sales", "ops", made) == {
        "name": "sales",
        "comment": "Ours.",
        "properties": {"k": "v"},
        "owner": "ops",
        "created_at": 1767323045678,
        "created_by": "ops",
        "updated_at": None,
        "updated_by": None,
        "storage_root": "file:///data/sales",
        "storage_location": "file:///data/sales",
        "id": wire.make_id("sales"),
    }


def test_the_clients_models_read_the_info_objects() -> None:
    from unitycatalog.client.models import CatalogInfo, SchemaInfo, TableInfo

    table = TableInfo.from_dict(wire.table_info(RECORD, "ana", "file:///data/x"))
    assert table is not None and table.columns is not None
    assert [c.type_name.value for c in table.columns if c.type_name] == ["LONG", "DATE", "DECIMAL"]
    assert table.columns[1].partition_index == 0
    schema = SchemaInfo.from_dict(wire.schema_info("prod", "gold", "ops", {}))
    assert schema is not None and schema.full_name == "prod.gold"
    info = wire.catalog_info("prod", None, {"properties": {"prodml.env": "prod"}})
    catalog = CatalogInfo.from_dict(info)
    assert catalog is not None and catalog.properties == {"prodml.env": "prod"}


def test_securable_types_and_error_codes() -> None:
    assert wire.TYPES["registered_model"] == "model"
    assert set(wire.TYPES) == {"catalog", "schema", "table", "registered_model"}
    assert wire.CODES[404] == "NOT_FOUND" and wire.CODES[400] == "INVALID_ARGUMENT"
