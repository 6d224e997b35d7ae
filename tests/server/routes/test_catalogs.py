"""``GET /catalogs`` and ``GET /catalogs/{name}``: the environments' catalogs a caller may use,
USE_CATALOG for one, 404 naming the catalogs, and a token required."""

from __future__ import annotations

import pytest
from tests.server.routes.conftest import UC, problem


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
