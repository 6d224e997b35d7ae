"""Execute a product's steps in DAG order: plan, read, call, write atomically, record."""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from prodml.catalog.gate import Catalog
from prodml.catalog.leases import Leases, LeaseSet, pid_alive
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.engine.base import Engine
from prodml.errors import ProdmlError
from prodml.names import TableName
from prodml.pipeline.context import StepContext, StepScope, StepServices
from prodml.pipeline.dag import Dag
from prodml.pipeline.errors import PipelineDefinitionError, SkipStep, StepFailedError
from prodml.pipeline.hooks import Authorize, TrainingSets
from prodml.pipeline.invoke import as_format, param_names, produce, step_code, step_params
from prodml.pipeline.landing import landing_files, partition_dirs
from prodml.pipeline.output import captured
from prodml.pipeline.planner import Planner, RunOptions, StepPlan
from prodml.pipeline.project import Product
from prodml.pipeline.records import ResourceMonitor, git_info, package_versions
from prodml.pipeline.step import StepSpec, sql_line
from prodml.pipeline.tracking import MODEL_STAGES, StepRunInfo, TrackerFactory
from prodml.tables.delta import WriteSpec

log = logging.getLogger(__name__)

Event = Callable[[str, Mapping[str, Any]], None]


@dataclass
class RunResult:
    """The outcome of a run."""

    run_id: str
    product: str
    status: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    exception: ProdmlError | None = field(default=None, repr=False)
    log: Path | None = None  # what the steps printed, when they printed anything
    # expectations of its writes that failed without failing the run (warn, drop, quarantine)
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunEnv:
    """Everything a run needs from the workspace."""

    env: str
    catalog: Catalog
    store: MetadataStore
    dag: Dag
    products: Mapping[str, Product]
    landing_root: Path
    project_root: Path
    principal: str
    config_hash: Callable[[Product], str]
    make_engine: Callable[[], Engine]
    tracker_factory: TrackerFactory | None = None
    # checks what the selected steps need from outside (e.g. the tracking server) before any
    # step runs, so that an unreachable service fails the run before anything is written
    preflight: Callable[[list[StepSpec]], None] | None = None
    # the principal a product's runs execute as (its service principal), when the starter may
    # use it; None: as the starter
    run_as: Callable[[Product], str | None] | None = None
    # governance checks of what steps do besides reading and writing tables (model access)
    authorize: Authorize | None = None
    # the feature store, as steps use it (training sets, consumers)
    training_sets: TrainingSets | None = None
    # ends a tracking run whose step was killed (its status: KILLED)
    end_tracking: Callable[[str], None] | None = None
    # where steps' printed output goes: <log_dir>/<run id>.log (None: left on the terminal)
    log_dir: Path | None = None
    # the registered name of a product's model when it has no champion in this environment
    # (apply steps score with the champion: plan says they will be skipped); None: it has one
    missing_champion: Callable[[Product], str | None] | None = None
    # alerts the product's owners (its notifier) that a run of it failed: (product, event)
    alert: Callable[[str, dict[str, Any]], object] | None = None

    def log_file(self, run_id: str) -> Path | None:
        """The run's log of what its steps printed."""
        return None if self.log_dir is None else self.log_dir / f"{run_id}.log"


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _output(log: Path | None, step: str) -> AbstractContextManager[object]:
    return nullcontext() if log is None else captured(log, step)


def reap_stale_runs(
    store: MetadataStore, catalog: str, end_tracking: Callable[[str], None] | None = None
) -> None:
    """Runs of ``catalog`` still 'running' whose process on this host is gone were killed:
    record them (and their running steps) as killed, and end the tracking runs of those
    steps as killed (``end_tracking(tracking_run_id)``)."""
    host = socket.gethostname()
    for run in store.list_runs(catalog=catalog, limit=200):
        if run["status"] == "running" and run["host"] == host and not pid_alive(run["pid"]):
            store.update_run(
                run["run_id"],
                status="killed",
                ended_at=datetime.now(UTC),
                error="the process running it disappeared (killed?)",
            )
            for rec in store.step_runs(run["run_id"]):
                if rec["status"] != "running":
                    continue
                store.upsert_step_run(run["run_id"], rec["step"], status="killed")
                tracking_run = (rec.get("links") or {}).get("tracking_run_id")
                if tracking_run and end_tracking is not None:
                    end_tracking(tracking_run)


def output_spec(
    spec: StepSpec, plan: StepPlan, table: TableName, metadata: Mapping[str, str] | None = None
) -> WriteSpec:
    """How a step's output is written under ``plan`` (the commit carries ``metadata``)."""
    return WriteSpec(
        name=str(table),
        mode=plan.write_mode,  # type: ignore[arg-type]
        partition_by=spec.output_partition_by,
        keys=spec.keys,
        partitions=plan.partitions,
        partition_column=spec.partition_by,
        evolve=spec.schema_evolution,
        metadata=dict(metadata or {}),
    )


def new_run_id() -> str:
    """A sortable, unique run id."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class Runner:
    """Runs products in one environment."""

    def __init__(self, renv: RunEnv, on_event: Event | None = None) -> None:
        self.renv = renv
        self.on_event = on_event or (lambda _kind, _data: None)
        self.git_sha: str | None = None
        self.options = RunOptions()
        self.run_as: str | None = None
        self.run_id: str | None = None
        # per step: the model versions it scored with (lineage sources of its outputs)
        self._models_used: dict[str, list[str]] = {}

    def _access(self, step: StepSpec | None, run_id: str | None = None) -> Access:
        """Who acts for a run (default: the current one) and step: the starter, as the run-as
        principal."""
        return Access(
            principal=self.renv.principal,
            run_id=run_id or self.run_id,
            step=step.qualified if step is not None else None,
            run_as=self.run_as,
        )

    def reap_stale_runs(self) -> None:
        """Runs still 'running' whose process is gone were killed: say so."""
        reap_stale_runs(self.renv.store, self.renv.catalog.catalog, self.renv.end_tracking)

    def run(
        self,
        product: Product,
        options: RunOptions,
        *,
        resumed_from: str | None = None,
        check: bool = True,
        wait: float | None = None,
    ) -> RunResult:
        """Run ``product`` (and the upstream steps it needs) once.

        One run at a time per product and environment: the run holds the lease of every
        product whose steps it selects; when another live run holds one, it waits up to
        ``wait`` seconds (``math.inf``: until it is free; None: not at all) then refuses,
        saying which run holds it since when. A lease of a dead run is taken over.

        With ``check`` a failed run raises its first error; without, the result says
        ``failed`` and carries the error (the CLI prints the per-step outcome first).
        """
        self.reap_stale_runs()
        selection = self.renv.dag.selection(product, options.steps)
        self._check_inputs(selection)
        if self.renv.preflight is not None:
            self.renv.preflight([self.renv.dag.steps[name] for name in selection])
        run_id = new_run_id()
        with self._leases(product, selection, run_id, wait) as leases:
            self.reap_stale_runs()  # a run we waited for may have been killed meanwhile
            started = self._start(product, options, selection, resumed_from, run_id)
            result = RunResult(run_id=run_id, product=product.name, status="running")
            engine = self.renv.make_engine()
            try:
                error = self._steps(selection, options, started, engine, result, leases)
            except ProdmlError as exc:
                error = exc
            finally:
                engine.close()
            return self._finish(result, error, check)

    def _leases(
        self, product: Product, selection: list[str], run_id: str, wait: float | None
    ) -> LeaseSet:
        """The leases of the products whose steps run (one run per product and env)."""
        renv = self.renv
        owners = sorted({renv.dag.steps[name].product for name in selection})
        wanted = {
            f"run:{renv.catalog.catalog}:{owner}": f"product {owner} in {renv.env}"
            for owner in owners
        }
        return Leases(renv.store).acquire_all(
            wanted,
            holder=f"run {run_id} of {product.name} by {renv.principal}",
            info={"run_id": run_id, "product": product.name},
            wait=wait,
            hint="wait for it to end, or add --wait to queue behind it; the lease of a run "
            "whose process died is taken over by the next run",
        )

    def _check_inputs(self, selection: list[str]) -> None:
        """Inputs no step produces must exist already, landing sources too (with something
        to read): else nothing runs."""
        renv = self.renv
        for name in selection:
            spec = renv.dag.steps[name]
            for source in spec.inputs:
                if not source.startswith("landing:"):
                    continue
                if spec.partition_by is None:
                    landing_files(renv.landing_root, source[len("landing:") :], None, None)
                else:
                    partition_dirs(renv.landing_root, source[len("landing:") :], spec.partition_by)
        for name, tables in renv.dag.missing_inputs(selection, renv.catalog.catalog).items():
            for table in tables:
                if not renv.catalog.exists(renv.catalog.name(table)):
                    raise PipelineDefinitionError(
                        f"step {name} reads {table}, which no step produces and which does not exist",
                        hint=f"declare a step with outputs='{table}' or fix the input at "
                        f"{renv.dag.steps[name].where()}",
                    )

    def _start(
        self,
        product: Product,
        options: RunOptions,
        selection: list[str],
        resumed_from: str | None,
        run_id: str,
    ) -> datetime:
        """Record the run (who, which code and config, which options) and its pending steps;
        return when it started."""
        renv = self.renv
        started = datetime.now(UTC)
        sha, dirty = git_info(renv.project_root)
        self.git_sha, self.options, self.run_id = sha, options, run_id
        self.run_as = renv.run_as(product) if renv.run_as is not None else None
        renv.store.create_run(
            {
                "run_id": run_id,
                "product": product.name,
                "env": renv.env,
                "catalog": renv.catalog.catalog,
                "status": "running",
                "started_at": started,
                "principal": renv.principal,
                "run_as": self.run_as or renv.principal,
                "git_sha": sha,
                "git_dirty": dirty,
                "config_hash": renv.config_hash(product),
                "packages": package_versions(),
                "options": options.to_record(),
                "resumed_from": resumed_from,
                "pid": os.getpid(),
                "host": socket.gethostname(),
            }
        )
        for name in selection:
            spec = renv.dag.steps[name]
            renv.store.upsert_step_run(
                run_id, name, product=spec.product, stage=spec.stage, status="pending"
            )
        self.on_event("run_started", {"run_id": run_id, "steps": selection})
        return started

    def _steps(
        self,
        selection: list[str],
        options: RunOptions,
        started: datetime,
        engine: Engine,
        result: RunResult,
        leases: LeaseSet,
    ) -> ProdmlError | None:
        """Each step in order (planned just before it runs); a failure blocks what needs its
        output and nothing else. Returns the first error."""
        renv = self.renv
        assert self.run_id is not None
        planner = Planner(
            renv.catalog, renv.landing_root, engine.version, renv.store, self._access(None)
        )
        first_error: StepFailedError | None = None
        broken: set[str] = set()  # failed steps and everything that needs their output
        for name in selection:
            spec = renv.dag.steps[name]
            owner = renv.products[spec.product]
            blocked = sorted(renv.dag.upstream[name] & broken)
            if blocked:
                broken.add(name)
                record = self._blocked(name, blocked[0])
            else:
                leases.check()  # taken over (this process was thought dead): stop
                params = options.params_for(spec.product, owner.config.params)
                plan = planner.plan(spec, step_code(spec, owner), params, options)
                self.on_event("step_started", {"step": name, "plan": plan})
                try:
                    record = self._execute(spec, owner, plan, self.run_id, started, engine)
                except StepFailedError as exc:
                    first_error = first_error or exc
                    broken.add(name)
                    record = {"step": name, "status": "failed", "reason": exc.message}
                    record["partitions"] = []
            result.steps.append(record)
            self.on_event("step_finished", {"step": name, "record": record})
        return first_error

    def _blocked(self, name: str, upstream: str) -> dict[str, Any]:
        reason = f"upstream step {upstream} failed"
        assert self.run_id is not None
        self.renv.store.upsert_step_run(self.run_id, name, status="blocked", reason=reason)
        return {"step": name, "status": "blocked", "reason": reason, "partitions": []}

    def _finish(self, result: RunResult, error: ProdmlError | None, check: bool) -> RunResult:
        """Record how the run ended; raise its first error when ``check``."""
        store, ended = self.renv.store, datetime.now(UTC)
        log = self.renv.log_file(result.run_id)
        result.log = log if log is not None and log.exists() else None
        result.warnings = [
            {k: r[k] for k in ("table_name", "step", "rule", "action", "failed_rows", "message")}
            for r in store.dq_failures(result.run_id)
            if r["action"] != "fail"
        ]
        self._check_runtime(result, ended)
        if error is None:
            result.status = "succeeded"
            store.update_run(result.run_id, status="succeeded", ended_at=ended)
            self.on_event("run_finished", {"run_id": result.run_id, "status": "succeeded"})
            return result
        result.status, result.error = "failed", str(error)
        store.update_run(result.run_id, status="failed", ended_at=ended, error=str(error))
        if self.renv.alert is not None:
            self.renv.alert(
                result.product,
                {
                    "kind": "run",
                    "product": result.product,
                    "run_id": result.run_id,
                    "summary": f"run {result.run_id} of {result.product} failed: {error}",
                },
            )
        self.on_event("run_finished", {"run_id": result.run_id, "status": "failed"})
        if check:
            raise error
        result.exception = error
        return result

    def _check_runtime(self, result: RunResult, ended: datetime) -> None:
        """A run longer than its product's ``sla.max_runtime_minutes`` raises an alert."""
        limit = self.renv.products[result.product].config.sla.max_runtime_minutes
        if limit is None or self.renv.alert is None:
            return
        minutes = (
            ended - self.renv.store.get_run(result.run_id)["started_at"]
        ).total_seconds() / 60
        if minutes > limit:
            self.renv.alert(
                result.product,
                {
                    "kind": "sla",
                    "product": result.product,
                    "run_id": result.run_id,
                    "summary": f"run {result.run_id} of {result.product} took {minutes:.1f} "
                    f"min, over its sla.max_runtime_minutes of {limit:g}",
                },
            )

    def _execute(
        self,
        spec: StepSpec,
        owner: Product,
        plan: StepPlan,
        run_id: str,
        started: datetime,
        engine: Engine,
    ) -> dict[str, Any]:
        """Skip, adopt an interrupted run's commit, or call the step and write its outputs."""
        inputs_json = {n: i.record(plan.partitions) for n, i in plan.inputs.items()}
        if plan.action == "skip":
            record: dict[str, Any] = {"status": "skipped", "reason": plan.reason}
            record |= {"inputs": inputs_json, "partitions": []}
            return self._record(run_id, spec, record)
        # a forced recompute never adopts: it is asked to write again, not to finish a write
        adopted = None if plan.forced else self._adopt(spec, plan)
        if adopted is not None:
            for name in adopted:  # the run may have died before registering the table
                table = self.renv.catalog.name(name)
                self._register(spec, owner, table, self.renv.catalog.schema(table))
            self._keep_states(spec, plan, run_id)
            return self._record(
                run_id,
                spec,
                {
                    "status": "succeeded",
                    "reason": f"adopted commit(s) {adopted} left by an interrupted run",
                    "inputs": inputs_json,
                    "partitions": plan.partitions or [],
                    "outputs": {t: {"version": v} for t, v in adopted.items()},
                    "fingerprint": plan.batch,
                },
            )
        self.renv.store.upsert_step_run(
            run_id,
            spec.qualified,
            status="running",
            reason=plan.reason,
            started_at=datetime.now(UTC),
            partitions=plan.partitions or [],
            inputs=inputs_json,
            fingerprint=plan.batch,
        )
        return self._call(spec, owner, plan, run_id, started, engine, inputs_json)

    def _call(
        self,
        spec: StepSpec,
        owner: Product,
        plan: StepPlan,
        run_id: str,
        started: datetime,
        engine: Engine,
        inputs_json: dict[str, Any],
    ) -> dict[str, Any]:
        """Call the step and write its outputs; record what it used and wrote, or why not."""
        succeeded = False
        log = self.renv.log_file(run_id)
        try:
            with ResourceMonitor() as monitor, _output(log, spec.qualified):
                outputs = self._call_and_write(
                    spec, owner, plan, run_id, started, engine, inputs_json
                )
            succeeded = True
        except SkipStep as exc:
            record = {"status": "skipped", "reason": exc.message, "ended_at": datetime.now(UTC)}
            return self._record(run_id, spec, record) | {"inputs": inputs_json, "partitions": []}
        except Exception as exc:
            error = self._failed(spec, owner, run_id, exc)
            if error is exc:
                raise
            raise error from exc
        finally:  # the gate's records of the step close: its lineage is kept if it succeeded
            self.renv.catalog.finish(self._access(spec), succeeded=succeeded)
        self._keep_states(spec, plan, run_id)
        return self._record(
            run_id,
            spec,
            {
                "status": "succeeded",
                "reason": plan.reason,
                "ended_at": datetime.now(UTC),
                "cpu_seconds": round(monitor.cpu_seconds, 4),
                "peak_rss_bytes": monitor.peak_rss,
                "rows_written": sum(o["rows"] for o in outputs.values()),
                "bytes_written": sum(o["bytes"] for o in outputs.values()),
                "outputs": outputs,
                "inputs": inputs_json,
                "partitions": plan.partitions or [],
            },
        )

    def _record(self, run_id: str, spec: StepSpec, record: dict[str, Any]) -> dict[str, Any]:
        self.renv.store.upsert_step_run(run_id, spec.qualified, **record)
        return {"step": spec.qualified, **record}

    def _keep_states(self, spec: StepSpec, plan: StepPlan, run_id: str) -> None:
        """The step's fingerprints, so that an unchanged step is skipped next time."""
        self.renv.store.set_states(
            self.renv.catalog.catalog,
            spec.qualified,
            plan.fingerprints,
            run_id,
            replace=plan.replace_state,
        )

    def _failed(
        self, spec: StepSpec, owner: Product, run_id: str, exc: Exception
    ) -> StepFailedError:
        """Record a step's failure; the error to raise (naming the user's line, if any)."""
        message = str(exc) if isinstance(exc, ProdmlError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, ProdmlError):
            log.debug("step %s raised", spec.qualified, exc_info=True)
            tb = traceback.extract_tb(exc.__traceback__)
            user = [f for f in tb if f.filename.startswith(str(owner.path))]
            if spec.sql is not None and spec.source_file:  # DuckDB's error, in the .sql file
                line = sql_line(message, spec.sql_line, spec.sql)
                first, *rest = message.splitlines()
                more = [r.strip() for r in rest[:1] if r.strip() and not r.startswith("LINE")]
                message = "; ".join([first, *more])
                message += f" (at {spec.source_file}{'' if line is None else f':{line}'})"
            elif user:
                message += f" (at {user[-1].filename}:{user[-1].lineno})"
        self.renv.store.upsert_step_run(
            run_id, spec.qualified, status="failed", ended_at=datetime.now(UTC), error=message
        )
        if isinstance(exc, StepFailedError):
            return exc
        return StepFailedError(
            spec.qualified,
            run_id,
            message,
            hint=f"see 'prodml runs show {run_id}'",
        )

    def _adopt(self, spec: StepSpec, plan: StepPlan) -> dict[str, int] | None:
        """Versions of the commits this exact batch made when its run died before recording them.

        Only the head commit of each output counts: if anything was committed after it (for
        example after code was changed and then reverted), the batch is simply run again.
        """
        found: dict[str, int] = {}
        catalog = self.renv.catalog
        for out in spec.outputs:
            table = catalog.name(out)
            version = catalog.find_commit(
                table, self._access(spec), "prodml.batch", plan.batch, limit=1
            )
            if version is None:
                return None
            found[str(table)] = version
        return found

    def _call_and_write(
        self,
        spec: StepSpec,
        owner: Product,
        plan: StepPlan,
        run_id: str,
        started: datetime,
        engine: Engine,
        inputs_json: dict[str, Any],
    ) -> dict[str, dict[str, Any]]:
        renv = self.renv
        access = self._access(spec, run_id)
        frames, reads, links = self.compute(
            spec,
            owner,
            plan,
            run_id=run_id,
            started=started,
            engine=engine,
            full_refresh=plan.write_mode != spec.mode or plan.replace_state,
        )
        if links:
            self.renv.store.upsert_step_run(run_id, spec.qualified, links=links)
        for read_name, version in reads.items():
            inputs_json.setdefault(read_name, {"version": version})
        # lineage besides the tables read through the gate: landing files, models scored with
        sources: dict[str, int | None] = dict.fromkeys(
            [i for i in spec.inputs if i.startswith("landing:")]
            + self._models_used.pop(spec.qualified, [])
        )
        outputs: dict[str, dict[str, Any]] = {}
        for out, data in frames.items():
            table = renv.catalog.name(out)
            write = output_spec(
                spec,
                plan,
                table,
                {
                    "prodml.run_id": run_id,
                    "prodml.step": spec.qualified,
                    "prodml.batch": plan.batch,
                },
            )
            result = renv.catalog.write(table, data, write, access, sources=sources)
            self._register(spec, owner, table, data.schema)
            outputs[str(table)] = {
                "version": result.version,
                "rows": result.rows,
                "bytes": result.bytes,
                "operation": result.operation,
            }
        return outputs

    def _register(
        self, spec: StepSpec, owner: Product, table: TableName, schema: pa.Schema
    ) -> None:
        """The catalog entry of a step's output (owner, producer, docs, partitioning)."""
        docs = owner.config.tables.get(table.short)
        self.renv.catalog.register(
            table,
            owner_product=spec.product,
            producer_step=spec.qualified,
            description=(docs.description if docs else "") or spec.description.split("\n")[0],
            column_docs=docs.columns if docs else {},
            partition_by=spec.output_partition_by,
            keys=spec.keys,
            schema=schema,
        )

    def compute(
        self,
        spec: StepSpec,
        owner: Product,
        plan: StepPlan,
        *,
        run_id: str,
        started: datetime,
        engine: Engine,
        full_refresh: bool,
        versions: Mapping[str, int] | None = None,
    ) -> tuple[dict[str, pa.Table], dict[str, int], dict[str, str]]:
        """Bind the inputs and call the step (inside a tracking run for train/evaluate).

        Returns its frames, the table versions it read, and links (the tracking run id).
        """
        renv = self.renv
        access = self._access(spec, run_id)
        reads: dict[str, int] = {}
        args = self.bind_inputs(spec, plan, engine, access, reads, versions=versions)
        params = step_params(spec, self.options.params_for(spec.product, owner.config.params))
        scope = StepScope(
            run_id=run_id,
            env=renv.env,
            product=spec.product,
            step=spec.name,
            params=params,
            now=started,
            partitions=plan.partitions,
            partition_by=spec.partition_by,
            full_refresh=full_refresh,
        )
        services = StepServices(
            engine=engine,
            catalog=renv.catalog,
            access=access,
            landing_root=renv.landing_root,
            on_read=reads.__setitem__,
            training_sets=renv.training_sets,
            authorize=renv.authorize,
        )
        ctx = StepContext(scope, services, spec.table_inputs)
        links: dict[str, str] = {}
        uses_model = spec.stage in MODEL_STAGES and owner.config.model is not None
        if uses_model and renv.tracker_factory is not None:
            ctx.tracker = renv.tracker_factory(
                StepRunInfo(
                    product=spec.product,
                    env=renv.env,
                    step=spec.name,
                    stage=spec.stage,
                    run_id=run_id,
                    now=started,
                    git_sha=self.git_sha,
                    config_hash=renv.config_hash(owner),
                    input_versions=dict(reads),
                    promote=self.options.promote,
                    batch="" if plan.forced else plan.batch,  # a forced re-run trains anew
                )
            )
        self._models_used[spec.qualified] = ctx.models_used
        if ctx.tracker is None:
            return produce(spec, ctx, args, engine, params), reads, links
        if ctx.tracker.tracking_run_id:
            links["tracking_run_id"] = ctx.tracker.tracking_run_id
            # recorded before the step runs: a killed step's tracking run can then be ended
            renv.store.upsert_step_run(run_id, spec.qualified, links=links)
        try:
            if spec.stage == "train" and params:  # the version's training params, compared
                ctx.tracker.log_params({k: v for k, v in params.items() if _scalar(v)})
            frames = produce(spec, ctx, args, engine, params)
        except BaseException:
            ctx.tracker.close(failed=True)
            raise
        ctx.tracker.close(failed=False)
        return frames, reads, links

    def bind_inputs(
        self,
        spec: StepSpec,
        plan: StepPlan,
        engine: Engine,
        access: Access,
        reads: dict[str, int],
        versions: Mapping[str, int] | None = None,
    ) -> list[Any]:
        """Register the step's inputs with the engine and build its arguments."""
        renv = self.renv
        names = param_names(spec)
        args: list[Any] = []
        for input_name, alias in zip(spec.inputs, names, strict=True):
            if input_name.startswith("landing:"):
                state = plan.inputs.get(input_name)
                column = (
                    spec.partition_by
                    if state is not None and state.partition_ids is not None
                    else None
                )
                args.append(
                    landing_files(
                        renv.landing_root,
                        input_name[len("landing:") :],
                        column,
                        plan.partitions if column else None,
                    )
                )
                continue
            table = renv.catalog.name(input_name)
            state = plan.inputs.get(input_name)
            prune = (
                state is not None
                and state.partition_ids is not None
                and plan.partitions is not None
            )
            version = (versions or {}).get(str(table), state.version if state else None)
            dataset, resolved = renv.catalog.read(
                table,
                access,
                version=version,
                partition_column=spec.partition_by if prune else None,
                partitions=plan.partitions if prune else None,
            )
            reads[str(table)] = resolved
            engine.register(table, dataset, alias=alias)
            args.append(as_format(engine, dataset, spec.input_format, alias))
        return args
