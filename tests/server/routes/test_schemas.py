"""``GET /schemas`` and ``GET /schemas/{full_name}``: the layers of a catalog that hold tables,
filtered by USE_SCHEMA; USE_CATALOG first; bad names 400, unknown ones 404; a token required."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.routes.conftest import UC, problem

import prodml


def test_list_schemas_as_the_caller_may_use_them(uc: UC) -> None:
    r = uc.get("/schemas", "ana", catalog_name="prod")
    assert r.status_code == 200, r.text
    schemas = r.json()["schemas"]
    assert [s["name"] for s in schemas] == ["gold", "silver"]
    gold = schemas[0]
    assert gold["full_name"] == "prod.gold" and gold["catalog_name"] == "prod"
    assert gold["comment"] == "the gold layer" and gold["properties"] == {}
    assert len(gold["schema_id"]) == 32 and gold["schema_id"] != schemas[1]["schema_id"]
    # USE_SCHEMA on gold only; USE_CATALOG only
    assert [
        s["name"] for s in uc.get("/schemas", "bob", catalog_name="prod").json()["schemas"]
    ] == ["gold"]
    assert uc.get("/schemas", "dan", catalog_name="prod").json() == {"schemas": []}


def test_a_catalog_without_tables_has_no_schemas(uc: UC) -> None:
    r = uc.get("/schemas", "ops", catalog_name="dev")
    assert r.status_code == 200 and r.json() == {"schemas": []}


def test_listing_needs_use_catalog_and_a_known_catalog(uc: UC) -> None:
    r = uc.get("/schemas", "eve", catalog_name="prod")
    assert "it lacks USE_CATALOG on catalog prod" in problem(r, 403, "PERMISSION_DENIED")
    r = uc.get("/schemas", "ops", catalog_name="nowhere")
    assert "catalog 'nowhere' does not exist; catalogs: dev, prod" in problem(r, 404, "NOT_FOUND")


def test_listing_without_catalog_name_is_a_400_naming_it(uc: UC) -> None:
    message = problem(uc.get("/schemas", "ops"), 400, "INVALID_ARGUMENT")
    assert message == "catalog_name: Field required"


def test_get_a_schema(uc: UC) -> None:
    r = uc.get("/schemas/prod.silver", "ana")
    assert r.status_code == 200, r.text
    listed = uc.get("/schemas", "ana", catalog_name="prod").json()["schemas"]
    assert r.json() == listed[1]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("dan", "dan may not use schema prod.gold: it lacks USE_SCHEMA on schema prod.gold"),
        ("eve", "eve may not use schema prod.gold: it lacks USE_CATALOG on catalog prod"),
    ],
)
def test_get_a_schema_needs_use_catalog_and_use_schema(uc: UC, who: str, message: str) -> None:
    assert message in problem(uc.get("/schemas/prod.gold", who), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("name", "status", "code", "needle"),
    [
        ("prod.platinum", 404, "NOT_FOUND", "schema prod.platinum does not exist"),
        ("qa.gold", 404, "NOT_FOUND", "catalog 'qa' does not exist"),
        ("prod", 400, "INVALID_ARGUMENT", "schema name 'prod' is not CATALOG.SCHEMA"),
        ("prod.gold.orders", 400, "INVALID_ARGUMENT", "is not CATALOG.SCHEMA"),
        ("prod.Gold", 400, "INVALID_ARGUMENT", "schema name 'prod.Gold' is not"),
    ],
)
def test_bad_and_unknown_schema_names(
    uc: UC, name: str, status: int, code: str, needle: str
) -> None:
    assert needle in problem(uc.get(f"/schemas/{name}", "ops"), status, code)


@pytest.mark.parametrize("path", ["/schemas?catalog_name=prod", "/schemas/prod.gold"])
def test_a_token_is_required(uc: UC, path: str) -> None:
    r = uc.client.get(f"/api/2.1/unity-catalog{path}")
    assert "Authorization: Bearer <token>" in problem(r, 401, "UNAUTHENTICATED")


def test_without_auth_every_schema_is_listed(uc_open: UC) -> None:
    r = uc_open.get("/schemas", None, catalog_name="prod")
    assert [(s["name"], s["owner"]) for s in r.json()["schemas"]] == [
        ("gold", None),
        ("silver", None),
    ]


def test_the_client_reads_the_listing(uc: UC) -> None:
    from unitycatalog.client.models import ListSchemasResponse, SchemaInfo

    parsed = ListSchemasResponse.from_dict(uc.get("/schemas", "ana", catalog_name="prod").json())
    assert parsed is not None and [s.full_name for s in parsed.schemas or []] == [
        "prod.gold",
        "prod.silver",
    ]
    one = SchemaInfo.from_dict(uc.get("/schemas/prod.gold", "ana").json())
    assert one is not None and one.name == "gold"


# -- item 5: create, change and drop schemas ----------------------------------------------

JSON = {"content-type": "application/json"}


def test_item5_create_schema_needs_create_schema_on_the_catalog(uc_new: UC) -> None:
    r = uc_new.post("/schemas", "ana", {"name": "raw", "catalog_name": "prod"})
    assert "lacks CREATE_SCHEMA on catalog prod" in problem(r, 403, "PERMISSION_DENIED")
    with prodml.connect(uc_new.root, env="prod") as ws:
        ws.grant("catalog", "prod", "ana", ["CREATE_SCHEMA"])
    r = uc_new.post("/schemas", "ana", {"name": "raw", "catalog_name": "prod", "comment": "Raw."})
    assert r.status_code == 200, r.text
    made = r.json()
    assert (made["full_name"], made["owner"], made["comment"]) == ("prod.raw", "ana", "Raw.")
    assert made["created_by"] == "ana" and made["created_at"]
    assert uc_new.get("/schemas/prod.raw", "ana").json() == made
    assert "raw" in [
        s["name"] for s in uc_new.get("/schemas", "ops", catalog_name="prod").json()["schemas"]
    ]
    # her schema: she changes and drops it; others may not
    r = uc_new.patch("/schemas/prod.raw", "bob", b'{"comment": "x"}', **JSON)
    problem(r, 403, "PERMISSION_DENIED")
    r = uc_new.patch("/schemas/prod.raw", "ana", b'{"properties": {"k": "v"}}', **JSON)
    assert r.status_code == 200 and r.json()["properties"] == {"k": "v"}, r.text
    assert uc_new.delete("/schemas/prod.raw", "ana").status_code == 200
    problem(uc_new.get("/schemas/prod.raw", "ops"), 404, "NOT_FOUND")
    with prodml.connect(uc_new.root, env="prod") as ws:
        log = ws.audit(securable="prod.raw")
    assert {(r["principal"], r["action"], r["outcome"]) for r in log} >= {
        ("ana", "schema.create", "denied"),
        ("ana", "schema.create", "changed"),
        ("bob", "schema.update", "denied"),
        ("ana", "schema.delete", "changed"),
    }


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        (
            {"name": "platinum", "catalog_name": "prod"},
            400,
            "INVALID_ARGUMENT",
            "not one of prodml's",
        ),
        ({"name": "Gold", "catalog_name": "prod"}, 400, "INVALID_ARGUMENT", "invalid schema name"),
        ({"name": "gold"}, 400, "INVALID_ARGUMENT", "catalog_name: Field required"),
        (
            {"name": "gold", "catalog_name": "nowhere"},
            404,
            "NOT_FOUND",
            "catalog 'nowhere' does not",
        ),
        (
            {"name": "ml", "catalog_name": "prod", "storage_root": "/x"},
            400,
            "INVALID_ARGUMENT",
            "storage_root",
        ),
    ],
)
def test_item5_bad_schemas_are_refused(
    uc_new: UC, body: object, status: int, code: str, needle: str
) -> None:
    assert needle in problem(uc_new.post("/schemas", "ops", body), status, code)


def test_item5_a_schema_twice_is_a_conflict(uc_new: UC) -> None:
    assert (
        uc_new.post("/schemas", "ops", {"name": "features", "catalog_name": "dev"}).status_code
        == 200
    )
    r = uc_new.post("/schemas", "ops", {"name": "features", "catalog_name": "dev"})
    assert problem(r, 409, "ALREADY_EXISTS") == "schema dev.features already exists"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_item5_changing_a_missing_schema_is_a_404_after_the_check(uc_new: UC, method: str) -> None:
    def call(who: str) -> Any:
        if method == "patch":
            return uc_new.patch("/schemas/prod.monitoring", who, b"{}", **JSON)
        return uc_new.delete("/schemas/prod.monitoring", who)

    assert "does not exist" in problem(call("ops"), 404, "NOT_FOUND")
    assert "lacks MANAGE" in problem(call("eve"), 403, "PERMISSION_DENIED")
