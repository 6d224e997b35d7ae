"""``GET`` and ``PATCH /permissions/{securable_type}/{full_name}``: the grants on a securable,
read by those who manage it (or for oneself), changed by them on Unity Catalog's privilege
names, with bad requests answered 4xx in the API's words and a token required."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from tests.server.routes.conftest import UC, problem

import prodml

ORDERS = "/permissions/table/prod.gold.orders"


def _assignments(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {a["principal"]: a["privileges"] for a in doc["privilege_assignments"]}


def _new_user(uc: UC) -> str:
    """A principal of this test's own, so grant changes touch no other test."""
    name = f"u{uuid.uuid4().hex[:10]}"
    with prodml.connect(uc.root, env="prod", principal="ops") as ws:
        ws.add_principal(name)
    return name


def _change(principal: str, add: list[str] = [], remove: list[str] = []) -> bytes:  # noqa: B006
    return orjson.dumps({"changes": [{"principal": principal, "add": add, "remove": remove}]})


def test_get_the_grants_on_a_table(uc: UC) -> None:
    r = uc.get(ORDERS, "ops")
    assert r.status_code == 200, r.text
    # ALL_PRIVILEGES is sent as what it stands for; MANAGE is left off the wire
    assert _assignments(r.json())["ana"] == ["MODIFY", "SELECT"]
    assert uc.get(ORDERS, "ana").json() == r.json()  # ana holds MANAGE
    on_catalog = _assignments(uc.get("/permissions/catalog/prod", "ops").json())
    assert on_catalog["ana"] == ["USE CATALOG", "USE SCHEMA"]
    assert on_catalog["dan"] == ["USE CATALOG"]


def test_anyone_may_read_their_own_privileges_only(uc: UC) -> None:
    r = uc.get(ORDERS, "eve", principal="eve")
    assert r.status_code == 200 and r.json() == {"privilege_assignments": []}
    r = uc.get("/permissions/schema/prod.gold", "bob", principal="bob")
    assert r.json() == {
        "privilege_assignments": [{"principal": "bob", "privileges": ["USE SCHEMA"]}]
    }
    for params in ({}, {"principal": "ana"}):
        message = problem(uc.get(ORDERS, "eve", **params), 403, "PERMISSION_DENIED")
        assert message.startswith(
            "eve may not read others' grants on it: it lacks MANAGE on table prod.gold.orders"
        )


def test_a_principal_filter_selects_one_principal(uc: UC) -> None:
    r = uc.get("/permissions/catalog/prod", "ops", principal="bob")
    assert r.json() == {
        "privilege_assignments": [{"principal": "bob", "privileges": ["USE CATALOG"]}]
    }


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/permissions/volume/prod.gold.v", 400, "unsupported securable type 'volume'; supported"),
        ("/permissions/table/prod.gold", 400, "is not CATALOG.SCHEMA.TABLE"),
        ("/permissions/catalog/qa", 404, "catalog 'qa' does not exist"),
        ("/permissions/registered_model/prod.ml", 400, "model name 'prod.ml' is not"),
    ],
)
def test_bad_securables(uc: UC, path: str, status: int, needle: str) -> None:
    code = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
    assert needle in problem(uc.get(path, "ops"), status, code)
    assert needle in problem(uc.patch(path, "ops", _change("eve", ["SELECT"])), status, code)


def test_registered_models_are_models(uc: UC) -> None:
    r = uc.get("/permissions/registered_model/prod.ml.clf", "ops")
    assert r.status_code == 200 and r.json() == {"privilege_assignments": []}


def test_grant_and_revoke_on_unity_catalog_names(uc: UC) -> None:
    user = _new_user(uc)
    r = uc.patch("/permissions/schema/prod.gold", "ops", _change(user, ["USE SCHEMA", "select"]))
    assert r.status_code == 200, r.text
    assert _assignments(r.json())[user] == ["SELECT", "USE SCHEMA"]
    r = uc.patch("/permissions/schema/prod.gold", "ops", _change(user, remove=["SELECT"]))
    assert _assignments(r.json())[user] == ["USE SCHEMA"]
    with prodml.connect(uc.root, env="prod", principal="ops") as ws:
        log = ws.audit(principal="ops", securable="prod.gold", limit=200)
    changed = [(r["action"], r["reason"]) for r in log if user in (r["reason"] or "")]
    assert changed == [  # newest first
        ("revoke", f"revoked SELECT from {user}"),
        ("grant", f"granted USE_SCHEMA, SELECT to {user}"),
    ]


def test_all_privileges_on_the_wire_is_granted_and_listed_expanded(uc: UC) -> None:
    user = _new_user(uc)
    r = uc.patch(ORDERS, "ops", _change(user, ["ALL PRIVILEGES"]))
    assert r.status_code == 200, r.text
    assert _assignments(r.json())[user] == ["MODIFY", "SELECT"]


def test_the_body_is_read_whatever_its_content_type(uc: UC) -> None:
    user = _new_user(uc)
    r = uc.patch(ORDERS, "ops", _change(user, ["SELECT"]), **{"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert _assignments(r.json())[user] == ["SELECT"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "the body is not JSON"),
        (b"[]", 'the body must be {"changes": [{principal, add, remove}]}'),
        (b'{"changes": [{"add": ["SELECT"]}]}', "each change needs a principal"),
        (b'{"changes": [{"principal": "eve", "remove": "SELECT"}]}', "remove must be a list"),
        (
            b'{"changes": [{"principal": "eve", "add": ["EXECUTE"]}]}',
            "cannot be granted on a table",
        ),
    ],
)
def test_bad_bodies_are_400s_that_change_nothing(uc: UC, body: bytes, needle: str) -> None:
    before = uc.get(ORDERS, "ops").json()
    assert needle in problem(uc.patch(ORDERS, "ops", body), 400, "INVALID_ARGUMENT")
    assert uc.get(ORDERS, "ops").json() == before


def test_changing_needs_manage(uc: UC) -> None:
    user = _new_user(uc)
    message = problem(uc.patch(ORDERS, "eve", _change(user, ["SELECT"])), 403, "PERMISSION_DENIED")
    assert "eve" in message and "MANAGE" in message and "table prod.gold.orders" in message
    assert user not in _assignments(uc.get(ORDERS, "ops").json())
    r = uc.patch(ORDERS, "ana", _change(user, ["SELECT"]))  # ana manages the table
    assert r.status_code == 200 and _assignments(r.json())[user] == ["SELECT"]


def test_an_empty_patch_does_not_reveal_grants_the_caller_may_not_read(uc: UC) -> None:
    assert uc.get(ORDERS, "eve").status_code == 403
    r = uc.patch(ORDERS, "eve", b'{"changes": []}')
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_token_is_required(uc: UC, method: str) -> None:
    r = uc.client.request(method, f"/api/2.1/unity-catalog{ORDERS}", content=_change("eve"))
    assert "Authorization: Bearer <token>" in problem(r, 401, "UNAUTHENTICATED")


def test_without_auth_there_are_no_grants(uc_open: UC) -> None:
    r = uc_open.get(ORDERS, None)
    assert problem(r, 400, "INVALID_ARGUMENT") == "governance is off: there are no grants"
    r = uc_open.patch(ORDERS, None, _change("eve", ["SELECT"]))
    assert problem(r, 400, "INVALID_ARGUMENT") == "governance is off: there are no grants"


def test_item3_a_patch_by_a_non_manager_naming_an_unknown_principal_lists_no_one(uc: UC) -> None:
    """Trust II item 3: MANAGE is checked first, so a non-manager learns nothing (no list of
    principals); a manager who is not an admin is told the name is unknown, not who exists."""
    body = b'{"changes": [{"principal": "nobody", "add": ["SELECT"]}]}'
    message = problem(
        uc.patch("/permissions/table/prod.gold.customers", "eve", body), 403, "PERMISSION_DENIED"
    )
    assert "lacks MANAGE" in message and "ops" not in message and "ana" not in message
    # ana manages gold.orders (MANAGE) but is no admin
    message = problem(
        uc.patch("/permissions/table/prod.gold.orders", "ana", body), 404, "NOT_FOUND"
    )
    assert "unknown principal 'nobody'" in message
    assert not any(who in message for who in ("ops", "bob", "dan", "eve"))
    # an admin is told who exists
    message = problem(
        uc.patch("/permissions/table/prod.gold.orders", "ops", body), 404, "NOT_FOUND"
    )
    assert "known:" in message or "did you mean" in message
