"""MLflow's scoring protocol and the product route agree with the registered model, on a real
server; /metrics counts what was served."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.live import serving
from tests.serving.conftest import CHAMPION_ONLY, ROWS, configure, sklearn_model, wait_loaded

import prodml
from prodml.abtest.assign import Assigner

FRAME = pd.DataFrame(ROWS)
JSON_HEADER = {"Content-Type": "application/json"}
COLUMNS = list(FRAME.columns)

# the request bodies of MLflow's docs ("Deploy MLflow models: request format"), on our rows
BODIES = {
    "dataframe_split": {"dataframe_split": {"columns": COLUMNS, "data": FRAME.to_numpy().tolist()}},
    # pandas' own split orient, with its "index" (MLflow ignores it)
    "dataframe_split_pandas": {"dataframe_split": json.loads(FRAME.to_json(orient="split"))},
    "dataframe_records": {"dataframe_records": ROWS},
    "instances_records": {"instances": ROWS},
    "instances_rows": {"instances": FRAME.to_numpy().tolist()},
    "inputs_columns": {"inputs": {c: FRAME[c].tolist() for c in COLUMNS}},
    "inputs_records": {"inputs": ROWS},
}

SPLIT = """\
endpoint:
  unit_key: customer
  variants:
    champion: {alias: champion, weight: 0.5}
    challenger: {alias: challenger, weight: 0.5}
"""


@pytest.mark.slow
def test_mlflow_json_forms_and_csv_answer_as_mlflow_loads_the_champion(trained: Path) -> None:
    configure(trained, CHAMPION_ONLY)
    with prodml.connect(trained) as ws:
        expected = sklearn_model(ws, 1).predict(FRAME).tolist()
        assert len(set(expected)) == 2  # the rows hit both classes
        app = ws.serving_app(no_auth=True)
    with serving(app) as live, live.client() as http:
        for form, body in BODIES.items():
            for route in ("/invocations", "/v1/products/clf/invocations"):
                r = http.post(route, json=body)
                assert r.status_code == 200, (form, route, r.text)
                assert r.json() == {"predictions": expected}, (form, route)
                assert r.headers["X-Prodml-Model-Version"] == "1"
                assert r.headers["X-Prodml-Variant"] == "champion"
                assert len(r.headers["X-Request-Id"]) == 32
        csv = FRAME.to_csv(index=False)
        for content_type in ("text/csv", "text/csv; charset=utf-8"):
            r = http.post("/invocations", content=csv, headers={"Content-Type": content_type})
            assert r.status_code == 200, r.text
            assert r.json() == {"predictions": expected}
        # a CSV with its columns in another order is matched by name
        r = http.post(
            "/invocations",
            content=FRAME[["b", "a"]].to_csv(index=False),
            headers={"Content-Type": "text/csv"},
        )
        assert r.json() == {"predictions": expected}


@pytest.mark.slow
def test_mlflows_own_scoring_client_reads_our_answers(trained: Path) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    configure(trained, CHAMPION_ONLY)
    with prodml.connect(trained) as ws:
        expected = sklearn_model(ws, 1).predict(FRAME)
        app = ws.serving_app(no_auth=True)
    with serving(app) as live:
        host, port = live.url.removeprefix("http://").split(":")
        client = ScoringServerClient(host, int(port))
        got = client.invoke(FRAME).get_predictions()  # MLflow's own request and response codec
        assert got.iloc[:, 0].tolist() == expected.tolist()
        got = client.invoke(FRAME.to_numpy()).get_predictions()  # {"inputs": [[a, b], ...]}
        assert got.iloc[:, 0].tolist() == expected.tolist()


@pytest.mark.slow
def test_product_route_returns_the_served_versions_probability(trained: Path) -> None:
    """Each record's prediction is P(y=1) of the version that the response says scored it."""
    configure(trained, SPLIT)
    assigner = Assigner({"champion": 0.5, "challenger": 0.5}, "clf")
    customers = [f"cust-{i}" for i in range(40)]
    records = [
        {**ROWS[i % len(ROWS)], "customer": c, "ignored": "extra fields are fine"}
        for i, c in enumerate(customers)
    ]
    with prodml.connect(trained) as ws:
        models = {1: sklearn_model(ws, 1), 2: sklearn_model(ws, 2)}
        app = ws.serving_app(no_auth=True)
    frame = pd.DataFrame(records)[COLUMNS]
    proba = {v: m.predict_proba(frame)[:, 1] for v, m in models.items()}
    assert abs(proba[1] - proba[2]).max() > 1e-3  # the versions really differ
    with serving(app) as live, live.client() as http:
        wait_loaded(live.url)
        r = http.post("/v1/products/clf/predict", json={"records": records})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["model"] == "dev.ml.clf" and doc["request_id"] == r.headers["X-Request-Id"]
        preds = doc["predictions"]
        assert len(preds) == len(records)
        versions = {"champion": 1, "challenger": 2}
        for i, p in enumerate(preds):
            assert p["variant"] == assigner.assign(customers[i])
            assert p["model_version"] == versions[p["variant"]]
            assert p["prediction"] == pytest.approx(proba[p["model_version"]][i], rel=1e-12)
        assert {p["variant"] for p in preds} == {"champion", "challenger"}
        # a mixed answer names no single variant in its headers
        assert "X-Prodml-Variant" not in r.headers


@pytest.mark.slow
def test_invocations_with_records_split_across_variants(trained: Path) -> None:
    """Regression: /invocations whose records go to two variants answers 400 "the model rejected the
    input: unsupported datatype in numpy array" (endpoint.py builds an object-dtype array for
    mixed groups, and orjson cannot serialize object arrays)."""
    configure(trained, SPLIT)
    assigner = Assigner({"champion": 0.5, "challenger": 0.5}, "clf")
    champion = next(f"u{i}" for i in range(100) if assigner.assign(f"u{i}") == "champion")
    challenger = next(f"u{i}" for i in range(100) if assigner.assign(f"u{i}") == "challenger")
    records = [{**ROWS[0], "customer": champion}, {**ROWS[1], "customer": challenger}]
    with prodml.connect(trained) as ws:
        expected = [
            sklearn_model(ws, 1).predict(FRAME.iloc[[0]]).tolist()[0],
            sklearn_model(ws, 2).predict(FRAME.iloc[[1]]).tolist()[0],
        ]
        app = ws.serving_app(no_auth=True)
    with serving(app) as live, live.client() as http:
        wait_loaded(live.url)
        r = http.post("/invocations", json={"dataframe_records": records})
        assert r.status_code == 200, r.text
        assert r.json() == {"predictions": expected}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.slow
def test_metrics_count_requests_by_route_template_and_predictions_by_version(
    trained: Path,
) -> None:
    configure(trained, CHAMPION_ONLY)
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with serving(app) as live, live.client() as http:
        for _ in range(3):
            assert http.post("/v1/products/clf/predict", json={"records": ROWS}).status_code == 200
        assert http.post("/invocations", json={"dataframe_records": ROWS[:2]}).status_code == 200
        assert http.post("/v1/products/clf/predict", content=b"{").status_code == 400
        assert http.post("/v1/products/nope/predict", json={"records": ROWS}).status_code == 404
        text = http.get("/metrics").text
    samples = _samples(text)

    def duration_count(method: str, route: str, status: str) -> float:
        labels = (
            ("http_request_method", method),
            ("http_response_status_code", status),
            ("http_route", route),
        )
        return samples.get(("http_server_request_duration_seconds_count", labels), 0.0)

    assert duration_count("POST", "/v1/products/{product}/predict", "200") == 3
    assert duration_count("POST", "/v1/products/{product}/predict", "400") == 1
    assert duration_count("POST", "/v1/products/{product}/predict", "404") == 1
    assert duration_count("POST", "/invocations", "200") == 1
    served = (
        ("model_version", "1"),
        ("product", "clf"),
        ("shadow", "false"),
        ("variant", "champion"),
    )
    assert samples[("prodml_predictions_total", served)] == 3 * len(ROWS) + 2
    assert not any(
        name == "prodml_predictions_total" and dict(labels)["variant"] != "champion"
        for name, labels in samples
    )
    assert "prodml_inference_log_pending_rows" in text


def test_item7_a_client_leaving_mid_body_is_no_error(
    trained: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configure(trained, CHAMPION_ONLY)
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with caplog.at_level(logging.INFO), serving(app) as live:
        for path in ("/invocations", "/v1/products/clf/predict"):
            live.leave_mid_body(path, b'{"dataframe_records": [{"a": 1', 4096, **JSON_HEADER)
        time.sleep(0.5)
        with live.client() as http:  # and the server goes on serving
            assert http.post("/invocations", json=BODIES["dataframe_records"]).status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    left = [r.getMessage() for r in caplog.records if "the client left" in r.getMessage()]
    assert len(left) == 2, left
