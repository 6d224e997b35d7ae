"""``GET /tables`` and ``GET /tables/{full_name}``: a schema's tables the caller may read or
modify, one table with its columns (SELECT, audited); bad names 400, unknown ones 404; a token
required."""

from __future__ import annotations

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
    code = "NOT_FOUND" if status == 404 else "INVALID_PARAMETER_VALUE"
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
    code = "NOT_FOUND" if status == 404 else "INVALID_PARAMETER_VALUE"
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
