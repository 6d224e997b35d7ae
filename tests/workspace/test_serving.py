"""The façade's serving: which products are served, and their app on a governed platform
(callers need a token and EXECUTE on the endpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.live import serving

import prodml
from prodml.errors import NotFoundError, UsageError

ROW = {"a": 1.5, "b": -0.3}


def test_the_products_to_serve(clf: Path, shop: Path) -> None:
    with prodml.connect(clf) as ws:
        assert ws.endpoint_products() == ["clf"]
        assert ws.endpoint_products(["clf", "clf"]) == ["clf"]
        with pytest.raises(UsageError, match="product shop declares no endpoint") as err:
            ws.endpoint_products(["shop"])
        assert err.value.hint == "products with an endpoint: clf"
        with pytest.raises(NotFoundError, match="unknown product 'cl'"):
            ws.endpoint_products(["cl"])
    with prodml.connect(shop) as ws, pytest.raises(UsageError, match="no product declares"):
        ws.endpoint_products()


def test_a_governed_endpoint_answers_callers_with_execute_only(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        ops = ws.new_token("ops", name="caller")
        ana = ws.new_token("ana", name="caller")
        app = ws.serving_app()
    ops_auth = {"Authorization": f"Bearer {ops}"}
    with serving(app, headers=ops_auth) as live, live.client() as http:
        anonymous = http.post("/v1/products/clf/predict", json={"records": [ROW]})
        wrong = http.post(
            "/v1/products/clf/predict",
            json={"records": [ROW]},
            headers={"Authorization": "Bearer pdml_not_a_token"},
        )
        refused = http.post(
            "/v1/products/clf/predict",
            json={"records": [ROW]},
            headers={"Authorization": f"Bearer {ana}"},
        )
        answered = http.post(
            "/v1/products/clf/predict",
            json={"records": [ROW]},
            headers={"Authorization": f"Bearer {ops}"},
        )
    assert (anonymous.status_code, wrong.status_code, refused.status_code) == (401, 401, 403)
    assert answered.status_code == 200, answered.text
    assert answered.headers["X-Prodml-Model-Version"] == "1"
    with prodml.connect(clf) as ws:
        calls = {
            (r["principal"], r["outcome"])
            for r in ws.audit(securable="dev.clf")
            if r["action"] == "call"
        }
    assert {("ops", "allowed"), ("ana", "denied")} <= calls
