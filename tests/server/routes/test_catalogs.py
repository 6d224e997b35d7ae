"""``GET /catalogs`` and ``GET /catalogs/{name}``: the environments' catalogs a caller may use,
USE_CATALOG for one, 404 naming the catalogs, and a token required."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.routes.conftest import UC, problem

import prodml
from prodml.server.app import PREFIX


def test_an_admin_lists_every_environment(uc: UC) -> None:
    r = uc.get("/catalogs", "ops")
    assert r.status_code == 200, r.text
    catalogs = r.json()["catalogs"]
    assert [c["name"] for c in catalogs] == ["dev", "prod"]
    prod = catalogs[1]
    assert prod["comment"] == "environment prod of acme"
    assert prod["properties"] == {"prodml.env": "prod"} and prod["owner"] == "ops"
    assert len(prod["id"]) == 32 and prod["id"] != catalogs[0]["id"]


@pytest.mark.parametrize(("who", "names"), [("ana", ["prod"]), ("dan", ["prod"]), ("eve", [])])
def test_others_list_the_catalogs_they_may_use(uc: UC, who: str, names: list[str]) -> None:
    r = uc.get("/catalogs", who)
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["catalogs"]] == names


def test_get_a_catalog_needs_use_catalog(uc: UC) -> None:
    r = uc.get("/catalogs/prod", "dan")
    assert r.status_code == 200, r.text
    assert r.json() == uc.get("/catalogs", "ops").json()["catalogs"][1]
    message = problem(uc.get("/catalogs/prod", "eve"), 403, "PERMISSION_DENIED")
    assert "eve may not use catalog prod: it lacks USE_CATALOG on catalog prod" in message
    assert "it lacks USE_CATALOG on catalog dev" in problem(
        uc.get("/catalogs/dev", "ana"), 403, "PERMISSION_DENIED"
    )


def test_an_unknown_catalog_is_a_404_naming_the_catalogs(uc: UC) -> None:
    message = problem(uc.get("/catalogs/prd", "ops"), 404, "NOT_FOUND")
    assert message == "catalog 'prd' does not exist; catalogs: dev, prod (did you mean 'prod'?)"


@pytest.mark.parametrize("path", ["/catalogs", "/catalogs/prod"])
def test_a_token_is_required(uc: UC, path: str) -> None:
    message = problem(uc.get(path, None), 401, "UNAUTHENTICATED")
    assert message == "send 'Authorization: Bearer <token>' (a prodml token)"
    r = uc.client.get(f"/api/2.1/unity-catalog{path}", headers={"Authorization": "Bearer nope"})
    assert problem(r, 401, "UNAUTHENTICATED") == "authentication failed: unknown token"


def test_without_auth_every_catalog_is_listed_with_no_owner(uc_open: UC) -> None:
    r = uc_open.get("/catalogs", None)
    assert r.status_code == 200, r.text
    assert [(c["name"], c["owner"]) for c in r.json()["catalogs"]] == [
        ("dev", None),
        ("prod", None),
    ]
    assert uc_open.get("/catalogs/dev", None).json()["name"] == "dev"


def test_the_client_reads_the_listing(uc: UC) -> None:
    from unitycatalog.client.models import ListCatalogsResponse

    parsed = ListCatalogsResponse.from_dict(uc.get("/catalogs", "ops").json())
    assert parsed is not None and [c.name for c in parsed.catalogs or []] == ["dev", "prod"]


# -- item 5: create, change and drop catalogs ---------------------------------------------


def test_item5_an_admin_creates_changes_and_drops_a_catalog(uc_new: UC) -> None:
    r = uc_new.post("/catalogs", "ops", {"name": "sales", "comment": "Ours.", "properties": {}})
    assert r.status_code == 200, r.text
    made = r.json()
    assert (made["name"], made["owner"], made["created_by"]) == ("sales", "ops", "ops")
    assert made["storage_root"] == (uc_new.root / "data" / "sales").resolve().as_uri()
    assert made["created_at"] and uc_new.get("/catalogs/sales", "ops").json() == made
    assert "sales" in [c["name"] for c in uc_new.get("/catalogs", "ops").json()["catalogs"]]
    body = b'{"comment": "Sales.", "properties": {"team": "b2b"}}'
    r = uc_new.patch("/catalogs/sales", "ops", body, **{"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert (r.json()["comment"], r.json()["properties"]) == ("Sales.", {"team": "b2b"})
    assert r.json()["updated_by"] == "ops"
    assert uc_new.delete("/catalogs/sales", "ops").status_code == 200
    problem(uc_new.get("/catalogs/sales", "ops"), 404, "NOT_FOUND")
    with prodml.connect(uc_new.root, env="prod") as ws:
        done = [r["action"] for r in ws.audit(securable="sales") if r["outcome"] == "changed"]
    assert sorted(done) == ["catalog.create", "catalog.delete", "catalog.update"]


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ({"name": "prod"}, 409, "ALREADY_EXISTS", "catalog prod already exists: it is environment"),
        ({"name": "Sales"}, 400, "INVALID_ARGUMENT", "invalid catalog name 'Sales'"),
        ({"name": "a;b"}, 400, "INVALID_ARGUMENT", "invalid catalog name"),
        ({"comment": "x"}, 400, "INVALID_ARGUMENT", "name: Field required"),
        ({"name": "x", "storage_root": "s3://b/x"}, 400, "INVALID_ARGUMENT", "storage_root"),
        (b"{nope", 400, "INVALID_ARGUMENT", "JSON"),
    ],
)
def test_item5_bad_catalogs_are_refused(
    uc_new: UC, body: object, status: int, code: str, needle: str
) -> None:
    assert needle in problem(uc_new.post("/catalogs", "ops", body), status, code)


def test_item5_a_second_catalog_of_a_name_is_a_conflict(uc_new: UC) -> None:
    assert uc_new.post("/catalogs", "ops", {"name": "twice"}).status_code == 200
    message = problem(uc_new.post("/catalogs", "ops", {"name": "twice"}), 409, "ALREADY_EXISTS")
    assert message == "catalog twice already exists"


def test_item5_only_admins_create_catalogs_and_refusals_are_audited(uc_new: UC) -> None:
    message = problem(uc_new.post("/catalogs", "ana", {"name": "mine"}), 403, "PERMISSION_DENIED")
    assert "create catalogs" in message
    problem(uc_new.get("/catalogs/mine", "ops"), 404, "NOT_FOUND")
    with prodml.connect(uc_new.root, env="prod") as ws:
        log = ws.audit(principal="ana", securable="mine")
    assert [(r["action"], r["outcome"]) for r in log] == [("catalog.create", "denied")]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_item5_changing_a_missing_catalog_is_a_404_after_the_check(uc_new: UC, method: str) -> None:
    def call(who: str) -> Any:
        if method == "patch":
            return uc_new.patch(
                "/catalogs/nowhere", who, b"{}", **{"content-type": "application/json"}
            )
        return uc_new.delete("/catalogs/nowhere", who)

    assert "does not exist" in problem(call("ops"), 404, "NOT_FOUND")
    assert "USE_CATALOG" in problem(call("eve"), 403, "PERMISSION_DENIED")


def test_item5_others_may_not_change_or_drop_a_catalog(uc_new: UC) -> None:
    assert uc_new.post("/catalogs", "ops", {"name": "kept"}).status_code == 200
    body = b'{"comment": "mine now"}'
    r = uc_new.patch("/catalogs/kept", "ana", body, **{"content-type": "application/json"})
    assert "lacks MANAGE" in problem(r, 403, "PERMISSION_DENIED")
    problem(uc_new.delete("/catalogs/kept", "ana"), 403, "PERMISSION_DENIED")
    assert uc_new.get("/catalogs/kept", "ops").json()["comment"] is None


def test_item5_environment_catalogs_are_prodml_yamls(uc_new: UC) -> None:
    r = uc_new.patch(
        "/catalogs/prod", "ops", b'{"comment": "x"}', **{"content-type": "application/json"}
    )
    assert "prodml.yaml defines it" in problem(r, 400, "INVALID_ARGUMENT")
    assert "prodml.yaml" in problem(uc_new.delete("/catalogs/prod", "ops"), 400, "INVALID_ARGUMENT")


def test_item5_renaming_is_refused(uc_new: UC) -> None:
    assert uc_new.post("/catalogs", "ops", {"name": "old"}).status_code == 200
    r = uc_new.patch(
        "/catalogs/old", "ops", b'{"new_name": "new"}', **{"content-type": "application/json"}
    )
    assert "renaming a catalog is not supported" in problem(r, 400, "INVALID_ARGUMENT")


def test_item5_a_catalog_with_schemas_is_dropped_only_with_force(uc_new: UC) -> None:
    assert uc_new.post("/catalogs", "ops", {"name": "full"}).status_code == 200
    assert (
        uc_new.post("/schemas", "ops", {"name": "gold", "catalog_name": "full"}).status_code == 200
    )
    message = problem(uc_new.delete("/catalogs/full", "ops"), 400, "FAILED_PRECONDITION")
    assert "catalog full holds schemas: full.gold" in message
    assert uc_new.delete("/catalogs/full", "ops", force="true").status_code == 200
    problem(uc_new.get("/schemas/full.gold", "ops"), 404, "NOT_FOUND")


def test_item5_unknown_routes_and_methods_answer_in_the_apis_json(uc_new: UC) -> None:
    assert "no route" in problem(uc_new.get("/volumes", "ops"), 404, "NOT_FOUND")
    r = uc_new.client.put(PREFIX + "/catalogs", headers=uc_new.auth["ops"])
    assert "PUT is not supported" in problem(r, 405, "UNIMPLEMENTED")
