"""Wiring the serving app: a new endpoint token and its hash, declared tokens joining the token
table (one token system), and the inference log written as the server's own service principal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.live import serving
from tests.workspace.conftest import CLF_MODEL, clf_product

import prodml
from prodml.workspace import endpoint_token

ROW = {"a": 1.5, "b": -0.3}


def test_an_endpoint_token_and_the_hash_to_declare() -> None:
    token, sha = endpoint_token("crm")
    other, _ = endpoint_token("crm")
    assert token.startswith("pdml_") and len(token) > 40 and other != token
    assert sha == hashlib.sha256(token.encode()).hexdigest()


def test_declared_tokens_join_the_token_table_and_need_execute(
    clf: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token, sha = endpoint_token("crm")
    declared = CLF_MODEL.replace(
        "endpoint:\n",
        f"endpoint:\n  auth:\n    tokens:\n      - {{{{name: crm, sha256: {sha}}}}}\n",
    )
    yaml = clf / "products" / "clf" / "product.yaml"
    yaml.write_text(yaml.read_text().split("params:")[0] + declared.format(c=0.05))
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with prodml.connect(clf) as ws:
            admin = {"Authorization": f"Bearer {ws.new_token('ops')}"}
            app = ws.serving_app()
        with serving(app, headers=admin) as live, live.client() as http:
            refused = http.post("/v1/products/clf/predict", json={"records": [ROW]}, headers=auth)
        with prodml.connect(clf) as ws:
            (listed,) = ws.tokens("crm")
            ws.add_principal("crm", "service_principal")  # a declared token's name is its principal
            ws.grant("endpoint", "dev.clf", "crm", ["EXECUTE"])
            app = ws.serving_app()
        with serving(app, headers=admin) as live, live.client() as http:
            answered = http.post("/v1/products/clf/predict", json={"records": [ROW]}, headers=auth)
    finally:
        clf_product(clf, 0.05)
        with prodml.connect(clf) as ws:
            if "crm" in {p["name"] for p in ws.principals()}:
                ws.remove_principal("crm")
    assert listed["name"] == "crm" and "sha256" not in listed and token not in str(listed)
    assert refused.status_code == 403
    assert answered.status_code == 200, answered.text
    # the log is written as the server's service principal, which needs its own grants
    assert "service:serving@dev may not create table dev.ml.clf_inference_log" in caplog.text
