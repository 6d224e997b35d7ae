"""Pipeline errors: their kinds (exit code, HTTP status), what a step failure says and keeps,
and ``SkipStep``: a step that declines is recorded as skipped and tried again next run."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import make_platform

import prodml
from prodml.errors import ProdmlError, UsageError, http_status
from prodml.pipeline.errors import PipelineDefinitionError, SkipStep, StepFailedError


def test_kinds_of_pipeline_errors() -> None:
    definition = PipelineDefinitionError("bad step", hint="fix it")
    assert isinstance(definition, UsageError)
    assert (definition.exit_code, http_status(definition), definition.retryable) == (2, 400, False)
    assert str(definition) == "bad step (fix it)"
    failed = StepFailedError("p.s", "r1", "boom")
    assert not isinstance(failed, UsageError)
    assert (failed.exit_code, http_status(failed)) == (1, 500)
    assert isinstance(SkipStep("later"), ProdmlError)


def test_a_step_failure_keeps_the_step_and_the_run() -> None:
    failed = StepFailedError("shop.totals", "20240101-ab", "ValueError: x", hint="see the log")
    assert (failed.step, failed.run_id) == ("shop.totals", "20240101-ab")
    assert failed.message == "step shop.totals failed in run 20240101-ab: ValueError: x"
    assert str(failed) == f"{failed.message} (see the log)"


RAISES = """
from prodml import step

@step(stage="ingress", outputs="bronze.things")
def things(ctx):
    raise ValueError("no things today")

@step(stage="features", inputs=["bronze.things"], outputs="silver.things")
def clean(ctx, things):
    return things
"""


def test_a_failed_run_raises_the_step_failure(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"p": RAISES})
    with prodml.connect(root) as ws:
        with pytest.raises(StepFailedError) as info:
            ws.run("p")
        (run,) = ws.runs()
    error = info.value
    assert (error.step, error.run_id) == ("p.things", run["run_id"])
    assert "ValueError: no things today (at " in error.message
    assert f"{root / 'products' / 'p' / 'pipeline.py'}:6)" in error.message
    assert error.hint == f"see 'prodml runs show {run['run_id']}'"
    assert error.traced  # the CLI adds how to see the traceback


WAITS = """
from pathlib import Path
from prodml import SkipStep, step

@step(stage="ingress", outputs="bronze.ready")
def ready(ctx):
    if not (Path(__file__).parent / "READY").exists():
        raise SkipStep("the export has not arrived yet")
    return ctx.sql("select 1 as x")
"""


def test_skip_step_is_recorded_and_tried_again_next_run(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"p": WAITS})
    with prodml.connect(root) as ws:
        first = ws.run("p")
        (step,) = first.steps
        assert (first.status, step["status"]) == ("succeeded", "skipped")
        assert step["reason"] == "the export has not arrived yet"
        assert not ws.table_exists("bronze.ready")
        (root / "products" / "p" / "READY").write_text("")
        (again,) = ws.run("p").steps  # no state was kept: not "unchanged"
        assert (again["status"], again["reason"]) == ("succeeded", "first run")
        assert ws.read("bronze.ready").to_pylist() == [{"x": 1}]
