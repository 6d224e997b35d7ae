"""Table maintenance: checkpoints, lost-file checks and repair, compaction, vacuum, and
forgetting one subject's rows (from the table and from its history).

Each works on one Delta table and reads only its log (and, for checks, the storage's file
listing): no data is scanned except by ``optimize`` (which rewrites small files) and
``forget`` (which rewrites the files holding the subject's rows).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from prodml.tables.errors import TableError

if TYPE_CHECKING:
    from deltalake import DeltaTable

#: a checkpoint every this many commits (Delta's own default for Spark writers): a reader
#: replays at most this many JSON commits after the last checkpoint, however long the history
CHECKPOINT_INTERVAL = 10
#: vacuum keeps the files of versions younger than this (Delta's default: 7 days), so that
#: readers of a recent version and time travel within a week keep working
VACUUM_RETENTION_HOURS = 168


@dataclass(frozen=True)
class LostFile:
    """A data file the table's log lists that storage no longer holds."""

    path: str
    partition: dict[str, str] = field(default_factory=dict)

    def where(self) -> str:
        """``day=2024-01-02`` (or ``the table`` when unpartitioned)."""
        return ", ".join(f"{k}={v}" for k, v in self.partition.items()) or "the table"


class LostFilesError(TableError):
    """Data files of the table's current version are gone from storage."""

    def __init__(self, table: str, lost: list[LostFile], *, hint: str | None = None) -> None:
        self.lost = lost
        where = sorted({f.where() for f in lost})
        shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
        files = "1 data file is" if len(lost) == 1 else f"{len(lost)} data files are"
        super().__init__(
            table,
            f"{files} gone from storage ({shown}; e.g. {lost[0].path})",
            hint=hint or f"prodml tables check {table} --repair, then re-run what made it",
        )


def lost_files(
    handle: DeltaTable, location: str, storage_options: Mapping[str, str] | None
) -> list[LostFile]:
    """The live data files of ``handle`` missing from storage: a stat per file on a local
    table, one listing request per file elsewhere (no data is read)."""
    from prodml.tables.delta import add_actions

    actions = add_actions(handle)
    paths = [unquote(p) for p in actions.column("path").to_pylist()]
    parts = [c for c in actions.column_names if c.startswith("partition.")]
    values = {c: actions.column(c).to_pylist() for c in parts}
    if "://" not in location or location.startswith("file://"):
        root = location.removeprefix("file://")
        missing = [i for i, p in enumerate(paths) if not os.path.exists(os.path.join(root, p))]
    else:
        import pyarrow.fs as pafs
        from deltalake.fs import DeltaStorageHandler

        fs = pafs.PyFileSystem(DeltaStorageHandler(location, dict(storage_options or {})))
        infos = fs.get_file_info(paths)
        missing = [i for i, info in enumerate(infos) if info.type == pafs.FileType.NotFound]
    return [
        LostFile(
            paths[i],
            {c.removeprefix("partition."): _text(values[c][i]) for c in parts},
        )
        for i in missing
    ]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def checkpoint_due(version: int, interval: int = CHECKPOINT_INTERVAL) -> bool:
    """Whether the commit of ``version`` is one to checkpoint after."""
    return version > 0 and version % interval == 0


def repair(handle: DeltaTable, metadata: Mapping[str, str]) -> dict[str, Any]:
    """Forget the lost files (one commit removing them from the log): the table reads again,
    without their rows, until what made them is re-run."""
    from deltalake import CommitProperties

    metrics = handle.repair(commit_properties=CommitProperties(custom_metadata=dict(metadata)))
    return {"files_removed": len(metrics.get("files_removed", [])), "version": handle.version()}


def optimize(
    handle: DeltaTable, metadata: Mapping[str, str], target_size: int | None
) -> dict[str, Any]:
    """Compact small files into larger ones (one commit; readers see the same rows)."""
    from deltalake import CommitProperties

    before = handle.version()
    metrics = handle.optimize.compact(
        target_size=target_size, commit_properties=CommitProperties(custom_metadata=dict(metadata))
    )
    return {
        "files_added": int(metrics.get("numFilesAdded", 0)),
        "files_removed": int(metrics.get("numFilesRemoved", 0)),
        "version": handle.version(),
        "committed": handle.version() != before,
    }


def vacuum(handle: DeltaTable, retention_hours: int, *, dry_run: bool = False) -> dict[str, Any]:
    """Delete the files no version younger than ``retention_hours`` needs (and files no
    version ever referenced, once as old)."""
    if retention_hours < 0:
        raise TableError(
            handle.table_uri, f"retention {retention_hours} hours: it cannot be negative"
        )
    deleted = handle.vacuum(
        retention_hours=retention_hours, dry_run=dry_run, enforce_retention_duration=False
    )
    return {"files_deleted": len(deleted), "dry_run": dry_run, "files": sorted(deleted)}


def retain(handle: DeltaTable, predicate: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    """Delete the rows past retention (``predicate`` matches them): one commit; their files
    go with the next ``vacuum`` (time travel within its retention keeps working)."""
    from deltalake import CommitProperties

    metrics = handle.delete(
        predicate, commit_properties=CommitProperties(custom_metadata=dict(metadata))
    )
    return {"rows_deleted": int(metrics.get("num_deleted_rows", 0)), "version": handle.version()}


def forget(
    handle: DeltaTable,
    location: str,
    predicate: str,
    metadata: Mapping[str, str],
    storage_options: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Delete the rows matching ``predicate`` (one commit), then every trace of them in the
    history: the data files of older versions, and the log entries before a new checkpoint
    (their file statistics may hold the subject's values). Time travel before this commit
    is gone, as a right to erasure needs."""
    from deltalake import CommitProperties

    metrics = handle.delete(
        predicate, commit_properties=CommitProperties(custom_metadata=dict(metadata))
    )
    deleted = handle.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
    handle.create_checkpoint()  # readers start from here, not from the erased history
    entries = _drop_log_before(location, handle.version(), storage_options)
    return {
        "rows_deleted": int(metrics.get("num_deleted_rows", 0)),
        "files_deleted": len(deleted),
        "log_entries_deleted": entries,
        "version": handle.version(),
    }


def _drop_log_before(location: str, version: int, storage_options: Mapping[str, str] | None) -> int:
    """Delete the commit files and checkpoints older than ``version``'s checkpoint."""
    import pyarrow.fs as pafs

    if "://" not in location or location.startswith("file://"):
        fs: pafs.FileSystem = pafs.SubTreeFileSystem(
            location.removeprefix("file://"), pafs.LocalFileSystem()
        )
    else:
        from deltalake.fs import DeltaStorageHandler

        fs = pafs.PyFileSystem(DeltaStorageHandler(location, dict(storage_options or {})))
    old = []
    for info in fs.get_file_info(pafs.FileSelector("_delta_log")):
        stem = info.base_name.split(".", 1)[0]
        if stem.isdigit() and int(stem) < version:
            old.append(info.path)
    for path in old:
        fs.delete_file(path)
    return len(old)


def key_predicate(table: str, schema: Any, key: str) -> str:
    """``customer_id=C000050`` → a SQL predicate on that column of ``schema`` (an Arrow
    schema), the value typed as the column is; a bad key says what is wrong."""
    import pyarrow as pa

    from prodml.errors import did_you_mean
    from prodml.names import check_column, quote_ident, quote_literal

    column, sep, value = key.partition("=")
    column = column.strip()
    if not sep or not column or not value:
        raise TableError(
            table, f"--key {key!r} is not column=value", hint="e.g. --key customer_id=C000050"
        )
    check_column(column)
    if column not in schema.names:
        raise TableError(
            table,
            f"has no column {column!r}",
            hint=did_you_mean(column, schema.names) or f"its columns: {', '.join(schema.names)}",
        )
    kind = schema.field(column).type
    if pa.types.is_integer(kind):
        try:
            return f"{quote_ident(column)} = {int(value)}"
        except ValueError:
            raise TableError(
                table,
                f"{column} holds integers; {value!r} is not one",
                hint=f"e.g. --key {column}=42",
            ) from None
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise TableError(
            table,
            f"{column} is {kind}: forget keys on a text or integer column",
            hint="pick the subject's id column",
        )
    return f"{quote_ident(column)} = {quote_literal(value)}"
