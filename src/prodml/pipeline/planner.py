"""Decide per step (and per partition) what must run: unchanged fingerprints are skipped."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.errors import UsageError
from prodml.names import TableName
from prodml.pipeline.fingerprint import digest
from prodml.pipeline.landing import file_identity, landing_files, partition_ids
from prodml.pipeline.step import StepSpec

RANGE_FORMS = (
    "the accepted forms are DAY, START..END, START.. and ..END, where a day is YYYY-MM-DD, "
    "today or yesterday (e.g. 2024-01-10..2024-01-12 or yesterday..today)"
)
_DAY = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")  # or a month: YYYY-MM


def _partition_value(text: str, whole: str) -> str:
    """One end of a range: a keyword becomes its day; what looks like a date must be one."""
    value = text.strip()
    keyword = value.lower()
    if keyword in ("today", "yesterday"):
        day = datetime.now(UTC).date() - timedelta(days=keyword == "yesterday")
        return day.isoformat()
    if re.match(r"\d{4}-", value):  # a day (or a month), written as one
        if not _DAY.fullmatch(value):
            raise UsageError(
                f"invalid partition range {whole!r}: {value!r} is not a day (YYYY-MM-DD)",
                hint=RANGE_FORMS,
            )
        try:
            date.fromisoformat(value if len(value) == 10 else value + "-01")
        except ValueError:
            raise UsageError(
                f"invalid partition range {whole!r}: {value!r} is not a date in the calendar",
                hint=RANGE_FORMS,
            ) from None
    if any(ch.isspace() or ch in ",;:/" for ch in value):
        raise UsageError(f"invalid partition range {whole!r}", hint=RANGE_FORMS)
    return value


@dataclass(frozen=True)
class PartitionRange:
    """An inclusive range of partition values (``START..END``; either end may be open)."""

    start: str | None
    end: str | None

    @classmethod
    def parse(cls, text: str) -> PartitionRange:
        """Parse ``START..END``, ``START..`` or ``..END`` (or a single value); a date end is
        ``YYYY-MM-DD``, ``today`` or ``yesterday`` (UTC)."""
        if ".." not in text:
            value = _partition_value(text, text)
            return cls(value, value)
        start, _, end = text.partition("..")
        if (not start and not end) or end.startswith("."):
            raise UsageError(f"invalid partition range {text!r}", hint=RANGE_FORMS)
        first, last = _partition_value(start, text), _partition_value(end, text)
        if first and last and first > last:
            raise UsageError(
                f"invalid partition range {text!r}: start is after end",
                hint=f"did you mean {last}..{first}?",
            )
        return cls(first or None, last or None)

    def __contains__(self, value: object) -> bool:
        v = str(value)
        return (self.start is None or v >= self.start) and (self.end is None or v <= self.end)

    def __str__(self) -> str:
        return f"{self.start or ''}..{self.end or ''}"


@dataclass(frozen=True)
class RunOptions:
    """What the user asked of a run."""

    steps: tuple[str, ...] | None = None
    partitions: PartitionRange | None = None
    full_refresh: bool = False
    promote: bool = False  # a version passing the gate becomes champion within the run
    # product params set for this run only: ((product.param, value), ...)
    params: tuple[tuple[str, Any], ...] = ()

    def to_record(self) -> dict[str, Any]:
        """What the metadata store keeps of the options (with the run, for resuming it)."""
        return {
            "steps": list(self.steps) if self.steps else None,
            "partitions": str(self.partitions) if self.partitions else None,
            "full_refresh": self.full_refresh,
            "promote": self.promote,
            "params": dict(self.params),
        }

    def params_for(self, product: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``product``'s params with this run's overrides (keys ``product.param``)."""
        out = dict(params)
        for key, value in self.params:
            owner, _dot, name = key.rpartition(".")
            if owner == product:
                out[name] = value
        return out

    @classmethod
    def of(
        cls,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
        promote: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> RunOptions:
        """Options from what a user gives: step names, ``START..END``, the flags, params
        (``param`` or ``product.param``; see :func:`prodml.pipeline.params.qualify`)."""
        if partitions and full_refresh:
            raise UsageError(
                "a backfill of a partition range and a full refresh exclude each other",
                hint="a full refresh recomputes every partition; give one or the other",
            )
        return cls(
            steps=tuple(steps) if steps else None,
            partitions=PartitionRange.parse(partitions) if partitions else None,
            full_refresh=full_refresh,
            promote=promote,
            params=tuple(sorted((params or {}).items())),
        )

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> RunOptions:
        """Inverse of :meth:`to_record`."""
        parts = data.get("partitions")
        return cls(
            steps=tuple(data["steps"]) if data.get("steps") else None,
            partitions=PartitionRange.parse(parts) if parts else None,
            full_refresh=bool(data.get("full_refresh")),
            promote=bool(data.get("promote")),
            params=tuple(sorted((data.get("params") or {}).items())),
        )


@dataclass
class InputState:
    """One input as the planner saw it."""

    name: str
    version: int | None = None
    partition_ids: dict[str, str] | None = None
    whole: str = ""

    def record(self, partitions: list[str] | None) -> dict[str, Any]:
        """What the step record keeps of it."""
        out: dict[str, Any] = {"version": self.version}
        if self.partition_ids is not None and partitions is not None:
            out["partitions"] = partitions
        return out


#: dataclass field metadata: left out of the JSON form (see ``prodml.serialize``)
_INTERNAL = {"json": False}


@dataclass
class StepPlan:
    """The decision for one step.

    Attributes:
        action: ``run`` or ``skip``.
        reason: why, in words.
        partitions: partition values to process (None: the step is not partitioned).
        fingerprints: fingerprint per processed partition ('' when unpartitioned).
        replace_state: whether the stored states are replaced wholesale (full refresh).
        write_mode: the mode the output is written with (full refresh overwrites).
    """

    step: str
    action: str
    reason: str
    partitions: list[str] | None
    # what ``plan --json`` shows: the step, action, reason, partitions and write mode
    fingerprints: dict[str, str] = field(metadata=_INTERNAL)
    inputs: dict[str, InputState] = field(default_factory=dict, metadata=_INTERNAL)
    replace_state: bool = field(default=False, metadata=_INTERNAL)
    write_mode: str = "overwrite"
    forced: bool = field(default=False, metadata=_INTERNAL)  # a full refresh or a backfill
    # the first and last partition the step's inputs have (partitioned steps)
    known: tuple[str, str] | None = field(default=None, metadata=_INTERNAL)

    @property
    def batch(self) -> str:
        """Identifies exactly this unit of work (stored in the Delta commit)."""
        return digest(self.step, sorted(self.fingerprints.items()))


class Planner:
    """Computes fingerprints against the current state of tables and landing files."""

    def __init__(
        self,
        catalog: Catalog,
        landing_root: Path,
        engine_version: str,
        states: Any,
        access: Access,
    ) -> None:
        self.catalog = catalog
        self.landing_root = landing_root
        self.engine_version = engine_version
        self.states = states  # MetadataStore (get_states)
        self.access = access  # who plans: reading the inputs' state is checked and audited

    def plan(
        self, spec: StepSpec, code: str, params: Mapping[str, Any], options: RunOptions
    ) -> StepPlan:
        """Plan one step now (its inputs as they are at this moment)."""
        plan = self._plan(spec, code, params, options)
        plan.forced = plan.action == "run" and (
            options.full_refresh or options.partitions is not None
        )
        return plan

    def _plan(
        self, spec: StepSpec, code: str, params: Mapping[str, Any], options: RunOptions
    ) -> StepPlan:
        used = params if spec.params is None else {k: params.get(k) for k in spec.params}
        base = digest(
            code,
            used,
            self.engine_version,
            spec.outputs,
            spec.mode,
            spec.keys,
            spec.partition_by,
            spec.output_partition_by,
            spec.schema_evolution,
            spec.references,
        )
        inputs = {name: self._input(name, spec.partition_by) for name in spec.inputs}
        missing = [
            n for n, i in inputs.items() if i.version is None and not n.startswith("landing:")
        ]
        stored = self.states.get_states(self.catalog.catalog, spec.qualified)
        write_mode = (
            "overwrite" if options.full_refresh and spec.mode in ("merge", "append") else spec.mode
        )
        whole = spec.partition_by is None or not any(
            i.partition_ids is not None for i in inputs.values()
        )
        if whole:
            # unpartitioned, or no input is partitioned by the step's column: the step sees
            # whole inputs and rewrites its whole output
            if spec.mode == "replace_partitions":
                write_mode = "overwrite"
            return _whole(spec, base, inputs, stored, options, write_mode, missing)
        fps = _partition_fingerprints(spec, base, inputs, stored, options)
        if options.partitions is not None:
            chosen = sorted(p for p in fps if p in options.partitions)
            reason = f"backfill of {len(chosen)} partition(s) in {options.partitions}"
        elif options.full_refresh:
            chosen, reason = sorted(fps), "full refresh"
        else:
            chosen = sorted(p for p, fp in fps.items() if stored.get(p) != fp)
            new = sum(1 for p in chosen if p not in stored)
            reason = f"{new} new, {len(chosen) - new} changed partition(s)"
        if options.partitions is not None and not chosen:
            reason = f"no partition in {options.partitions}"
        elif not chosen:
            reason = f"unchanged: all {len(fps)} partition(s) up to date"
        plan = StepPlan(
            spec.qualified,
            "run" if chosen else "skip",
            reason,
            chosen,
            {p: fps[p] for p in chosen},
            inputs,
            replace_state=options.full_refresh,
            write_mode=write_mode,
            known=(min(fps), max(fps)) if fps else None,
        )
        if missing and not chosen:
            plan.action, plan.reason = "run", f"input {missing[0]} does not exist yet"
        return plan

    def _input(self, name: str, column: str | None) -> InputState:
        if name.startswith("landing:"):
            return self._landing(name, name[len("landing:") :], column)
        found = self.catalog.state(TableName.parse(name, self.catalog.catalog), self.access, column)
        if found is None:
            return InputState(name)
        version, ids, whole = found
        return InputState(name, version=version, partition_ids=ids, whole=whole)

    def _landing(self, name: str, source: str, column: str | None) -> InputState:
        """A landing source's state: a content id per partition (or of all its files)."""
        if column:
            ids = partition_ids(self.landing_root, source, column)
            return InputState(name, whole=digest(sorted(ids.items())), partition_ids=ids)
        root = self.landing_root / source
        files = [Path(f) for f in landing_files(self.landing_root, source, None, None)]
        return InputState(
            name, whole=digest([(str(f.relative_to(root)), file_identity(f)) for f in files])
        )


def _whole(
    spec: StepSpec,
    base: str,
    inputs: dict[str, InputState],
    stored: Mapping[str, str],
    options: RunOptions,
    write_mode: str,
    missing: list[str],
) -> StepPlan:
    """The plan of a step that reads and rewrites whole tables: one fingerprint."""
    fp = digest(base, sorted((n, i.whole) for n, i in inputs.items()))
    plan = StepPlan(spec.qualified, "run", "", None, {"": fp}, inputs, write_mode=write_mode)
    if missing:
        plan.reason = f"input {missing[0]} does not exist yet"
    elif options.full_refresh:
        plan.reason = "full refresh"
    elif stored.get("") == fp:
        plan.action, plan.reason = "skip", "unchanged: code, params and input versions are the same"
    else:
        plan.reason = "first run" if not stored else "inputs, code or params changed"
    plan.replace_state = True
    return plan


def _partition_fingerprints(
    spec: StepSpec,
    base: str,
    inputs: dict[str, InputState],
    stored: Mapping[str, str],
    options: RunOptions,
) -> dict[str, str]:
    """A fingerprint per partition: the base, the unpartitioned inputs' versions and each
    partitioned input's content id of that partition."""
    partitioned = {n: i for n, i in inputs.items() if i.partition_ids is not None}
    # reference data (spec.references) is read at its current version, but a new version
    # of it does not re-run partitions already processed
    others = sorted(
        (n, i.whole)
        for n, i in inputs.items()
        if i.partition_ids is None and n not in spec.references
    )
    universe: set[str] = set()
    for i in partitioned.values():
        universe |= set(i.partition_ids or {})
    if spec.mode == "replace_partitions" and not options.full_refresh:
        universe |= set(stored)  # vanished input partitions must vanish from the output too
    return {
        p: digest(
            base,
            others,
            sorted((n, (i.partition_ids or {}).get(p, "")) for n, i in partitioned.items()),
        )
        for p in universe
    }
