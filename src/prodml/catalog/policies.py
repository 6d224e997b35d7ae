"""Policies plugged into the catalog gate: records (commits, lineage), and the access and quality
policies that governance and data quality add."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.store import MetadataStore
    from prodml.names import TableName
    from prodml.tables.delta import WriteResult, WriteSpec

#: what a read is for: the rows, the commit history (and commit lookups), the table's
#: state (version, partitions) that planning compares, or its metadata (columns, size,
#: lineage, data-quality results without their values)
ReadKind = Literal["data", "history", "state", "metadata"]
#: receives each finished step's lineage: (run id, step, edges, outputs: table → version)
LineageSink = Callable[[str, str, list[dict[str, Any]], dict[str, Any]], None]


@dataclass(frozen=True)
class Access:
    """Who is acting, and for which run and step."""

    principal: str
    run_id: str | None = None
    step: str | None = None
    run_as: str | None = None  # the service principal a run executes as (run_as in product.yaml)
    client: str | None = None  # the adapter asking for a person (``uc-api``), for the audit


@dataclass
class WriteEvent:
    """A write about to happen (policies may replace ``data``, e.g. to drop bad rows)."""

    table: TableName
    data: pa.Table | pa.RecordBatchReader  # a reader is streamed into the commit
    spec: WriteSpec
    access: Access
    notes: dict[str, Any] = field(default_factory=dict)  # what a policy hands its after_write
    # lineage: what the rows were derived from besides the tables read through the gate
    # (landing sources, model versions), name → version; None: a write with no lineage (logs)
    sources: Mapping[str, int | None] | None = None


@dataclass(frozen=True)
class ReadEvent:
    """A read about to happen."""

    table: TableName
    version: int | None
    access: Access
    kind: ReadKind = "data"


@dataclass(frozen=True)
class Restriction:
    """What a reader sees of a table's rows: masked columns (name → ``null``, ``redact`` or
    ``hash``) and row filters (SQL conditions over the table's columns; all must hold)."""

    masks: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.masks or self.filters)

    def __or__(self, other: Restriction) -> Restriction:
        return Restriction({**self.masks, **other.masks}, (*self.filters, *other.filters))


@dataclass(frozen=True)
class MaintainEvent:
    """Maintenance about to be done on a table: ``check``, ``repair``, ``optimize``,
    ``vacuum`` or ``forget`` (``options`` say how: the retention, the rows to forget)."""

    table: TableName
    operation: str
    access: Access
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DefineEvent:
    """A catalog, schema or table about to be created, changed or dropped (through the
    catalog API): ``securable_type`` is ``catalog``, ``schema`` or ``table``, ``name`` its
    full name, ``operation`` ``create``, ``update`` or ``delete``."""

    securable_type: str
    name: str
    operation: str
    access: Access


@dataclass(frozen=True)
class LinkEvent:
    """A step made something that is not a table (a model version) from what it read."""

    target: str
    access: Access


class Policy(Protocol):
    """A hook around reads and writes; raise a ``ProdmlError`` to refuse."""

    def prepare(self, event: WriteEvent) -> None:
        """Transform ``event.data`` as a write would, without side effects (reproduction)."""

    def before_write(self, event: WriteEvent) -> None:
        """Check or transform a write before the commit."""

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        """React to a committed write."""

    def before_read(self, event: ReadEvent) -> None:
        """Check a read."""

    def visible(self, event: ReadEvent) -> bool:
        """Whether the read would be allowed, deciding only (no audit, no error): what a
        listing shows of the tables it could name."""

    def restrict(self, event: ReadEvent) -> Restriction | None:
        """The columns masked and rows filtered for the reader of an allowed read (None:
        it sees the table as it is)."""

    def model_visible(self, model: str, access: Access) -> bool:
        """Whether a registered model's metadata may be seen (decided only, as ``visible``)."""

    def after_read(self, event: ReadEvent, version: int) -> None:
        """React to a read of ``version``."""

    def linked(self, event: LinkEvent) -> None:
        """React to a step making a model version (or other non-table asset)."""

    def before_maintain(self, event: MaintainEvent) -> None:
        """Check maintenance of a table."""

    def after_maintain(self, event: MaintainEvent, result: Mapping[str, Any]) -> None:
        """React to maintenance done (``result``: what it did)."""

    def finished(self, access: Access, *, succeeded: bool) -> None:
        """The step of ``access`` ended (its reads and writes are complete)."""

    def before_define(self, event: DefineEvent) -> None:
        """Check a definition (a catalog, schema or table created, changed or dropped)."""

    def after_define(self, event: DefineEvent) -> None:
        """React to a definition done (owners, the audit log)."""


class AllowAll:
    """The access policy until governance arrives: everything is allowed."""

    def prepare(self, event: WriteEvent) -> None:
        """Nothing to change."""

    def before_write(self, event: WriteEvent) -> None:
        """Allow."""

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        """Nothing to do."""

    def before_read(self, event: ReadEvent) -> None:
        """Allow."""

    def visible(self, event: ReadEvent) -> bool:
        """Everything is visible."""
        return True

    def restrict(self, event: ReadEvent) -> Restriction | None:
        """Nothing is masked or filtered."""
        return None

    def model_visible(self, model: str, access: Access) -> bool:
        """Every model is visible."""
        return True

    def after_read(self, event: ReadEvent, version: int) -> None:
        """Nothing to do."""

    def linked(self, event: LinkEvent) -> None:
        """Nothing to do."""

    def before_maintain(self, event: MaintainEvent) -> None:
        """Allow."""

    def before_define(self, event: DefineEvent) -> None:
        """Allow."""

    def after_define(self, event: DefineEvent) -> None:
        """Nothing to do."""

    def after_maintain(self, event: MaintainEvent, result: Mapping[str, Any]) -> None:
        """Nothing to do."""

    def finished(self, access: Access, *, succeeded: bool) -> None:
        """Nothing to do."""


@dataclass
class _StepLineage:
    """What one step run has read and written so far."""

    reads: dict[str, int | None] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


class RecordsPolicy(AllowAll):
    """Records every commit (version, rows, bytes, run, step) and the lineage of step runs.

    Lineage is what the gate sees: each table a step reads (its rows, at a version) and each
    source its writes declare (landing files, model versions) is an edge to every table it
    writes with lineage, and to every model version it links. When the step finishes, its
    edges go to ``on_lineage`` (OpenLineage events).
    """

    def after_maintain(self, event: MaintainEvent, result: Mapping[str, Any]) -> None:
        """Maintenance that changes a table (repair, optimize, vacuum, forget) is audited:
        who, what, and what it did (a forget says which key, never the rows)."""
        if event.operation == "check":
            return
        said = {k: v for k, v in event.options.items() if k != "predicate"}
        done = {k: v for k, v in result.items() if k != "files"}
        self.store.audit(
            [
                {
                    "principal": event.access.principal,
                    "run_as": event.access.run_as,
                    "action": f"table.{event.operation}",
                    "securable_type": "table",
                    "securable": str(event.table),
                    "outcome": "changed",
                    "reason": f"{event.options.get('key', '')} {said} {done}".strip()[:2000],
                    "client": "maintenance",
                }
            ]
        )

    def __init__(self, store: MetadataStore, on_lineage: LineageSink | None = None) -> None:
        self.store = store
        self._on_lineage = on_lineage
        self._steps: dict[tuple[str, str], _StepLineage] = {}

    def _step(self, access: Access) -> _StepLineage | None:
        if access.run_id is None or access.step is None:
            return None  # not a step run: no lineage
        return self._steps.setdefault((access.run_id, access.step), _StepLineage())

    def after_read(self, event: ReadEvent, version: int) -> None:
        """A step's data read is a lineage source."""
        step = self._step(event.access) if event.kind == "data" else None
        if step is not None:
            step.reads.setdefault(str(event.table), version)

    def _edges(
        self, access: Access, step: _StepLineage, target: str, version: int | None, extra: Any
    ) -> list[dict[str, Any]]:
        sources = {**step.reads, **dict(extra or {})}
        assert access.run_id is not None and access.step is not None
        return [
            {
                "run_id": access.run_id,
                "step": access.step,
                "source": source,
                "source_version": source_version,
                "target": target,
                "target_version": version,
            }
            for source, source_version in sources.items()
        ]

    def linked(self, event: LinkEvent) -> None:
        """Everything the step read so far → the model version it registered."""
        step = self._step(event.access)
        if step is not None:
            step.edges += self._edges(event.access, step, event.target, None, None)

    def finished(self, access: Access, *, succeeded: bool) -> None:
        """Store the step's edges (and hand them to ``on_lineage``) if it succeeded."""
        if access.run_id is None or access.step is None:
            return
        step = self._steps.pop((access.run_id, access.step), None)
        if step is None or not succeeded:
            return
        self.store.add_edges(step.edges)
        if self._on_lineage is not None:
            self._on_lineage(access.run_id, access.step, step.edges, step.outputs)

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        """Record the commit, and the lineage of a step's output."""
        step = self._step(event.access) if event.sources is not None else None
        if step is not None:
            table = str(event.table)
            step.outputs[table] = result.version
            step.edges += self._edges(event.access, step, table, result.version, event.sources)
        if result.operation == "noop":
            return
        self.store.record_commit(
            {
                "table_name": str(event.table),
                "version": result.version,
                "operation": result.operation,
                "run_id": event.access.run_id,
                "step": event.access.step,
                "rows": result.rows,
                "bytes": result.bytes,
                "partitions": list(result.partitions),
            }
        )
