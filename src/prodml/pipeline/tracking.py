"""What train and evaluate steps see of experiment tracking (implemented by ``prodml.models``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from prodml.products import MODEL_STAGES, TRACKED_STAGES

__all__ = ["MODEL_STAGES", "TRACKED_STAGES", "StepRunInfo", "Tracker", "TrackerFactory"]


@dataclass(frozen=True)
class StepRunInfo:
    """Who and what a tracked step run is: becomes tags on its tracking run."""

    product: str
    env: str
    step: str
    stage: str
    run_id: str
    now: datetime
    git_sha: str | None
    config_hash: str
    input_versions: Mapping[str, int | None] = field(default_factory=dict)
    promote: bool = False
    # the step's batch fingerprint (code, params, input contents): a model version registered
    # for it by a run that died before committing is reused, not registered again
    batch: str = ""


class Tracker(Protocol):
    """Experiment tracking for one step run (an MLflow run, by default)."""

    @property
    def tracking_run_id(self) -> str:
        """The tracking run's id."""

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters."""

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics."""

    def log_model(
        self,
        model: Any,
        *,
        input_example: Any,
        name: str | None = None,
        training_set: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        """Log and register a model version (with its training-set spec); return a one-row
        record of it."""

    def load_model(self, *, version: int | None = None, alias: str | None = None) -> Any:
        """Load a registered version of the product's model."""

    def candidate(self) -> int:
        """The newest registered version of the product's model."""

    def resolve(self, *, version: int | None, alias: str | None) -> tuple[str, int]:
        """The registered name and the version that ``version`` or ``alias`` stands for."""

    @property
    def registered_name(self) -> str:
        """The product's model as registered (``<env>.ml.<model>``)."""

    def gate(
        self,
        metrics: Mapping[str, float],
        *,
        version: int,
        champion_metrics: Mapping[str, float] | None = None,
    ) -> pa.Table:
        """Check a version against the product's gate; return a one-row record or raise."""

    def score(
        self,
        data: Any,
        *,
        alias: str | None = "champion",
        version: int | None = None,
        keep: Sequence[str] = (),
        chunk_rows: int = 100_000,
        workers: int = 1,
    ) -> pa.RecordBatchReader:
        """Score ``data`` (an Arrow dataset/table or a DuckDB relation) with a registered version."""

    def close(self, *, failed: bool) -> None:
        """End the tracking run."""


TrackerFactory = Callable[[StepRunInfo], Tracker]
