"""Delta Lake tables: the only write path, with atomic commits, retries and time travel."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from prodml.names import check_column, quote_ident, quote_literal
from prodml.tables.errors import CommitConflictError, TableError
from prodml.tables.maintenance import (
    LostFile,
    LostFilesError,
    checkpoint_due,
    forget,
    lost_files,
    optimize,
    repair,
    retain,
    vacuum,
)
from prodml.tables.schema import conform

if TYPE_CHECKING:
    import pyarrow.dataset as pads  # importing it pulls in pandas: only when a table is read

log = logging.getLogger(__name__)

WriteMode = Literal["append", "overwrite", "replace_partitions", "merge"]
WRITE_MODES: tuple[WriteMode, ...] = ("append", "overwrite", "replace_partitions", "merge")
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class WriteResult:
    """What one atomic commit did."""

    version: int
    rows: int
    bytes: int
    operation: str
    partitions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WriteSpec:
    """How to write: the mode and what it needs.

    Attributes:
        name: the table's full name (for messages).
        mode: ``append``, ``overwrite``, ``replace_partitions`` (replace exactly ``partitions``
            of ``partition_column``, also those left empty) or ``merge`` (upsert on ``keys``).
        partition_by: the table's partition columns (used when the table is created).
        keys: merge keys.
        partitions: for ``replace_partitions``, the partition values being replaced.
        partition_column: for ``replace_partitions``, the column they are values of.
        evolve: allow new columns (schema evolution, opt-in).
        metadata: custom commit metadata (run id, step, fingerprint).
        replace_where: for ``overwrite``, a SQL predicate: only the rows matching it are
            replaced (every new row must match it), in the same commit.
    """

    name: str
    mode: WriteMode
    partition_by: Sequence[str] = ()
    keys: Sequence[str] = ()
    partitions: Sequence[str] | None = None
    partition_column: str | None = None
    evolve: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)
    replace_where: str | None = None


class DeltaTables:
    """Reads and writes Delta tables under one storage root (``<root>/<catalog>/<schema>/<table>``)."""

    def __init__(self, root: str, storage_options: Mapping[str, str] | None = None) -> None:
        self.root = root.rstrip("/")
        self.storage_options = dict(storage_options or {}) or None
        # latest-version handles, brought up to date on reuse (a reload costs ~4x an update)
        self._handles: dict[str, DeltaTable] = {}

    def location(self, catalog: str, schema: str, table: str) -> str:
        """Where a table's files live (names are validated identifiers: no path escapes)."""
        return f"{self.root}/{catalog}/{schema}/{table}"

    def exists(self, location: str) -> bool:
        """Whether a Delta table exists at ``location``."""
        return bool(DeltaTable.is_deltatable(location, storage_options=self.storage_options))

    def create(self, location: str, schema: pa.Schema, *, description: str = "") -> None:
        """Create an empty table with ``schema`` (one commit, version 0); an error if a table
        is there already."""
        DeltaTable.create(
            location,
            schema,
            mode="error",
            description=description or None,
            storage_options=self.storage_options,
        )

    def remove(self, location: str) -> None:
        """Delete a table's files (its log and data): a managed table being dropped."""
        self._handles.pop(location, None)
        if "://" in location and not location.startswith("file://"):
            import pyarrow.fs as pafs

            fs, path = pafs.FileSystem.from_uri(location)
            fs.delete_dir(path)
            return
        import shutil

        shutil.rmtree(location.removeprefix("file://"), ignore_errors=True)

    def open(self, location: str, version: int | None = None, *, name: str = "") -> DeltaTable:
        """Open a table, optionally at an older version (time travel)."""
        cached = self._handles.get(location)
        if cached is not None:
            if version is None:
                cached.update_incremental()
                return cached
            if cached.version() == version:  # time travel to the version already at hand
                return cached
        try:
            handle = DeltaTable(location, version=version, storage_options=self.storage_options)
            if version is None:
                self._handles[location] = handle
            return handle
        except TableNotFoundError:
            raise TableError(
                name or location, "does not exist yet", hint="run the step that produces it"
            ) from None
        except DeltaError as exc:
            if version is not None:
                raise self._no_version(location, version, name, exc) from None
            raise

    def _no_version(self, location: str, version: int, name: str, exc: Exception) -> TableError:
        """Which versions exist, when time travel asked for one that does not (vacuumed or
        retained away, or not written yet)."""
        try:
            latest = DeltaTable(location, storage_options=self.storage_options)
            oldest = min(int(e["version"]) for e in latest.history())
            exists = f"versions {oldest} to {latest.version()} exist"
        except (DeltaError, KeyError, ValueError):
            exists = f"it cannot be read ({exc})"
        short = name.split(".", 1)[-1] if name.count(".") == 2 else name
        return TableError(
            name or location,
            f"has no version {version}: {exists}",
            hint=f"'prodml tables history {short or location}' lists them with their runs",
        )

    def dataset(
        self,
        location: str,
        *,
        version: int | None = None,
        partition_column: str | None = None,
        partitions: Sequence[str] | None = None,
        name: str = "",
    ) -> pads.Dataset:
        """An Arrow dataset over the table, pruned to ``partitions`` of ``partition_column``."""
        dt = self.open(location, version, name=name)
        if partition_column and partitions is not None:
            if not partitions:
                import pyarrow.dataset as pads

                return pads.dataset(pa.schema(dt.schema().to_arrow()).empty_table())
            dataset = dt.to_pyarrow_dataset(
                file_pruning_predicate=[(partition_column, "in", list(partitions))],
                filesystem=self._filesystem(location),
            )
        else:
            dataset = dt.to_pyarrow_dataset(filesystem=self._filesystem(location))
        self._check_files(location, dataset, dt, name)
        return dataset

    def _check_files(self, location: str, dataset: pads.Dataset, dt: DeltaTable, name: str) -> None:
        """A local table's files to be read are all there (a stat each), else a clear error
        naming the partitions instead of a failed scan half-way."""
        if "://" in location and not location.startswith("file://"):
            return  # a stat per object would cost a request each: 'prodml tables check'
        root = location.removeprefix("file://")
        if all(os.path.exists(os.path.join(root, f)) for f in dataset.files):
            return
        raise LostFilesError(name or location, lost_files(dt, location, self.storage_options))

    def added_since(self, location: str, since: int | None, *, name: str = "") -> pads.Dataset:
        """The rows of the data files the table gained after version ``since`` (all of it
        when ``since`` is None): every row that a later commit added or rewrote.

        A Delta commit never changes a file in place, so files live now and absent at
        ``since`` hold exactly the new and rewritten rows (rows only deleted since are not
        seen).
        """
        import pyarrow.dataset as pads

        dataset = self.dataset(location, name=name)
        if since is None:
            return dataset
        old = set(add_actions(self.open(location, since, name=name)).column("path").to_pylist())
        fragments = [f for f in dataset.get_fragments() if f.path not in old]
        return pads.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)

    @staticmethod
    def _filesystem(location: str) -> Any:
        """Arrow's native filesystem for local tables.

        delta-rs' default is a Python filesystem that Arrow's scan threads call back into;
        a scan stopped early (LIMIT, head) then crashes or hangs the interpreter at exit.
        """
        if "://" in location and not location.startswith("file://"):
            return None
        import pyarrow.fs as pafs

        return pafs.SubTreeFileSystem(location.removeprefix("file://"), pafs.LocalFileSystem())

    def partition_ids(
        self,
        location: str,
        column: str,
        version: int | None = None,
        handle: DeltaTable | None = None,
    ) -> dict[str, str]:
        """A content id per partition value: a hash of the partition's data files.

        A Delta commit never rewrites a file in place, so a partition whose file set is unchanged
        holds the same rows; this is what makes per-partition change detection cheap.
        """
        dt = handle if handle is not None else self.open(location, version)
        actions = add_actions(dt)
        key = f"partition.{column}"
        if key not in actions.column_names:
            return {}
        groups: dict[str, list[str]] = {}
        for path, value in zip(
            actions.column("path").to_pylist(), actions.column(key).to_pylist(), strict=True
        ):
            groups.setdefault(_partition_str(value), []).append(path)
        return {
            value: hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:16]
            for value, paths in groups.items()
        }

    def state(self, location: str, column: str | None) -> tuple[int, dict[str, str] | None]:
        """The current version, and the partition ids of ``column`` when the table is
        partitioned by it (None otherwise): what planning compares."""
        handle = self.open(location)
        version = int(handle.version())
        if "://" not in location or location.startswith("file://"):  # a stat per file
            lost = lost_files(handle, location, self.storage_options)
            if lost:
                raise LostFilesError(location, lost)
        if column and column in handle.metadata().partition_columns:
            return version, self.partition_ids(location, column, handle=handle)
        return version, None

    # -- maintenance (prodml.tables.maintenance) -------------------------------------------

    def lost_files(self, location: str, *, name: str = "") -> list[LostFile]:
        """The current version's data files that storage no longer holds."""
        return lost_files(self.open(location, name=name), location, self.storage_options)

    def maintain(
        self, location: str, operation: str, *, name: str = "", **options: Any
    ) -> dict[str, Any]:
        """Run one maintenance ``operation`` (repair, optimize, vacuum, forget) on a table."""
        handle = self.open(location, name=name)
        metadata = {"prodml.operation": operation, **options.pop("metadata", {})}
        if operation == "repair":
            return repair(handle, metadata)
        if operation == "optimize":
            return optimize(handle, metadata, options.get("target_size"))
        if operation == "vacuum":
            return vacuum(handle, options["retention_hours"], dry_run=options.get("dry_run", False))
        if operation == "retain":
            return retain(handle, options["predicate"], metadata)
        if operation == "forget":
            return forget(handle, location, options["predicate"], metadata, self.storage_options)
        raise TableError(name or location, f"unknown maintenance operation {operation!r}")

    def history(self, location: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Commit history, newest first."""
        return list(self.open(location).history(limit))

    def find_commit(self, location: str, key: str, value: str, *, limit: int = 25) -> int | None:
        """The version of a recent commit whose custom metadata has ``key == value``, if any."""
        if not self.exists(location):
            return None
        for entry in self.open(location).history(limit):
            if entry.get(key) == value:
                return int(entry["version"])
        return None

    def write(
        self, location: str, data: pa.Table | pa.RecordBatchReader, spec: WriteSpec
    ) -> WriteResult:
        """Write ``data`` as one atomic commit, as ``spec`` says; every
        ``CHECKPOINT_INTERVAL`` commits a checkpoint follows (readers then replay at most
        that many commits, however long the history)."""
        result = self._write(location, data, spec)
        if checkpoint_due(result.version) and result.operation != "noop":
            try:
                self.open(location, name=spec.name).create_checkpoint()
            except DeltaError as exc:  # the commit stands; the next checkpoint catches up
                log.warning(
                    "checkpoint of %s at version %d failed: %s", spec.name, result.version, exc
                )
        return result

    def _write(
        self, location: str, data: pa.Table | pa.RecordBatchReader, spec: WriteSpec
    ) -> WriteResult:
        """Write ``data`` as one atomic commit, as ``spec`` says.

        A ``RecordBatchReader`` is streamed into the commit (memory stays a few batches), except
        for ``merge``, which needs its whole source.

        Raises:
            SchemaMismatchError: before anything is written.
            CommitConflictError: concurrent commits kept conflicting.
        """
        for col in (*spec.partition_by, *spec.keys):
            check_column(col)
            if col not in data.schema.names:
                raise TableError(
                    spec.name,
                    f"column {col!r} (a partition column or key) is not in the data",
                    hint=f"columns: {', '.join(data.schema.names)}",
                )
        props = CommitProperties(custom_metadata=dict(spec.metadata), max_commit_retries=0)
        if isinstance(data, pa.RecordBatchReader):
            if spec.mode != "merge":
                return self._write_stream(location, data, spec, props)
            data = data.read_all()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            existing = self.open(location, name=spec.name) if self.exists(location) else None
            schema = pa.schema(existing.schema().to_arrow()) if existing is not None else None
            rows = conform(spec.name, data, schema, evolve=spec.evolve)
            try:
                return self._commit(location, existing, rows, spec, props)
            except CommitFailedError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise CommitConflictError(
                        spec.name, f"gave up after {attempt} conflicting commits: {exc}"
                    ) from None
                log.info("commit conflict on %s (attempt %d), retrying", spec.name, attempt)
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _write_stream(
        self,
        location: str,
        data: pa.RecordBatchReader,
        spec: WriteSpec,
        props: CommitProperties,
    ) -> WriteResult:
        """Stream batches into one commit: schema checked first, each batch conformed."""
        existing = self.open(location, name=spec.name) if self.exists(location) else None
        schema = pa.schema(existing.schema().to_arrow()) if existing is not None else None
        target = conform(spec.name, data.schema.empty_table(), schema, evolve=spec.evolve).schema
        counted = {"rows": 0, "bytes": 0}
        failure: list[BaseException] = []

        def conformed() -> Iterator[pa.RecordBatch]:
            try:
                for batch in data:
                    table = conform(
                        spec.name, pa.Table.from_batches([batch]), schema, evolve=spec.evolve
                    )
                    if spec.mode == "replace_partitions":
                        _check_partitions(spec, table)
                    counted["rows"] += table.num_rows
                    counted["bytes"] += table.nbytes
                    yield from table.to_batches()
            except BaseException as exc:  # surfaces through delta-rs as a generic error
                failure.append(exc)
                raise

        stream = pa.RecordBatchReader.from_batches(target, conformed())
        try:
            result = self._commit(location, existing, stream, spec, props)
        except CommitFailedError as exc:
            raise CommitConflictError(
                spec.name,
                f"another writer committed to {spec.name} at the same time and this write lost "
                f"({exc}); nothing of it was written",
                hint="run again (prodml run PRODUCT --resume RUN_ID redoes only what did not "
                "finish); if another product's run writes this table too, run them one after "
                "the other",
            ) from None
        except Exception:
            if failure:
                raise failure[0] from None
            raise
        return WriteResult(
            version=result.version,
            rows=counted["rows"],
            bytes=counted["bytes"],
            operation=result.operation,
            partitions=result.partitions,
        )

    def _commit(
        self,
        location: str,
        existing: DeltaTable | None,
        rows: pa.Table | pa.RecordBatchReader,
        spec: WriteSpec,
        props: CommitProperties,
    ) -> WriteResult:
        mode, name = spec.mode, spec.name
        schema_mode: Literal["merge"] | None = "merge" if spec.evolve else None
        if existing is None:
            _mkdir(location)
            write_deltalake(
                location,
                rows,
                mode="overwrite",
                partition_by=list(spec.partition_by) or None,
                commit_properties=props,
                storage_options=self.storage_options,
            )
            return self._result(self.open(location).version(), rows, "create", spec.partitions)
        if mode == "append":
            write_deltalake(
                existing, rows, mode="append", schema_mode=schema_mode, commit_properties=props
            )
        elif mode == "overwrite" and spec.replace_where is not None:
            write_deltalake(
                existing,
                rows,
                mode="overwrite",
                predicate=spec.replace_where,
                schema_mode=schema_mode,
                commit_properties=props,
            )
        elif mode == "overwrite":
            write_deltalake(
                existing,
                rows,
                mode="overwrite",
                schema_mode="overwrite" if spec.evolve else None,
                commit_properties=props,
            )
        elif mode == "replace_partitions":
            if not spec.partition_column or spec.partitions is None:
                raise TableError(name, "replace_partitions needs the partition column and values")
            if not spec.partitions:
                return self._result(existing.version(), rows, "noop", [])
            if isinstance(rows, pa.Table):  # a stream is checked batch by batch
                _check_partitions(spec, rows)
            values = ", ".join(quote_literal(p) for p in spec.partitions)
            write_deltalake(
                existing,
                rows,
                mode="overwrite",
                predicate=f"{quote_ident(spec.partition_column)} IN ({values})",
                schema_mode=schema_mode,
                commit_properties=props,
            )
        elif mode == "merge":
            assert isinstance(rows, pa.Table)  # write() reads a streamed merge source whole
            if rows.num_rows == 0:
                return self._result(existing.version(), rows, "noop", spec.partitions)
            _merge(existing, rows, spec, props)
        else:  # pragma: no cover - guarded by the step declaration
            raise TableError(name, f"unknown write mode {mode!r}")
        # the handle moved to the version this write committed (not a later writer's)
        return self._result(existing.version(), rows, mode, spec.partitions)

    @staticmethod
    def _result(
        version: int,
        rows: pa.Table | pa.RecordBatchReader,
        operation: str,
        partitions: Sequence[str] | None,
    ) -> WriteResult:
        table = isinstance(rows, pa.Table)  # a stream's counts are filled in by its caller
        return WriteResult(
            version=version,
            rows=rows.num_rows if table else 0,
            bytes=rows.nbytes if table else 0,
            operation=operation,
            partitions=list(partitions or []),
        )


def _merge(existing: DeltaTable, rows: pa.Table, spec: WriteSpec, props: CommitProperties) -> None:
    """Upsert ``rows`` on ``spec.keys``: matched rows are updated, the others inserted."""
    if not spec.keys:
        raise TableError(spec.name, "merge needs keys", hint="declare keys=[...] on the step")
    predicate = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in spec.keys)
    (
        existing.merge(
            rows,
            predicate,
            source_alias="s",
            target_alias="t",
            merge_schema=spec.evolve,
            commit_properties=props,
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )


def add_actions(handle: DeltaTable) -> pa.Table:
    """The table's live data files (path, size, rows, partition values) as Arrow."""
    # pa.table() would import pandas to ask whether this is a DataFrame (~0.2 s at start-up)
    return pa.RecordBatchReader.from_stream(handle.get_add_actions(flatten=True)).read_all()


def _check_partitions(spec: WriteSpec, rows: pa.Table) -> None:
    column = spec.partition_column or ""
    if column not in rows.column_names:
        raise TableError(spec.name, f"the data lacks the partition column {column!r}")
    values = {_partition_str(v) for v in pc.unique(rows.column(column)).to_pylist()}
    stray = sorted(values - set(spec.partitions or ()))
    if stray:
        shown = ", ".join(stray[:5]) + (" …" if len(stray) > 5 else "")
        raise TableError(
            spec.name,
            f"rows for partitions that are not being replaced ({shown}); nothing was written",
            hint="filter on ctx.partitions, or read only the step's (pruned) inputs",
        )


def _partition_str(value: Any) -> str:
    return "" if value is None else str(value)


def _mkdir(location: str) -> None:
    if "://" not in location or location.startswith("file://"):
        Path(location.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
