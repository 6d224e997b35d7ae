"""Walking the lineage graph: up or down from a table, a landing source or a model version,
with a depth limit; later runs' versions win; unknown nodes are named with the known ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prodml.catalog.lineage import node, walk
from prodml.catalog.store import MetadataStore
from prodml.errors import NotFoundError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    for run_id, version in (("r1", 0), ("r2", 1)):
        store.create_run(
            {
                "run_id": run_id,
                "product": "shop",
                "env": "dev",
                "catalog": "dev",
                "status": "succeeded",
                "started_at": datetime.now(UTC),
                "principal": "ana",
                "config_hash": "c",
                "packages": {},
                "options": {},
            }
        )
        edge = {"run_id": run_id, "source_version": None}
        store.add_edges(
            [
                {
                    **edge,
                    "step": "shop.ingest",
                    "source": "landing:sales",
                    "target": "bronze.sales",
                    "target_version": version,
                },
                {
                    **edge,
                    "step": "shop.train",
                    "source": "dev.bronze.sales",
                    "source_version": version,
                    "target": "model:dev.ml.shop/1",
                    "target_version": None,
                },
                {
                    **edge,
                    "step": "shop.score",
                    "source": "model:dev.ml.shop/1",
                    "target": "gold.scores",
                    "target_version": version,
                },
            ]
        )
    yield store
    store.close()


def test_upstream_from_predictions_to_landing_files(store: MetadataStore) -> None:
    edges = walk(store, "gold.scores", "dev")
    assert [(e.depth, e.source, e.target) for e in edges] == [
        (1, "model:dev.ml.shop/1", "dev.gold.scores"),
        (2, "dev.bronze.sales", "model:dev.ml.shop/1"),
        (3, "landing:sales", "dev.bronze.sales"),
    ]
    assert edges[0].target_version == 1 and edges[0].run_id == "r2"  # the latest run wins


def test_downstream_and_depth(store: MetadataStore) -> None:
    edges = walk(store, "landing:sales", "dev", upstream=False, depth=2)
    assert [e.target for e in edges] == ["dev.bronze.sales", "model:dev.ml.shop/1"]


def test_unknown_nodes_and_other_catalogs(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="lineage node"):
        walk(store, "gold.nope", "dev")
    with pytest.raises(NotFoundError, match="when steps run"):
        walk(store, "gold.scores", "prod")  # lineage is per catalog
    assert node("gold.x", "dev") == "dev.gold.x" and node("model:a/1", "dev") == "model:a/1"
