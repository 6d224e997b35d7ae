"""Re-execute a finished run's steps against the table versions it read, and compare outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa

from prodml.catalog.policies import Access
from prodml.engine.base import Engine
from prodml.names import TableName
from prodml.pipeline.planner import InputState, RunOptions, StepPlan
from prodml.pipeline.runner import Runner, output_spec
from prodml.products import MODEL_STAGES, StepSpec


@dataclass
class StepCheck:
    """The comparison for one output of one step."""

    step: str
    table: str
    version: int
    match: bool
    rows_recorded: int
    rows_reproduced: int
    note: str = ""


@dataclass
class ReproduceReport:
    """The outcome of ``prodml runs reproduce``."""

    JSON_PROPERTIES = ("match",)

    run_id: str
    checks: list[StepCheck] = field(default_factory=list)
    not_reproduced: list[str] = field(default_factory=list)  # steps, with why not

    @property
    def match(self) -> bool:
        """Whether outputs were re-executed and every one equals the recorded one."""
        return bool(self.checks) and all(c.match for c in self.checks)


def reproduce(runner: Runner, run_id: str, scratch_root: Path) -> ReproduceReport:
    """Re-run each step the run executed, reading the recorded input versions (time travel).

    Each output is rebuilt in a scratch Delta table that starts as the real table was just
    before the step's commit, written with the same mode; the result is compared with the
    recorded version by an order-independent content hash.
    """
    run = runner.renv.store.get_run(run_id)
    report = ReproduceReport(run_id=run["run_id"])
    engine = runner.renv.make_engine()
    try:
        replay = _Replay(runner, run, engine, scratch_root)
        for rec in runner.renv.store.step_runs(run["run_id"]):
            why_not = replay.why_not(rec)
            if why_not:
                report.not_reproduced.append(f"{rec['step']} ({why_not})")
            else:
                report.checks += replay.step(rec)
    finally:
        engine.close()
    return report


class _Replay:
    """Re-executes the steps of one recorded run."""

    def __init__(self, runner: Runner, run: dict[str, Any], engine: Engine, scratch: Path) -> None:
        self.runner, self.run, self.engine, self.scratch = runner, run, engine, scratch
        self.renv = runner.renv
        runner.options = RunOptions.from_record(run["options"])  # its params, as it ran
        started = run["started_at"]
        self.started = started if started.tzinfo else started.replace(tzinfo=UTC)

    def why_not(self, rec: dict[str, Any]) -> str | None:
        """Why a step record cannot be re-executed (None: it can)."""
        if rec["status"] != "succeeded" or (rec["reason"] or "").startswith("adopted"):
            return str(rec["status"])
        spec = self.renv.dag.steps.get(rec["step"])
        if spec is None:
            return "no longer defined"
        if spec.stage in MODEL_STAGES:
            return f"{spec.stage} steps use the model registry"
        return None

    def _plan(self, rec: dict[str, Any], spec: StepSpec) -> StepPlan:
        inputs = {
            n: InputState(
                n, version=i.get("version"), partition_ids={} if "partitions" in i else None
            )
            for n, i in rec["inputs"].items()
            if n in spec.inputs
        }
        partitions = rec["partitions"] or None if spec.partition_by else None
        if spec.partition_by:
            for n in spec.inputs:
                if n.startswith("landing:") and n in inputs:
                    inputs[n].partition_ids = {}
        plan = StepPlan(rec["step"], "run", "reproduce", partitions, {}, inputs)
        plan.write_mode = _write_mode(spec.mode, rec["outputs"])
        return plan

    def step(self, rec: dict[str, Any]) -> list[StepCheck]:
        """Recompute one step from its recorded input versions; compare each output."""
        renv, spec = self.renv, self.renv.dag.steps[rec["step"]]
        plan = self._plan(rec, spec)
        versions = {
            str(renv.catalog.name(n)): i["version"]
            for n, i in rec["inputs"].items()
            if i.get("version") is not None and not n.startswith("landing:")
        }
        access = Access(principal=renv.principal, run_id=self.run["run_id"], step=rec["step"])
        try:
            frames, _reads, _links = self.runner.compute(
                spec,
                renv.products[spec.product],
                plan,
                run_id=self.run["run_id"],
                started=self.started,
                engine=self.engine,
                full_refresh=bool(self.run["options"].get("full_refresh")),
                versions=versions,
            )
            return [
                self._compare(rec, spec, plan, access, renv.catalog.name(out), data)
                for out, data in frames.items()
                if str(renv.catalog.name(out)) in rec["outputs"]
            ]
        finally:
            renv.catalog.finish(access, succeeded=False)  # a replay leaves no lineage

    def _compare(
        self,
        rec: dict[str, Any],
        spec: StepSpec,
        plan: StepPlan,
        access: Access,
        table: TableName,
        data: pa.Table,
    ) -> StepCheck:
        catalog = self.renv.catalog
        info = rec["outputs"][str(table)]
        version = int(info["version"])
        write = output_spec(spec, plan, table)
        # the rows the real write kept (expectations drop and quarantine before commit)
        rebuilt = catalog.rebuild(
            table,
            access,
            base_version=version - 1 if version > 0 and info.get("operation") != "create" else None,
            data=catalog.prepare(table, data, write, access),
            spec=write,
            scratch=self.scratch,
        )
        recorded = catalog.read(table, access, version=version)[0].to_table()
        rows_a, hash_a = self.engine.content_hash(_sorted_columns(recorded))
        rows_b, hash_b = self.engine.content_hash(_sorted_columns(rebuilt))
        note = "" if hash_a == hash_b else _difference(rows_a, rows_b)
        return StepCheck(rec["step"], str(table), version, hash_a == hash_b, rows_a, rows_b, note)


def _write_mode(mode: str, outputs: dict[str, Any]) -> str:
    ops = {o.get("operation") for o in outputs.values()}
    if ops & {"overwrite"} and mode in ("merge", "append"):
        return "overwrite"  # the run was a full refresh
    return mode


def _sorted_columns(table: pa.Table) -> pa.Table:
    return table.select(sorted(table.column_names))


def _difference(rows_a: int, rows_b: int) -> str:
    if rows_a != rows_b:
        return f"row counts differ ({rows_a} recorded, {rows_b} reproduced)"
    return "same row count, different contents (did the landing files or the code change?)"
