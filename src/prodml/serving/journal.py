"""The inference log's journal: every answered request's rows in an append-only local file
first, so that a killed server loses none of them.

Each worker process writes its own file (``<pid>-<id>.<segment>.log``: one JSON line per
block). A request's rows are appended (into the operating system: they survive the process
being killed) before it is answered; the file is synced to disk once per flush of the queue
(group commit), when the writer moves on to a new segment. Once the rows of the older segments
are committed to the Delta table, those segments are deleted. Segments left by a process that
died are claimed (renamed: one claimer wins) by the next writer that starts, replayed into
its queue, then deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from prodml.catalog.leases import pid_alive
from prodml.serving.inference_log import Block

log = logging.getLogger(__name__)

SUFFIX = ".log"


def encode(block: Block) -> bytes:
    """One block as a JSON line."""

    def fallback(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()  # an array orjson does not serialize natively (object dtype)
        raise TypeError(type(value).__name__)

    doc = {
        "request_id": block.request_id,
        "time": block.time.isoformat(),
        "product": block.product,
        "route": block.route,
        "variant": block.variant,
        "shadow": block.shadow,
        "model": block.model,
        "model_version": block.model_version,
        "rows": block.rows,
        "unit_ids": block.unit_ids,
        "inputs": block.inputs,
        "outputs": block.outputs,
        "latency_ms": block.latency_ms,
    }
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY, default=fallback) + b"\n"


def decode(line: bytes) -> Block:
    """A block from its JSON line."""
    import numpy as np

    doc = orjson.loads(line)
    return Block(
        request_id=doc["request_id"],
        time=datetime.fromisoformat(doc["time"]),
        product=doc["product"],
        route=doc["route"],
        variant=doc["variant"],
        shadow=doc["shadow"],
        model=doc["model"],
        model_version=doc["model_version"],
        rows=np.asarray(doc["rows"], dtype=np.int64),
        unit_ids=doc["unit_ids"],
        inputs={k: np.asarray(v) for k, v in doc["inputs"].items()},
        outputs=np.asarray(doc["outputs"]),
        latency_ms=doc["latency_ms"],
    )


class Journal:
    """One worker's journal in ``directory``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._segment = 0
        self._lock = threading.Lock()
        self._file = self._path(0).open("ab")

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.worker}.{segment:08d}{SUFFIX}"

    def append(self, blocks: Sequence[Block]) -> None:
        """Write blocks (to the OS: a killed process keeps them; the disk has them at the next
        rotation)."""
        self.write(b"".join(encode(b) for b in blocks))

    def write(self, data: bytes) -> None:
        """Write encoded blocks (:func:`encode`; callers encode outside their locks)."""
        with self._lock:
            self._file.write(data)
            self._file.flush()

    def rotate(self) -> tuple[int, Any]:
        """Start the next segment; returns the finished one and its file, for :meth:`sync`
        (outside the caller's lock: requests go on appending meanwhile)."""
        with self._lock:
            done, old = self._segment, self._file
            self._segment += 1
            self._file = self._path(self._segment).open("ab")
        return done, old

    @staticmethod
    def sync(file: Any) -> None:
        """Put a finished segment on disk (the group commit) and close it."""
        os.fsync(file.fileno())
        file.close()

    def release(self, through: int) -> None:
        """Delete this worker's segments up to ``through`` (their rows are in the table)."""
        for path in self.directory.glob(f"{self.worker}.*{SUFFIX}"):
            segment = int(path.name[len(self.worker) + 1 : -len(SUFFIX)])
            if segment <= through:
                path.unlink(missing_ok=True)

    def close(self, *, keep: bool) -> None:
        """Close; unless ``keep`` (rows could not be written), delete what is left."""
        with self._lock:
            self._file.close()
        if not keep:
            self.release(self._segment)

    def claim_leftovers(self) -> Iterator[tuple[Path, list[Block]]]:
        """Segments of writers that died: each claimed by renaming it (one claimer wins), with
        its blocks (a line cut by the kill is dropped: its request was not answered)."""
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            pid = path.name.split("-", 1)[0]
            if path.name.startswith(self.worker) or not pid.isdigit():
                continue
            if pid_alive(int(pid)):
                continue  # a live worker's journal (this process's other writers too)
            claimed = path.with_name(f"{path.name}.claimed-{self.worker}")
            try:
                path.rename(claimed)
            except FileNotFoundError:
                continue  # another writer claimed it first
            blocks = []
            for line in claimed.read_bytes().splitlines():
                with contextlib.suppress(orjson.JSONDecodeError, KeyError, ValueError):
                    blocks.append(decode(line))
            yield claimed, blocks


def replay(
    journal: Journal,
    queue: Callable[[list[Block]], None],
    logged: Callable[[list[Block]], set[tuple[str, str]]] | None,
) -> int:
    """Queue the rows of dead writers' segments (into this writer's journal first), leaving
    out requests the table already holds (a kill after the commit, before the deletion);
    returns the blocks replayed."""
    replayed = 0
    for claimed, blocks in journal.claim_leftovers():
        seen = logged(blocks) if logged is not None and blocks else set()
        todo = [b for b in blocks if (b.request_id, b.variant) not in seen]
        if todo:
            journal.append(todo)
            queue(todo)
        claimed.unlink(missing_ok=True)
        replayed += len(todo)
        log.warning(
            "replayed %d logged requests of %s (%d already written)",
            len(todo),
            claimed.name,
            len(blocks) - len(todo),
        )
    return replayed
