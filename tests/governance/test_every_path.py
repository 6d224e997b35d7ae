"""Trust II: governance on every path. A principal without grants (eve) sees no table value and
no table or model metadata through any CLI command, Python API call, catalog API route or
serving route. The cases are derived from Typer's command tree and FastAPI's route tables: a
command or route that is not classified here fails the test, so a new one must be classified
(and, when it shows data, gated) before it lands. Each refusal is audited.

The platform is the retail example with its governance section on (and eve added), built in
prod by the admin: churn run (with retail_core), its champion promoted, features published.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.governance.conftest import governed_retail
from tests.helpers import Result, prodml_main

import prodml

pytestmark = pytest.mark.slow

ENV = ("--env", "prod")


@dataclass(frozen=True)
class Case:
    """How a command or route must behave for eve.

    kind:
        ``refused`` — an error naming what she lacks, audited as denied;
        ``hidden``  — it succeeds and shows nothing of the catalog (a listing of what she
                      may see: nothing);
        ``own``     — it shows her own records only (which name what she asked for);
        ``config``  — it shows the repository's declarations (products, their steps and
                      tables: what anyone with the code reads), nothing recorded of them;
        ``admin``   — only admins may: refused;
        ``local``   — it touches no table, model or record of the platform (scaffolding,
                      generated tokens, help).
    """

    kind: str
    args: tuple[str, ...] = ()


TABLE = "gold.customer_daily"

#: every CLI command (its path in the tree) → what eve must see; run_id, token_id filled in
COMMANDS: dict[str, Case] = {
    "init": Case("local", ("{tmp}/new",)),
    "plan": Case("refused", ("churn", *ENV)),
    "run": Case("refused", ("churn", *ENV)),
    "promote": Case("refused", ("churn", "--from", "prod", "--to", "staging")),
    "serve": Case("local"),  # starts the serving app: its routes are classified below
    "server": Case("local"),  # starts the catalog API: its routes are classified below
    "audit": Case("own", ENV),
    "lineage": Case("refused", (TABLE, *ENV)),
    "whoami": Case("own", ENV),
    "runs list": Case("hidden", ENV),
    "runs show": Case("refused", ("{run_id}", *ENV)),
    "runs reproduce": Case("refused", ("{run_id}", *ENV)),
    "tables list": Case("hidden", ENV),
    "tables show": Case("refused", (TABLE, *ENV)),
    "tables history": Case("refused", (TABLE, *ENV)),
    "tables preview": Case("refused", (TABLE, *ENV)),
    "tables check": Case("refused", (TABLE, *ENV)),
    "tables optimize": Case("refused", (TABLE, *ENV)),
    "tables vacuum": Case("refused", (TABLE, "--dry-run", *ENV)),
    "tables forget": Case("refused", (TABLE, "--key", "customer_id=C000001", "--yes", *ENV)),
    "tables retain": Case("admin", ENV),  # the example keeps audit and DQ records 1 year
    # the repository's products (their declared steps and tables), none of their runs
    "products list": Case("config", ENV),
    "products show": Case("config", ("churn", *ENV)),
    "models list": Case("hidden", ENV),
    "models versions": Case("refused", ("churn", *ENV)),
    "models show": Case("refused", ("churn", *ENV)),
    "models compare": Case("refused", ("churn", *ENV)),
    "models promote": Case("refused", ("churn", *ENV)),
    "examples add-days": Case("local", ("--days", "1", "--help")),
    "tokens new": Case("local", ("--name", "x")),  # a token and its hash, stored nowhere
    "ab list": Case("hidden", ENV),
    "ab report": Case("refused", ("winback_model", *ENV)),
    "ab conclude": Case("refused", ("winback_model", *ENV)),
    "quality check": Case("refused", (TABLE, *ENV)),
    "quality report": Case("hidden", ENV),
    "drift run": Case("refused", ("churn", *ENV)),
    "features list": Case("hidden", ENV),
    "features show": Case("refused", ("features.customer_features", *ENV)),
    "features publish": Case("refused", ("features.customer_features", *ENV)),
    "features online": Case(
        "refused", ("features.customer_features", "--key", "customer_id=C000001", *ENV)
    ),
    "principals list": Case("own", ENV),
    "principals add": Case("admin", ("mallory", *ENV)),
    "principals add-member": Case("admin", ("platform-admins", "eve", *ENV)),
    "principals remove-member": Case("admin", ("data-scientists", "ana", *ENV)),
    "principals remove": Case("admin", ("ana", *ENV)),
    "principals token new": Case("admin", ("ana", *ENV)),
    "principals token list": Case("own", ("ana", *ENV)),
    "principals token revoke": Case("admin", ("{token_id}", *ENV)),
    "grants grant": Case("refused", ("schema", "prod.gold", "SELECT", "--to", "eve", *ENV)),
    "grants revoke": Case("refused", ("schema", "prod.gold", "SELECT", "--from", "ana", *ENV)),
    "grants show": Case("own", ("schema", "prod.gold", *ENV)),
}


def command_paths() -> list[str]:
    """Every leaf command of the CLI, from Typer's tree."""
    import click
    import typer

    from prodml.cli.main import app

    root = typer.main.get_command(app)
    ctx = click.Context(root)
    out: list[str] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])
        else:
            out.append(" ".join(path))

    walk(root, [])
    return out


@dataclass
class Demo:
    root: Path
    eve: dict[str, str]  # eve's PRODML_TOKEN
    run_id: str
    token_id: str
    secrets: list[str]  # values and names eve must never see
    names: list[str]  # of those, the declared names (in the repository's config)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = governed_retail(
        tmp_path_factory.mktemp("every-path") / "demo",
        lambda text: text.replace("    ben: {", "    eve: {}\n    ben: {", 1),
        ("run", "churn", *ENV),
        ("models", "promote", "churn", *ENV),
        ("features", "publish", *ENV),
    )
    with prodml.connect(root, env="prod") as ws:
        run_id = ws.runs("churn")[0]["run_id"]
        token = ws.new_token("eve", name="every-path")
        ws.new_token("ana", name="ana's")
        token_id = next(t["id"] for t in ws.tokens("ana"))
        sample = ws.read(TABLE).slice(0, 3).to_pylist()
    names = ["customer_daily", "customer_features", "prod.ml.churn"]
    secrets = [run_id, *names, *(str(r["customer_id"]) for r in sample)]
    return Demo(root, {"PRODML_TOKEN": token}, run_id, token_id, secrets, names)


def _denied_since(root: Path, before: int) -> list[dict[str, Any]]:
    with prodml.connect(root, env="prod") as ws:
        log = ws.audit(principal="eve", limit=500)
    return [r for r in log if r["id"] > before and r["outcome"] == "denied"]


def _last_audit_id(root: Path) -> int:
    with prodml.connect(root, env="prod") as ws:
        log = ws.audit(limit=1)
    return int(log[0]["id"]) if log else 0


def test_every_command_is_classified() -> None:
    paths = command_paths()
    unclassified = sorted(set(paths) - set(COMMANDS))
    assert not unclassified, f"classify these commands in COMMANDS: {unclassified}"
    assert not set(COMMANDS) - set(paths), "COMMANDS names commands that no longer exist"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_item1_a_principal_without_grants_sees_nothing_through_the_cli(
    demo: Demo, path: str, tmp_path: Path
) -> None:
    case = COMMANDS[path]
    if path in ("serve", "server"):
        pytest.skip("starts a server: its routes are the cases of the route tests")
    fill = {"run_id": demo.run_id, "token_id": demo.token_id, "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in case.args]
    before = _last_audit_id(demo.root)
    result = prodml_main(*path.split(), *args, cwd=demo.root, env=demo.eve)
    _judge(demo, path, case.kind, result, before)


def _judge(demo: Demo, what: str, kind: str, result: Result, before: int) -> None:
    shown = result.out + result.err
    assert "Traceback" not in shown, shown
    if kind in ("refused", "admin"):
        assert result.code != 0, f"{what} was not refused: {result.out}"
        words = "only admins" if kind == "admin" else "eve may not"
        assert words in result.err, result.err
        assert _denied_since(demo.root, before), f"{what}: the refusal was not audited"
    else:
        assert result.code == 0, result.err
    if kind != "local":
        # a refusal names the securable asked for (a declared name: the product's model,
        # its log table); own records and declarations name tables too. A listing names none.
        named = kind != "hidden"
        leaked = [s for s in demo.secrets if s in shown and not (named and s in demo.names)]
        assert not leaked, f"{what} showed {leaked}: {shown[:2000]}"


# -- the Python API --------------------------------------------------------------------------

#: the façade's calls that show table or model metadata or values → their arguments
API_CALLS: dict[str, tuple[Any, ...]] = {
    "table": (TABLE,),
    "history": (TABLE,),
    "read": (TABLE,),
    "preview": (TABLE,),
    "lineage": (TABLE,),
    "run_info": ("{run_id}",),
    "model_versions": ("churn",),
    "model_details": ("churn",),
    "compare_runs": ("churn",),
    "load_model": ("churn",),
    "alias_version": ("churn", "champion"),
    "feature_table": ("features.customer_features",),
    "quality_check": (TABLE,),
    "check_tables": (TABLE,),
}
#: listings: they succeed and show eve nothing
API_LISTINGS = ("tables", "catalog_entries", "runs", "models", "feature_tables", "quality_report")


@pytest.fixture
def eve_ws(demo: Demo) -> Iterator[prodml.Workspace]:
    with prodml.connect(demo.root, env="prod", environ=demo.eve) as ws:
        yield ws


@pytest.mark.parametrize("method", sorted(API_CALLS))
def test_item1_the_python_api_refuses_and_audits(
    demo: Demo, eve_ws: prodml.Workspace, method: str
) -> None:
    from prodml.errors import AccessDeniedError

    args = [a.format(run_id=demo.run_id) if isinstance(a, str) else a for a in API_CALLS[method]]
    before = _last_audit_id(demo.root)
    with pytest.raises(AccessDeniedError, match="eve may not"):
        getattr(eve_ws, method)(*args)
    assert _denied_since(demo.root, before), f"{method}: the refusal was not audited"


@pytest.mark.parametrize("method", API_LISTINGS)
def test_item1_python_listings_show_nothing(
    demo: Demo, eve_ws: prodml.Workspace, method: str
) -> None:
    listed = getattr(eve_ws, method)()
    text = repr(listed)
    assert not [s for s in demo.secrets if s in text], text[:2000]


def test_item2_the_principal_comes_only_from_the_identity(demo: Demo) -> None:
    """Trust II item 2: eve cannot act as the admin by naming it; an admin may (audited)."""
    from prodml.errors import AuthenticationError

    with (
        pytest.raises(AuthenticationError, match="only admins may act as another principal"),
        prodml.connect(demo.root, env="prod", principal="admin", environ=demo.eve) as ws,
    ):
        ws.table(TABLE)
    with prodml.connect(demo.root, env="prod", principal="ana") as ws:  # the admin, as ana
        assert ws.principal == "ana"
        log = ws.audit(limit=5)  # ana sees her own records: the switch is the admin's
    assert all(r["principal"] == "ana" for r in log)
    with prodml.connect(demo.root, env="prod") as admin:
        switches = [r for r in admin.audit(limit=50) if r["action"] == "impersonate"]
    assert {("admin", "allowed"), ("eve", "denied")} <= {
        (r["principal"], r["outcome"]) for r in switches
    }


def test_item2_model_loads_check_execute_and_are_audited(demo: Demo) -> None:
    with prodml.connect(demo.root, env="prod") as admin:
        model = admin.load_model("churn", alias="champion")
        assert hasattr(model, "predict")
        loads = [r for r in admin.audit(limit=20) if r["action"] == "execute"]
    assert loads and loads[0]["securable"] == "prod.ml.churn" and loads[0]["outcome"] == "allowed"


# -- HTTP: the catalog API and the serving app -----------------------------------------------


def _routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, from its OpenAPI document (FastAPI 0.165
    nests included routers: ``app.routes`` no longer lists their routes)."""
    found = sorted(
        (method.upper(), path)
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    )
    assert found, "the app lists no routes: the classification would test nothing"
    return found


UC = "/api/2.1/unity-catalog"
#: every catalog-API route → (kind, the request made); kinds as for commands
UC_ROUTES: dict[tuple[str, str], tuple[str, str, bytes | None]] = {
    ("GET", f"{UC}/catalogs"): ("hidden", f"{UC}/catalogs", None),
    ("GET", f"{UC}/catalogs/{{name}}"): ("refused", f"{UC}/catalogs/prod", None),
    ("GET", f"{UC}/schemas"): ("refused", f"{UC}/schemas?catalog_name=prod", None),
    ("GET", f"{UC}/schemas/{{full_name}}"): ("refused", f"{UC}/schemas/prod.gold", None),
    ("GET", f"{UC}/tables"): (
        "refused",
        f"{UC}/tables?catalog_name=prod&schema_name=gold",
        None,
    ),
    ("GET", f"{UC}/tables/{{full_name}}"): (
        "refused",
        f"{UC}/tables/prod.gold.customer_daily",
        None,
    ),
    ("GET", f"{UC}/permissions/{{securable_type}}/{{full_name}}"): (
        "refused",
        f"{UC}/permissions/table/prod.gold.customer_daily",
        None,
    ),
    ("PATCH", f"{UC}/permissions/{{securable_type}}/{{full_name}}"): (
        "refused",
        f"{UC}/permissions/table/prod.gold.customer_daily",
        b'{"changes": [{"principal": "nobody", "add": ["SELECT"]}]}',
    ),
    # definitions (item 5): each checked before anything is looked up or made
    ("POST", f"{UC}/catalogs"): ("refused", f"{UC}/catalogs", b'{"name": "eves"}'),
    ("PATCH", f"{UC}/catalogs/{{name}}"): ("refused", f"{UC}/catalogs/prod", b'{"comment": "x"}'),
    ("DELETE", f"{UC}/catalogs/{{name}}"): ("refused", f"{UC}/catalogs/prod", None),
    ("POST", f"{UC}/schemas"): (
        "refused",
        f"{UC}/schemas",
        b'{"name": "raw", "catalog_name": "prod"}',
    ),
    ("PATCH", f"{UC}/schemas/{{full_name}}"): (
        "refused",
        f"{UC}/schemas/prod.gold",
        b'{"comment": "x"}',
    ),
    ("DELETE", f"{UC}/schemas/{{full_name}}"): ("refused", f"{UC}/schemas/prod.gold", None),
    ("POST", f"{UC}/tables"): (
        "refused",
        f"{UC}/tables",
        b'{"name": "x", "catalog_name": "prod", "schema_name": "gold", "table_type": "MANAGED",'
        b' "columns": [{"name": "a", "type_name": "LONG"}]}',
    ),
    ("DELETE", f"{UC}/tables/{{full_name}}"): (
        "refused",
        f"{UC}/tables/prod.gold.customer_daily",
        None,
    ),
}


def test_item1_every_catalog_route_is_classified_and_refuses_eve(demo: Demo) -> None:
    from fastapi.testclient import TestClient

    from prodml.server.app import build

    app, workspaces = build(demo.root, no_auth=False)
    try:
        routes = _routes(app)
        unclassified = [r for r in routes if r not in UC_ROUTES]
        assert not unclassified, f"classify these catalog routes: {unclassified}"
        with TestClient(app, raise_server_exceptions=False) as client:
            for (method, _), (kind, url, body) in sorted(UC_ROUTES.items()):
                _ask_as_eve(demo, client, method, url, body, kind)
    finally:
        for ws in workspaces:
            ws.close()


def _ask_as_eve(
    demo: Demo, client: Any, method: str, url: str, body: bytes | None, kind: str
) -> None:
    """One request as eve, judged: a refusal is a 403 and audited, anything else a 200; no
    answer shows a secret she did not ask for (a refusal may name the URL or body's)."""
    headers = {
        "Authorization": f"Bearer {demo.eve['PRODML_TOKEN']}",
        "Content-Type": "application/json",
    }
    before = _last_audit_id(demo.root)
    r = client.request(method, url, headers=headers, content=body)
    what = f"{method} {url}"
    if kind == "refused":
        assert r.status_code == 403, f"{what}: {r.status_code} {r.text}"
        assert _denied_since(demo.root, before), f"{what}: the refusal was not audited"
    else:
        assert r.status_code == 200, f"{what}: {r.status_code} {r.text}"
    asked = what + (body or b"").decode()
    leaked = [s for s in demo.secrets if s in r.text and s not in asked]
    assert not leaked or kind == "local", f"{what} showed {leaked}: {r.text[:1000]}"


#: every serving route → (kind, method, the request made); ``local`` routes are the
#: operations ones (health, readiness, metrics) that show no table or model data
SERVING_ROUTES: dict[tuple[str, str], tuple[str, str, bytes | None]] = {
    ("GET", "/health"): ("local", "/health", None),
    ("GET", "/ping"): ("local", "/ping", None),
    ("GET", "/version"): ("local", "/version", None),
    ("GET", "/ready"): ("local", "/ready", None),
    ("GET", "/metrics"): ("local", "/metrics", None),
    ("POST", "/v1/admin/reload"): ("refused", "/v1/admin/reload", b""),
    ("GET", "/v1/products"): ("refused", "/v1/products", None),
    ("GET", "/v1/products/{product}"): ("refused", "/v1/products/churn", None),
    ("POST", "/v1/products/{product}/predict"): (
        "refused",
        "/v1/products/churn/predict",
        b'{"records": [{"customer_id": "C000001"}]}',
    ),
    ("POST", "/v1/products/{product}/invocations"): (
        "refused",
        "/v1/products/churn/invocations",
        b'{"dataframe_records": [{"customer_id": "C000001"}]}',
    ),
    ("POST", "/invocations"): (
        "refused",
        "/invocations",
        b'{"dataframe_records": [{"customer_id": "C000001"}]}',
    ),
    ("POST", "/v1/features/online"): (
        "refused",
        "/v1/features/online",
        b'{"table": "features.customer_features", "entities": [{"customer_id": "C000001"}]}',
    ),
    ("POST", "/v1/products/{product}/outcomes"): (
        "refused",
        "/v1/products/churn/outcomes",
        b'{"outcomes": []}',
    ),
}


def test_item1_every_serving_route_is_classified_and_refuses_eve(demo: Demo) -> None:
    from fastapi.testclient import TestClient

    with prodml.connect(demo.root, env="prod") as ws:
        app = ws.serving_app(["churn"])
        routes = _routes(app)
        unclassified = [r for r in routes if r not in SERVING_ROUTES]
        assert not unclassified, f"classify these serving routes: {unclassified}"
        with TestClient(app, raise_server_exceptions=False) as client:
            for _ in range(600):  # the champion loads in the background
                if client.get("/ready").status_code == 200:
                    break
                time.sleep(0.1)
            for (method, path), (kind, url, body) in sorted(SERVING_ROUTES.items()):
                if (method, path) not in routes:
                    continue  # e.g. /invocations: only when one product is served
                _ask_as_eve(demo, client, method, url, body, kind)
        # item 2: the server loaded the champion as its starter: EXECUTE, audited
        loads = [r for r in ws.audit(limit=200) if r["client"] == "serve"]
    assert ("execute", "prod.ml.churn", "allowed") in {
        (r["action"], r["securable"], r["outcome"]) for r in loads
    }


def test_listings_as_the_admin_show_the_catalog(demo: Demo) -> None:
    """The same listings as the admin do show the tables (the refusals above are grants)."""
    shown = prodml_main("tables", "list", *ENV, "--json", cwd=demo.root)
    assert shown.code == 0 and TABLE in {t["name"] for t in json.loads(shown.out)}
