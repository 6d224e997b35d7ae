"""Policies plugged into the catalog gate (records now; governance and quality add theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.store import MetadataStore
    from prodml.names import TableName
    from prodml.tables.delta import WriteResult, WriteSpec


@dataclass(frozen=True)
class Access:
    """Who is acting, and for which run and step."""

    principal: str
    run_id: str | None = None
    step: str | None = None
    run_as: str | None = None  # the service principal a run executes as (run_as in product.yaml)

    @property
    def acting(self) -> str:
        """Whose privileges count: the run-as principal, else the one who started it."""
        return self.run_as or self.principal


@dataclass
class WriteEvent:
    """A write about to happen (policies may replace ``data``, e.g. to drop bad rows)."""

    table: TableName
    data: pa.Table | pa.RecordBatchReader  # a reader is streamed into the commit
    spec: WriteSpec
    access: Access
    notes: dict[str, Any] = field(default_factory=dict)  # what a policy hands its after_write


@dataclass(frozen=True)
class ReadEvent:
    """A read about to happen."""

    table: TableName
    version: int | None
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

    def after_read(self, event: ReadEvent, version: int) -> None:
        """React to a read of ``version``."""


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

    def after_read(self, event: ReadEvent, version: int) -> None:
        """Nothing to do."""


class RecordsPolicy(AllowAll):
    """Records every commit (version, rows, bytes, run, step) in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        """Record the commit."""
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
