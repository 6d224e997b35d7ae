"""Micro-batching: concurrent requests for one model become one model call.

Requests queue while the model is busy; the next call takes everything queued (up to
``max_batch_size`` rows), so throughput grows with concurrency and a lone request waits for
nobody. ``max_wait_ms`` > 0 additionally holds a batch open to let it fill.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from prodml.serving.errors import ModelInputError

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")


@dataclass
class Job(Generic[T]):
    """Rows to score (column-wise) and where the result goes."""

    columns: dict[str, np.ndarray]
    n: int
    future: asyncio.Future[T]


# run(batch of column dicts, row counts) → one result per job (or an exception for all)
Runner = Callable[[Sequence[dict[str, "np.ndarray"]], Sequence[int]], Sequence[Any]]


class MicroBatcher:
    """Collects jobs for one model and runs them in batches on a dedicated thread."""

    def __init__(self, run: Runner, *, max_batch_size: int, max_wait_ms: float, name: str) -> None:
        self._run = run
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self._queue: collections.deque[Job[Any]] = collections.deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"prodml-{name}")
        self.batches = 0
        self.rows = 0

    async def submit(self, columns: dict[str, np.ndarray], n: int) -> Any:
        """Score ``n`` rows; resolves when their batch has run."""
        loop = asyncio.get_running_loop()
        job: Job[Any] = Job(columns, n, loop.create_future())
        self._queue.append(job)
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._loop())
        elif self._wakeup is not None:
            self._wakeup.set()
        return await job.future

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            await self._gather()
            jobs = self._take()
            try:
                results = await loop.run_in_executor(
                    self._executor, self._run, [j.columns for j in jobs], [j.n for j in jobs]
                )
            except asyncio.CancelledError:
                for job in jobs:
                    if not job.future.done():
                        job.future.cancel()
                raise
            except Exception as exc:
                if len(jobs) == 1:
                    _settle(jobs[0], error=exc)
                else:  # one caller's bad rows must not fail the others batched with it
                    await self._one_by_one(jobs)
                continue
            self.batches += 1
            self.rows += sum(j.n for j in jobs)
            for job, result in zip(jobs, results, strict=True):
                _settle(job, result)

    async def _gather(self) -> None:
        """Wait up to ``max_wait`` for a full batch (new jobs wake the wait)."""
        if self.max_wait <= 0 or self._pending_rows() >= self.max_batch_size:
            return
        deadline = time.monotonic() + self.max_wait
        while self._pending_rows() < self.max_batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            assert self._wakeup is not None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except TimeoutError:
                return

    async def _one_by_one(self, jobs: list[Job[Any]]) -> None:
        """Run each job of a failed batch alone: only the bad ones fail."""
        loop = asyncio.get_running_loop()
        for job in jobs:
            try:
                (result,) = await loop.run_in_executor(
                    self._executor, self._run, [job.columns], [job.n]
                )
            except Exception as alone:
                _settle(job, error=alone)
            else:
                _settle(job, result)

    def _pending_rows(self) -> int:
        return sum(j.n for j in self._queue)

    def _take(self) -> list[Job[Any]]:
        jobs = [self._queue.popleft()]
        rows = jobs[0].n
        while self._queue and rows + self._queue[0].n <= self.max_batch_size:
            job = self._queue.popleft()
            jobs.append(job)
            rows += job.n
        return jobs

    async def drain(self) -> None:
        """Wait for queued jobs to finish."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def close(self) -> None:
        """Stop the worker thread (after ``drain``)."""
        self._executor.shutdown(wait=True)


def _settle(job: Job[Any], result: Any = None, *, error: BaseException | None = None) -> None:
    """Answer a job (unless its caller went away)."""
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


def run_model(current: Callable[[], Any], method: str) -> Runner:
    """A batch runner for the model ``current()`` returns at call time (a ``LoadedModel``).

    Each job's result is ``(model, predictions)``, so a response names the version that
    actually scored it, also across a swap.
    """
    import numpy as np

    def run(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        model = current()
        if len(batch) == 1:
            columns = batch[0]
        else:
            columns = {name: np.concatenate([c[name] for c in batch]) for name in model.columns}
        try:
            out = model.run(method, columns)
        except Exception as exc:  # the model's own checks of the caller's values
            raise ModelInputError(f"the model rejected the input: {exc}") from exc
        if len(out) != sum(counts):
            raise RuntimeError(f"the model returned {len(out)} predictions for {sum(counts)} rows")
        bounds = np.cumsum(counts)[:-1]
        return [(model, part) for part in np.split(out, bounds)]

    return run
