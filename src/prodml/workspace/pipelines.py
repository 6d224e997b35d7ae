"""The façade's products and pipelines: the landscape, plans, runs, resumes, reproductions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.pipeline.planner import StepPlan
    from prodml.pipeline.reproduce import ReproduceReport
    from prodml.pipeline.runner import Event, RunResult
    from prodml.pipeline.service import ProductSummary
    from prodml.products import Product
    from prodml.workspace.wiring import Wiring


class PipelineMethods:
    """Products and their pipelines."""

    _w: Wiring

    @property
    def products(self) -> Mapping[str, Product]:
        """Every product of the platform, loaded for this environment."""
        return self._w.products

    def product(self, name: str) -> Product:
        """One product (``NotFoundError`` with did-you-mean otherwise)."""
        from prodml.products import require_product

        return require_product(self._w.products, name)

    def landscape(self) -> list[ProductSummary]:
        """Every product with its owner, stage, kind and last run."""
        return self._w.pipelines.landscape()

    def describe_product(self, name: str) -> dict[str, Any]:
        """A product's configuration, steps, and the products it builds on."""
        return self._w.pipelines.describe(self.product(name))

    def plan(
        self,
        product: str,
        *,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
    ) -> list[StepPlan]:
        """What ``run`` would do now, step by step, without running anything."""
        from prodml.pipeline.planner import RunOptions

        options = RunOptions.of(steps, partitions, full_refresh)
        return self._w.pipelines.plan(self.product(product), options)

    def run(
        self,
        product: str,
        *,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
        resume: str | None = None,
        promote: bool = False,
        on_event: Event | None = None,
        check: bool = True,
    ) -> RunResult:
        """Run a product's pipeline (and the upstream steps it needs): only ``steps`` (names in
        the product, or ``product.step``); a backfill of ``partitions`` (``START..END``); a
        ``full_refresh``; or ``resume`` a run (what failed or never ran in it, with its
        options). With ``promote`` a version passing the gate becomes champion at once (before
        the same run's apply steps score). ``on_event(kind, data)`` reports progress; with
        ``check`` a failed run raises its first step error (else it is in the result).
        """
        from prodml.pipeline.planner import RunOptions

        if resume:
            return self._w.pipelines.resume(resume, on_event=on_event, check=check)
        if promote:
            self._w.models.config(product)  # a clear error for a product without a model
        options = RunOptions.of(steps, partitions, full_refresh, promote)
        return self._w.pipelines.run(self.product(product), options, on_event=on_event, check=check)

    def runs(self, product: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs in this environment, newest first."""
        if product is not None:
            self.product(product)
        return self._w.pipelines.runs(product, limit)

    def run_info(self, run_id: str) -> dict[str, Any]:
        """One run (by id or a unique prefix) with its step records."""
        return self._w.pipelines.run_info(run_id)

    def reproduce(self, run_id: str) -> ReproduceReport:
        """Re-execute a run against the table versions it read and compare its outputs."""
        return self._w.pipelines.reproduce(run_id)
