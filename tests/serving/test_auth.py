"""Serving's ``Guard`` protocol: governance's ``EndpointGuard`` fits it, and the app turns a
guard's two answers into 401 (no principal) and 403 (not permitted) on a real endpoint."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.config.product import EndpointConfig
from prodml.governance.endpoints import EndpointGuard
from prodml.governance.privileges import Securable
from prodml.governance.service import Governance
from prodml.governance.tokens import new_token, token_hash
from prodml.models.loaded import LoadedModel
from prodml.serving.app import create_app
from prodml.serving.auth import Guard
from prodml.serving.build import Served
from prodml.serving.endpoint import Endpoint

ENDPOINT = Securable("endpoint", "dev.clf")
RECORDS = {"records": [{"a": 1.0, "b": 0.0}]}


def _app(guard: Guard) -> TestClient:
    x = np.random.default_rng(1).normal(size=(100, 2))
    native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    model = LoadedModel(
        "dev.ml.clf", 1, (("a", "double"), ("b", "double")), native, "sklearn", True, False
    )
    endpoint = Endpoint(
        "clf", EndpointConfig(), resolve={"champion": 1}.get, load=lambda _: model, log_writer=None
    )
    return TestClient(create_app({"clf": Served(endpoint, guard)}))


def _ready(client: TestClient) -> None:
    deadline = time.monotonic() + 10
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "not ready"
        time.sleep(0.02)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    metadata = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    yield metadata
    metadata.close()


def test_the_governance_guard_has_the_protocols_methods() -> None:
    for name in ("principal", "permits"):
        wanted = inspect.signature(getattr(Guard, name))
        got = inspect.signature(getattr(EndpointGuard, name))
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == [
            (p.name, p.kind, p.default) for p in wanted.parameters.values()
        ], name
        assert got.return_annotation == wanted.return_annotation, name


def test_a_guard_without_a_principal_is_a_401(store: MetadataStore) -> None:
    governance = Governance(store, GovernanceConfig())
    token, other = new_token()[1], new_token()[1]
    governance.records.sync_declared(str(ENDPOINT), [("crm-app", token_hash(token))])
    auth = {"Authorization": f"Bearer {token}"}
    with _app(EndpointGuard(governance, ENDPOINT, ttl=0)) as client:
        _ready(client)
        assert (
            client.post("/v1/products/clf/predict", json=RECORDS, headers=auth).status_code == 200
        )
        for headers in ({}, {"Authorization": f"Bearer {other}"}, {"Authorization": token}):
            r = client.post("/v1/products/clf/predict", json=RECORDS, headers=headers)
            assert r.status_code == 401, r.text
            assert r.headers["WWW-Authenticate"] == "Bearer"
            assert r.json() == {
                "error_code": "UNAUTHENTICATED",
                "message": "missing or invalid bearer token: send 'Authorization: Bearer <token>'",
            }
        assert client.get("/health").status_code == 200  # operations need no token


def test_a_guard_that_does_not_permit_is_a_403(store: MetadataStore) -> None:
    config = GovernanceConfig.model_validate(
        {"enabled": True, "users": {"ops": {}, "ana": {}, "eve": {}}, "admins": ["ops"]}
    )
    governance = Governance(store, config)
    governance.apply_config()
    tokens = {
        who: governance.records.new_token(who, name="t", created_by="ops", expires_at=None)
        for who in ("ana", "eve")
    }
    governance.grant("ops", ENDPOINT, "ana", ["EXECUTE"])
    with _app(EndpointGuard(governance, ENDPOINT, ttl=0)) as client:
        ana = {"Authorization": f"Bearer {tokens['ana']}"}
        _ready(client)
        r = client.post("/v1/products/clf/predict", json=RECORDS, headers=ana)
        assert r.status_code == 200, r.text
        eve = {"Authorization": f"Bearer {tokens['eve']}"}
        r = client.post("/v1/products/clf/predict", json=RECORDS, headers=eve)
        assert r.status_code == 403
        assert r.json() == {
            "error_code": "PERMISSION_DENIED",
            "message": "eve lacks EXECUTE on endpoint clf: ask an owner of the endpoint (or of "
            "its catalog) to grant it",
        }
        assert client.get("/v1/products", headers=ana).json() == {"products": ["clf"]}
        assert client.get("/v1/products", headers=eve).status_code == 403
