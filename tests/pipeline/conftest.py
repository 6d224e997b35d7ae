"""Fixtures of the pipeline tests: the façade tests' shop platform (landing → bronze.sales by
day → gold.totals), reused as is, a workspace connected to it, and real step contexts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.workspace.conftest import shop  # noqa: F401 - the fixture, shared with the façade tests

import prodml
from prodml.catalog.policies import Access
from prodml.engine.base import Engine
from prodml.engine.local import LocalEngine
from prodml.pipeline.context import StepContext, StepScope, StepServices
from prodml.pipeline.hooks import Authorize, TrainingSets
from prodml.workspace import Workspace

#: the logical time of the step contexts built here
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def shop_ws(shop: Path) -> Iterator[Workspace]:  # noqa: F811 - the imported fixture
    """A workspace on the shop platform (nothing run yet)."""
    with prodml.connect(shop) as ws:
        yield ws


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh local engine of catalog ``dev`` (closed after the test)."""
    engine = LocalEngine("dev")
    yield engine
    engine.close()


def step_context(
    ws: Workspace,
    engine: Engine,
    *,
    step: str = "s",
    params: Mapping[str, Any] | None = None,
    partitions: list[str] | None = None,
    partition_by: str | None = None,
    inputs: Sequence[str] = (),
    reads: dict[str, int] | None = None,
    training_sets: TrainingSets | None = None,
    authorize: Authorize | None = None,
) -> StepContext:
    """A real step context of step ``shop.<step>`` in run ``r1`` on the workspace's catalog;
    ``reads`` collects the tables it reports as read."""
    w = ws._w
    scope = StepScope(
        run_id="r1",
        env=w.env,
        product="shop",
        step=step,
        params=params or {},
        now=NOW,
        partitions=partitions,
        partition_by=partition_by,
        full_refresh=False,
    )
    services = StepServices(
        engine=engine,
        catalog=w.catalog,
        access=Access(principal="user:t", run_id="r1", step=f"shop.{step}"),
        landing_root=w.landing_dir,
        on_read=(reads if reads is not None else {}).__setitem__,
        training_sets=training_sets,
        authorize=authorize,
    )
    return StepContext(scope, services, inputs)


class RecordingTracker:
    """Stands in for the models domain's tracker (tested with MLflow in tests/models): records
    what it is asked; registers version 3 of ``dev.ml.m``."""

    registered_name = "dev.ml.m"

    def __init__(self, tracking_run_id: str = "t1") -> None:
        self.tracking_run_id = tracking_run_id
        self.calls: list[tuple[str, Any]] = []

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.calls.append(("log_params", dict(params)))

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self.calls.append(("log_metrics", (dict(metrics), step)))

    def log_model(
        self, model: Any, *, input_example: Any, name: Any, training_set: Any
    ) -> pa.Table:
        self.calls.append(("log_model", training_set))
        return pa.table({"model": ["dev.ml.m"], "version": [3]})

    def load_model(self, *, version: int | None = None, alias: str | None = None) -> Any:
        self.calls.append(("load_model", (version, alias)))
        return "the model"

    def candidate(self) -> int:
        return 3

    def resolve(self, *, version: int | None, alias: str | None) -> tuple[str, int]:
        return "dev.ml.m", version or 2

    def gate(self, metrics: Mapping[str, float], *, version: int, champion_metrics: Any) -> Any:
        self.calls.append(("gate", (dict(metrics), version)))
        return pa.table({"passed": [True]})

    def score(self, data: Any, **options: Any) -> Any:
        self.calls.append(("score", options))
        return pa.RecordBatchReader.from_batches(data.schema, data.to_batches())

    def close(self, *, failed: bool) -> None:
        self.calls.append(("close", failed))
