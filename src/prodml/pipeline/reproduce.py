"""Re-execute a finished run's steps against the table versions it read, and compare outputs."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa

from prodml.catalog.policies import Access
from prodml.pipeline.planner import InputState, StepPlan
from prodml.pipeline.runner import Runner
from prodml.pipeline.tracking import MODEL_STAGES
from prodml.tables.delta import DeltaTables, WriteSpec


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

    run_id: str
    checks: list[StepCheck] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def match(self) -> bool:
        """Whether outputs were re-executed and every one equals the recorded one."""
        return bool(self.checks) and all(c.match for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run_id": self.run_id,
            "match": self.match,
            "checks": [c.__dict__ for c in self.checks],
            "not_reproduced": self.skipped,
        }


def reproduce(runner: Runner, run_id: str, scratch_root: Path) -> ReproduceReport:
    """Re-run each step the run executed, reading the recorded input versions (time travel).

    Each output is rebuilt in a scratch Delta table that starts as the real table was just
    before the step's commit, written with the same mode; the result is compared with the
    recorded version by an order-independent content hash.
    """
    renv = runner.renv
    run = renv.store.get_run(run_id)
    report = ReproduceReport(run_id=run["run_id"])
    started = run["started_at"]
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    scratch = scratch_root / f"reproduce-{uuid.uuid4().hex[:8]}"
    engine = renv.make_engine()
    scratch_tables = DeltaTables(str(scratch))
    try:
        for rec in renv.store.step_runs(run["run_id"]):
            name = rec["step"]
            if rec["status"] != "succeeded" or (rec["reason"] or "").startswith("adopted"):
                report.skipped.append(f"{name} ({rec['status']})")
                continue
            spec = renv.dag.steps.get(name)
            if spec is None:
                report.skipped.append(f"{name} (no longer defined)")
                continue
            if spec.stage in MODEL_STAGES:
                report.skipped.append(f"{name} ({spec.stage} steps use the model registry)")
                continue
            owner = renv.products[spec.product]
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
            plan = StepPlan(name, "run", "reproduce", partitions, {}, inputs)
            recorded_outputs = rec["outputs"]
            plan.write_mode = _write_mode(spec.mode, recorded_outputs)
            versions = {
                str(renv.catalog.name(n)): i["version"]
                for n, i in rec["inputs"].items()
                if i.get("version") is not None and not n.startswith("landing:")
            }
            frames, _reads, _links = runner.compute(
                spec,
                owner,
                plan,
                run_id=run["run_id"],
                started=started,
                engine=engine,
                full_refresh=bool(run["options"].get("full_refresh")),
                versions=versions,
            )
            for out, data in frames.items():
                table = renv.catalog.name(out)
                info = recorded_outputs.get(str(table))
                if info is None:
                    continue
                version = int(info["version"])
                real = renv.catalog.location(table)
                target = scratch_tables.location(table.catalog, table.schema, table.table)
                if version > 0 and info.get("operation") != "create":
                    before = renv.catalog.tables.open(real, version - 1).to_pyarrow_table()
                    scratch_tables.write(
                        target,
                        before,
                        WriteSpec(
                            name=str(table), mode="overwrite", partition_by=spec.output_partition_by
                        ),
                    )
                write = WriteSpec(
                    name=str(table),
                    mode=plan.write_mode,  # type: ignore[arg-type]
                    partition_by=spec.output_partition_by,
                    keys=spec.keys,
                    partitions=partitions,
                    partition_column=spec.partition_by,
                    evolve=spec.schema_evolution,
                )
                # the rows the real write kept (expectations drop and quarantine before commit)
                access = Access(principal=renv.principal, run_id=run["run_id"], step=spec.name)
                scratch_tables.write(
                    target, renv.catalog.prepare(table, data, write, access), write
                )
                recorded = renv.catalog.tables.open(real, version).to_pyarrow_table()
                rebuilt = scratch_tables.open(target).to_pyarrow_table()
                rows_a, hash_a = engine.content_hash(_sorted_columns(recorded))
                rows_b, hash_b = engine.content_hash(_sorted_columns(rebuilt))
                note = "" if hash_a == hash_b else _difference(rows_a, rows_b)
                report.checks.append(
                    StepCheck(name, str(table), version, hash_a == hash_b, rows_a, rows_b, note)
                )
    finally:
        engine.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return report


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
