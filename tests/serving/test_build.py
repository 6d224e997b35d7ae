"""Endpoints from the products' configuration (``build``): the models they load from the
registry, who may call them, their inference log and outcomes written through a real catalog
(Delta tables in a temp dir), and the online features they look up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from prodml.abtest import outcomes
from prodml.abtest.errors import OutcomeError
from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.config.product import FeatureTable, ProductConfig
from prodml.errors import NotFoundError, UsageError
from prodml.features.lookup import OnlineFeatures
from prodml.features.sqlite_store import SqliteStore
from prodml.features.training import DeclaredTable
from prodml.models.loaded import LoadedModel
from prodml.serving import inference_log
from prodml.serving.build import OutcomeFormat, OutcomeLog, Served, build
from prodml.serving.errors import NotReadyError
from prodml.serving.features import FeatureEnricher
from prodml.serving.inference_log import Block, QueueWriter
from prodml.tables.delta import DeltaTables

FORMAT = OutcomeFormat(outcomes.parse, outcomes.to_table, outcomes.DOCS)
TOKEN = {"name": "crm", "sha256": "a" * 64}


class Registry:
    """Model versions in memory, as serving's ``ModelSource`` sees a registry."""

    def __init__(self) -> None:
        x = np.random.default_rng(5).normal(size=(100, 2))
        native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
        self.aliases = {("clf_model", "champion"): 3}
        self.model = LoadedModel(
            "dev.ml.clf_model",
            3,
            (("a", "double"), ("b", "double")),
            native,
            "sklearn",
            True,
            False,
        )
        self.loads: list[tuple[str, int, str]] = []

    def alias_version(self, model: str, alias: str) -> int | None:
        return self.aliases.get((model, alias))

    def load(self, model: str, version: int, flavor: str) -> LoadedModel:
        self.loads.append((model, version, flavor))
        return self.model


def product(name: str = "clf", **sections: Any) -> ProductConfig:
    return ProductConfig.model_validate(
        {
            "name": name,
            "description": "a product",
            "owners": [{"name": "t", "role": "accountable"}],
            "model": {"name": "clf_model"},
            "endpoint": sections.pop("endpoint", {}),
            **sections,
        }
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    yield Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [])
    store.close()


def _build(
    catalog: Catalog, products: dict[str, ProductConfig], **kwargs: Any
) -> dict[str, Served]:
    asked: list[str] = kwargs.pop("asked", [])

    def access(name: str) -> Access:
        asked.append(name)
        return Access(f"service:serving@dev/{name}", step="serve")

    options: dict[str, Any] = {
        "models": Registry(),
        "catalog": catalog,
        "access": access,
        "guard": None,
        "governed": False,
        "outcomes": FORMAT,
    }
    options.update(kwargs)
    return build(products, **options)


def _close(served: dict[str, Served]) -> None:
    for s in served.values():
        if s.endpoint.log_writer is not None:
            s.endpoint.log_writer.close()
        if s.outcomes is not None:
            s.outcomes.writer.close()


def test_each_endpoint_loads_its_products_model(catalog: Catalog) -> None:
    registry = Registry()
    config = {"endpoint": {"inference_log": {"enabled": False}}}
    served = _build(
        catalog, {"clf": product(**config), "churn": product("churn", **config)}, models=registry
    )
    assert list(served) == ["clf", "churn"]
    endpoint = served["clf"].endpoint
    assert endpoint.product == "clf" and endpoint.log_writer is None
    changes = asyncio.run(endpoint.refresh())
    assert changes == [{"variant": "champion", "from": None, "to": 3}]
    assert registry.loads == [("clf_model", 3, "sklearn")]
    assert endpoint.info()["model"] == "dev.ml.clf_model" and endpoint.ready


def test_an_endpoint_nobody_could_call_is_refused(catalog: Catalog) -> None:
    with pytest.raises(UsageError) as err:
        _build(catalog, {"clf": product()}, guard=lambda name: None)
    assert err.value.message == "the endpoint of clf has no tokens, so nobody could call it"
    assert err.value.hint is not None
    assert "prodml tokens new" in err.value.hint and "endpoint.auth.tokens" in err.value.hint


def test_guards_come_from_the_wiring(catalog: Catalog) -> None:
    guards: list[str] = []

    def guard(name: str) -> Any:
        guards.append(name)
        return f"guard of {name}"

    tokens = {"endpoint": {"auth": {"tokens": [TOKEN]}}}
    served = _build(catalog, {"clf": product(**tokens)}, guard=guard)
    governed = _build(catalog, {"churn": product("churn")}, guard=guard, governed=True)
    open_ = _build(catalog, {"x": product("x")}, guard=None)
    try:
        assert served["clf"].guard == "guard of clf"
        assert governed["churn"].guard == "guard of churn"  # governance decides: no tokens needed
        assert open_["x"].guard is None and guards == ["clf", "churn"]
    finally:
        for s in (served, governed, open_):
            _close(s)


def _block(n: int) -> Block:
    return Block(
        request_id="r1",
        time=datetime(2026, 5, 1, 12, tzinfo=UTC),
        product="clf",
        route="predict",
        variant="champion",
        shadow=False,
        model="dev.ml.clf_model",
        model_version=3,
        rows=np.arange(n),
        unit_ids=[None] * n,
        inputs={"a": np.arange(n, dtype=float)},
        outputs=np.full(n, 0.5),
        latency_ms=2.0,
    )


def test_the_inference_log_is_appended_to_its_table(catalog: Catalog) -> None:
    asked: list[str] = []
    served = _build(catalog, {"clf": product()}, asked=asked)
    writer = served["clf"].endpoint.log_writer
    assert isinstance(writer, QueueWriter) and writer.name == "clf inference log"
    assert asked == ["clf"]
    assert writer.put([_block(3)])
    assert writer.close() == 0
    table = catalog.name("ml.clf_inference_log")
    dataset, version = catalog.read(table, Access("t"))
    rows = dataset.to_table()
    assert version == 0 and rows.num_rows == 3
    assert rows.column("model_version").to_pylist() == [3, 3, 3]
    (entry,) = catalog.store.list_tables("dev")
    assert (entry["schema_name"], entry["name"]) == ("ml", "clf_inference_log")
    assert entry["description"] == "The inference log of the clf endpoint."
    assert entry["owner_product"] == "clf" and entry["partition_by"] == ["date"]
    assert entry["producer_step"] == "serve"
    docs = {c["name"]: c["doc"] for c in entry["columns"]}
    assert docs["request_id"] == inference_log.DOCS["request_id"]


def test_the_log_table_can_be_named_and_its_flushes_configured(catalog: Catalog) -> None:
    config = {"inference_log": {"table": "ml.clf_requests", "flush_rows": 7, "queue_rows": 70}}
    served = _build(catalog, {"clf": product(endpoint=config)})
    writer = served["clf"].endpoint.log_writer
    assert writer is not None and (writer.flush_rows, writer.queue_rows) == (7, 70)
    writer.put([_block(1)])
    writer.close()
    assert [t["name"] for t in catalog.store.list_tables("dev")] == ["clf_requests"]


AB = {
    "endpoint": {
        "variants": {
            "champion": {"alias": "champion"},
            "challenger": {"alias": "challenger"},
        },
        "max_rows": 5,
    },
    "ab": {
        "experiments": {
            "test": {"metrics": {"converted": {"kind": "rate"}, "revenue": {"kind": "mean"}}}
        }
    },
}


def test_outcomes_are_accepted_and_written_to_their_table(catalog: Catalog) -> None:
    served = _build(catalog, {"clf": product(**AB)})
    clf = served["clf"]
    assert clf.metrics == {"converted", "revenue"}
    assert isinstance(clf.outcomes, OutcomeLog) and clf.outcomes.metrics == {"converted", "revenue"}
    doc = {
        "outcomes": [
            {"unit_id": "u1", "metric": "converted", "value": 1},
            {"unit_id": 2, "metric": "revenue", "value": 12.5},
        ]
    }
    assert clf.outcomes.accept(doc) == 2
    with pytest.raises(OutcomeError, match="at most 5"):
        clf.outcomes.accept({"outcomes": doc["outcomes"] * 3})  # the endpoint's max_rows
    assert clf.outcomes.writer.name == "clf outcomes"
    _close(served)
    entry = catalog.store.get_table("dev", "ml", "clf_outcomes")
    assert entry is not None and entry["description"] == "The outcomes of the clf endpoint."
    dataset, _ = catalog.read(catalog.name("ml.clf_outcomes"), Access("t"))
    rows = dataset.to_table().to_pylist()
    assert sorted((r["unit_id"], r["metric"], r["value"]) for r in rows) == [
        ("2", "revenue", 12.5),
        ("u1", "converted", 1.0),
    ]


def test_without_experiments_there_is_no_outcome_log(catalog: Catalog) -> None:
    served = _build(catalog, {"clf": product()})
    assert served["clf"].outcomes is None and served["clf"].metrics == set()
    _close(served)


def test_a_full_outcome_queue_refuses_with_a_retry(catalog: Catalog) -> None:
    writer = QueueWriter(
        lambda table: None,
        encode=outcomes.to_table,
        flush_rows=100,
        flush_seconds=3600,
        queue_rows=1,
        name="t",
    )
    log = OutcomeLog(FORMAT, writer, {"converted"}, 10)
    two = {"outcomes": [{"unit_id": "u", "metric": "converted", "value": 1}] * 2}
    try:
        with pytest.raises(NotReadyError, match=r"the outcome log is behind \(queue full\); retry"):
            log.accept(two)
        assert writer.pending_rows == 0
    finally:
        writer.close()


def test_feature_lookups_are_resolved_when_the_server_is_built(
    catalog: Catalog, tmp_path: Path
) -> None:
    decl = FeatureTable.model_validate(
        {"description": "d", "keys": ["customer_id"], "timestamp": "ts", "features": {"spend": "s"}}
    )
    declared = {"features.customers": DeclaredTable("features.customers", "core", None, decl)}
    store = SqliteStore(tmp_path / "online.db")
    online = OnlineFeatures(store, declared, "dev")
    lookups = {
        "feature_lookups": [{"table": "features.customers"}],
        "inference_log": {"enabled": False},
    }
    try:
        served = _build(catalog, {"clf": product(endpoint=lookups)}, features=lambda: online)
        enricher = served["clf"].endpoint.enricher
        assert isinstance(enricher, FeatureEnricher) and enricher.online is online
        assert [lookup.features for lookup in enricher.lookups([])] == [["spend"]]
        # no feature store: nothing is looked up
        plain = _build(catalog, {"clf": product(endpoint=lookups)})
        assert plain["clf"].endpoint.enricher is None
        bad = {**lookups, "feature_lookups": [{"table": "features.customer"}]}
        with pytest.raises(NotFoundError, match=r"did you mean 'features\.customers'"):
            _build(catalog, {"clf": product(endpoint=bad)}, features=lambda: online)
    finally:
        store.close()
