"""``POST /v1/products/{product}/outcomes``: outcomes of units, validated, queued and written
by the outcome log (flushed when the server stops); a product without experiments, bad bodies,
a full queue and missing tokens each get their status and MLflow's error body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from prodml.abtest import outcomes
from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.config.product import EndpointConfig
from prodml.governance.endpoints import EndpointGuard
from prodml.governance.privileges import Securable
from prodml.governance.service import Governance
from prodml.governance.tokens import new_token, token_hash
from prodml.models.loaded import LoadedModel
from prodml.serving.app import create_app
from prodml.serving.build import OutcomeFormat, OutcomeLog, Served
from prodml.serving.endpoint import Endpoint
from prodml.serving.inference_log import QueueWriter

ROUTE = "/v1/products/clf/outcomes"
FORMAT = OutcomeFormat(outcomes.parse, outcomes.to_table, outcomes.DOCS)
ONE = {"outcomes": [{"unit_id": "u1", "metric": "converted", "value": 1}]}


def _endpoint(name: str, config: EndpointConfig) -> Endpoint:
    x = np.random.default_rng(2).normal(size=(80, 2))
    native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    model = LoadedModel(
        f"dev.ml.{name}", 1, (("a", "double"), ("b", "double")), native, "sklearn", True, False
    )
    return Endpoint(
        name, config, resolve={"champion": 1}.get, load=lambda _: model, log_writer=None
    )


class Outcomes:
    """A product with an experiment: its outcome log writes into ``written``."""

    def __init__(self, *, queue_rows: int = 10_000, max_rows: int = 100, guard: Any = None) -> None:
        self.written: list[pa.Table] = []
        self.writer = QueueWriter(
            self.written.append,
            encode=outcomes.to_table,
            flush_rows=10_000,
            flush_seconds=3600,
            queue_rows=queue_rows,
            name="clf outcomes",
        )
        config = EndpointConfig(max_body_bytes=1024, max_rows=max_rows)
        log = OutcomeLog(FORMAT, self.writer, {"converted", "revenue"}, max_rows)
        self.served = Served(_endpoint("clf", config), guard, log, {"converted", "revenue"})

    def rows(self) -> list[dict[str, Any]]:
        return [row for table in self.written for row in table.to_pylist()]


def test_outcomes_are_accepted_and_written_when_the_server_stops() -> None:
    product = Outcomes()
    body = {
        "outcomes": [
            {"unit_id": "u1", "metric": "converted", "value": 1},
            {
                "unit_id": 42,
                "metric": "revenue",
                "value": 12.5,
                "time": "2026-05-01T10:00:00+02:00",
            },
        ]
    }
    with TestClient(create_app({"clf": product.served})) as client:
        r = client.post(ROUTE, json=body)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": 2}
        assert product.writer.pending_rows == 2
    rows = product.rows()
    assert [(r["unit_id"], r["metric"], r["value"]) for r in rows] == [
        ("u1", "converted", 1.0),
        ("42", "revenue", 12.5),
    ]
    assert rows[1]["time"].isoformat() == "2026-05-01T08:00:00+00:00"  # kept in UTC


def test_a_product_without_an_experiment_is_a_404() -> None:
    config = EndpointConfig()
    app = create_app({"clf": Served(_endpoint("clf", config), None)})
    with TestClient(app) as client:
        r = client.post(ROUTE, json=ONE)
        other = client.post("/v1/products/churn/outcomes", json=ONE)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert r.json()["message"].startswith("product clf runs no A/B experiment (no ab: section)")
    assert other.status_code == 404 and "no endpoint for product 'churn'" in other.json()["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "the request body is empty"),
        (b'{"outcomes": [', "malformed JSON"),
        (b"[]", 'the body must be {"outcomes": [{"unit_id": ..., "metric": ..., "value": ...}]}'),
        (b'{"outcomes": []}', "outcomes must be a non-empty list"),
        (
            b'{"outcomes": [{"unit_id": "u", "metric": "clicks", "value": 1}]}',
            "outcomes[0].metric 'clicks' is not an experiment metric (metrics: converted, revenue)",
        ),
        (
            b'{"outcomes": [{"unit_id": "u", "metric": "converted", "value": 1, "when": 1}]}',
            "outcomes[0]: unknown key(s) when",
        ),
        (
            b'{"outcomes": [{"unit_id": true, "metric": "converted", "value": 1}]}',
            "outcomes[0].unit_id must be a non-empty string or an integer",
        ),
        (
            b'{"outcomes": [{"unit_id": "u", "metric": "revenue", "value": "12"}]}',
            "outcomes[0].value must be a finite number",
        ),
    ],
)
def test_bad_bodies_are_400s_naming_the_problem(body: bytes, needle: str) -> None:
    product = Outcomes()
    with TestClient(create_app({"clf": product.served})) as client:
        r = client.post(ROUTE, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and needle in r.json()["message"]
    assert product.rows() == []  # nothing was queued


def test_limits_of_the_endpoint_apply() -> None:
    product = Outcomes(max_rows=2)
    many = {"outcomes": ONE["outcomes"] * 3}
    big = {"outcomes": [{"unit_id": "u" * 1100, "metric": "converted", "value": 1}]}
    with TestClient(create_app({"clf": product.served})) as client:
        r = client.post(ROUTE, json=many)
        assert r.status_code == 400 and "3 outcomes in one request; at most 2" in r.text
        r = client.post(ROUTE, json=big)
        assert r.status_code == 413 and r.json()["error_code"] == "REQUEST_TOO_LARGE"
        assert "the limit is 1024" in r.json()["message"]


def test_a_full_queue_is_a_503_to_retry() -> None:
    product = Outcomes(queue_rows=2)
    two = {"outcomes": ONE["outcomes"] * 2}
    with TestClient(create_app({"clf": product.served})) as client:
        assert client.post(ROUTE, json=two).status_code == 202
        r = client.post(ROUTE, json=ONE)
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.json() == {
        "error_code": "TEMPORARILY_UNAVAILABLE",
        "message": "the outcome log is behind (queue full); retry",
    }
    assert len(product.rows()) == 2


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[tuple[EndpointGuard, str]]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    governance = Governance(store, GovernanceConfig())
    token = new_token()[1]
    endpoint = Securable("endpoint", "dev.clf")
    governance.records.sync_declared(str(endpoint), [("shop-app", token_hash(token))])
    yield EndpointGuard(governance, endpoint, ttl=0), token
    store.close()


def test_posting_outcomes_needs_a_token(guard: tuple[EndpointGuard, str]) -> None:
    product = Outcomes(guard=guard[0])
    with TestClient(create_app({"clf": product.served})) as client:
        r = client.post(ROUTE, json=ONE)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        r = client.post(ROUTE, json=ONE, headers={"Authorization": f"Bearer {guard[1]}"})
        assert r.status_code == 202, r.text
    assert [r["unit_id"] for r in product.rows()] == ["u1"]
