"""The records policy: commits recorded, lineage built from what a step read through the gate
and what its writes declare, kept only when the step succeeded, sent to a lineage sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access, RecordsPolicy
from prodml.catalog.store import MetadataStore
from prodml.tables.delta import DeltaTables, WriteSpec

STEP = Access("ana", run_id="r1", step="shop.totals")


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Catalog, list[Any]]]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    sent: list[Any] = []
    policy = RecordsPolicy(store, lambda *event: sent.append(event))
    yield Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [policy]), sent
    store.close()


def _write(catalog: Catalog, name: str, access: Access, sources: Any = None) -> int:
    table = catalog.name(name)
    spec = WriteSpec(str(table), "overwrite")
    return catalog.write(table, pa.table({"n": [1, 2]}), spec, access, sources=sources).version


def test_a_steps_reads_and_declared_sources_become_edges_when_it_succeeds(
    recorded: tuple[Catalog, list[Any]],
) -> None:
    catalog, sent = recorded
    _write(catalog, "bronze.sales", Access("ana"))
    catalog.read(catalog.name("bronze.sales"), STEP)
    catalog.link(STEP, "model:dev.ml.shop/1")
    _write(catalog, "gold.totals", STEP, sources={"landing:sales": None})
    assert catalog.store.edges() == []  # nothing before the step is over
    catalog.finish(STEP, succeeded=True)
    edges = {
        (e["source"], e["source_version"], e["target"], e["target_version"])
        for e in catalog.store.edges()
    }
    assert edges == {
        ("dev.bronze.sales", 0, "model:dev.ml.shop/1", None),
        ("dev.bronze.sales", 0, "dev.gold.totals", 0),
        ("landing:sales", None, "dev.gold.totals", 0),
    }
    ((run_id, step, sent_edges, outputs),) = sent
    assert (run_id, step, outputs) == ("r1", "shop.totals", {"dev.gold.totals": 0})
    assert len(sent_edges) == 3
    assert [c["table_name"] for c in catalog.store.commits("dev.gold.totals")] == [
        "dev.gold.totals"
    ]


def test_a_failed_step_and_writes_without_lineage_leave_no_edges(
    recorded: tuple[Catalog, list[Any]],
) -> None:
    catalog, sent = recorded
    _write(catalog, "bronze.sales", Access("ana"))
    catalog.read(catalog.name("bronze.sales"), STEP)
    _write(catalog, "gold.totals", STEP, sources={})
    catalog.finish(STEP, succeeded=False)
    other = Access("ana", run_id="r2", step="shop.log")
    catalog.read(catalog.name("bronze.sales"), other)
    _write(catalog, "ml.log", other)  # a log: sources=None, no lineage
    catalog.finish(other, succeeded=True)
    assert catalog.store.edges() == [] and sent == [("r2", "shop.log", [], {})]
    catalog.finish(Access("ana"), succeeded=True)  # not a step: nothing to close


def test_reads_of_state_or_history_are_not_lineage(recorded: tuple[Catalog, list[Any]]) -> None:
    catalog, _ = recorded
    _write(catalog, "bronze.sales", Access("ana"))
    catalog.state(catalog.name("bronze.sales"), STEP)
    catalog.history(catalog.name("bronze.sales"), STEP)
    _write(catalog, "gold.totals", STEP, sources={})
    catalog.finish(STEP, succeeded=True)
    assert catalog.store.edges() == []
