"""Operations routes: liveness, readiness (ours with the reason, MLflow's ``/ping``), version,
Prometheus metrics with the inference-log backlog, and ``/v1/admin/reload`` (guarded), on a
real app over endpoints serving in-memory scikit-learn models."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
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
from prodml.serving.build import Served
from prodml.serving.endpoint import Endpoint
from prodml.serving.inference_log import QueueWriter

SCHEMA = (("a", "double"), ("b", "double"))
RECORDS = {"records": [{"a": 1.0, "b": 0.0}, {"a": -1.0, "b": 0.0}, {"a": 0.2, "b": 1.0}]}
TWO_ARMS = EndpointConfig.model_validate(
    {"variants": {"champion": {"alias": "champion"}, "challenger": {"alias": "challenger"}}}
)


def _model(version: int) -> LoadedModel:
    x = np.random.default_rng(version).normal(size=(100, 2))
    native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    return LoadedModel("dev.ml.clf", version, SCHEMA, native, "sklearn", True, False)


MODELS = {1: _model(1), 2: _model(2)}


def served(
    name: str = "clf",
    aliases: dict[str, int] | None = None,
    *,
    config: EndpointConfig | None = None,
    guard: Any = None,
    log_writer: QueueWriter | None = None,
    load: Callable[[int], LoadedModel] = MODELS.__getitem__,
) -> Served:
    table = {"champion": 1} if aliases is None else aliases
    endpoint = Endpoint(
        name,
        config or EndpointConfig(reload_seconds=3600),
        resolve=table.get,
        load=load,
        log_writer=log_writer,
    )
    return Served(endpoint, guard)


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def settled(client: TestClient, product: str = "clf") -> None:
    """Every variant has been checked (the first refresh ran)."""
    until(
        lambda: "loading" not in client.get("/ready").json()["products"][product].values(),
        "the first alias check",
    )


def test_health_answers_before_anything_is_loaded() -> None:
    with TestClient(create_app({"clf": served(aliases={})})) as client:
        r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_ready_and_ping_once_every_variant_is_settled() -> None:
    with TestClient(create_app({"clf": served(config=TWO_ARMS)})) as client:
        settled(client)
        r = client.get("/ready")
        ping = client.get("/ping")
    # no challenger alias in the registry: settled, and the champion serves
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ready": True,
        "products": {"clf": {"champion": "ready", "challenger": "no challenger alias"}},
    }
    assert (ping.status_code, ping.content) == (200, b"\n")


def test_not_ready_says_why_per_product_and_variant() -> None:
    def broken(version: int) -> LoadedModel:
        raise OSError("artifact missing")

    app = create_app({"clf": served(aliases={}), "churn": served("churn", load=broken)})
    with TestClient(app) as client:
        until(lambda: "failed" in client.get("/ready").text, "the failed load")
        settled(client, "clf")
        r = client.get("/ready")
        ping = client.get("/ping")
    assert r.status_code == 503
    assert r.json() == {
        "ready": False,
        "products": {
            "clf": {"champion": "no champion alias"},
            "churn": {"champion": "failed: version 1: OSError: artifact missing"},
        },
    }
    assert ping.status_code == 503


def test_version_is_the_installed_prodml() -> None:
    with TestClient(create_app({"clf": served()})) as client:
        r = client.get("/version")
    assert r.status_code == 200 and r.text == version("prodml")
    assert r.headers["content-type"].startswith("text/plain")


def test_metrics_show_the_inference_log_backlog() -> None:
    written: list[pa.Table] = []
    writer = QueueWriter(
        written.append, flush_rows=10_000, flush_seconds=3600, queue_rows=10_000, name="t"
    )
    with TestClient(create_app({"clf": served(log_writer=writer)})) as client:
        until(lambda: client.get("/ready").status_code == 200, "ready")
        assert client.post("/v1/products/clf/predict", json=RECORDS).status_code == 200
        r = client.get("/metrics")
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }
    assert samples[("prodml_inference_log_pending_rows", (("product", "clf"),))] == 3
    assert samples[("prodml_inference_log_written_rows", (("product", "clf"),))] == 0
    assert sum(t.num_rows for t in written) == 3  # flushed at shutdown


def test_reload_swaps_in_changed_aliases_now() -> None:
    aliases = {"champion": 1}
    with TestClient(create_app({"clf": served(aliases=aliases)})) as client:
        until(lambda: client.get("/ready").status_code == 200, "ready")
        assert client.post("/v1/admin/reload").json() == {"changes": {"clf": []}, "ready": True}
        aliases["champion"] = 2
        r = client.post("/v1/admin/reload")
        assert r.status_code == 200
        assert r.json() == {
            "changes": {"clf": [{"variant": "champion", "from": 1, "to": 2}]},
            "ready": True,
        }
        predicted = client.post("/v1/products/clf/predict", json=RECORDS)
        assert predicted.headers["X-Prodml-Model-Version"] == "2"
        del aliases["champion"]  # the alias was removed
        r = client.post("/v1/admin/reload")
    assert r.json() == {
        "changes": {"clf": [{"variant": "champion", "from": 2, "to": None}]},
        "ready": False,
    }


@pytest.fixture
def guards(tmp_path: Path) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Real endpoint guards (no governance: each endpoint's declared token) for clf and churn."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    governance = Governance(store, GovernanceConfig())
    out, tokens = {}, {}
    for name in ("clf", "churn"):
        token = new_token()[1]
        endpoint = Securable("endpoint", f"dev.{name}")
        governance.records.sync_declared(str(endpoint), [(f"{name}-app", token_hash(token))])
        out[name], tokens[name] = EndpointGuard(governance, endpoint, ttl=0), token
    yield out, tokens
    store.close()


def test_reload_needs_a_token_one_endpoint_accepts(
    guards: tuple[dict[str, Any], dict[str, str]],
) -> None:
    guard, tokens = guards
    app = create_app(
        {"clf": served(guard=guard["clf"]), "churn": served("churn", guard=guard["churn"])}
    )
    with TestClient(app) as client:
        r = client.post("/v1/admin/reload")
        assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED"
        r = client.post("/v1/admin/reload", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {tokens['churn']}"})
        assert r.status_code == 200 and set(r.json()["changes"]) == {"clf", "churn"}
        # operations that change nothing need no token
        assert client.get("/ready").status_code in (200, 503)
        assert client.get("/metrics").status_code == 200
