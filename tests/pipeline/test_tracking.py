"""What steps see of experiment tracking: which stages are tracked, the ``StepRunInfo`` a run
hands the tracker factory (who, what, which inputs), when trackers are closed, and that the
models domain's MLflow tracker is a ``Tracker``."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform
from tests.pipeline.conftest import RecordingTracker

import prodml
from prodml.models.tracker import MlflowTracker
from prodml.pipeline.errors import StepFailedError
from prodml.pipeline.planner import RunOptions
from prodml.pipeline.runner import Runner
from prodml.pipeline.tracking import MODEL_STAGES, TRACKED_STAGES, StepRunInfo, Tracker

PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="gold.examples")
def examples(ctx):
    return pa.table({"a": [1.0, 2.0], "y": [0, 1]})

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append")
def train(ctx, examples):
    ctx.log_params({"c": ctx.params["c"]})
    return ctx.log_model(object(), input_example=examples.df())

@step(stage="evaluate", inputs=["ml.fit"], outputs="ml.evaluation", mode="append")
def evaluate(ctx, fit):
    if ctx.params["fail"]:
        raise RuntimeError("evaluation broke")
    return ctx.gate({"auc": 0.9}, version=ctx.candidate())

@step(stage="apply", inputs=["gold.examples"], outputs="gold.scores")
def score(ctx, examples):
    return ctx.score(examples.arrow())
"""


def test_tracked_and_model_stages() -> None:
    assert TRACKED_STAGES == ("train", "evaluate")
    assert MODEL_STAGES == ("train", "evaluate", "apply")  # apply scores without a run


def test_step_run_info_is_frozen_with_its_own_defaults() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    one = StepRunInfo("p", "dev", "train", "train", "r1", now, None, "h")
    other = StepRunInfo("p", "dev", "train", "train", "r2", now, "abc", "h")
    assert (one.input_versions, one.promote) == ({}, False)
    assert one.input_versions is not other.input_versions
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.run_id = "r3"  # type: ignore[misc]


def test_the_mlflow_tracker_is_a_tracker() -> None:
    members = [n for n in vars(Tracker) if not n.startswith("_")]
    assert set(members) == {
        "tracking_run_id",
        "registered_name",
        "log_params",
        "log_metrics",
        "log_model",
        "load_model",
        "candidate",
        "resolve",
        "gate",
        "score",
        "close",
    }
    for name in members:
        wanted, have = getattr(Tracker, name), getattr(MlflowTracker, name)
        if isinstance(wanted, property):
            assert isinstance(have, property), name
        else:
            assert inspect.signature(have) == inspect.signature(wanted), name


def platform(tmp_path: Path, *, fail: bool = False) -> Path:
    root = make_platform(tmp_path / "p", {"clf": PIPELINE})
    (root / "products" / "clf" / "product.yaml").write_text(
        PRODUCT.format(name="clf")
        + f"params: {{c: 0.5, fail: {str(fail).lower()}}}\nmodel: {{name: m}}\n"
    )
    return root


def run(
    root: Path, options: RunOptions
) -> tuple[list[StepRunInfo], list[RecordingTracker], prodml.Workspace, object]:
    """Run clf with a tracker factory that records what it is given (no MLflow)."""
    infos: list[StepRunInfo] = []
    trackers: list[RecordingTracker] = []

    def factory(info: StepRunInfo) -> RecordingTracker:
        infos.append(info)
        trackers.append(RecordingTracker(f"t-{info.step}"))
        return trackers[-1]

    ws = prodml.connect(root)
    renv = dataclasses.replace(ws._w.run_env(), tracker_factory=factory, preflight=None)
    result = Runner(renv).run(ws.product("clf"), options, check=False)
    return infos, trackers, ws, result


def test_a_run_tells_the_tracker_who_and_what(tmp_path: Path) -> None:
    infos, trackers, ws, _ = run(platform(tmp_path), RunOptions(promote=True))
    with ws:
        assert [i.stage for i in infos] == ["train", "evaluate", "apply"]
        train = infos[0]
        (run_record,) = ws.runs()
        assert (train.product, train.env, train.step, train.run_id) == (
            "clf",
            "dev",
            "train",
            run_record["run_id"],
        )
        assert train.now == run_record["started_at"] and train.promote
        assert train.config_hash == run_record["config_hash"]
        assert dict(train.input_versions) == {"dev.gold.examples": 0}  # the tables it read
        # the train step's params, logged by prodml (models compare shows them), then its own
        assert trackers[0].calls[:2] == [
            ("log_params", {"c": 0.5, "fail": False}),
            ("log_params", {"c": 0.5}),
        ]
        assert [c for c in trackers[0].calls if c[0] == "close"] == [("close", False)]
        steps = {s["step"]: s for s in ws.run_info(run_record["run_id"])["steps"]}
        assert steps["clf.train"]["links"] == {"tracking_run_id": "t-train"}
        assert steps["clf.examples"]["links"] in (None, {})  # not a model stage


def test_a_failed_step_closes_its_tracking_run_as_failed(tmp_path: Path) -> None:
    infos, trackers, ws, result = run(platform(tmp_path, fail=True), RunOptions())
    with ws:
        assert result.status == "failed"  # type: ignore[attr-defined]
        assert isinstance(result.exception, StepFailedError)  # type: ignore[attr-defined]
        closes = {
            i.step: [c for c in t.calls if c[0] == "close"]
            for i, t in zip(infos, trackers, strict=True)
        }
        assert closes["train"] == [("close", False)]
        assert closes["evaluate"] == [("close", True)]
