"""The model registry of one environment on real MLflow (SQLite): tracking targets, reaching a
tracking server, experiments and runs, versions with their aliases, gate verdicts and metrics,
resolving versions and aliases (and the errors), loading, promoting and settling comparisons."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from tests.models.conftest import Mlflow

from prodml.config.platform import TrackingConfig
from prodml.models.errors import ModelError, TrackingUnavailableError
from prodml.models.registry import (
    CHALLENGER,
    CHAMPION,
    TRAINING_SET_TAG,
    ModelRegistry,
    TrackingTarget,
    check_reachable,
    tracking_target,
)


def test_names_of_an_environment() -> None:
    registry = ModelRegistry(TrackingTarget("staging", "sqlite:///x.db", "sqlite:///x.db", None))
    assert registry.env == "staging"
    assert registry.registered_name("churn") == "staging.ml.churn"
    assert registry.experiment_name("shop") == "staging.shop"
    assert registry.model_uri("churn", version=3) == "models:/staging.ml.churn/3"
    assert registry.model_uri("churn", alias="champion") == "models:/staging.ml.churn@champion"


def test_a_local_tracking_target_lives_in_the_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = tracking_target("dev", TrackingConfig(), state, str)
    assert target == TrackingTarget(
        env="dev",
        tracking_uri=f"sqlite:///{state / 'mlflow.db'}",
        registry_uri=f"sqlite:///{state / 'mlflow.db'}",
        artifact_root=(state / "mlartifacts").as_uri(),
    )
    assert state.is_dir()


def test_a_remote_tracking_target_resolves_secrets_and_leaves_artifacts_to_the_server(
    tmp_path: Path,
) -> None:
    secrets = {"${secret:pw}": "s3cret"}
    config = TrackingConfig(
        uri="http://u:${secret:pw}@mlflow:5000", registry_uri="postgresql://db/${secret:pw}"
    )
    target = tracking_target(
        "prod",
        config,
        tmp_path / "state",
        lambda v: v.replace("${secret:pw}", secrets["${secret:pw}"]),
    )
    assert target.tracking_uri == "http://u:s3cret@mlflow:5000"
    assert target.registry_uri == "postgresql://db/s3cret"
    assert target.artifact_root is None
    assert not (tmp_path / "state").exists()  # nothing local to keep
    pinned = tracking_target("prod", TrackingConfig(artifact_root="s3://b/a"), tmp_path, str)
    assert pinned.artifact_root == "s3://b/a"


def test_an_unreachable_tracking_server_fails_fast_without_its_password() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(TrackingUnavailableError) as info:
        check_reachable(f"http://me:hunter2@127.0.0.1:{port}")
    assert info.value.message.startswith(
        f"cannot reach the tracking server http://me:***@127.0.0.1:{port}: "
    )
    assert "hunter2" not in str(info.value)
    assert info.value.hint == "start it, or fix tracking.uri in prodml.yaml (nothing was written)"
    assert info.value.retryable
    check_reachable("sqlite:///nowhere/mlflow.db")  # not a server: nothing to check


@pytest.fixture
def server() -> Iterator[str]:
    """An HTTP server that answers 404 to everything."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_server_that_answers_is_reachable_whatever_it_answers(server: str) -> None:
    check_reachable(server + "/")  # 404 on /health: it answered


def test_experiments_are_created_once_under_the_artifact_root(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    first = registry.experiment_id("shop_a")
    assert registry.experiment_id("shop_a") == first
    experiment = registry.client.get_experiment(first)
    assert experiment.name == "dev.shop_a"
    assert experiment.artifact_location == f"{registry.target.artifact_root}/dev.shop_a"


def test_compare_runs_newest_first_and_creates_nothing(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    assert registry.compare_runs("shop_b") == []
    assert registry.client.get_experiment_by_name("dev.shop_b") is None
    experiment = registry.experiment_id("shop_b")
    for step, c in (("train", "0.5"), ("evaluate", "1.0")):
        run = registry.client.create_run(
            experiment, tags={"prodml.step": step, "prodml.run_id": f"r-{step}"}
        )
        registry.client.log_param(run.info.run_id, "c", c)
        registry.client.log_metric(run.info.run_id, "auc", float(c))
        registry.client.set_terminated(run.info.run_id)
    runs = registry.compare_runs("shop_b")
    assert [(r["step"], r["prodml_run_id"], r["status"]) for r in runs] == [
        ("evaluate", "r-evaluate", "FINISHED"),
        ("train", "r-train", "FINISHED"),
    ]
    assert runs[1]["params"] == {"c": "0.5"} and runs[1]["metrics"] == {"auc": 0.5}
    assert [r["step"] for r in registry.compare_runs("shop_b", limit=1)] == ["evaluate"]


def test_versions_newest_first_with_aliases_verdicts_and_metrics(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    tags = {
        1: {"prodml.gate": "passed", "prodml.metric.auc": "0.91", "prodml.run_id": "r1"},
        2: {"prodml.gate": "failed", "prodml.gate.reason": "auc too low"},
    }
    model = mlflow_home.register(3, tags=tags)
    registry.set_alias(model, CHAMPION, 1)
    registry.set_alias(model, CHALLENGER, 1)
    versions = registry.versions(model)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[2]["aliases"] == ["challenger", "champion"]
    assert (versions[2]["gate"], versions[2]["metrics"], versions[2]["prodml_run_id"]) == (
        "passed",
        {"auc": 0.91},
        "r1",
    )
    assert (versions[1]["gate"], versions[1]["gate_reason"]) == ("failed", "auc too low")
    assert versions[0]["aliases"] == [] and versions[0]["gate"] is None
    assert versions[0]["run_id"] == mlflow_home.run_id
    assert registry.metrics(model, 1) == {"auc": 0.91}
    assert registry.metrics(model, 9) == {}
    assert registry.versions("never_registered") == []


def test_resolving_versions_and_aliases(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(2)
    registry.set_alias(model, CHALLENGER, 1)
    assert registry.require_version(model, version=None, alias=None) == 2  # the newest
    assert registry.require_version(model, version=1, alias=None) == 1
    assert registry.require_version(model, version=None, alias=CHALLENGER) == 1
    assert registry.alias_version(model, CHAMPION) is None
    with pytest.raises(ModelError) as unknown:
        registry.require_version(model, version=7, alias=None)
    assert unknown.value.message == f"model dev.ml.{model} has no version 7"
    assert unknown.value.hint == "versions: 2, 1"
    with pytest.raises(ModelError) as champion:
        registry.require_version(model, version=None, alias=CHAMPION)
    assert champion.value.message == f"model dev.ml.{model} has no 'champion' alias"
    assert champion.value.hint == (
        "aliases set: challenger; promote a challenger with 'prodml models promote'"
    )
    with pytest.raises(ModelError) as other:
        registry.require_version(model, version=None, alias="shadow")
    assert other.value.hint == "aliases set: challenger; run the evaluate step"


def test_tags_and_the_training_set_of_a_version(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(2)
    spec = {"timestamp": "t", "lookups": [{"table": "features.x", "features": ["f"]}]}
    registry.tag_version(model, 2, {TRAINING_SET_TAG: json.dumps(spec), "k": "v"})
    assert registry.training_set(model, 2) == spec
    assert registry.training_set(model, 1) is None
    tags = registry.client.get_model_version(registry.registered_name(model), "2").tags
    assert tags["k"] == "v"


def test_loading_a_version_natively_or_as_pyfunc(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(2)
    registry.set_alias(model, CHAMPION, 2)
    native = registry.load(model, alias=CHAMPION, flavor="sklearn")
    assert list(native.classes_) == [0, 1] and hasattr(native, "predict_proba")
    pyfunc = registry.load(model, version=1)
    assert isinstance(pyfunc, mlflow.pyfunc.PyFuncModel)
    with pytest.raises(ModelError, match="has no version 5"):
        registry.load(model, version=5)


def test_uris_point_mlflow_at_this_environment(mlflow_home: Mlflow, tmp_path: Path) -> None:
    registry = mlflow_home.registry
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")  # as another registry would
    with registry.uris():
        assert mlflow.get_tracking_uri() == registry.target.tracking_uri
        assert mlflow.get_registry_uri() == registry.target.registry_uri


def test_promote_makes_the_challenger_champion(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(2)
    registry.set_alias(model, CHAMPION, 1)
    registry.set_alias(model, CHALLENGER, 2)
    promoted = registry.promote(model, principal="user:ana")
    assert promoted == {"model": f"dev.ml.{model}", "champion": 2, "previous_champion": 1}
    assert registry.alias_version(model, CHAMPION) == 2
    assert registry.alias_version(model, CHALLENGER) is None
    tags = registry.client.get_model_version(registry.registered_name(model), "2").tags
    assert (tags["prodml.promoted_by"], tags["prodml.previous_champion"]) == ("user:ana", "1")
    with pytest.raises(ModelError) as none:
        registry.promote(model, principal="user:ana")
    assert none.value.hint == (
        "a version becomes challenger when it passes the gate in the evaluate step"
    )


def test_a_champion_cannot_be_promoted_again(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(1)
    registry.set_alias(model, CHAMPION, 1)
    registry.set_alias(model, CHALLENGER, 1)
    with pytest.raises(ModelError, match=f"version 1 of dev.ml.{model} is already the champion"):
        registry.promote(model, principal="user:ana")
    assert registry.alias_version(model, CHALLENGER) == 1  # nothing changed


def test_settling_a_comparison(mlflow_home: Mlflow) -> None:
    registry = mlflow_home.registry
    model = mlflow_home.register(3)
    registry.set_alias(model, CHAMPION, 1)
    registry.set_alias(model, CHALLENGER, 2)
    tags = {"prodml.ab.decision": "reject"}
    # rejected: the challenger alias goes, the champion stays
    assert registry.settle(
        model, control=CHAMPION, treatment=CHALLENGER, promote=False, tags=tags, principal="p"
    ) == (1, 1)
    assert registry.alias_version(model, CHALLENGER) is None
    assert registry.versions(model)[1]["version"] == 2
    assert (
        registry.client.get_model_version(registry.registered_name(model), "2").tags[
            "prodml.ab.decision"
        ]
        == "reject"
    )
    # promoted: a champion/challenger comparison is a promotion
    registry.set_alias(model, CHALLENGER, 3)
    assert registry.settle(
        model, control=CHAMPION, treatment=CHALLENGER, promote=True, tags={}, principal="p"
    ) == (1, 3)
    assert registry.alias_version(model, CHAMPION) == 3
    # other aliases: the control alias moves to the treatment's version
    registry.set_alias(model, "blue", 1)
    registry.set_alias(model, "green", 2)
    assert registry.settle(
        model, control="blue", treatment="green", promote=True, tags={}, principal="p"
    ) == (1, 2)
    assert (registry.alias_version(model, "blue"), registry.alias_version(model, "green")) == (2, 2)
    with pytest.raises(ModelError, match="has no 'red' alias to promote"):
        registry.settle(
            model, control="blue", treatment="red", promote=True, tags={}, principal="p"
        )


def test_a_sqlite_store_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    """Found by benchmarks/kill_concurrency.py: a SIGKILL while MLflow created its tables
    left a store every later command failed on ('table spans already exists')."""
    import sqlite3

    from prodml.models.registry import create_sqlite_store

    db = tmp_path / "state" / "mlflow.db"
    (tmp_path / "state").mkdir()
    # what a process killed half-way left: its own scratch file, never the store
    (tmp_path / "state" / ".mlflow.db.999999.new").write_bytes(b"half a database")
    create_sqlite_store(db)
    con = sqlite3.connect(db)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (head,) = con.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        con.close()
    assert {"experiments", "runs", "model_versions", "registered_models"} <= tables and head
    assert sorted(p.name for p in db.parent.iterdir()) == [".mlflow.db.999999.new", "mlflow.db"]
    before = db.stat().st_mtime_ns
    create_sqlite_store(db)  # there already: untouched
    assert db.stat().st_mtime_ns == before
