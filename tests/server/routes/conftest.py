"""A governed platform for the catalog server's route tests: the shop run in prod (dev stays
empty), a token per user, and the app with and without authentication (FastAPI TestClient).

Who may do what in prod:
    ops   an admin
    ana   USE_CATALOG and USE_SCHEMA on the catalog; ALL_PRIVILEGES and MANAGE on gold.orders
    bob   USE_CATALOG; USE_SCHEMA on gold only; MODIFY (not SELECT) on gold.customers
    dan   USE_CATALOG only
    eve   nothing
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.server.app import PREFIX, build

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
    dan: {}
    eve: {}
  groups: {admins: {}}
  grants:
    - {securable: catalog prod, principal: ana, privileges: [USE_CATALOG, USE_SCHEMA]}
    - {securable: table prod.gold.orders, principal: ana, privileges: [ALL_PRIVILEGES, MANAGE]}
    - {securable: catalog prod, principal: bob, privileges: [USE_CATALOG]}
    - {securable: schema prod.gold, principal: bob, privileges: [USE_SCHEMA]}
    - {securable: table prod.gold.customers, principal: bob, privileges: [MODIFY]}
    - {securable: catalog prod, principal: dan, privileges: [USE_CATALOG]}
  owners:
    - {securable: catalog prod, owner: ops}
    - {securable: table prod.gold.orders, owner: ana}
"""

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="silver.orders_raw")
def raw(ctx):
    return ctx.sql("SELECT 1 AS order_id, 'c1' AS customer_id")

@step(stage="features", inputs=["silver.orders_raw"], outputs="gold.orders")
def orders(ctx, orders_raw):
    return ctx.sql("SELECT order_id, customer_id, 9.5::DOUBLE AS amount FROM orders_raw")

@step(stage="features", inputs=["silver.orders_raw"], outputs="gold.customers")
def customers(ctx, orders_raw):
    return ctx.sql("SELECT DISTINCT customer_id FROM orders_raw")
"""

DOCS = """\
tables:
  gold.orders:
    description: Orders.
    columns: {amount: Euros.}
"""

USERS = ("ops", "ana", "bob", "dan", "eve")


@dataclass
class UC:
    """A running catalog API: its client, the platform and each user's Authorization header."""

    client: TestClient
    root: Path
    auth: dict[str, dict[str, str]]

    def get(self, path: str, who: str | None, **params: str) -> httpx.Response:
        """GET ``path`` (below the API prefix) as ``who`` (None: no Authorization header)."""
        headers = self.auth[who] if who else {}
        return self.client.get(PREFIX + path, params=params, headers=headers)

    def patch(self, path: str, who: str | None, body: bytes, **headers: str) -> httpx.Response:
        """PATCH ``path`` with a raw body as ``who``."""
        return self.client.patch(
            PREFIX + path, content=body, headers={**(self.auth[who] if who else {}), **headers}
        )

    def post(self, path: str, who: str | None, body: object) -> httpx.Response:
        """POST ``body`` (JSON; bytes as they are) to ``path`` as ``who``."""
        headers = self.auth[who] if who else {}
        if isinstance(body, bytes):
            return self.client.post(
                PREFIX + path, content=body, headers={**headers, "content-type": "application/json"}
            )
        return self.client.post(PREFIX + path, json=body, headers=headers)

    def delete(self, path: str, who: str | None, **params: str) -> httpx.Response:
        """DELETE ``path`` as ``who``."""
        headers = self.auth[who] if who else {}
        return self.client.delete(PREFIX + path, params=params, headers=headers)


@pytest.fixture(scope="session")
def uc_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
    """The platform, built once per test process, and each user's Authorization header."""
    root = make_platform(tmp_path_factory.mktemp("uc-routes") / "p", {"shop": PIPELINE}, PLATFORM)
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + DOCS)
    with prodml.connect(root, env="prod") as ws:
        ws.run("shop")
        tokens = {who: ws.new_token(who, name="routes") for who in USERS}
    return root, {who: {"Authorization": f"Bearer {t}"} for who, t in tokens.items()}


def _serve(root: Path, auth: dict[str, dict[str, str]], *, no_auth: bool) -> Iterator[UC]:
    app, workspaces = build(root, no_auth=no_auth)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield UC(client, root, auth)
    finally:
        for ws in workspaces:
            ws.close()


@pytest.fixture(scope="module")
def uc_new(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UC]:
    """The catalog API over a platform of its own (nothing run yet), for tests that create,
    change and drop catalogs, schemas and tables."""
    root = make_platform(tmp_path_factory.mktemp("uc-new") / "p", {"shop": PIPELINE}, PLATFORM)
    with prodml.connect(root, env="prod") as ws:
        tokens = {who: ws.new_token(who, name="routes") for who in USERS}
    yield from _serve(
        root, {w: {"Authorization": f"Bearer {t}"} for w, t in tokens.items()}, no_auth=False
    )


@pytest.fixture(scope="session")
def uc(uc_root: tuple[Path, dict[str, dict[str, str]]]) -> Iterator[UC]:
    """The catalog API with authentication (as ``prodml server`` runs it)."""
    yield from _serve(*uc_root, no_auth=False)


@pytest.fixture(scope="session")
def uc_open(uc_root: tuple[Path, dict[str, dict[str, str]]]) -> Iterator[UC]:
    """The catalog API with ``--no-auth``."""
    yield from _serve(*uc_root, no_auth=True)


def problem(r: httpx.Response, status: int, code: str) -> str:
    """Assert Unity Catalog's error body with ``status`` and ``code``; its message."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert set(doc) == {"error_code", "message"} and doc["error_code"] == code, doc
    return str(doc["message"])
