"""The MLflow tracker around a train or evaluate step, on real MLflow: the tagged run, params and
metrics, logging and registering a model (with its training-set spec), the gate (challenger,
champion, failures), scoring, apply steps without a run, and the errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import mlflow
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from tests.models.conftest import Mlflow

from prodml.config.product import ModelConfig
from prodml.errors import UsageError
from prodml.models.errors import GateFailedError, ModelError
from prodml.models.registry import CHALLENGER, CHAMPION, TRAINING_SET_TAG
from prodml.models.tracker import MlflowTracker
from prodml.pipeline.errors import SkipStep
from prodml.pipeline.tracking import StepRunInfo

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
FRAME = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
LABELS = [0, 0, 0, 1, 1, 1]

Make = Callable[..., MlflowTracker]


def model_config(name: str, **extra: object) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": name,
            "gate": {
                "metrics": {"auc": {"min": 0.7}},
                "improvement": {"metric": "auc", "min_delta": 0.01},
            },
            **extra,
        }
    )


@pytest.fixture
def make(mlflow_home: Mlflow) -> Iterator[Make]:
    """Builds trackers for step runs of product shop; every tracking run is ended afterwards."""

    def build(model: ModelConfig, stage: str = "train", *, promote: bool = False) -> MlflowTracker:
        info = StepRunInfo(
            product="shop",
            env="dev",
            step=f"{stage}_step",
            stage=stage,
            run_id=f"r-{uuid.uuid4().hex[:6]}",
            now=NOW,
            git_sha="abc123",
            config_hash="cfg1",
            input_versions={"dev.gold.examples": 4},
            promote=promote,
        )
        return MlflowTracker(mlflow_home.registry, model, info)

    yield build
    while mlflow.active_run() is not None:
        mlflow.end_run()


def test_a_step_run_is_a_tagged_tracking_run(mlflow_home: Mlflow, make: Make) -> None:
    tracker = make(model_config("unused"))
    tracker.log_params({"c": 0.5, "depth": 3})
    tracker.log_metrics({"loss": 1}, step=1)
    mlflow.set_tag("plain.mlflow", "lands in the same run")
    tracker.close(failed=False)
    run = mlflow_home.registry.client.get_run(tracker.tracking_run_id)
    tags = run.data.tags
    assert {k: v for k, v in tags.items() if k.startswith("prodml.")} == {
        "prodml.product": "shop",
        "prodml.env": "dev",
        "prodml.run_id": tracker.info.run_id,
        "prodml.step": "train_step",
        "prodml.stage": "train",
        "prodml.config_hash": "cfg1",
        "prodml.input.dev.gold.examples": "4",
    }
    assert tags["mlflow.source.git.commit"] == "abc123"
    assert tags["mlflow.runName"] == f"train_step-{tracker.info.run_id}"
    assert tags["plain.mlflow"] == "lands in the same run"
    assert run.data.params == {"c": "0.5", "depth": "3"}
    assert run.data.metrics == {"loss": 1.0}
    assert run.info.status == "FINISHED"
    experiment = mlflow_home.registry.client.get_experiment(run.info.experiment_id)
    assert experiment.name == "dev.shop"


def test_a_failed_step_ends_its_run_as_failed(mlflow_home: Mlflow, make: Make) -> None:
    tracker = make(model_config("unused"), "evaluate")
    tracker.close(failed=True)
    assert mlflow_home.registry.client.get_run(tracker.tracking_run_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_log_model_registers_a_version_with_its_record(mlflow_home: Mlflow, make: Make) -> None:
    name = f"m{uuid.uuid4().hex[:8]}"
    tracker = make(model_config(name))
    fitted = LogisticRegression().fit(FRAME, LABELS)
    spec = {"timestamp": "t", "lookups": [{"table": "features.x", "features": ["a"]}]}
    record = tracker.log_model(fitted, input_example=FRAME, training_set=spec)
    tracker.close(failed=False)
    row = record.to_pylist()[0]
    assert (row["model"], row["version"], row["prodml_run_id"]) == (
        f"dev.ml.{name}",
        1,
        tracker.info.run_id,
    )
    assert row["tracking_run_id"] == tracker.tracking_run_id
    assert row["trained_at"] == NOW
    assert json.loads(row["features"]) == ["a", "b"]
    assert json.loads(row["input_versions"]) == {"dev.gold.examples": 4}
    client = mlflow_home.registry.client
    version = client.get_model_version(f"dev.ml.{name}", "1")
    assert version.run_id == tracker.tracking_run_id
    assert version.tags["prodml.run_id"] == tracker.info.run_id
    assert json.loads(version.tags[TRAINING_SET_TAG]) == spec
    artifacts = {a.path for a in client.list_artifacts(tracker.tracking_run_id)}
    assert "training_set.json" in artifacts
    # the signature comes from the example and the model's output
    loaded = mlflow_home.registry.load(name, version=1, flavor="sklearn")
    assert list(loaded.feature_names_in_) == ["a", "b"]


def test_an_arrow_example_and_another_name(mlflow_home: Mlflow, make: Make) -> None:
    name = f"m{uuid.uuid4().hex[:8]}"
    tracker = make(model_config("product_model"))
    fitted = LogisticRegression().fit(FRAME.to_numpy(), LABELS)
    record = tracker.log_model(fitted, input_example=pa.Table.from_pandas(FRAME), name=name)
    tracker.close(failed=False)
    assert record.column("model").to_pylist() == [f"dev.ml.{name}"]
    assert mlflow_home.registry.training_set(name, 1) is None


def test_an_example_that_is_not_a_frame(make: Make) -> None:
    tracker = make(model_config("m"))
    with pytest.raises(ModelError) as info:
        tracker.log_model(object(), input_example=[[1.0, 2.0]])
    assert info.value.message == (
        "input_example must be a pandas DataFrame or an Arrow table of model inputs"
    )
    assert info.value.hint == "pass e.g. X_train.head(5)"
    tracker.close(failed=True)


def test_the_candidate_and_what_a_version_or_alias_resolves_to(
    mlflow_home: Mlflow, make: Make
) -> None:
    name = mlflow_home.register(2)
    mlflow_home.registry.set_alias(name, CHAMPION, 1)
    tracker = make(model_config(name), "apply")
    assert tracker.registered_name == f"dev.ml.{name}"
    assert tracker.candidate() == 2
    assert tracker.resolve(version=None, alias=CHAMPION) == (f"dev.ml.{name}", 1)
    assert tracker.resolve(version=2, alias=CHAMPION) == (f"dev.ml.{name}", 2)  # version wins
    assert list(tracker.load_model(alias=CHAMPION).classes_) == [0, 1]


def test_an_apply_step_has_no_tracking_run(make: Make) -> None:
    tracker = make(model_config("m"), "apply")
    assert tracker.tracking_run_id == "" and mlflow.active_run() is None
    with pytest.raises(UsageError) as info:
        tracker.log_params({"c": 1})
    assert (
        info.value.message
        == "ctx.log_params is for train and evaluate steps (this is a apply step)"
    )
    with pytest.raises(UsageError, match=r"ctx\.gate is for train and evaluate"):
        tracker.gate({"auc": 0.9}, version=1)
    tracker.close(failed=False)  # nothing to end


def gate_tags(home: Mlflow, name: str, version: int) -> dict[str, str]:
    return dict(home.registry.client.get_model_version(f"dev.ml.{name}", str(version)).tags)


def test_a_passing_version_becomes_challenger(mlflow_home: Mlflow, make: Make) -> None:
    name = mlflow_home.register(1)
    tracker = make(model_config(name), "evaluate")
    record = tracker.gate({"auc": 0.8}, version=1).to_pylist()[0]
    tracker.close(failed=False)
    assert mlflow_home.registry.alias_version(name, CHALLENGER) == 1
    assert mlflow_home.registry.alias_version(name, CHAMPION) is None
    assert (record["passed"], record["champion_version"], record["version"]) == (True, None, 1)
    assert json.loads(record["metrics"]) == {"auc": 0.8}
    assert record["evaluated_at"] == NOW
    tags = gate_tags(mlflow_home, name, 1)
    assert (tags["prodml.gate"], tags["prodml.metric.auc"], tags["prodml.gate.reason"]) == (
        "passed",
        "0.8",
        "",
    )
    assert mlflow_home.registry.client.get_run(tracker.tracking_run_id).data.metrics == {"auc": 0.8}


def test_a_version_is_compared_with_the_champions_recorded_metrics(
    mlflow_home: Mlflow, make: Make
) -> None:
    name = mlflow_home.register(3, tags={1: {"prodml.metric.auc": "0.85"}})
    mlflow_home.registry.set_alias(name, CHAMPION, 1)
    tracker = make(model_config(name), "evaluate")
    with pytest.raises(GateFailedError) as failed:
        tracker.gate({"auc": 0.855}, version=2)
    assert failed.value.reasons == ["auc 0.8550 does not satisfy >= champion + 0.01"]
    assert gate_tags(mlflow_home, name, 2)["prodml.gate"] == "failed"
    assert mlflow_home.registry.alias_version(name, CHALLENGER) is None
    passed = tracker.gate({"auc": 0.9}, version=3).to_pylist()[0]
    tracker.close(failed=False)
    assert (passed["champion_version"], json.loads(passed["champion_metrics"])) == (
        1,
        {"auc": 0.85},
    )
    assert mlflow_home.registry.alias_version(name, CHALLENGER) == 3


@pytest.mark.parametrize("how", ["auto_promote", "run_with_promote"])
def test_a_passing_version_can_become_champion_at_once(
    mlflow_home: Mlflow, make: Make, how: str
) -> None:
    name = mlflow_home.register(1)
    auto = how == "auto_promote"
    tracker = make(model_config(name, auto_promote=auto), "evaluate", promote=not auto)
    tracker.gate({"auc": 0.8}, version=1)
    tracker.close(failed=False)
    assert mlflow_home.registry.alias_version(name, CHAMPION) == 1
    assert mlflow_home.registry.alias_version(name, CHALLENGER) is None
    assert gate_tags(mlflow_home, name, 1)["prodml.promoted_by"] == f"run:{tracker.info.run_id}"


def test_scoring_with_a_registered_version(mlflow_home: Mlflow, make: Make) -> None:
    name = mlflow_home.register(1)
    mlflow_home.registry.set_alias(name, CHAMPION, 1)
    tracker = make(model_config(name), "apply")
    data = pa.table({"id": [1, 2], "a": [0.0, 5.0], "b": [1.0, 0.0]})
    scored = tracker.score(data, keep=["id"]).read_all()
    assert scored.column("id").to_pylist() == [1, 2]
    low, high = scored.column("prediction").to_pylist()
    assert 0 <= low < 0.5 < high <= 1  # P(positive class)
    assert set(scored.column("model_name").to_pylist()) == {f"dev.ml.{name}"}
    assert scored.column("model_version").to_pylist() == [1, 1]
    assert scored.column("model_alias").to_pylist() == ["champion", "champion"]
    by_version = tracker.score(data, version=1).read_all()
    assert by_version.column("model_alias").to_pylist() == [None, None]


def test_scoring_before_a_champion_exists_skips_the_step(mlflow_home: Mlflow, make: Make) -> None:
    name = mlflow_home.register(1)
    tracker = make(model_config(name), "apply")
    with pytest.raises(SkipStep) as info:
        tracker.score(pa.table({"a": [1.0], "b": [1.0]}))
    assert info.value.message.startswith(f"dev.ml.{name} has no champion yet: nothing scored")
    assert "prodml models promote shop" in info.value.message
    with pytest.raises(UsageError, match="chunk_rows and workers must be at least 1"):
        tracker.score(pa.table({"a": [1.0], "b": [1.0]}), version=1, chunk_rows=0)
