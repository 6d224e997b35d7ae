"""``POST /v1/features/online`` over a real feature store (SQLite online store, catalog in a
temp dir): a feature table's or a product's (feature service) values per entity, request bodies
refused with a message in the API's words, limits, and the caller's SELECT under governance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.config.product import EndpointConfig, FeatureTable
from prodml.features.online import Record
from prodml.features.service import FeatureStore
from prodml.features.training import DeclaredTable
from prodml.governance.endpoints import EndpointGuard
from prodml.governance.privileges import Securable
from prodml.governance.service import Governance
from prodml.models.loaded import LoadedModel
from prodml.serving.app import create_app
from prodml.serving.build import Served
from prodml.serving.endpoint import Endpoint
from prodml.serving.routes.features import MAX_ENTITIES
from prodml.tables.delta import DeltaTables

ROUTE = "/v1/features/online"
AS_OF = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
DECLARED = {
    "features.customers": DeclaredTable(
        "features.customers",
        "core",
        "core.customers",
        FeatureTable.model_validate(
            {
                "description": "Per customer.",
                "keys": ["customer_id"],
                "timestamp": "as_of",
                "features": {"spend": "Spend.", "visits": "Visits."},
            }
        ),
    ),
    "features.unpublished": DeclaredTable(
        "features.unpublished",
        "core",
        None,
        FeatureTable.model_validate(
            {"description": "d", "keys": ["k"], "timestamp": "ts", "features": {"x": "X."}}
        ),
    ),
}
# the spec the churn model was trained with: a feature service of one lookup
SPECS = {
    "churn": {
        "timestamp": "cutoff",
        "lookups": [
            {"table": "features.customers", "features": ["visits"], "keys": ["customer_id"]}
        ],
    }
}


def _served() -> Served:
    x = np.random.default_rng(4).normal(size=(60, 2))
    native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    model = LoadedModel(
        "dev.ml.clf", 1, (("a", "double"), ("b", "double")), native, "sklearn", True, False
    )
    endpoint = Endpoint(
        "clf", EndpointConfig(), resolve={"champion": 1}.get, load=lambda _: model, log_writer=None
    )
    return Served(endpoint, None)


def _feature_store(tmp_path: Path, store: MetadataStore, **kwargs: Any) -> FeatureStore:
    catalog = Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [])
    features = FeatureStore(
        catalog,
        DECLARED,
        Access("service:serving@dev", step="serve"),
        online_url=None,
        state_dir=tmp_path / ".prodml",
        model_spec=SPECS.get,
        **kwargs,
    )
    online = features.online_store
    at = int(AS_OF.timestamp() * 1_000_000)
    online.write(
        "dev.features.customers",
        [
            Record("c1", at, 0, orjson.dumps({"spend": 10.5, "visits": 3})),
            Record("c2", at, 0, orjson.dumps({"spend": 2.0})),
        ],
    )
    online.set_state("dev.features.customers", {"key_kinds": ["str"]})
    return features


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """No authentication: anyone may look features up (the tests only read)."""
    tmp_path = tmp_path_factory.mktemp("features-route")
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    features = _feature_store(tmp_path, store)
    with TestClient(create_app({"clf": _served()}, features=features)) as http:
        yield http
    features.close()
    store.close()


def problem(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    doc = r.json()
    assert set(doc) == {"error_code", "message"} and doc["error_code"] == code, doc
    return str(doc["message"])


def test_values_statuses_and_event_times_per_entity(client: TestClient) -> None:
    entities = [{"customer_id": "c1"}, {"customer_id": "c2"}, {"customer_id": "zz"}]
    body = {"table": "features.customers", "entities": entities}
    r = client.post(ROUTE, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "results": [
            {
                "entity": {"customer_id": "c1"},
                "values": {"spend": 10.5, "visits": 3},
                "statuses": {"spend": "present", "visits": "present"},
                "event_timestamp": "2026-05-01T12:30:00+00:00",
            },
            {
                "entity": {"customer_id": "c2"},
                "values": {"spend": 2.0, "visits": None},
                "statuses": {"spend": "present", "visits": "not_found"},
                "event_timestamp": "2026-05-01T12:30:00+00:00",
            },
            {
                "entity": {"customer_id": "zz"},
                "values": {"spend": None, "visits": None},
                "statuses": {"spend": "not_found", "visits": "not_found"},
                "event_timestamp": None,
            },
        ]
    }


def test_some_features_of_a_table_by_its_short_name(client: TestClient) -> None:
    body = {"table": "customers", "features": ["spend"], "entities": [{"customer_id": "c1"}]}
    r = client.post(ROUTE, json=body)
    assert r.status_code == 200, r.text
    (result,) = r.json()["results"]
    assert result["values"] == {"spend": 10.5} and result["statuses"] == {"spend": "present"}


def test_a_feature_service_looks_up_what_the_model_was_trained_with(client: TestClient) -> None:
    r = client.post(ROUTE, json={"feature_service": "churn", "entities": [{"customer_id": "c1"}]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["values"] == {"visits": 3}
    r = client.post(
        ROUTE,
        json={
            "feature_service": "churn",
            "features": ["spend"],
            "entities": [{"customer_id": "c1"}],
        },
    )
    assert "features= selects features of one table" in problem(r, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the request body is empty: send a JSON object"),
        (b'{"table": ', "malformed JSON: "),
        (b'[{"customer_id": "c1"}]', "the body must be a JSON object with 'table' and 'entities'"),
        (
            b'{"tables": "features.customers", "entities": [{}]}',
            "unknown field 'tables'; use table or feature_service, entities, features",
        ),
        (b'{"table": "features.customers"}', "'entities' must be a non-empty list of objects"),
        (b'{"table": "features.customers", "entities": []}', "'entities' must be a non-empty"),
        (b'{"table": "features.customers", "entities": {"customer_id": "c1"}}', "'entities' must"),
        (
            b'{"table": "features.customers", "features": "spend", "entities": [{}]}',
            "'features' must be a list of feature names",
        ),
        (
            b'{"entities": [{"customer_id": "c1"}]}',
            "give exactly one of 'table' and 'feature_service' (a string)",
        ),
        (
            b'{"table": "features.customers", "feature_service": "churn", "entities": [{}]}',
            "give exactly one of 'table' and 'feature_service' (a string)",
        ),
        (b'{"table": 5, "entities": [{}]}', "give exactly one of 'table' and 'feature_service'"),
        (b'{"table": "", "entities": [{}]}', "give exactly one of 'table' and 'feature_service'"),
    ],
)
def test_bad_request_bodies_say_what_is_wrong(
    client: TestClient, body: bytes, message: str
) -> None:
    r = client.post(ROUTE, content=body, headers={"Content-Type": "application/json"})
    assert problem(r, 400, "BAD_REQUEST").startswith(message)


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        (
            {"table": "features.customers", "entities": [{"id": "c1"}]},
            400,
            "BAD_REQUEST",
            "entity 0 has no key 'customer_id' (the keys of features.customers are customer_id)",
        ),
        (
            {"table": "features.customers", "entities": [{"customer_id": "c1"}, "c2"]},
            400,
            "BAD_REQUEST",
            'entity 1 must be an object of key fields, e.g. {"customer_id": ...}',
        ),
        (
            {"table": "features.customers", "features": [], "entities": [{"customer_id": "c1"}]},
            400,
            "BAD_REQUEST",
            "lookup of features.customers selects no features",
        ),
        (
            {"table": "features.customer", "entities": [{"customer_id": "c1"}]},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "unknown feature table or feature service 'features.customer'",
        ),
        (
            {"table": "features.unpublished", "entities": [{"k": "c1"}]},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "run: prodml features publish features.unpublished",
        ),
    ],
)
def test_lookups_the_store_refuses(
    client: TestClient, body: dict[str, Any], status: int, code: str, needle: str
) -> None:
    assert needle in problem(client.post(ROUTE, json=body), status, code)


def test_too_many_entities_or_bytes_are_413s(client: TestClient) -> None:
    many = {"table": "features.customers", "entities": [{"customer_id": "c"}] * (MAX_ENTITIES + 1)}
    message = problem(client.post(ROUTE, json=many), 413, "REQUEST_TOO_LARGE")
    assert message == f"{MAX_ENTITIES + 1} entities in one request; at most {MAX_ENTITIES}"
    huge = orjson.dumps(
        {"table": "features.customers", "entities": [{"customer_id": "c" * 1_100_000}]}
    )
    message = problem(
        client.post(ROUTE, content=huge, headers={"Content-Type": "application/json"}),
        413,
        "REQUEST_TOO_LARGE",
    )
    assert message == f"the body is {len(huge)} bytes; the limit is 1048576"


@pytest.fixture
def governed(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Governance on: the endpoint's guard finds the caller, who needs SELECT on the table."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    config = GovernanceConfig.model_validate(
        {
            "enabled": True,
            "admins": ["ops"],
            "users": {"ops": {}, "ana": {}, "eve": {}},
            "grants": [
                {
                    "securable": "catalog dev",
                    "principal": "ana",
                    "privileges": ["USE_CATALOG", "USE_SCHEMA"],
                },
                {
                    "securable": "table dev.features.customers",
                    "principal": "ana",
                    "privileges": ["SELECT"],
                },
            ],
        }
    )
    governance = Governance(store, config)
    governance.apply_config()
    tokens = {
        who: governance.records.new_token(who, name="t", created_by="ops", expires_at=None)
        for who in ("ana", "eve")
    }
    features = _feature_store(
        tmp_path,
        store,
        check_read=lambda principal, table: governance.check_named(
            Access(principal=principal), "read", "table", table, client="online"
        ),
    )
    served = _served()
    served.guard = EndpointGuard(governance, Securable("endpoint", "dev.clf"), ttl=0)
    with TestClient(create_app({"clf": served}, features=features)) as http:
        yield http, tokens
    features.close()
    store.close()


def test_under_governance_the_caller_needs_select(
    governed: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = governed
    body = {"table": "features.customers", "entities": [{"customer_id": "c1"}]}
    r = client.post(ROUTE, json=body)
    assert "missing or invalid bearer token" in problem(r, 401, "UNAUTHENTICATED")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = client.post(ROUTE, json=body, headers={"Authorization": f"Bearer {tokens['ana']}"})
    assert r.status_code == 200 and r.json()["results"][0]["values"]["spend"] == 10.5
    r = client.post(ROUTE, json=body, headers={"Authorization": f"Bearer {tokens['eve']}"})
    message = problem(r, 403, "PERMISSION_DENIED")
    assert "eve may not read table dev.features.customers" in message
