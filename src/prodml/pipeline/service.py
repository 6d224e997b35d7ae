"""The pipelines of one environment: plan, run, resume, reproduce; runs and the landscape.

What ``prodml plan``, ``run``, ``runs`` and ``products`` do, whichever adapter asks: the rules
(re-planning downstream of a change, what a resume re-runs) are enforced here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.errors import NotFoundError, UsageError
from prodml.pipeline.invoke import step_code
from prodml.pipeline.params import qualify
from prodml.pipeline.planner import Planner, RunOptions, StepPlan
from prodml.pipeline.reproduce import ReproduceReport, reproduce
from prodml.pipeline.runner import Event, RunEnv, Runner, RunResult, reap_stale_runs
from prodml.products import Product


@dataclass(frozen=True)
class ProductSummary:
    """One product in the landscape: who is accountable, its stage, its last run."""

    name: str
    description: str
    stage: str
    kind: str
    accountable: str
    steps: int
    last_run: str | None
    last_status: str | None


class Pipelines:
    """Plans and runs the products of one environment.

    Args:
        make_renv: what runs need (catalog, DAG, products, principal, …), made on first use:
            the history of runs is read without loading the products.
        store: the metadata store.
        catalog: the environment's catalog name.
        scratch: a directory for scratch tables (reproduction).
    """

    def __init__(
        self,
        make_renv: Callable[[], RunEnv],
        store: MetadataStore,
        catalog: str,
        scratch: Path,
        *,
        gate: Callable[[], Catalog] | None = None,
        principal: str | None = None,
    ) -> None:
        self._make_renv = make_renv
        self.store = store
        self.catalog = catalog
        self.scratch = scratch
        self._gate = gate
        self._principal = principal

    def _tables_of(self, run_id: str) -> list[str]:
        """The tables a run's steps read and wrote (as its step records name them)."""
        names: set[str] = set()
        for step in self.store.step_runs(run_id):
            names |= {n for n in (*step["inputs"], *step["outputs"]) if ":" not in n}
        return sorted(names)

    def _seen(self, run_id: str, *, audited: bool) -> bool:
        """Whether the principal may see a run's records: they name the tables it read and
        wrote, with versions, sizes and errors, so that is a read of each one's metadata
        (``audited``: checked, a refusal raised and recorded; else decided quietly)."""
        if self._gate is None:
            return True
        gate = self._gate()
        access = Access(self._principal or "unknown")
        for name in self._tables_of(run_id):
            table = gate.name(name)
            if not gate.exists(table):
                continue
            if audited:
                gate.browse(table, access)
            elif not gate.visible(table, access):
                return False
        return True

    @cached_property
    def renv(self) -> RunEnv:
        """What runs need (built on first use)."""
        return self._make_renv()

    def reap(self) -> None:
        """Record runs whose process died as killed (and end their tracking runs)."""
        reap_stale_runs(self.store, self.catalog, self._end_tracking)

    def _end_tracking(self, tracking_run_id: str) -> None:
        end = self.renv.end_tracking  # the products are loaded only when there is one to end
        if end is not None:
            end(tracking_run_id)

    def runner(self, on_event: Event | None = None) -> Runner:
        """A runner for one run."""
        return Runner(self.renv, on_event)

    def plan(self, product: Product, options: RunOptions) -> list[StepPlan]:
        """What a run would do now. A step downstream of one that will run is shown as
        running: its inputs are about to change (the runner re-plans it once they have)."""
        renv = self.renv
        engine = renv.make_engine()
        try:
            access = Access(principal=renv.principal, step="plan")
            planner = Planner(renv.catalog, renv.landing_root, engine.version, renv.store, access)
        finally:
            engine.close()
        options = qualify(options, product.name, renv.products)
        plans: list[StepPlan] = []
        changing: set[str] = set()
        for name in renv.dag.selection(product, options.steps):
            spec = renv.dag.steps[name]
            owner = renv.products[spec.product]
            params = options.params_for(spec.product, owner.config.params)
            plan = planner.plan(spec, step_code(spec, owner), params, options)
            upstream = sorted(renv.dag.upstream[name] & changing)
            if plan.action == "skip" and upstream:
                plan.action, plan.reason = "run", f"upstream {upstream[0]} will change its inputs"
                plan.partitions = (
                    None if spec.partition_by is None else ["(re-planned after upstream)"]
                )
            if plan.action == "run" and spec.stage == "apply" and not options.promote:
                _without_champion(plan, owner, renv)
            if plan.action == "run":
                changing.add(name)
            plans.append(plan)
        _check_range(product, options, plans)
        return plans

    def run(
        self,
        product: Product,
        options: RunOptions,
        *,
        on_event: Event | None = None,
        check: bool = True,
        wait: float | None = None,
    ) -> RunResult:
        """Run ``product`` (and the upstream steps it needs) once (waiting up to ``wait``
        seconds for a run of the same products to end)."""
        options = qualify(options, product.name, self.renv.products)
        if options.partitions is not None:  # a range with no data is a mistake, not a no-op
            self.plan(product, options)
        return self.runner(on_event).run(product, options, check=check, wait=wait)

    def resume(
        self,
        run_id: str,
        *,
        on_event: Event | None = None,
        check: bool = True,
        wait: float | None = None,
    ) -> RunResult:
        """Re-run what failed or never ran in ``run_id`` (killed runs are noticed first),
        with that run's options."""
        store = self.store
        previous = store.get_run(run_id)
        self.reap()
        previous = store.get_run(previous["run_id"])
        if previous["status"] == "succeeded":
            raise UsageError(
                f"run {previous['run_id']} succeeded: nothing to resume",
                hint=f"run 'prodml run {previous['product']}' instead",
            )
        todo = [
            r["step"]
            for r in store.step_runs(previous["run_id"])
            if r["status"] not in ("succeeded", "skipped")  # failed, blocked, pending, killed
        ]
        base = RunOptions.from_record(previous["options"])
        options = RunOptions(
            steps=tuple(todo),
            partitions=base.partitions,
            full_refresh=base.full_refresh,
            promote=base.promote,
            params=base.params,
        )
        product = self.renv.products[previous["product"]]
        runner = self.runner(on_event)
        return runner.run(product, options, resumed_from=previous["run_id"], check=check, wait=wait)

    def reproduce(self, run_id: str) -> ReproduceReport:
        """Re-execute a run against the table versions it read and compare the outputs."""
        return reproduce(self.runner(), self.latest(run_id), self.scratch)

    def latest(self, run_id: str) -> str:
        """``run_id``, or for ``latest`` the newest run of this environment you may see."""
        if run_id.strip().lower() != "latest":
            return run_id
        newest = self.runs(limit=1)
        if not newest:
            raise NotFoundError(
                "run",
                run_id,
                message="no run yet in this environment",
                hint="start one with 'prodml run PRODUCT'",
            )
        return str(newest[0]["run_id"])

    def runs(self, product: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs, newest first (runs whose process died are marked killed first)."""
        self.reap()
        runs = self.store.list_runs(product=product, catalog=self.catalog, limit=limit)
        return [r for r in runs if self._seen(r["run_id"], audited=False)]

    def run_info(self, run_id: str) -> dict[str, Any]:
        """One run with its step records (a read of the metadata of the tables it touched:
        checked and audited)."""
        run = self.store.get_run(self.latest(run_id))
        self._seen(run["run_id"], audited=True)
        return {**run, "steps": self.store.step_runs(run["run_id"])}

    def landscape(self) -> list[ProductSummary]:
        """Every product with its owner, stage, kind and last run."""
        out = []
        for name, product in self.renv.products.items():
            recent = self.store.list_runs(product=name, catalog=self.catalog, limit=20)
            last = [r for r in recent if self._seen(r["run_id"], audited=False)][:1]
            config = product.config
            out.append(
                ProductSummary(
                    name=name,
                    description=config.description.strip(),
                    stage=config.stage,
                    kind=config.classification.kind,
                    accountable=next(o.name for o in config.owners if o.role == "accountable"),
                    steps=len(product.steps),
                    last_run=last[0]["run_id"] if last else None,
                    last_status=last[0]["status"] if last else None,
                )
            )
        return out

    def describe(self, product: Product) -> dict[str, Any]:
        """A product's configuration, its steps, and the products it builds on."""
        data: dict[str, Any] = product.config.model_dump(mode="json")
        data["steps"] = [
            {
                "name": s.name,
                "stage": s.stage,
                "inputs": list(s.inputs),
                "outputs": list(s.outputs),
                "mode": s.mode,
                "partition_by": s.partition_by,
                "description": s.description,
            }
            for s in product.steps
        ]
        dag = self.renv.dag
        data["inputs_from_products"] = sorted(
            {dag.steps[u].product for s in product.steps for u in dag.upstream[s.qualified]}
            - {product.name}
        )
        return data


def _check_range(product: Product, options: RunOptions, plans: list[StepPlan]) -> None:
    """Refuse a backfill whose range holds no partition of any partitioned step."""
    if options.partitions is None:
        return
    partitioned = [p for p in plans if p.known is not None]
    if not partitioned or any(p.partitions for p in partitioned):
        return
    first = min(p.known[0] for p in partitioned if p.known)
    last = max(p.known[1] for p in partitioned if p.known)
    raise UsageError(
        f"--partitions {options.partitions}: no partition of {product.name}'s steps is in it",
        hint=f"their partitions run from {first} to {last}",
    )


def _without_champion(plan: StepPlan, owner: Product, renv: RunEnv) -> None:
    """An apply step scores with its product's champion: without one, the run will skip it
    (the reason the run gives), and so says the plan."""
    name = renv.missing_champion(owner) if renv.missing_champion else None
    if name is not None:
        plan.action, plan.partitions = "skip", []
        plan.reason = (
            f"{name} has no champion yet: nothing scored (promote one with 'prodml models "
            f"promote {owner.name}', or run with --promote)"
        )
