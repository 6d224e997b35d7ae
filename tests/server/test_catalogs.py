"""The catalog server's view of the platform (``CatalogServer``), without HTTP: which workspace
answers a catalog, who calls (bearer tokens looked up in the metadata store), what they may see,
owners, and the permissions list with ALL_PRIVILEGES expanded and MANAGE left off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.errors import AccessDeniedError, AuthenticationError, NotFoundError, UsageError
from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.workspace import Workspace, connect_all

PLATFORM = """\
name: acme
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
  prod: {}
governance:
  enabled: true
  admins: [admins]
  local_user: ops
  users:
    ops: {groups: [admins]}
    ana: {}
    bob: {}
    carl: {}
    eve: {}
  groups: {admins: {}}
  grants:
    - {securable: catalog prod, principal: ana, privileges: [USE_CATALOG, USE_SCHEMA]}
    - {securable: table prod.gold.orders, principal: ana, privileges: [ALL_PRIVILEGES, MANAGE]}
    - {securable: catalog prod, principal: bob, privileges: [USE_CATALOG]}
    - {securable: table prod.gold.orders, principal: carl, privileges: [MANAGE]}
  owners:
    - {securable: catalog prod, owner: ops}
    - {securable: table prod.gold.orders, owner: ana}
"""

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="silver.orders_raw")
def raw(ctx):
    return ctx.sql("SELECT 1 AS order_id")

@step(stage="features", inputs=["silver.orders_raw"], outputs="gold.orders")
def orders(ctx, orders_raw):
    return ctx.sql("SELECT order_id, 2.5::DOUBLE AS amount FROM orders_raw")
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The shop run in prod (dev stays empty), and a token per user."""
    root = make_platform(tmp_path_factory.mktemp("uc") / "p", {"shop": PIPELINE}, PLATFORM)
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop"))
    with prodml.connect(root, env="prod") as ws:
        ws.run("shop")
        tokens = {who: ws.new_token(who, name="t") for who in ("ops", "ana", "bob", "eve")}
    yield root, tokens


@pytest.fixture
def workspaces(platform: tuple[Path, dict[str, str]]) -> Iterator[dict[str, Workspace]]:
    opened = connect_all(platform[0])
    yield opened
    for ws in opened.values():
        ws.close()


@pytest.fixture
def server(workspaces: dict[str, Workspace]) -> CatalogServer:
    return CatalogServer(workspaces, authenticate=True)


@pytest.fixture
def open_server(workspaces: dict[str, Workspace]) -> CatalogServer:
    return CatalogServer(workspaces, authenticate=False)


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_a_catalog_is_an_environments_workspace_acting_as_the_caller(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    tokens = platform[1]
    assert sorted(server.workspaces) == ["dev", "prod"]
    view = server.view("prod", tokens["ana"])
    assert (view.env, view.principal) == ("prod", "ana")
    with pytest.raises(NotFoundError) as err:  # an admin is told what exists
        server.view("prd", tokens["ops"])
    assert err.value.message == "catalog 'prd' does not exist; catalogs: dev, prod"
    assert err.value.hint == "did you mean 'prod'?"


def test_item3_a_missing_catalog_is_refused_like_a_forbidden_one(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    """Trust II item 3: a non-admin cannot tell a missing catalog from one it may not use."""
    with pytest.raises(AccessDeniedError) as err:
        server.view("prd", platform[1]["eve"])
    assert str(err.value) == "lacks USE_CATALOG on catalog prd"


def test_the_caller_is_the_principal_of_a_bearer_token(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    tokens = platform[1]
    assert server.token(request(f"Bearer {tokens['ana']}")) == tokens["ana"]
    assert server.token(request(f"bearer  {tokens['eve']} ")) == tokens["eve"]  # scheme, spaces
    for header in (None, "", "Bearer", "Bearer   ", f"Basic {tokens['ana']}", tokens["ana"]):
        with pytest.raises(AuthenticationError, match="send 'Authorization: Bearer <token>'"):
            server.token(request(header))
    with pytest.raises(AuthenticationError, match="authentication failed"):
        server.token(request("Bearer pdml_nope_nope"))


def test_a_failed_authentication_is_audited(
    server: CatalogServer, workspaces: dict[str, Workspace]
) -> None:
    with pytest.raises(AuthenticationError):
        server.token(request("Bearer pdml_unknown_token"))
    with prodml.connect(workspaces["prod"].root, env="prod") as ws:
        denied = [r for r in ws.audit(limit=50) if r["action"] == "authenticate"]
    assert denied, "no authentication was audited"
    assert (denied[0]["outcome"], denied[0]["reason"], denied[0]["client"]) == (
        "denied",
        "unknown token",
        "uc-api",
    )


def test_without_authentication_the_server_acts_as_whoever_started_it(
    open_server: CatalogServer,
) -> None:
    assert open_server.token(request(None)) is None
    assert open_server.token(request("Bearer whatever")) is None
    view = open_server.view("prod", None)
    assert view.principal == "ops" and view.holds("SELECT", "table", "prod.gold.orders")
    assert open_server.owner(view, "table", "prod.gold.orders") is None


def test_a_view_decides_with_the_callers_grants(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    tokens = platform[1]
    ana, bob = server.view("prod", tokens["ana"]), server.view("prod", tokens["bob"])
    assert ana.holds("USE_CATALOG", "catalog", "prod")
    assert not server.view("dev", tokens["ana"]).holds("USE_CATALOG", "catalog", "dev")
    assert ana.holds("SELECT", "table", "prod.gold.orders")  # ALL_PRIVILEGES
    assert not bob.holds("SELECT", "table", "prod.gold.orders")
    assert server.view("dev", tokens["ops"]).holds("MODIFY", "table", "dev.silver.x")  # admin


def test_require_decides_and_audits(
    server: CatalogServer, workspaces: dict[str, Workspace], platform: tuple[Path, dict[str, str]]
) -> None:
    tokens = platform[1]
    server.view("prod", tokens["ana"]).require("read", "table", "prod.gold.orders", client="uc-api")
    with pytest.raises(AccessDeniedError) as err:
        server.view("prod", tokens["bob"]).require(
            "read", "table", "prod.gold.orders", client="uc-api"
        )
    assert err.value.message == (
        "bob may not read table prod.gold.orders: it lacks USE_SCHEMA on schema prod.gold"
    )
    assert (
        err.value.hint is not None
        and "grant schema prod.gold USE_SCHEMA --to bob" in err.value.hint
    )
    with prodml.connect(workspaces["prod"].root, env="prod") as ws:
        log = ws.audit(securable="prod.gold.orders", limit=50)
    outcomes = {(r["principal"], r["outcome"], r["client"]) for r in log if r["action"] == "read"}
    assert {("ana", "allowed", "uc-api"), ("bob", "denied", "uc-api")} <= outcomes


def test_securable_maps_unity_catalog_types(server: CatalogServer) -> None:
    assert server.securable("TABLE", "prod.gold.orders") == ("table", "prod.gold.orders")
    assert server.securable("registered_model", "prod.ml.clf") == ("model", "prod.ml.clf")
    assert server.securable("catalog", "dev") == ("catalog", "dev")
    with pytest.raises(UsageError) as err:
        server.securable("volume", "prod.gold.v")
    assert str(err.value) == (
        "unsupported securable type 'volume'; supported: catalog, schema, table, registered_model"
    )
    with pytest.raises(UsageError, match=r"table name 'prod\.gold' is not CATALOG\.SCHEMA\.TABLE"):
        server.securable("table", "prod.gold")


def test_owners_as_declared(server: CatalogServer, platform: tuple[Path, dict[str, str]]) -> None:
    view = server.view("prod", platform[1]["ops"])
    assert server.owner(view, "catalog", "prod") == "ops"
    assert server.owner(view, "table", "prod.gold.orders") == "ana"
    assert server.owner(view, "schema", "prod.gold") == "ops"  # its catalog's owner answers


def test_tables_and_schemas_come_from_the_catalogs_records(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    prod, dev = server.view("prod", platform[1]["ops"]), server.view("dev", platform[1]["ops"])
    assert sorted((t["schema_name"], t["name"]) for t in prod.catalog_entries()) == [
        ("gold", "orders"),
        ("silver", "orders_raw"),
    ]
    assert prod.schemas() == ["gold", "silver"]
    assert dev.catalog_entries() == [] and dev.schemas() == []
    ana = server.view("prod", platform[1]["ana"])  # sees only the table she holds privileges on
    assert [t["name"] for t in ana.catalog_entries()] == ["orders"]


def test_info_objects_name_the_environment_and_owner(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    prod = server.view("prod", platform[1]["ops"])
    info = server.catalog_info(prod, "prod")
    made = (platform[0] / "prodml.yaml").stat().st_mtime
    assert info == {
        "name": "prod",
        "comment": "environment prod of acme",
        "properties": {"prodml.env": "prod"},
        "owner": "ops",
        "created_at": int(made * 1000),
        "created_by": None,
        "updated_at": None,
        "updated_by": None,
        "storage_root": (platform[0] / "data" / "prod").resolve().as_uri(),
        "storage_location": (platform[0] / "data" / "prod").resolve().as_uri(),
        "id": wire.make_id("prod"),
    }
    dev = server.view("dev", platform[1]["ops"])
    assert server.catalog_info(dev, "dev")["owner"] == "admins"  # no owner: the admins
    gold = server.schema_info(prod, "prod", "gold")
    assert gold["full_name"] == "prod.gold" and gold["created_at"]
    record = next(t for t in prod.catalog_entries() if t["name"] == "orders")
    info = server.table_info(prod, record)
    assert info["owner"] == "ana"
    assert [(c["name"], c["type_name"]) for c in info["columns"]] == [
        ("order_id", "INT"),
        ("amount", "DOUBLE"),
    ]
    assert info["properties"]["prodml.producer_step"] == "shop.orders"


def test_permissions_expand_all_privileges_and_leave_manage_off(
    server: CatalogServer, platform: tuple[Path, dict[str, str]]
) -> None:
    prod = server.view("prod", platform[1]["ops"])
    listed = server.permissions(prod, "table", "prod.gold.orders", None)
    # carl holds only MANAGE: nothing to send, so he is left out
    assert listed == {
        "privilege_assignments": [{"principal": "ana", "privileges": ["MODIFY", "SELECT"]}]
    }
    assert server.permissions(prod, "table", "prod.gold.orders", "eve") == {
        "privilege_assignments": []
    }
    on_catalog = server.permissions(prod, "catalog", "prod", None)["privilege_assignments"]
    assert on_catalog == [
        {"principal": "ana", "privileges": ["USE CATALOG", "USE SCHEMA"]},
        {"principal": "bob", "privileges": ["USE CATALOG"]},
    ]
