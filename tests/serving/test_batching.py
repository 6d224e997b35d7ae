"""Micro-batching (``MicroBatcher``) and the batch runner over a loaded model (``run_model``):
waiting to fill a batch, oversized jobs, callers that go away, counters, and one model call
split back to its callers with the version that scored them.

Complements tests/serving/test_inference_log.py (batching under concurrency, max batch size,
a failing batch failing only its bad jobs)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from prodml.models.loaded import LoadedModel
from prodml.serving.batching import MicroBatcher, run_model
from prodml.serving.errors import ModelInputError

SCHEMA = (("a", "double"), ("b", "double"))


def _fitted(sign: float) -> LogisticRegression:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    return LogisticRegression().fit(x, (sign * x[:, 0] > 0).astype(int))


def _loaded(version: int, native: Any) -> LoadedModel:
    return LoadedModel("dev.ml.clf", version, SCHEMA, native, "sklearn", True, False)


def _cols(*rows: tuple[float, float]) -> dict[str, np.ndarray]:
    return {"a": np.array([r[0] for r in rows]), "b": np.array([r[1] for r in rows])}


class Recorder:
    """A runner that records the row counts of each call and answers ``x * 10``."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        self.calls.append(list(counts))
        return [cols["x"] * 10 for cols in batch]


def test_a_lone_request_runs_at_once_and_is_counted() -> None:
    run = Recorder()

    async def main() -> Any:
        batcher = MicroBatcher(run, max_batch_size=64, max_wait_ms=0, name="t")
        out = await batcher.submit({"x": np.array([1.0, 2.0, 3.0])}, 3)
        batcher.close()
        return out, batcher.batches, batcher.rows

    out, batches, rows = asyncio.run(main())
    assert out.tolist() == [10.0, 20.0, 30.0]
    assert run.calls == [[3]] and (batches, rows) == (1, 3)


def test_max_wait_holds_a_batch_open_for_late_jobs() -> None:
    run = Recorder()

    async def main() -> list[Any]:
        batcher = MicroBatcher(run, max_batch_size=64, max_wait_ms=300, name="t")
        first = asyncio.ensure_future(batcher.submit({"x": np.array([1.0])}, 1))
        await asyncio.sleep(0.02)  # the first job is waiting for company
        second = asyncio.ensure_future(batcher.submit({"x": np.array([2.0, 3.0])}, 2))
        await asyncio.sleep(0.02)
        third = asyncio.ensure_future(batcher.submit({"x": np.array([4.0])}, 1))
        out = await asyncio.wait_for(asyncio.gather(first, second, third), 10)
        batcher.close()
        return out

    out = asyncio.run(main())
    assert [o.tolist() for o in out] == [[10.0], [20.0, 30.0], [40.0]]
    assert run.calls == [[1, 2, 1]]  # one model call for the three


def test_a_full_batch_does_not_wait() -> None:
    run = Recorder()

    async def main() -> list[Any]:
        # waiting the full second would time out below: a full batch must go at once
        batcher = MicroBatcher(run, max_batch_size=2, max_wait_ms=1000, name="t")
        jobs = [batcher.submit({"x": np.array([float(i)])}, 1) for i in range(2)]
        out = await asyncio.wait_for(asyncio.gather(*jobs), 0.9)
        batcher.close()
        return out

    assert [o.tolist() for o in asyncio.run(main())] == [[0.0], [10.0]]
    assert run.calls == [[1, 1]]


def test_a_job_larger_than_a_batch_runs_alone() -> None:
    run = Recorder()
    gate = threading.Event()

    def slow(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        gate.wait(5)
        return run(batch, counts)

    async def main() -> list[Any]:
        batcher = MicroBatcher(slow, max_batch_size=4, max_wait_ms=0, name="t")
        tasks = [
            asyncio.ensure_future(batcher.submit({"x": np.arange(n, dtype=float)}, n))
            for n in (1, 10, 2, 2)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(*tasks)
        batcher.close()
        return out

    out = asyncio.run(main())
    assert [len(o) for o in out] == [1, 10, 2, 2]
    assert run.calls == [[1], [10], [2, 2]]  # never more than 4 rows, unless one job is


def test_a_caller_that_goes_away_does_not_fail_the_others() -> None:
    gate = threading.Event()
    run = Recorder()

    def slow(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        gate.wait(5)
        return run(batch, counts)

    async def main() -> tuple[Any, bool]:
        batcher = MicroBatcher(slow, max_batch_size=8, max_wait_ms=0, name="t")
        first = asyncio.ensure_future(batcher.submit({"x": np.array([1.0])}, 1))
        await asyncio.sleep(0.02)  # running, blocked on the gate
        gone = asyncio.ensure_future(batcher.submit({"x": np.array([2.0])}, 1))
        kept = asyncio.ensure_future(batcher.submit({"x": np.array([3.0])}, 1))
        await asyncio.sleep(0.02)
        gone.cancel()
        gate.set()
        out = await asyncio.gather(first, kept)
        await batcher.drain()
        batcher.close()
        return out, gone.cancelled()

    (first, kept), cancelled = asyncio.run(main())
    assert first.tolist() == [10.0] and kept.tolist() == [30.0] and cancelled


def test_drain_waits_for_queued_jobs_and_close_stops_the_thread() -> None:
    gate = threading.Event()
    run = Recorder()

    def slow(batch: Sequence[dict[str, np.ndarray]], counts: Sequence[int]) -> list[Any]:
        gate.wait(5)
        return run(batch, counts)

    async def main() -> list[str]:
        batcher = MicroBatcher(slow, max_batch_size=8, max_wait_ms=0, name="drain-me")
        task = asyncio.ensure_future(batcher.submit({"x": np.array([1.0])}, 1))
        await asyncio.sleep(0.02)
        names = [t.name for t in threading.enumerate()]
        gate.set()
        await batcher.drain()
        assert task.done() and task.result().tolist() == [10.0]
        batcher.close()
        return names

    names = asyncio.run(main())
    assert any(n.startswith("prodml-drain-me") for n in names)
    assert not any(t.name.startswith("prodml-drain-me") for t in threading.enumerate())


def test_run_model_scores_jobs_in_one_call_and_splits_the_result() -> None:
    native = _fitted(1.0)
    model = _loaded(3, native)
    run = run_model(lambda: model, "score")
    jobs = [_cols((1.0, 0.0), (-1.0, 0.0)), {"b": np.array([5.0]), "a": np.array([2.0])}]
    out = run(jobs, [2, 1])
    assert [m for m, _ in out] == [model, model]
    expected = native.predict_proba(np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 5.0]]))[:, 1]
    assert np.concatenate([p for _, p in out]).tolist() == pytest.approx(expected.tolist())
    assert [len(p) for _, p in out] == [2, 1]
    labels = run_model(lambda: model, "predict")([jobs[0]], [2])
    assert labels[0][1].tolist() == [1, 0]


def test_run_model_uses_the_model_current_at_call_time() -> None:
    models = {"now": _loaded(1, _fitted(1.0))}
    run = run_model(lambda: models["now"], "predict")
    before = run([_cols((2.0, 0.0))], [1])
    models["now"] = _loaded(2, _fitted(-1.0))  # a hot swap between two calls
    after = run([_cols((2.0, 0.0))], [1])
    assert (before[0][0].version, before[0][1].tolist()) == (1, [1])
    assert (after[0][0].version, after[0][1].tolist()) == (2, [0])


def test_a_model_that_rejects_the_input_is_a_model_input_error() -> None:
    model = _loaded(1, _fitted(1.0))
    run = run_model(lambda: model, "predict")
    with pytest.raises(ModelInputError) as err:
        run([{"a": np.array([np.nan]), "b": np.array([1.0])}], [1])
    assert str(err.value).startswith("the model rejected the input: ")
    assert "NaN" in str(err.value)


def test_a_model_that_answers_the_wrong_number_of_rows() -> None:
    class Truncating:
        def predict(self, frame: Any) -> np.ndarray:
            return np.zeros(len(frame) - 1)

    model = LoadedModel("dev.ml.clf", 1, SCHEMA, Truncating(), "pyfunc", False, False)
    run = run_model(lambda: model, "predict")
    with pytest.raises(RuntimeError, match="the model returned 2 predictions for 3 rows"):
        run([_cols((1.0, 1.0)), _cols((2.0, 2.0), (3.0, 3.0))], [1, 2])
