"""``GET /tables`` and ``GET /tables/{full_name}``: a schema's tables the caller may read or
modify, one table with its columns (SELECT, audited); bad names 400, unknown ones 404; a token
required."""

from __future__ import annotations

import deltalake
import pyarrow as pa
import pytest
from tests.server.routes.conftest import UC, problem

import prodml


def _names(uc: UC, who: str, schema: str) -> list[str]:
    r = uc.get("/tables", who, catalog_name="prod", schema_name=schema)
    assert r.status_code == 200, r.text
    return sorted(t["name"] for t in r.json()["tables"])


def test_list_tables_the_caller_may_read_or_modify(uc: UC) -> None:
    assert _names(uc, "ops", "gold") == ["customers", "orders"]
    assert _names(uc, "ana", "gold") == ["orders"]  # SELECT through ALL_PRIVILEGES
    assert _names(uc, "bob", "gold") == ["customers"]  # MODIFY is enough to list
    assert _names(uc, "ops", "silver") == ["orders_raw"]


def test_listing_needs_use_catalog_and_use_schema(uc: UC) -> None:
    r = uc.get("/tables", "bob", catalog_name="prod", schema_name="silver")
    assert "bob may not use schema prod.silver: it lacks USE_SCHEMA on schema prod.silver" in (
        problem(r, 403, "PERMISSION_DENIED")
    )
    r = uc.get("/tables", "eve", catalog_name="prod", schema_name="gold")
    assert "it lacks USE_CATALOG on catalog prod" in problem(r, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"catalog_name": "prod"}, 400, "schema_name: Field required"),
        ({"schema_name": "gold"}, 400, "catalog_name: Field required"),
        ({"catalog_name": "prod", "schema_name": "Gold"}, 400, "is not CATALOG.SCHEMA"),
        ({"catalog_name": "nowhere", "schema_name": "gold"}, 404, "catalog 'nowhere'"),
    ],
)
def test_bad_listing_parameters(uc: UC, params: dict[str, str], status: int, needle: str) -> None:
    r = uc.get("/tables", "ops", **params)
    code = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
    assert needle in problem(r, status, code)


def test_a_schema_without_tables_lists_none(uc: UC) -> None:
    r = uc.get("/tables", "ops", catalog_name="prod", schema_name="bronze")
    assert r.status_code == 200 and r.json() == {"tables": []}


def test_get_a_table_with_its_columns_and_docs(uc: UC) -> None:
    r = uc.get("/tables/prod.gold.orders", "ana")
    assert r.status_code == 200, r.text
    table = r.json()
    assert (table["catalog_name"], table["schema_name"], table["name"]) == (
        "prod",
        "gold",
        "orders",
    )
    assert table["comment"] == "Orders." and table["owner"] == "ana"
    assert [(c["name"], c["type_name"], c["comment"]) for c in table["columns"]] == [
        ("order_id", "INT", None),
        ("customer_id", "STRING", None),
        ("amount", "DOUBLE", "Euros."),
    ]
    assert table["storage_location"].endswith("/data/prod/gold/orders")
    assert table["properties"]["prodml.owner_product"] == "shop"
    assert table["created_at"] > 1_700_000_000_000  # milliseconds
    listed = uc.get("/tables", "ana", catalog_name="prod", schema_name="gold").json()["tables"]
    assert listed == [table]


def test_get_needs_browse_or_select_and_is_audited(uc: UC) -> None:
    """A table's metadata, as in Unity Catalog: BROWSE or a privilege on it (MODIFY too)."""
    r = uc.get("/tables/prod.gold.customers", "ana")  # USE_SCHEMA, nothing on the table
    message = problem(r, 403, "PERMISSION_DENIED")
    assert "ana may not see table prod.gold.customers: it lacks BROWSE" in message
    assert "prodml grants grant table prod.gold.customers BROWSE --to ana" in message
    assert uc.get("/tables/prod.gold.customers", "bob").status_code == 200  # MODIFY
    assert uc.get("/tables/prod.gold.customers", "ops").status_code == 200
    with prodml.connect(uc.root, env="prod", principal="ops") as ws:
        log = ws.audit(securable="prod.gold.customers", limit=100)
    seen = {(r["principal"], r["outcome"]) for r in log if r["client"] == "uc-api"}
    assert {("ana", "denied"), ("bob", "allowed"), ("ops", "allowed")} <= seen


@pytest.mark.parametrize(
    ("name", "status", "needle"),
    [
        ("prod.gold.nope", 404, "table prod.gold.nope does not exist"),
        ("prod.platinum.orders", 400, "unknown schema 'platinum'"),
        ("dev.gold.orders", 404, "table dev.gold.orders does not exist"),
        ("qa.gold.orders", 404, "catalog 'qa' does not exist"),
        ("prod.gold", 400, "table name 'prod.gold' is not CATALOG.SCHEMA.TABLE"),
        ("prod.gold.Orders", 400, "is not CATALOG.SCHEMA.TABLE"),
    ],
)
def test_bad_and_unknown_table_names(uc: UC, name: str, status: int, needle: str) -> None:
    code = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
    assert needle in problem(uc.get(f"/tables/{name}", "ops"), status, code)


@pytest.mark.parametrize(
    "path", ["/tables?catalog_name=prod&schema_name=gold", "/tables/prod.gold.orders"]
)
def test_a_token_is_required(uc: UC, path: str) -> None:
    r = uc.client.get(f"/api/2.1/unity-catalog{path}")
    assert "Authorization: Bearer <token>" in problem(r, 401, "UNAUTHENTICATED")


def test_without_auth_every_table_is_readable(uc_open: UC) -> None:
    r = uc_open.get("/tables/prod.gold.customers", None)
    assert r.status_code == 200 and r.json()["owner"] is None
    listed = uc_open.get("/tables", None, catalog_name="prod", schema_name="gold").json()
    assert sorted(t["name"] for t in listed["tables"]) == ["customers", "orders"]


def test_the_client_reads_a_table(uc: UC) -> None:
    from unitycatalog.client.models import ListTablesResponse, TableInfo

    table = TableInfo.from_dict(uc.get("/tables/prod.gold.orders", "ops").json())
    assert table is not None and table.table_type is not None
    assert table.table_type.value == "MANAGED" and table.data_source_format is not None
    assert table.data_source_format.value == "DELTA" and table.owner == "ana"
    listed = uc.get("/tables", "ops", catalog_name="prod", schema_name="gold").json()
    parsed = ListTablesResponse.from_dict(listed)
    assert parsed is not None and len(parsed.tables or []) == 2


@pytest.mark.parametrize("name", ["prod.gold.nope", "prod.gold.customers"])
def test_item3_a_missing_table_answers_like_a_forbidden_one(uc: UC, name: str) -> None:
    """Trust II item 3: the privilege is checked before the table is looked up, so a caller
    who may not see a table cannot tell whether it exists (eve holds nothing; dan holds
    USE_CATALOG only)."""
    for who in ("eve", "dan"):
        assert problem(uc.get(f"/tables/{name}", who), 403, "PERMISSION_DENIED")
    listed = uc.get("/tables", "ana", catalog_name="prod", schema_name="gold").json()
    assert [t["name"] for t in listed["tables"]] == ["orders"]  # customers is not listed
    assert problem(uc.get("/tables/prod.gold.nope", "ops"), 404, "NOT_FOUND")


# -- item 5: define and drop tables --------------------------------------------------------


def _external(uc: UC, name: str, where: str = "external") -> str:
    """A Delta table written under the storage root (outside catalogs' storage); its URI."""
    files = uc.root / "data" / where / name
    deltalake.write_deltalake(str(files), pa.table({"id": [1, 2], "kind": ["a", "b"]}))
    return files.as_uri()


def _table(name: str, kind: str = "EXTERNAL", **more: object) -> dict[str, object]:
    return {
        "name": name,
        "catalog_name": "dev",
        "schema_name": "bronze",
        "table_type": kind,
        **more,
    }


MANAGED_COLUMNS = [
    {"name": "day", "type_name": "DATE", "position": 0},
    {
        "name": "amount",
        "type_name": "DECIMAL",
        "type_precision": 10,
        "type_scale": 2,
        "position": 2,
    },
    {"name": "n", "type_text": "bigint", "nullable": False, "position": 1, "comment": "Count."},
]


def test_item5_a_managed_table_is_created_empty_with_its_columns(uc_new: UC) -> None:
    r = uc_new.post("/tables", "ops", _table("daily", "MANAGED", columns=MANAGED_COLUMNS))
    assert r.status_code == 200, r.text
    info = r.json()
    assert (info["table_type"], info["owner"], info["created_by"]) == ("MANAGED", "ops", "ops")
    files = uc_new.root / "data" / "dev" / "bronze" / "daily"
    assert info["storage_location"] == files.resolve().as_uri()
    assert [(c["name"], c["type_text"], c["comment"]) for c in info["columns"]] == [
        ("day", "date", None),
        ("n", "bigint", "Count."),
        ("amount", "decimal(10,2)", None),
    ]
    table = deltalake.DeltaTable(str(files))
    assert table.version() == 0 and table.to_pyarrow_table().num_rows == 0
    schema = pa.schema(table.schema().to_arrow())
    assert schema.field("n").type == pa.int64() and not schema.field("n").nullable
    assert schema.field("amount").type == pa.decimal128(10, 2)
    assert uc_new.get("/tables/dev.bronze.daily", "ops").json() == info
    assert uc_new.delete("/tables/dev.bronze.daily", "ops").status_code == 200
    assert not files.exists()  # a managed table's files go with it
    problem(uc_new.get("/tables/dev.bronze.daily", "ops"), 404, "NOT_FOUND")


def test_item5_an_external_table_keeps_its_files_when_dropped(uc_new: UC) -> None:
    uri = _external(uc_new, "clicks")
    r = uc_new.post("/tables", "ops", _table("clicks", storage_location=uri, columns=[]))
    assert r.status_code == 200, r.text
    assert r.json()["storage_location"] == uri and r.json()["table_type"] == "EXTERNAL"
    assert uc_new.delete("/tables/dev.bronze.clicks", "ops").status_code == 200
    assert deltalake.DeltaTable(uri).to_pyarrow_table().num_rows == 2


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        (_table("v", "VIEW"), 400, "INVALID_ARGUMENT", "table_type VIEW is not supported"),
        (_table("x", data_source_format="CSV"), 400, "INVALID_ARGUMENT", "tables are Delta"),
        (_table("x"), 400, "INVALID_ARGUMENT", "needs storage_location"),
        (_table("x", "MANAGED"), 400, "INVALID_ARGUMENT", "a MANAGED table needs its columns"),
        (
            _table("x", "MANAGED", columns=MANAGED_COLUMNS, storage_location="file:///tmp/x"),
            400,
            "INVALID_ARGUMENT",
            "leave storage_location out",
        ),
        (
            _table("x", "MANAGED", columns=[{"name": "a", "type_name": "MAP"}]),
            400,
            "INVALID_ARGUMENT",
            "column 'a': type MAP is not supported",
        ),
        (
            _table("x", storage_location="file:///etc"),
            400,
            "INVALID_ARGUMENT",
            "outside the storage root",
        ),
        (
            _table("x", storage_location="file:///tmp/../etc/passwd"),
            400,
            "INVALID_ARGUMENT",
            "outside the storage root",
        ),
        (
            {**_table("X", "MANAGED", columns=MANAGED_COLUMNS)},
            400,
            "INVALID_ARGUMENT",
            "is not CATALOG.SCHEMA.TABLE",
        ),
        (
            {**_table("x", storage_location="file:///x"), "schema_name": "platinum"},
            400,
            "INVALID_ARGUMENT",
            "unknown schema",
        ),
        ({"name": "x"}, 400, "INVALID_ARGUMENT", "Field required"),
    ],
)
def test_item5_bad_tables_are_refused_and_nothing_is_made(
    uc_new: UC, body: dict[str, object], status: int, code: str, needle: str
) -> None:
    assert needle in problem(uc_new.post("/tables", "ops", body), status, code)
    listed = uc_new.get("/tables", "ops", catalog_name="dev", schema_name="bronze").json()
    assert "x" not in [t["name"] for t in listed["tables"]]


def test_item5_an_external_table_may_not_reach_another_tables_files(uc_new: UC) -> None:
    r = uc_new.post("/tables", "ops", _table("own", "MANAGED", columns=MANAGED_COLUMNS))
    assert r.status_code == 200, r.text
    inside = r.json()["storage_location"]  # dev's storage: a second name for its rows
    r = uc_new.post("/tables", "ops", _table("copy", storage_location=inside))
    assert "the storage of another table or catalog" in problem(r, 400, "INVALID_ARGUMENT")
    uri = _external(uc_new, "shared")
    assert uc_new.post("/tables", "ops", _table("one", storage_location=uri)).status_code == 200
    r = uc_new.post("/tables", "ops", _table("two", storage_location=uri))
    assert "overlaps" in problem(r, 400, "INVALID_ARGUMENT")
    missing = (uc_new.root / "data" / "external" / "nothing").as_uri()
    r = uc_new.post("/tables", "ops", _table("none", storage_location=missing))
    assert "there is no Delta table at" in problem(r, 400, "INVALID_ARGUMENT")


def test_item5_a_table_twice_is_a_conflict(uc_new: UC) -> None:
    assert (
        uc_new.post("/tables", "ops", _table("t2", "MANAGED", columns=MANAGED_COLUMNS)).status_code
        == 200
    )
    r = uc_new.post("/tables", "ops", _table("t2", "MANAGED", columns=MANAGED_COLUMNS))
    assert problem(r, 409, "ALREADY_EXISTS") == "table dev.bronze.t2 already exists"


def test_item5_create_table_needs_create_table_and_is_audited(uc_new: UC) -> None:
    r = uc_new.post("/tables", "ana", _table("hers", "MANAGED", columns=MANAGED_COLUMNS))
    assert "lacks USE_CATALOG on catalog dev" in problem(r, 403, "PERMISSION_DENIED")
    with prodml.connect(uc_new.root, env="dev") as ws:
        ws.grant("catalog", "dev", "ana", ["USE_CATALOG", "USE_SCHEMA"])
        ws.grant("schema", "dev.bronze", "ana", ["CREATE_TABLE"])
    r = uc_new.post("/tables", "ana", _table("hers", "MANAGED", columns=MANAGED_COLUMNS))
    assert r.status_code == 200 and r.json()["owner"] == "ana", r.text
    problem(uc_new.delete("/tables/dev.bronze.hers", "bob"), 403, "PERMISSION_DENIED")
    assert uc_new.delete("/tables/dev.bronze.hers", "ana").status_code == 200  # she owns it
    with prodml.connect(uc_new.root, env="dev") as ws:
        log = ws.audit(securable="dev.bronze.hers")
    assert {(r["principal"], r["action"], r["outcome"]) for r in log} >= {
        ("ana", "table.create", "denied"),
        ("ana", "table.create", "changed"),
        ("bob", "table.delete", "denied"),
        ("ana", "table.delete", "changed"),
    }


def test_item5_deleting_a_missing_table_is_a_404_after_the_check(uc_new: UC) -> None:
    assert "does not exist" in problem(
        uc_new.delete("/tables/dev.gold.nope", "ops"), 404, "NOT_FOUND"
    )
    assert "lacks MANAGE" in problem(
        uc_new.delete("/tables/dev.gold.nope", "eve"), 403, "PERMISSION_DENIED"
    )


def test_item5_tables_products_write_are_not_dropped_through_the_api(uc: UC) -> None:
    r = uc.delete("/tables/prod.gold.orders", "ops")
    assert "written by product shop (step shop.orders)" in problem(r, 400, "INVALID_ARGUMENT")
    assert uc.get("/tables/prod.gold.orders", "ops").status_code == 200
