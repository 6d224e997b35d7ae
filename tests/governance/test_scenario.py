"""Governance end to end on a small platform with three environments: a data scientist reads
prod.gold but may not write it, the product's service principal runs it in staging (not prod),
the endpoint answers 403 without EXECUTE, and every decision is in the audit log."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    PRODUCT,
    assert_clean_error,
    make_platform,
    prodml_cli,
    prodml_main,
)
from tests.live import serving

import prodml
from prodml.governance.errors import PermissionDeniedError
from prodml.pipeline.errors import StepFailedError

pytestmark = pytest.mark.slow

PLATFORM = """\
name: t
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
  staging: {}
  prod: {}
governance:
  enabled: true
  admins: [platform-admins]
  local_user: ops
  users:
    ops: {groups: [platform-admins]}
    ana: {email: ana@example.com, groups: [data-scientists]}
    eve: {}
  groups:
    platform-admins: {}
    data-scientists: {}
  service_principals:
    churn-sp: {description: runs clf in staging}
    churn-prod-sp: {description: runs clf in prod}
  grants:
    - {securable: catalog prod, principal: data-scientists, privileges: [USE_CATALOG, USE_SCHEMA]}
    - {securable: schema prod.gold, principal: data-scientists, privileges: [SELECT]}
    - {securable: catalog staging, principal: churn-sp, privileges: [ALL_PRIVILEGES]}
    - {securable: catalog prod, principal: churn-prod-sp, privileges: [ALL_PRIVILEGES]}
    - {securable: endpoint prod.clf, principal: data-scientists, privileges: [EXECUTE]}
"""

MODEL = """params: {c: 1.0}
run_as: churn-sp              # staging (and dev) runs; prod has its own service principal
environments:
  prod: {run_as: churn-prod-sp}
model:
  name: clf
  gate:
    metrics: {auc: {min: 0.6}}
endpoint:
  variants:
    champion: {alias: champion}
"""


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)]
)
def metadata(request: pytest.FixtureRequest) -> Iterator[str]:
    """The platform's metadata store: the default SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield ""
        return
    base = os.environ.get("PRODML_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PRODML_TEST_POSTGRES_URL not set: PostgreSQL backend tests skipped")
    import sqlalchemy as sa

    schema = f"gov_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"metadata: {{url: '{base}{sep}options=-csearch_path%3D{schema}'}}\n"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, metadata: str) -> Path:
    root = make_platform(
        tmp_path_factory.mktemp("gov") / "p",
        {"clf": CLASSIFIER_PIPELINE},
        platform=PLATFORM.replace(
            "storage: {root: data}\n", f"storage: {{root: data}}\n{metadata}"
        ),
    )
    (root / "products" / "clf" / "product.yaml").write_text(PRODUCT.format(name="clf") + MODEL)
    with prodml.connect(root, env="prod") as ws:  # ops, an admin, starts it as churn-prod-sp
        assert ws.principal == "ops"
        ws.run("clf")
        assert ws.runs("clf")[0]["run_as"] == "churn-prod-sp"
        ws.promote_model("clf")
    return root


def _token(root: Path, principal: str) -> str:
    with prodml.connect(root) as ws:
        return ws.new_token(principal, name="test")


def test_a_data_scientist_reads_prod_gold_but_may_not_write_it(platform: Path) -> None:
    token = _token(platform, "ana")
    with prodml.connect(platform, env="prod", environ={"PRODML_TOKEN": token}) as ws:
        assert ws.principal == "ana"
        assert ws.read("gold.examples").num_rows == 400
        with pytest.raises(PermissionDeniedError, match=r"lacks SELECT on table prod\.ml\.fit"):
            ws.read("ml.fit")
        # clf runs as churn-sp, but ana may not use it: her run has her own privileges
        with pytest.raises(StepFailedError) as err:
            ws.run("clf", steps=["examples"], full_refresh=True)
        assert "ana may not write table prod.gold.examples: it lacks MODIFY on table " in str(
            err.value
        )
        runs = ws.runs("clf")
        assert (runs[0]["principal"], runs[0]["run_as"]) == ("ana", "ana")
        with pytest.raises(PermissionDeniedError, match=r"lacks MODIFY on model prod\.ml\.clf"):
            ws.promote_model("clf")
        denied = ws.audit(principal="ana")
    assert {(r["action"], r["securable"], r["outcome"]) for r in denied} >= {
        ("read", "prod.gold.examples", "allowed"),
        ("read", "prod.ml.fit", "denied"),
        ("write", "prod.gold.examples", "denied"),
    }


def test_the_service_principal_runs_the_product_in_staging_not_in_prod(platform: Path) -> None:
    token = _token(platform, "churn-sp")
    environ = {"PRODML_TOKEN": token}
    with prodml.connect(platform, env="staging", environ=environ) as ws:
        result = ws.run("clf", full_refresh=True)  # whatever another test ran here before
        assert {s["status"] for s in result.steps} == {"succeeded"}
        run = ws.runs("clf")[0]
        assert (run["principal"], run["run_as"]) == ("churn-sp", "churn-sp")
    with (
        prodml.connect(platform, env="prod", environ=environ) as ws,
        pytest.raises(StepFailedError, match=r"churn-sp may not write table prod\.gold\.examples"),
    ):
        ws.run("clf", steps=["examples"], full_refresh=True)
    # an admin starting clf runs it as its service principal; both are recorded
    with prodml.connect(platform, env="staging") as ws:
        ws.run("clf", steps=["examples"], full_refresh=True)
        run = ws.runs("clf")[0]
        assert (run["principal"], run["run_as"]) == ("ops", "churn-sp")


def test_the_endpoint_needs_execute(platform: Path) -> None:
    ana, eve = _token(platform, "ana"), _token(platform, "eve")
    with prodml.connect(platform, env="prod") as ws:
        app = ws.serving_app(["clf"])
    body = {"dataframe_records": [{"a": 1.0, "b": 0.5}]}
    with serving(app) as live, live.client() as client:
        ok = client.post("/invocations", json=body, headers={"Authorization": f"Bearer {ana}"})
        assert ok.status_code == 200, ok.text
        refused = client.post("/invocations", json=body, headers={"Authorization": f"Bearer {eve}"})
        assert refused.status_code == 403
        assert refused.json()["error_code"] == "PERMISSION_DENIED"
        assert "eve lacks EXECUTE on endpoint clf" in refused.json()["message"]
        assert client.post("/invocations", json=body).status_code == 401
        bad = client.post("/invocations", json=body, headers={"Authorization": "Bearer pdml_x_y"})
        assert bad.status_code == 401
        with prodml.connect(platform) as ws:  # revoked before its first use
            token = ws.new_token("ana", name="gone")
            ws.revoke_token(token.split("_")[1])
        gone = client.post("/invocations", json=body, headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
        with prodml.connect(platform) as ws:
            expired = ws.new_token(
                "ana", name="old", expires_at=datetime.now(UTC) - timedelta(minutes=1)
            )
        late = client.post(
            "/invocations", json=body, headers={"Authorization": f"Bearer {expired}"}
        )
        assert late.status_code == 401 and expired not in late.text
    with prodml.connect(platform, env="prod") as ws:
        calls = ws.audit(securable="prod.clf")
    assert {(r["principal"], r["outcome"]) for r in calls if r["action"] == "call"} == {
        ("ana", "allowed"),
        ("eve", "denied"),
    }
    assert any(r["action"] == "authenticate" and r["outcome"] == "denied" for r in calls)


def test_cli_identity_grants_and_audit(platform: Path) -> None:
    ana = _token(platform, "ana")
    env = {"PRODML_TOKEN": ana}
    who = prodml_cli("whoami", cwd=platform, env=env)
    assert who.code == 0 and who.out.strip() == "ana" and "data-scientists" in who.err
    wrong = prodml_main("whoami", cwd=platform, env={"PRODML_TOKEN": "pdml_nope_secretpart"})
    assert_clean_error(wrong, "authentication failed: unknown token")
    assert "secretpart" not in wrong.err + wrong.out  # a token is never echoed
    # granting needs MANAGE or ownership: ana has neither; ops (an admin) may
    refused = prodml_main(
        "grants",
        "grant",
        "table",
        "prod.gold.examples",
        "MODIFY",
        "--to",
        "ana",
        "--env",
        "prod",
        cwd=platform,
        env=env,
    )
    assert_clean_error(
        refused, "ana may not grant on it: it lacks MANAGE on table prod.gold.examples"
    )
    granted = prodml_cli(
        "grants",
        "grant",
        "table",
        "prod.gold.examples",
        "MODIFY",
        "--to",
        "ana",
        "--env",
        "prod",
        cwd=platform,
    )
    assert granted.code == 0, granted.err
    shown = json.loads(
        prodml_cli(
            "grants", "show", "table", "prod.gold.examples", "--json", "--env", "prod", cwd=platform
        ).out
    )
    assert {(g["principal"], g["privilege"], g["inherited_from"]) for g in shown} >= {
        ("ana", "MODIFY", None),
        ("data-scientists", "SELECT", "prod.gold"),
        ("data-scientists", "USE_CATALOG", "prod"),
    }
    assert_clean_error(
        prodml_main("grants", "grant", "table", "prod.gold", "SELECT", "--to", "ana", cwd=platform),
        "is not CATALOG.SCHEMA.TABLE",
    )
    assert_clean_error(
        prodml_main(
            "grants", "grant", "table", "prod.gold.x", "USE_CATALOG", "--to", "ana", cwd=platform
        ),
        "USE_CATALOG cannot be granted on a table",
    )
    revoked = prodml_cli(
        "grants",
        "revoke",
        "table",
        "prod.gold.examples",
        "MODIFY",
        "--from",
        "ana",
        "--env",
        "prod",
        cwd=platform,
    )
    assert revoked.code == 0, revoked.err
    audit = json.loads(prodml_cli("audit", "--principal", "ana", "--json", cwd=platform).out)
    assert any(r["action"] == "grant" and r["outcome"] == "denied" for r in audit)
    changes = json.loads(prodml_cli("audit", "--principal", "ops", "--json", cwd=platform).out)
    assert {r["action"] for r in changes if r["outcome"] == "changed"} >= {"grant", "revoke"}
    assert_clean_error(prodml_main("audit", "--since", "last week", cwd=platform), "--since")
    # tokens never appear in the audit log or the run records
    everything = prodml_cli("audit", "--json", "--limit", "100000", cwd=platform).out
    assert ana not in everything and "pdml_" not in everything


def test_the_gate_needs_modify_on_the_model(platform: Path) -> None:
    """Setting the challenger (or champion, with --promote) alias is a change to the model."""
    with prodml.connect(platform) as ws:  # ops: everything in dev but MODIFY on the model
        ws.grant(
            "catalog",
            "dev",
            "eve",
            ["USE_CATALOG", "USE_SCHEMA", "SELECT", "EXECUTE", "CREATE_TABLE", "CREATE_MODEL"],
        )
        for table in ("dev.gold.examples", "dev.ml.fit", "dev.ml.evaluation"):
            ws.grant("table", table, "eve", ["MODIFY"])
    eve = {"PRODML_TOKEN": _token(platform, "eve")}
    with prodml.connect(platform, environ=eve) as ws:
        with pytest.raises(
            StepFailedError, match=r"eve may not .*lacks MODIFY on model dev\.ml\.clf"
        ):
            ws.run("clf", promote=True)
        assert ws.alias_version("clf", "champion") is None


def test_lineage_stays_in_its_environment(platform: Path) -> None:
    """Environments share this platform's metadata store; lineage is per catalog."""
    with prodml.connect(platform, env="staging") as ws:  # ops runs clf (as churn-sp)
        ws.run("clf", full_refresh=True)
    with prodml.connect(platform, env="prod") as ws:
        edges = ws.lineage("gold.examples", upstream=False)
    targets = {e.target for e in edges}
    assert "prod.ml.fit" in targets and "model:prod.ml.clf/1" in targets
    assert not any(t.startswith(("staging.", "dev.", "model:staging")) for t in targets)
