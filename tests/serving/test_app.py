"""The serving app (``create_app``) over real endpoints serving in-memory scikit-learn models:
which routes exist, the lifespan (models loaded at start, aliases watched, logs flushed and
``on_shutdown`` called at the end), metrics wired to scoring, one error mapping to MLflow's
error body, and the bearer scheme in the OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sklearn.linear_model import LogisticRegression

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.config.product import EndpointConfig
from prodml.errors import ConflictError, ProdmlError
from prodml.features.service import FeatureStore
from prodml.models.loaded import LoadedModel
from prodml.serving.app import CODES, create_app
from prodml.serving.build import Served
from prodml.serving.endpoint import Endpoint
from prodml.serving.inference_log import QueueWriter
from prodml.tables.delta import DeltaTables

SCHEMA = (("a", "double"), ("b", "double"))
ROWS = [{"a": 1.5, "b": -0.3}, {"a": -2.0, "b": 0.7}, {"a": 0.1, "b": 3.0}]


def _fitted(sign: float) -> LogisticRegression:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 2))
    return LogisticRegression().fit(x, (sign * x[:, 0] > 0).astype(int))


MODELS = {
    1: LoadedModel("dev.ml.clf", 1, SCHEMA, _fitted(1.0), "sklearn", True, False),
    2: LoadedModel("dev.ml.clf", 2, SCHEMA, _fitted(-1.0), "sklearn", True, False),
}


def served(
    product: str = "clf",
    *,
    aliases: dict[str, int] | None = None,
    config: EndpointConfig | None = None,
    log_writer: QueueWriter | None = None,
    models: dict[int, Any] = MODELS,
) -> Served:
    """A product's endpoint whose aliases are ``aliases`` (champion → 1 by default)."""
    table = {"champion": 1} if aliases is None else aliases
    endpoint = Endpoint(
        product,
        config or EndpointConfig(),
        resolve=table.get,
        load=models.__getitem__,
        log_writer=log_writer,
    )
    return Served(endpoint, None)


def until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def ready(client: TestClient) -> None:
    until(lambda: client.get("/ready").status_code == 200, "/ready")


def problem(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert set(doc) == {"error_code", "message"} and doc["error_code"] == code, doc
    return str(doc["message"])


def _paths(app: FastAPI) -> set[str]:
    paths = set(app.openapi()["paths"])
    assert "/health" in paths, paths  # the routers' operations are documented
    return paths


def test_one_product_also_answers_invocations() -> None:
    app = create_app({"clf": served()})
    assert app.title == "prodml serving" and set(app.state.serving.products) == {"clf"}
    with TestClient(app) as client:
        ready(client)
        expected = MODELS[1].native.predict(np.array([[r["a"], r["b"]] for r in ROWS])).tolist()
        for route in ("/invocations", "/v1/products/clf/invocations"):
            r = client.post(route, json={"dataframe_records": ROWS})
            assert r.status_code == 200, r.text
            assert r.json() == {"predictions": expected}


def test_two_products_have_no_bare_invocations() -> None:
    app = create_app({"clf": served(), "churn": served("churn")})
    assert "/invocations" not in _paths(app)
    with TestClient(app) as client:
        ready(client)
        assert client.post("/invocations", json={"dataframe_records": ROWS}).status_code == 404
        r = client.post("/v1/products/churn/invocations", json={"dataframe_records": ROWS})
        assert r.status_code == 200 and len(r.json()["predictions"]) == 3
        assert client.get("/v1/products").json() == {"products": ["clf", "churn"]}


def test_the_feature_route_exists_with_a_feature_store(tmp_path: Path) -> None:
    assert "/v1/features/online" not in _paths(create_app({"clf": served()}))
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    catalog = Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [])
    features = FeatureStore(catalog, {}, Access("t"), online_url=None, state_dir=tmp_path)
    try:
        assert "/v1/features/online" in _paths(create_app({"clf": served()}, features=features))
    finally:
        store.close()


def test_the_lifespan_loads_the_models() -> None:
    product = served()
    app = create_app({"clf": product})
    assert not product.endpoint.ready  # nothing is loaded before the server starts
    with TestClient(app) as client:
        ready(client)
        info = client.get("/v1/products/clf").json()
    assert [(v["name"], v["version"], v["state"]) for v in info["variants"]] == [
        ("champion", 1, "ready")
    ]


def test_aliases_are_watched_and_changes_swapped_in() -> None:
    aliases = {"champion": 1}
    app = create_app({"clf": served(aliases=aliases)}, reload_seconds=0.05)
    with TestClient(app) as client:
        ready(client)
        first = client.post("/v1/products/clf/predict", json={"records": ROWS[:1]})
        aliases["champion"] = 2  # moved in the registry
        until(
            lambda: client.get("/v1/products/clf").json()["variants"][0]["version"] == 2,
            "the watcher to load version 2",
        )
        second = client.post("/v1/products/clf/predict", json={"records": ROWS[:1]})
    assert first.headers["X-Prodml-Model-Version"] == "1"
    assert second.headers["X-Prodml-Model-Version"] == "2"
    p1, p2 = first.json()["predictions"][0], second.json()["predictions"][0]
    assert p1["prediction"] > 0.5 > p2["prediction"]  # the models disagree on a = 1.5


def test_scoring_is_counted_in_the_metrics() -> None:
    app = create_app({"clf": served()})
    with TestClient(app) as client:
        ready(client)
        for _ in range(2):
            assert (
                client.post("/v1/products/clf/predict", json={"records": ROWS}).status_code == 200
            )
        text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    served_by = (
        ("model_version", "1"),
        ("product", "clf"),
        ("shadow", "false"),
        ("variant", "champion"),
    )
    assert samples[("prodml_predictions_total", served_by)] == 6
    route = (
        ("http_request_method", "POST"),
        ("http_response_status_code", "200"),
        ("http_route", "/v1/products/{product}/predict"),
    )
    assert samples[("http_server_request_duration_seconds_count", route)] == 2


def test_shutdown_flushes_the_log_then_calls_on_shutdown() -> None:
    written: list[pa.Table] = []
    writer = QueueWriter(
        written.append, flush_rows=10_000, flush_seconds=3600, queue_rows=10_000, name="t"
    )
    seen: list[tuple[int, int]] = []
    app = create_app(
        {"clf": served(log_writer=writer)},
        on_shutdown=lambda: seen.append((writer.pending_rows, writer.written_rows)),
    )
    with TestClient(app) as client:
        ready(client)
        r = client.post("/v1/products/clf/predict", json={"records": ROWS})
        assert r.status_code == 200
        assert writer.pending_rows == 3 and not written  # held until a flush
    assert seen == [(0, 3)]  # the log was written before on_shutdown ran
    assert sum(t.num_rows for t in written) == 3
    assert written[0].column("request_id").to_pylist() == [r.json()["request_id"]] * 3


def test_errors_are_mlflows_error_body_with_their_kinds_status() -> None:
    app = create_app({"clf": served(config=EndpointConfig(max_body_bytes=2048, max_rows=2))})
    with TestClient(app) as client:
        ready(client)
        message = problem(client.get("/v1/products/churn"), 404, "RESOURCE_DOES_NOT_EXIST")
        assert message.startswith("no endpoint for product 'churn'; served: clf")
        r = client.post("/v1/products/clf/predict", json={"records": ROWS})
        assert "at most 2" in problem(r, 413, "REQUEST_TOO_LARGE")
        r = client.post("/invocations", content=b"a=1", headers={"Content-Type": "text/plain"})
        assert "unsupported content type 'text/plain'" in problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        r = client.post("/v1/products/clf/predict", content=b"{")
        assert "malformed JSON" in problem(r, 400, "BAD_REQUEST")


def test_an_unknown_products_hint_does_not_contradict_the_served_list() -> None:
    app = create_app({"clf": served()})
    with TestClient(app) as client:
        message = problem(client.get("/v1/products/churn"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == "no endpoint for product 'churn'; served: clf"
    with TestClient(app) as client:
        message = problem(client.get("/v1/products/clff"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == "no endpoint for product 'clff'; served: clf (did you mean 'clf'?)"


def test_not_ready_is_a_503_with_retry_after() -> None:
    app = create_app({"clf": served(aliases={})})  # no champion alias in the registry
    with TestClient(app) as client:
        until(lambda: "no champion alias" in client.get("/ready").text, "the alias check")
        r = client.post("/v1/products/clf/predict", json={"records": ROWS})
    assert problem(r, 503, "TEMPORARILY_UNAVAILABLE") == "clf: no champion alias"
    assert r.headers["Retry-After"] == "1"


def test_kinds_without_an_mlflow_code() -> None:
    app = create_app({"clf": served()})

    async def conflict() -> None:
        raise ConflictError("already so")

    async def unknown() -> None:
        raise ProdmlError("no kind")

    app.add_api_route("/conflict", conflict)
    app.add_api_route("/unknown", unknown)
    with TestClient(app) as client:
        assert problem(client.get("/conflict"), 409, "ERROR") == "already so"
        assert problem(client.get("/unknown"), 500, "INTERNAL_ERROR") == "no kind"
    assert CODES[401] == "UNAUTHENTICATED" and CODES[503] == "TEMPORARILY_UNAVAILABLE"


def test_an_unexpected_failure_is_still_mlflows_error_body() -> None:
    class Truncating:
        def predict(self, frame: Any) -> np.ndarray:
            return np.zeros(len(frame) - 1)

    broken = {1: LoadedModel("dev.ml.clf", 1, SCHEMA, Truncating(), "pyfunc", False, False)}
    app = create_app({"clf": served(models=broken)})
    with TestClient(app, raise_server_exceptions=False) as client:
        ready(client)
        r = client.post("/invocations", json={"dataframe_records": ROWS})
    assert "predictions for 3 rows" in problem(r, 500, "INTERNAL_ERROR")


def test_the_openapi_document_declares_the_bearer_scheme() -> None:
    app = create_app({"clf": served()})
    doc = app.openapi()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["info"]["title"] == "prodml serving" and doc["info"]["version"] == "1"
    predict = doc["paths"]["/v1/products/{product}/predict"]["post"]
    assert predict["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/health"]["get"]
    assert app.openapi()["components"]["securitySchemes"] == doc["components"]["securitySchemes"]
