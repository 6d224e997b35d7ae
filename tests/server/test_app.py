"""The official, unmodified ``unitycatalog-client`` against ``prodml server``'s catalog API:
list catalogs, schemas and tables, get a table, grant and revoke; an ungranted principal gets
403, a bad token 401."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers import PRODUCT, make_platform
from tests.live import serving

import prodml
from prodml.server.app import build

PLATFORM = """\
name: t
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
    ana: {groups: [data-scientists]}
    eve: {}
  groups: {admins: {}, data-scientists: {}}
  grants:
    - {securable: catalog prod, principal: data-scientists, privileges: [USE_CATALOG, USE_SCHEMA]}
    - {securable: schema prod.gold, principal: data-scientists, privileges: [SELECT]}
    - {securable: table prod.gold.orders, principal: ana, privileges: [ALL_PRIVILEGES, MANAGE]}
"""

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="silver.orders_raw")
def raw(ctx):
    return ctx.sql("SELECT 1 AS order_id, 'DE' AS country")

@step(stage="features", inputs=["silver.orders_raw"], outputs="gold.orders")
def orders(ctx, orders_raw):
    return ctx.sql("SELECT order_id, country, 9.5::DOUBLE AS amount FROM orders_raw")
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    root = make_platform(tmp_path_factory.mktemp("uc") / "p", {"shop": PIPELINE}, platform=PLATFORM)
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop")
        + "tables:\n  gold.orders:\n    description: Orders.\n    columns: {amount: Euros.}\n"
    )
    yield from _server(root, run=True)


def _server(root: Path, *, run: bool) -> Iterator[tuple[str, dict[str, str], Path]]:
    """``prodml server`` over ``root`` (after a run of shop if ``run``): its API URL, a
    token per user, the root."""
    with prodml.connect(root, env="prod") as ws:
        if run:
            ws.run("shop")
        tokens = {who: ws.new_token(who, name="uc") for who in ("ops", "ana", "eve")}
    app, workspaces = build(root, no_auth=False)
    try:
        with serving(app, ready=False) as server:
            yield f"{server.url}/api/2.1/unity-catalog", tokens, root
    finally:
        for ws in workspaces:
            ws.close()


def _run(host: str, token: str, work: Any) -> Any:
    from unitycatalog.client import ApiClient, Configuration

    async def go() -> Any:
        config = Configuration(host=host)
        async with ApiClient(
            config, header_name="Authorization", header_value=f"Bearer {token}"
        ) as client:
            return await work(client)

    return asyncio.run(go())


def test_the_client_browses_catalogs_schemas_and_tables(
    live: tuple[str, dict[str, str], Path],
) -> None:
    from unitycatalog.client import CatalogsApi, SchemasApi, TablesApi

    host, tokens, _ = live

    async def browse(client: Any) -> Any:
        catalogs = await CatalogsApi(client).list_catalogs()
        schemas = await SchemasApi(client).list_schemas(catalog_name="prod")
        tables = await TablesApi(client).list_tables(catalog_name="prod", schema_name="gold")
        table = await TablesApi(client).get_table("prod.gold.orders")
        return catalogs, schemas, tables, table

    catalogs, schemas, tables, table = _run(host, tokens["ana"], browse)
    assert [c.name for c in catalogs.catalogs] == ["prod"]  # ana may not use dev
    assert [s.name for s in schemas.schemas] == ["gold", "silver"]  # USE_SCHEMA on all of prod
    assert [t.name for t in tables.tables] == ["orders"]  # SELECT on gold only
    assert table.data_source_format.value == "DELTA" and table.table_type.value == "MANAGED"
    assert [(c.name, c.type_name.value) for c in table.columns] == [
        ("order_id", "INT"),
        ("country", "STRING"),
        ("amount", "DOUBLE"),
    ]
    assert table.columns[2].comment == "Euros." and table.comment == "Orders."
    admin = _run(host, tokens["ops"], lambda c: CatalogsApi(c).list_catalogs())
    assert sorted(c.name for c in admin.catalogs) == ["dev", "prod"]


def test_grant_and_revoke_through_the_client(live: tuple[str, dict[str, str], Path]) -> None:
    from unitycatalog.client import GrantsApi
    from unitycatalog.client.models import PermissionsChange, Privilege, UpdatePermissions

    host, tokens, root = live

    def change(add: list[Privilege], remove: list[Privilege]) -> Any:
        body = UpdatePermissions(
            changes=[PermissionsChange(principal="eve", add=add, remove=remove)]
        )
        return lambda c: GrantsApi(c).update("table", "prod.gold.orders", body)

    after = _run(host, tokens["ops"], change([Privilege.SELECT, Privilege.MODIFY], []))
    assert {
        (a.principal, tuple(sorted(p.value for p in a.privileges)))
        for a in after.privilege_assignments
    } >= {("eve", ("MODIFY", "SELECT"))}
    # ana holds ALL_PRIVILEGES and MANAGE: sent expanded, MANAGE left off the wire
    listed = _run(host, tokens["ops"], lambda c: GrantsApi(c).get("table", "prod.gold.orders"))
    ana = next(a for a in listed.privilege_assignments if a.principal == "ana")
    assert {p.value for p in ana.privileges} == {"SELECT", "MODIFY"}
    # ana manages the table, so she may revoke
    after = _run(host, tokens["ana"], change([], [Privilege.MODIFY]))
    eve = next(a for a in after.privilege_assignments if a.principal == "eve")
    assert [p.value for p in eve.privileges] == ["SELECT"]
    with prodml.connect(root, env="prod") as ws:
        log = ws.audit(securable="prod.gold.orders")
    assert {(r["principal"], r["action"]) for r in log if r["outcome"] == "changed"} >= {
        ("ops", "grant"),
        ("ana", "revoke"),
    }


def test_ungranted_and_unauthenticated_callers(live: tuple[str, dict[str, str], Path]) -> None:
    from unitycatalog.client import CatalogsApi, GrantsApi, TablesApi
    from unitycatalog.client.exceptions import ApiException
    from unitycatalog.client.models import PermissionsChange, Privilege, UpdatePermissions

    host, tokens, _ = live
    for work in (
        lambda c: TablesApi(c).get_table("prod.gold.orders"),
        lambda c: CatalogsApi(c).get_catalog("prod"),
        lambda c: GrantsApi(c).get("table", "prod.gold.orders"),
        lambda c: GrantsApi(c).update(
            "table",
            "prod.gold.orders",
            UpdatePermissions(
                changes=[PermissionsChange(principal="eve", add=[Privilege.MODIFY], remove=[])]
            ),
        ),
    ):
        with pytest.raises(ApiException) as err:
            _run(host, tokens["eve"], work)
        assert err.value.status == 403, err.value.body
    assert _run(host, tokens["eve"], lambda c: CatalogsApi(c).list_catalogs()).catalogs in (
        [],
        None,
    )
    with pytest.raises(ApiException) as err:
        _run(host, "pdml_nope_nope", lambda c: CatalogsApi(c).list_catalogs())
    assert err.value.status == 401


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/tables/prod.gold.orders;drop", 400, "is not CATALOG.SCHEMA.TABLE"),
        ("/tables/prod.gold.nope", 404, "does not exist"),
        ("/tables/nowhere.gold.orders", 404, "catalog 'nowhere' does not exist"),
        ("/permissions/volume/prod.gold.x", 400, "unsupported securable type"),
        ("/schemas/prod.platinum", 404, "does not exist"),
    ],
)
def test_bad_requests(
    live: tuple[str, dict[str, str], Path], path: str, status: int, needle: str
) -> None:
    host, tokens, _ = live
    r = httpx.get(host + path, headers={"Authorization": f"Bearer {tokens['ops']}"})
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


def test_bad_permission_changes(live: tuple[str, dict[str, str], Path]) -> None:
    host, tokens, _ = live
    url = f"{host}/permissions/table/prod.gold.orders"
    auth = {"Authorization": f"Bearer {tokens['ops']}"}
    for body, needle in (
        (b"{nope", "not JSON"),
        (b'{"changes": 1}', "changes"),
        (
            b'{"changes": [{"principal": "eve", "add": ["USE CATALOG"]}]}',
            "cannot be granted on a table",
        ),
        (b'{"changes": [{"principal": "eve", "add": ["FLY"]}]}', "unknown privilege"),
        (b'{"changes": [{"principal": "nobody", "add": ["SELECT"]}]}', "unknown principal"),
        (b'{"changes": [{"principal": "eve", "add": [1]}]}', "list of privilege names"),
        (b'{"changes": [{"principal": "eve", "add": "SELECT"}]}', "list of privilege names"),
        # a valid change before a bad one: nothing is applied
        (
            b'{"changes": [{"principal": "eve", "add": ["MODIFY"]}, '
            b'{"principal": "eve", "add": ["FLY"]}]}',
            "unknown privilege",
        ),
    ):
        r = httpx.patch(url, content=body, headers=auth)
        assert r.status_code in (400, 404), (body, r.text)
        assert needle in r.json()["message"], (body, r.text)
    granted = httpx.get(url, params={"principal": "eve"}, headers=auth).json()
    assert all("MODIFY" not in a["privileges"] for a in granted["privilege_assignments"])


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """``prodml server`` over a platform of its own, where nothing has run yet."""
    yield from _server(make_platform(tmp_path / "p", {"shop": PIPELINE}, PLATFORM), run=False)


async def _build_lake(client: Any, events: str) -> Any:
    """The scenario's first part as its admin: a catalog, three layers, an external table."""
    from unitycatalog.client import CatalogsApi, SchemasApi, TablesApi
    from unitycatalog.client.models import (
        CreateCatalog,
        CreateSchema,
        CreateTable,
        DataSourceFormat,
        TableType,
    )

    catalog = await CatalogsApi(client).create_catalog(
        CreateCatalog(name="lake", comment="Raw events.", properties={"team": "web"})
    )
    for layer in ("bronze", "silver", "gold"):
        await SchemasApi(client).create_schema(CreateSchema(name=layer, catalog_name="lake"))
    table = await TablesApi(client).create_table(
        CreateTable(
            name="events",
            catalog_name="lake",
            schema_name="bronze",
            table_type=TableType.EXTERNAL,
            data_source_format=DataSourceFormat.DELTA,
            columns=[],
            storage_location=events,
        )
    )
    schemas = await SchemasApi(client).list_schemas(catalog_name="lake")
    return catalog, table, schemas


async def _grant_schema_to_analysts(client: Any) -> None:
    """USE CATALOG on lake, USE SCHEMA and SELECT on lake.bronze, to data-scientists."""
    from unitycatalog.client import GrantsApi
    from unitycatalog.client.models import (
        PermissionsChange,
        Privilege,
        SecurableType,
        UpdatePermissions,
    )

    for kind, name, privileges in (
        (SecurableType.CATALOG, "lake", [Privilege.USE_CATALOG]),
        (SecurableType.SCHEMA, "lake.bronze", [Privilege.USE_SCHEMA, Privilege.SELECT]),
    ):
        change = PermissionsChange(principal="data-scientists", add=privileges, remove=[])
        await GrantsApi(client).update(kind, name, UpdatePermissions(changes=[change]))


def test_item5_the_official_clients_scenario(fresh: tuple[str, dict[str, str], Path]) -> None:
    """Create a catalog, its bronze/silver/gold schemas and an external table; an analyst
    is refused (403), a schema-level grant is made, then the analyst reads the table."""
    import deltalake
    import pyarrow as pa
    from unitycatalog.client import TablesApi
    from unitycatalog.client.exceptions import ApiException
    from unitycatalog.client.models import TableType

    host, tokens, root = fresh
    rows = pa.table({"event_id": pa.array([1, 2, 3], pa.int64()), "kind": ["view", "buy", "view"]})
    files = root / "data" / "external" / "events"
    deltalake.write_deltalake(str(files), rows)

    catalog, table, schemas = _run(host, tokens["ops"], lambda c: _build_lake(c, files.as_uri()))
    assert (catalog.name, catalog.owner, catalog.comment) == ("lake", "ops", "Raw events.")
    assert catalog.created_at and catalog.properties == {"team": "web"}
    assert [s.name for s in schemas.schemas] == ["bronze", "gold", "silver"]
    assert table.table_type == TableType.EXTERNAL and table.owner == "ops"
    assert table.storage_location == files.as_uri() and table.created_at
    assert [(c.name, c.type_name.value, c.type_text) for c in table.columns] == [
        ("event_id", "LONG", "bigint"),
        ("kind", "STRING", "string"),
    ]

    with pytest.raises(ApiException) as err:
        _run(host, tokens["ana"], lambda c: TablesApi(c).get_table("lake.bronze.events"))
    assert err.value.status == 403 and "lacks USE_CATALOG on catalog lake" in str(err.value.body)

    _run(host, tokens["ops"], _grant_schema_to_analysts)
    seen = _run(host, tokens["ana"], lambda c: TablesApi(c).get_table("lake.bronze.events"))
    assert seen.storage_location == files.as_uri()
    read = deltalake.DeltaTable(seen.storage_location).to_pyarrow_table()
    assert read.sort_by("event_id").equals(rows)
    # the same table, the same rule, through the Python API
    with prodml.connect(root, env="prod") as ws:
        assert ws.as_caller(tokens["ana"], client="test").read("lake.bronze.events").equals(rows)
        with pytest.raises(prodml.errors.AccessDeniedError):
            ws.as_caller(tokens["eve"], client="test").read("lake.bronze.events")
        log = ws.audit(securable="lake")
    changed = {(r["principal"], r["action"]) for r in log if r["outcome"] == "changed"}
    assert changed >= {("ops", "catalog.create"), ("ops", "grant")}


def test_item7_a_client_leaving_mid_body_is_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """As on the serving routes: the catalog API's body reads (FastAPI's) log no error."""
    import logging

    root = make_platform(tmp_path / "p", {"shop": PIPELINE}, PLATFORM)
    app, workspaces = build(root, no_auth=True)
    try:
        with caplog.at_level(logging.INFO), serving(app, ready=False) as live:
            for method, path in (("POST", "catalogs"), ("PATCH", "permissions/catalog/prod")):
                live.leave_mid_body(
                    f"/api/2.1/unity-catalog/{path}",
                    b'{"name": "la',
                    4096,
                    method,
                    **{"Content-Type": "application/json"},
                )
            time.sleep(0.5)
            assert httpx.get(f"{live.url}/api/2.1/unity-catalog/catalogs").status_code == 200
    finally:
        for ws in workspaces:
            ws.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


def test_listings_page_as_the_client_asks(live: tuple[str, dict[str, str], Path]) -> None:
    from unitycatalog.client import CatalogsApi, SchemasApi

    host, tokens, _ = live

    async def pages(client: Any) -> Any:
        first = await CatalogsApi(client).list_catalogs(max_results=1)
        second = await CatalogsApi(client).list_catalogs(
            max_results=1, page_token=first.next_page_token
        )
        schemas = await SchemasApi(client).list_schemas(catalog_name="prod", max_results=0)
        return first, second, schemas

    first, second, schemas = _run(host, tokens["ops"], pages)
    assert [c.name for c in first.catalogs] == ["dev"] and first.next_page_token
    assert [c.name for c in second.catalogs] == ["prod"] and second.next_page_token is None
    assert [s.name for s in schemas.schemas] == ["gold", "silver"]  # 0: every one
    for params, needle in (({"page_token": "x"}, "not one this server gave"),
                           ({"max_results": "-1"}, "max_results must be 0 to 1000")):  # fmt: skip
        r = httpx.get(
            f"{host}/catalogs", params=params, headers={"Authorization": f"Bearer {tokens['ops']}"}
        )
        assert r.status_code == 400 and needle in r.json()["message"], r.text
