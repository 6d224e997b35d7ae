"""The inference log: every scored record becomes a row of a Delta table, written in batches.

Requests hand their rows to a bounded in-memory queue before they are answered; a background
thread writes what is queued every ``flush_seconds`` or ``flush_rows``, and ``close`` writes
the rest. A failed write keeps its rows and is retried, so an answered request is never missing
from the table after a graceful stop. When the queue is full, ``put`` refuses and the request
is answered 503 instead of being served unlogged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from prodml.serving.journal import Journal

log = logging.getLogger(__name__)

COLUMNS = {
    "request_id": "string",
    "row": "int32",
    "time": "timestamp",
    "date": "date",
    "product": "string",
    "route": "string",
    "variant": "string",
    "shadow": "bool",
    "model": "string",
    "model_version": "int64",
    "unit_id": "string",
    "inputs": "JSON object of the model's input columns",
    "outputs": "JSON object: prediction",
    "latency_ms": "float64",
}

DOCS = {
    "request_id": "The request's id (X-Request-Id of the response).",
    "row": "The record's position in the request.",
    "time": "When the request arrived (UTC).",
    "date": "The UTC day of time (partition).",
    "route": "predict (the product route) or invocations (MLflow protocol).",
    "variant": "The endpoint variant that scored the record.",
    "shadow": "True for a shadow variant's prediction (scored, not returned).",
    "model_version": "The registered model version that scored the record.",
    "unit_id": "The unit of assignment (sticky variant), if the request gave one.",
    "inputs": "The record's model inputs as JSON.",
    "outputs": "The prediction as JSON.",
    "latency_ms": "Time from the request's arrival to its answer being ready.",
}


@dataclass
class Block:
    """The rows of one request's records for one variant."""

    request_id: str
    time: datetime
    product: str
    route: str
    variant: str
    shadow: bool
    model: str
    model_version: int
    rows: np.ndarray  # positions in the request
    unit_ids: list[str | None]
    inputs: dict[str, np.ndarray]
    outputs: np.ndarray
    latency_ms: float

    @property
    def n(self) -> int:
        """Rows in the block."""
        return len(self.rows)


def to_table(blocks: list[Block]) -> pa.Table:
    """Blocks → one Arrow table (JSON encoding of inputs and outputs happens here, off the
    request path)."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for b in blocks:
        n = b.n
        names = list(b.inputs)
        values = [b.inputs[c].tolist() for c in names]
        outputs = b.outputs.tolist()
        cols["request_id"].extend([b.request_id] * n)
        cols["row"].extend(b.rows.tolist())
        cols["time"].extend([b.time] * n)
        cols["date"].extend([b.time.date()] * n)
        cols["product"].extend([b.product] * n)
        cols["route"].extend([b.route] * n)
        cols["variant"].extend([b.variant] * n)
        cols["shadow"].extend([b.shadow] * n)
        cols["model"].extend([b.model] * n)
        cols["model_version"].extend([b.model_version] * n)
        cols["unit_id"].extend(b.unit_ids)
        cols["inputs"].extend(
            orjson.dumps(dict(zip(names, row, strict=True))).decode()  # NaN → null
            for row in zip(*values, strict=True)
        )
        cols["outputs"].extend(orjson.dumps({"prediction": o}).decode() for o in outputs)
        cols["latency_ms"].extend([b.latency_ms] * n)
    return pa.table(
        {
            "request_id": pa.array(cols["request_id"], pa.string()),
            "row": pa.array(cols["row"], pa.int32()),
            "time": pa.array(cols["time"], pa.timestamp("us", tz="UTC")),
            "date": pa.array(cols["date"], pa.date32()),
            "product": pa.array(cols["product"], pa.string()),
            "route": pa.array(cols["route"], pa.string()),
            "variant": pa.array(cols["variant"], pa.string()),
            "shadow": pa.array(cols["shadow"], pa.bool_()),
            "model": pa.array(cols["model"], pa.string()),
            "model_version": pa.array(cols["model_version"], pa.int64()),
            "unit_id": pa.array(cols["unit_id"], pa.string()),
            "inputs": pa.array(cols["inputs"], pa.string()),
            "outputs": pa.array(cols["outputs"], pa.string()),
            "latency_ms": pa.array(cols["latency_ms"], pa.float64()),
        }
    )


class QueueWriter:
    """A bounded queue of row blocks (anything with ``n``) and the thread that writes them."""

    def __init__(
        self,
        write: Callable[[pa.Table], None],
        *,
        encode: Callable[[list[Any]], pa.Table] = to_table,
        flush_rows: int,
        flush_seconds: float,
        queue_rows: int,
        name: str,
        journal: Journal | None = None,
        logged: Callable[[list[Any]], set[tuple[str, str]]] | None = None,
    ) -> None:
        """``journal``: the durable mode (rows in a local append-only log before a request
        is answered; what dead writers left is replayed first, without the requests
        ``logged`` says the table holds)."""
        self.name = name
        self._write = write
        self._encode = encode
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.queue_rows = queue_rows
        self._blocks: list[Any] = []
        self._rows = 0
        self._cond = threading.Condition()
        self._closing = False
        self.written_rows = 0
        self.failures = 0
        self.last_error: str | None = None
        self.permanent = False
        self._journal = journal
        self.replayed = 0
        if journal is not None:
            from prodml.serving.journal import encode as journal_line
            from prodml.serving.journal import replay

            self._journal_line = journal_line
            self.replayed = replay(journal, self._enqueue, logged)
        self._thread = threading.Thread(target=self._loop, name=f"prodml-log-{name}", daemon=True)
        self._thread.start()

    def _enqueue(self, blocks: list[Any]) -> None:
        with self._cond:
            self._blocks.extend(blocks)
            self._rows += sum(b.n for b in blocks)

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet written."""
        return self._rows

    def put(self, blocks: Sequence[Any]) -> bool:
        """Queue a request's rows; False (nothing queued) when the queue is full or closed."""
        n = sum(b.n for b in blocks)
        data = None
        if self._journal is not None:  # encoded outside the lock other requests wait on
            data = b"".join(self._journal_line(b) for b in blocks)
        with self._cond:
            if self._closing or self._rows + n > self.queue_rows:
                return False
            if self._journal is not None and data is not None:  # before the answer
                self._journal.write(data)
            self._blocks.extend(blocks)
            self._rows += n
            if self._rows >= self.flush_rows:
                self._cond.notify()
        return True

    def _loop(self) -> None:
        backoff = 0.0
        while True:
            with self._cond:
                if backoff and not self._closing:
                    self._cond.wait(backoff)  # after a failed write: wait, whatever is queued
                elif not self._closing and self._rows < self.flush_rows:
                    self._cond.wait(self.flush_seconds)
                closing = self._closing
                blocks = list(self._blocks)
                if not blocks:
                    if closing:
                        return
                    continue
                # the journal's segments so far hold (at most) these blocks
                segment, finished = self._journal.rotate() if self._journal else (None, None)
            if finished is not None:
                self._journal.sync(finished)  # type: ignore[union-attr]
            if not self._flush(blocks):
                backoff = min(max(backoff * 2, 0.5), 30.0)
                if closing:
                    return  # close() reports what could not be written
                continue
            if segment is not None:
                self._journal.release(segment)  # type: ignore[union-attr]
            backoff = 0.0

    def _flush(self, blocks: list[Any]) -> bool:
        n = sum(b.n for b in blocks)
        try:
            self._write(self._encode(blocks))
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            # e.g. a refused write: trying again at shutdown cannot help
            self.permanent = not getattr(exc, "retryable", True)
            log.error("%s write failed (%d rows kept, retrying): %s", self.name, n, exc)
            return False
        with self._cond:
            del self._blocks[: len(blocks)]
            self._rows -= n
        self.written_rows += n
        return True

    def close(self, timeout: float = 60.0) -> int:
        """Write everything queued and stop; returns the rows that could not be written."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while self._blocks and not self.permanent and time.monotonic() < deadline:  # last tries
            if not self._flush(list(self._blocks)):
                time.sleep(0.5)
        if self._rows:
            log.error(
                "%s: %d rows could not be written: %s", self.name, self._rows, self.last_error
            )
        if self._journal is not None:  # rows not written stay in the journal: replayed later
            self._journal.close(keep=bool(self._rows))
        return self._rows


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)
