"""The façade's products and pipelines: the landscape, plans, runs, resumes, reproductions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.pipeline.planner import RunOptions, StepPlan
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
        params: Mapping[str, Any] | Sequence[str] | None = None,
    ) -> list[StepPlan]:
        """What ``run`` would do now, step by step, without running anything."""
        from prodml.pipeline.planner import RunOptions

        options = RunOptions.of(steps, partitions, full_refresh, params=_params(params))
        return self._w.pipelines.plan(self.product(product), options)

    def run(  # noqa: PLR0913 - the options of a run, keyword-only
        self,
        product: str,
        *,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
        resume: str | None = None,
        promote: bool = False,
        params: Mapping[str, Any] | Sequence[str] | None = None,
        wait: bool | float = False,
        on_event: Event | None = None,
        check: bool = True,
    ) -> RunResult:
        """Run a product's pipeline (and the upstream steps it needs): only ``steps``;
        a backfill of ``partitions`` (``START..END``); a ``full_refresh``; ``resume`` a run
        (with its options); ``promote`` a version passing the gate at once; ``params`` for
        this run only (``{"c": 1}`` or ``["product.c=1"]``). Another run of the product in
        this environment is refused, or waited for with ``wait`` (True, or seconds)."""
        options = _options(steps, partitions, full_refresh, promote, params)
        if resume:
            _alone_with_resume(options)
            return self._w.pipelines.resume(
                resume, on_event=on_event, check=check, wait=_wait(wait)
            )
        if promote:
            self._w.models.config(product)  # a clear error for a product without a model
        return self._w.pipelines.run(
            self.product(product), options, on_event=on_event, check=check, wait=_wait(wait)
        )

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


def _options(
    steps: Sequence[str] | None,
    partitions: str | None,
    full_refresh: bool,
    promote: bool,
    params: Mapping[str, Any] | Sequence[str] | None,
) -> RunOptions:
    from prodml.pipeline.planner import RunOptions

    return RunOptions.of(steps, partitions, full_refresh, promote, params=_params(params))


def _alone_with_resume(options: RunOptions) -> None:
    """A resume runs with the options of the run it resumes: others given are refused."""
    import dataclasses

    from prodml.errors import UsageError
    from prodml.pipeline.planner import RunOptions

    default = RunOptions()
    for f in dataclasses.fields(options):
        if getattr(options, f.name) != getattr(default, f.name):
            raise UsageError(
                f"a resume runs with the options of the run it resumes; {f.name} cannot be "
                "given with it",
                hint="resume alone, or start a new run with the options you want",
            )


def _params(params: Mapping[str, Any] | Sequence[str] | None) -> Mapping[str, Any] | None:
    """Params as given: a mapping, or ``name=value`` texts (values read as YAML scalars)."""
    if params is None or isinstance(params, Mapping):
        return params
    from prodml.pipeline.params import parse_assignments

    return parse_assignments(params)


def _wait(wait: bool | float) -> float | None:
    """``True``: as long as it takes; ``False``: not at all; a number: seconds."""
    import math

    if wait is True:
        return math.inf
    if wait is False:
        return None
    if wait < 0:
        from prodml.errors import UsageError

        raise UsageError(f"wait={wait!r}: a wait is seconds, 0 or more", hint="e.g. wait=600")
    return float(wait)
