"""Micro-batching and the inference-log queue, without a server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from prodml.serving.batching import MicroBatcher
from prodml.serving.inference_log import Block, QueueWriter, to_table


def test_concurrent_requests_are_batched_and_results_go_back_to_their_callers() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def run(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        gate.wait(5)  # the first call blocks until everyone queued
        calls.append(sum(counts))
        return [cols["x"] * 10 for cols in batch]

    async def main() -> list[Any]:
        batcher = MicroBatcher(run, max_batch_size=64, max_wait_ms=0, name="t")
        tasks = [
            asyncio.ensure_future(
                batcher.submit({"x": np.array([float(i)] * (1 + i % 2))}, 1 + i % 2)
            )
            for i in range(30)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(*tasks)
        await batcher.drain()
        batcher.close()
        return out

    out = asyncio.run(main())
    assert [o.tolist() for o in out] == [[i * 10.0] * (1 + i % 2) for i in range(30)]
    assert len(calls) <= 3 and sum(calls) == 45  # one or two model calls, not 30


def test_max_batch_size_is_respected_and_a_failing_batch_fails_only_its_jobs() -> None:
    sizes: list[int] = []

    def run(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        sizes.append(sum(counts))
        if any(cols["x"][0] < 0 for cols in batch):
            raise ValueError("negative")
        return [cols["x"] for cols in batch]

    async def main() -> list[Any]:
        batcher = MicroBatcher(run, max_batch_size=4, max_wait_ms=5, name="t")
        jobs = [batcher.submit({"x": np.array([float(i)])}, 1) for i in range(12)]
        good = await asyncio.gather(*jobs)
        bad = await asyncio.gather(
            batcher.submit({"x": np.array([-1.0])}, 1), return_exceptions=True
        )
        again = await batcher.submit({"x": np.array([5.0])}, 1)  # the batcher survives
        batcher.close()
        return [good, bad, again]

    good, bad, again = asyncio.run(main())
    assert max(sizes) <= 4 and [g.tolist() for g in good] == [[float(i)] for i in range(12)]
    assert isinstance(bad[0], ValueError) and again.tolist() == [5.0]


def block(n: int, request: str = "r") -> Block:
    return Block(
        request_id=request,
        time=datetime(2026, 11, 26, 12, tzinfo=UTC),
        product="p",
        route="predict",
        variant="champion",
        shadow=False,
        model="dev.ml.m",
        model_version=3,
        rows=np.arange(n),
        unit_ids=[f"u{i}" for i in range(n)],
        inputs={"a": np.arange(n, dtype=float), "s": np.array(["x"] * n, dtype=object)},
        outputs=np.full(n, 0.25),
        latency_ms=1.5,
    )


def test_rows_encode_inputs_and_outputs_as_json() -> None:
    table = to_table([block(2)])
    assert table.num_rows == 2 and table.column("date").type == pa.date32()
    assert table.column("inputs").to_pylist() == ['{"a":0.0,"s":"x"}', '{"a":1.0,"s":"x"}']
    assert table.column("outputs").to_pylist() == ['{"prediction":0.25}'] * 2


def test_writer_keeps_rows_across_failed_writes_and_close_flushes_everything() -> None:
    written: list[pa.Table] = []
    failures = {"left": 2}

    def write(table: pa.Table) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("disk on fire")
        written.append(table)

    writer = QueueWriter(write, flush_rows=1000, flush_seconds=0.05, queue_rows=100, name="t")
    assert writer.put([block(3, "a")]) and writer.put([block(2, "b")])
    assert writer.close(timeout=10) == 0
    ids = [r for t in written for r in t.column("request_id").to_pylist()]
    assert sorted(ids) == ["a"] * 3 + ["b"] * 2 and writer.failures == 2
    assert not writer.put([block(1)])  # closed


def test_a_full_queue_refuses_instead_of_dropping() -> None:
    release = threading.Event()

    def write(table: pa.Table) -> None:
        release.wait(5)

    writer = QueueWriter(write, flush_rows=1, flush_seconds=10, queue_rows=5, name="t")
    assert writer.put([block(5)])
    assert not writer.put([block(1)])  # would exceed 5 rows held
    release.set()
    assert writer.close(timeout=10) == 0 and writer.written_rows == 5


@pytest.mark.parametrize("rows", [1, 2500])
def test_flush_by_row_count(rows: int) -> None:
    got = threading.Event()
    writer = QueueWriter(
        lambda t: got.set(), flush_rows=rows, flush_seconds=60, queue_rows=10_000, name="t"
    )
    writer.put([block(rows)])
    assert got.wait(5)  # written long before flush_seconds
    writer.close()
