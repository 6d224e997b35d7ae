"""Serving test kit: a platform with a real MLflow champion (v1) and challenger (v2), and a real
uvicorn server running the app in a background thread."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers import CLASSIFIER_PIPELINE, PRODUCT, make_platform

import prodml

PIPELINE = CLASSIFIER_PIPELINE

PLATFORM = """\
name: t
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
"""

# the retrain (smaller C) is a little worse: the gate accepts anything within 0.5 of the champion
MODEL = """params: {{c: {c}}}
model:
  name: clf
  gate:
    metrics: {{auc: {{min: 0.6}}}}
    improvement: {{metric: auc, min_delta: -0.5}}
"""

CHAMPION_ONLY = """\
endpoint:
  variants:
    champion: {alias: champion}
"""

# rows to score: the four quadrants, the origin and some odd values
ROWS = [
    {"a": 1.5, "b": -0.3},
    {"a": -2.0, "b": 0.7},
    {"a": 0.05, "b": 3.0},
    {"a": -0.01, "b": -4.0},
    {"a": 0.0, "b": 0.0},
    {"a": 12.0, "b": 1e-9},
]


def configure(root: Path, endpoint: str, *, c: float = 0.05) -> None:
    """Write clf's product.yaml: the model section and the given ``endpoint:`` YAML."""
    (root / "products" / "clf" / "product.yaml").write_text(
        PRODUCT.format(name="clf") + MODEL.format(c=c) + endpoint
    )


def new_platform(root: Path) -> Path:
    """An untrained platform with the clf product (no model versions yet)."""
    make_platform(root, {"clf": PIPELINE}, platform=PLATFORM)
    configure(root, CHAMPION_ONLY, c=1.0)
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf trained twice: version 1 is the champion, version 2 (C=0.05) the challenger.

    Built once per test process; a test that moves an alias puts it back (see ``aliases``).
    """
    root = new_platform(tmp_path_factory.mktemp("serving") / "p")
    with prodml.connect(root) as ws:
        ws.run("clf")
        ws.promote_model("clf")
    configure(root, CHAMPION_ONLY, c=0.05)
    with prodml.connect(root) as ws:
        ws.run("clf")
        got = {v["version"]: v["aliases"] for v in ws.model_versions("clf")}
    assert got == {1: ["champion"], 2: ["challenger"]}, got
    return root


@contextlib.contextmanager
def aliases_restored(root: Path) -> Iterator[None]:
    """Put champion → 1 and challenger → 2 back after a test that moves them."""
    try:
        yield
    finally:
        with prodml.connect(root) as ws:
            ws.set_alias("clf", "champion", 1)
            ws.set_alias("clf", "challenger", 2)


def sklearn_model(ws: Any, version: int) -> Any:
    """The registered version as MLflow loads it (the reference the server must agree with)."""
    import mlflow
    import mlflow.sklearn

    mlflow.set_tracking_uri(ws.tracking_uri)
    mlflow.set_registry_uri(ws.registry_uri)
    return mlflow.sklearn.load_model(f"models:/{ws.registered_model('clf')}/{version}")


def copy_model_artifacts(root: Path, dest: Path) -> Path:
    """A copy of one logged model's artifact directory (MLmodel, model file...)."""
    models = sorted((root / ".prodml" / "mlartifacts").glob("*/models/m-*/artifacts"))
    assert models, "no logged model under .prodml/mlartifacts"
    shutil.copytree(models[0], dest)
    return dest


def wait_loaded(url: str, *, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
    """Poll the product until every variant is loaded (/ready only waits for the default one)."""
    deadline = time.monotonic() + timeout
    states: Any = None
    while time.monotonic() < deadline:
        info = httpx.get(f"{url}/v1/products/clf", timeout=5, headers=headers).json()
        states = {v["name"]: v["state"] for v in info["variants"]}
        if all(s == "ready" for s in states.values()):
            return
        time.sleep(0.05)
    raise AssertionError(f"variants not loaded: {states}")


def log_rows(root: Path, request_ids: set[str]) -> list[dict[str, Any]]:
    """The inference-log rows of the given requests (read after the server stopped)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    with prodml.connect(root) as ws:
        table = ws.read("ml.clf_inference_log")
    wanted = pa.array(sorted(request_ids), pa.string())
    return list(table.filter(pc.is_in(table.column("request_id"), value_set=wanted)).to_pylist())
