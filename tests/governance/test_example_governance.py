"""The acceptance scenario on the retail example with its governance section turned on: a data
scientist reads prod.gold but is refused a write; churn's service principal runs the pipeline in
staging; a principal without EXECUTE gets 403 from churn's endpoint; every decision is audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import assert_clean_error, prodml_cli, prodml_main
from tests.live import serving

import prodml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gov-example") / "demo"
    assert prodml_cli("init", str(root), "--example", "retail", "--days", "40").code == 0
    platform = root / "prodml.yaml"
    text = platform.read_text()
    assert "  enabled: false\n" in text
    platform.write_text(text.replace("  enabled: false\n", "  enabled: true\n"))
    # the admin (local_user) builds production: churn runs as churn-prod-sp there
    for args in (
        ("run", "churn", "--env", "prod"),
        ("models", "promote", "churn", "--env", "prod"),
        ("features", "publish", "--env", "prod"),
    ):
        r = prodml_cli(*args, cwd=root, timeout=300)
        assert r.code == 0, r.err
    return root


def _token(root: Path, who: str) -> str:
    r = prodml_cli("principals", "token", "new", who, "--name", "test", cwd=root)
    assert r.code == 0, r.err
    return r.out.strip()


def test_the_scenario(demo: Path) -> None:
    runs = json.loads(prodml_cli("runs", "list", "--env", "prod", "--json", cwd=demo).out)
    assert (runs[0]["principal"], runs[0]["run_as"]) == ("admin", "churn-prod-sp")

    ana = {"PRODML_TOKEN": _token(demo, "ana")}
    read = prodml_cli(
        "tables", "preview", "gold.customer_daily", "--env", "prod", "--json", cwd=demo, env=ana
    )
    assert read.code == 0, read.err
    refused = prodml_main(
        "run",
        "churn",
        "--env",
        "prod",
        "--steps",
        "churn_labels",
        "--full-refresh",
        cwd=demo,
        env=ana,
    )
    assert refused.code != 0
    assert "ana may not write table prod.gold.churn_labels: it lacks MODIFY" in refused.err
    assert_clean_error(
        prodml_main("tables", "preview", "silver.orders", "--env", "prod", cwd=demo, env=ana),
        "ana may not read table prod.silver.orders: it lacks SELECT",
    )

    sp = {"PRODML_TOKEN": _token(demo, "churn-sp")}
    staged = prodml_cli("run", "churn", "--env", "staging", "--json", cwd=demo, env=sp, timeout=300)
    assert staged.code == 0, staged.err
    runs = json.loads(prodml_cli("runs", "list", "--env", "staging", "--json", cwd=demo).out)
    assert (runs[0]["principal"], runs[0]["run_as"]) == ("churn-sp", "churn-sp")

    with prodml.connect(demo, env="prod") as ws:
        app = ws.serving_app(["churn"])
        customer = ws.read("features.customer_features").column("customer_id")[0].as_py()
    body = {"records": [{"customer_id": customer}]}
    with serving(app) as live, live.client() as client:
        ok = client.post(
            "/v1/products/churn/predict",
            json=body,
            headers={"Authorization": f"Bearer {ana['PRODML_TOKEN']}"},
        )
        assert ok.status_code == 200, ok.text
        denied = client.post(
            "/v1/products/churn/predict",
            json=body,
            headers={"Authorization": f"Bearer {sp['PRODML_TOKEN']}"},
        )
        assert denied.status_code == 403, denied.text
        assert "churn-sp lacks EXECUTE on endpoint churn" in denied.json()["message"]

    audit = json.loads(prodml_cli("audit", "--json", "--limit", "100000", cwd=demo).out)
    seen = {(r["principal"], r["action"], r["securable"], r["outcome"]) for r in audit}
    assert ("ana", "read", "prod.gold.customer_daily", "allowed") in seen
    assert ("ana", "write", "prod.gold.churn_labels", "denied") in seen
    assert ("ana", "read", "prod.silver.orders", "denied") in seen
    assert ("ana", "call", "prod.churn", "allowed") in seen
    assert ("churn-sp", "call", "prod.churn", "denied") in seen
    assert any(
        p == "churn-sp" and o == "allowed" and s.startswith("staging.") for p, _, s, o in seen if s
    )
    assert ana["PRODML_TOKEN"] not in json.dumps(audit) and sp["PRODML_TOKEN"] not in json.dumps(
        audit
    )
