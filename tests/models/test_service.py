"""Train → evaluate → gate → challenger → champion → deploy-model promotion, on real MLflow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

import prodml
from prodml.models.errors import GateFailedError, ModelError, TrackingUnavailableError
from prodml.pipeline.errors import StepFailedError

PIPELINE = """
import numpy as np
import pandas as pd
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="gold.examples")
def examples(ctx):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append", params=["c"])
def train(ctx, examples):
    from sklearn.linear_model import LogisticRegression
    frame = examples.df()
    model = LogisticRegression(C=ctx.params["c"]).fit(frame[["a", "b"]], frame["y"])
    ctx.log_params({"c": ctx.params["c"]})
    import mlflow
    mlflow.set_tag("plain.mlflow", "works")
    return ctx.log_model(model, input_example=frame[["a", "b"]])

@step(stage="evaluate", inputs=["ml.fit", "gold.examples"], outputs="ml.evaluation", mode="append")
def evaluate(ctx, fit, examples):
    from sklearn.metrics import roc_auc_score
    frame = examples.df()
    version = ctx.candidate()
    model = ctx.load_model(version=version)
    auc = roc_auc_score(frame["y"], model.predict_proba(frame[["a", "b"]])[:, 1])
    return ctx.gate({"auc": float(auc)}, version=version)
"""

MODEL = """params: {{c: {c}}}
model:
  name: clf
  deployment: {deployment}
  gate:
    metrics: {{auc: {{min: {floor}}}}}
    improvement: {{metric: auc, min_delta: 0.001}}
"""

PLATFORM = """\
name: t
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
  staging: {}
  prod: {}
"""


def platform(
    tmp_path: Path, *, c: float = 1.0, floor: float = 0.6, deployment: str = "model"
) -> Path:
    root = make_platform(tmp_path / "p", {"clf": PIPELINE}, platform=PLATFORM)
    configure(root, c=c, floor=floor, deployment=deployment)
    return root


def configure(root: Path, *, c: float = 1.0, floor: float = 0.6, deployment: str = "model") -> None:
    (root / "products" / "clf" / "product.yaml").write_text(
        PRODUCT.format(name="clf") + MODEL.format(c=c, floor=floor, deployment=deployment)
    )


@pytest.mark.slow
def test_train_gate_promote_and_refuse_a_model_that_does_not_beat_the_champion(
    tmp_path: Path,
) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        result = ws.run("clf")
        assert [s["status"] for s in result.steps] == ["succeeded"] * 3
        versions = ws.model_versions("clf")
        assert [(v["version"], v["aliases"], v["gate"]) for v in versions] == [
            (1, ["challenger"], "passed")
        ]
        assert versions[0]["metrics"]["auc"] > 0.8
        # the step record links the tracking run, which carries prodml's tags
        train = next(s for s in ws.run_info(result.run_id)["steps"] if s["step"] == "clf.train")
        run = ws._w.registry.client.get_run(train["links"]["tracking_run_id"])
        tags = run.data.tags
        assert tags["prodml.product"] == "clf" and tags["prodml.run_id"] == result.run_id
        assert tags["prodml.env"] == "dev" and tags["prodml.config_hash"]
        assert tags["prodml.input.dev.gold.examples"] == "0"
        assert tags["plain.mlflow"] == "works" and run.data.params == {"c": "1.0"}
        mv = ws._w.registry.client.get_model_version("dev.ml.clf", "1")
        assert mv.run_id == run.info.run_id
        assert json.loads(mv.tags["prodml.features"]) == ["a", "b"]
        assert ws.read("ml.fit").column("version").to_pylist() == [1]

        promoted = ws.promote_model("clf")
        assert promoted == {"model": "dev.ml.clf", "champion": 1, "previous_champion": None}
        with pytest.raises(ModelError, match="no challenger"):
            ws.promote_model("clf")

    configure(root, c=1.0000001)  # retrains: same quality, does not beat the champion by 0.001
    with prodml.connect(root) as ws:
        with pytest.raises(StepFailedError) as failed:
            ws.run("clf")
        assert "failed the gate" in str(failed.value) and "auc" in str(failed.value)
        assert "FAIL" in str(failed.value)
        versions = {v["version"]: v for v in ws.model_versions("clf")}
        assert versions[2]["gate"] == "failed" and versions[2]["aliases"] == []
        assert versions[1]["aliases"] == ["champion"]
        assert ws.runs("clf")[0]["status"] == "failed"


@pytest.mark.slow
def test_promotion_across_environments(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root, env="staging") as staging:
        staging.run("clf", promote=True)
        record = staging.promote("clf", to_env="prod")
        assert record["from"] == "staging.ml.clf/1" and record["to"] == "prod.ml.clf/1"
        with pytest.raises(ModelError, match="already the champion"):
            staging.promote("clf", to_env="prod")
    with prodml.connect(root, env="prod") as prod:
        [version] = prod.model_versions("clf")
        assert version["aliases"] == ["champion"] and version["source"] == "staging.ml.clf/1"
        tags = prod._w.registry.client.get_model_version("prod.ml.clf", "1").tags
        assert tags["prodml.promoted_by"].startswith("user:")

    product = root / "products" / "clf" / "product.yaml"  # staging's gate becomes stricter
    product.write_text(
        product.read_text()
        + "environments:\n  staging:\n    model: {name: clf, gate: {metrics: {auc: {min: 0.99}}}}\n"
    )
    with prodml.connect(root, env="dev") as dev:
        dev.run("clf", promote=True)
        with pytest.raises(GateFailedError, match="nothing was copied") as refused:
            dev.promote("clf", to_env="staging")
        assert ">= 0.99" in refused.value.table

    configure(root, deployment="code")
    r = prodml_main("promote", "clf", "--from", "staging", "--to", "prod", cwd=root)
    assert_clean_error(r, "deployed as code", "prodml run clf --env prod")


def test_missing_model_alias_and_unreachable_server(tmp_path: Path) -> None:
    root = platform(tmp_path)
    assert_clean_error(
        prodml_main("models", "promote", "clf", cwd=root), "dev.ml.clf has no challenger"
    )
    assert_clean_error(
        prodml_main("models", "versions", "nope", cwd=root), "unknown product 'nope'"
    )
    with prodml.connect(root) as ws:
        assert ws.model_versions("clf") == []
        with pytest.raises(ModelError, match="has no versions yet"):
            ws._w.registry.require_version("clf", version=None, alias="champion")
    yaml = root / "prodml.yaml"
    yaml.write_text(yaml.read_text() + "tracking: {uri: 'http://127.0.0.1:9'}\n")
    with prodml.connect(root) as ws:
        with pytest.raises(TrackingUnavailableError, match="cannot reach the tracking server"):
            ws.run("clf")
        assert ws.tables() == []  # checked before any step ran: nothing was written
        assert ws.runs() == []


@pytest.mark.services
def test_postgres_backend_store(tmp_path: Path, pg_url: str) -> None:
    root = platform(tmp_path)
    yaml = root / "prodml.yaml"
    uri = pg_url
    yaml.write_text(yaml.read_text() + f"tracking: {{uri: '{uri}'}}\n")
    with prodml.connect(root) as ws:
        ws.run("clf", promote=True)
        assert ws.tracking_uri.startswith("postgresql+psycopg2://")
        [version] = ws.model_versions("clf")
        assert version["aliases"] == ["champion"]
    assert not (root / ".prodml" / "mlflow.db").exists()


@pytest.mark.slow
def test_through_an_mlflow_tracking_server_whose_ui_shows_prodml_tags(tmp_path: Path) -> None:
    """The environment tracks through `mlflow server`; its REST API (what the UI reads) has our runs."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "server"
    store.mkdir()
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [
            str(bin_dir / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{store}/mlflow.db",
            "--artifacts-destination",
            str(store / "artifacts"),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        root = platform(tmp_path)
        yaml = root / "prodml.yaml"
        yaml.write_text(yaml.read_text() + f"tracking: {{uri: '{url}'}}\n")
        with prodml.connect(root) as ws:
            result = ws.run("clf")
        experiments = json.load(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{url}/api/2.0/mlflow/experiments/search",
                    data=json.dumps({"max_results": 10}).encode(),
                    headers={"Content-Type": "application/json"},
                )
            )
        )
        ids = [e["experiment_id"] for e in experiments["experiments"] if e["name"] == "dev.clf"]
        assert ids, experiments
        body = json.dumps({"experiment_ids": ids, "max_results": 50}).encode()
        runs = json.load(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{url}/api/2.0/mlflow/runs/search",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
            )
        )["runs"]
        tags = [{t["key"]: t["value"] for t in r["data"]["tags"]} for r in runs]
        assert {t["prodml.step"] for t in tags} == {"train", "evaluate"}
        assert {t["prodml.run_id"] for t in tags} == {result.run_id}
        assert not (root / ".prodml" / "mlflow.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_compare_needs_a_product_with_a_model_and_creates_nothing(tmp_path: Path) -> None:
    root = platform(tmp_path)
    assert_clean_error(prodml_main("models", "compare", "nope", cwd=root), "unknown product 'nope'")
    listed = prodml_main("models", "compare", "clf", "--json", cwd=root)
    assert listed.code == 0
    assert json.loads(listed.out) == {"model": "dev.ml.clf", "versions": [], "total": 0}
    with prodml.connect(root) as ws:
        assert ws._w.registry.client.get_experiment_by_name("dev.clf") is None
