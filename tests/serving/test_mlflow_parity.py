"""Item 7: ``POST /invocations`` accepts what ``mlflow models serve`` of the same model accepts.

One corpus of payloads — the four JSON forms and CSV, right and wrong types, missing and extra
columns, nulls — goes to a real ``mlflow models serve`` and to ``prodml serve`` of the same
registered model version; their status classes and predictions are compared payload by payload.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.helpers import PRODUCT, make_platform
from tests.live import free_port, serving
from tests.serving.conftest import PLATFORM

import prodml

pytestmark = pytest.mark.slow

# a model whose signature has a string, a double, a long and a boolean column
PIPELINE = """
import numpy as np
import pandas as pd
from prodml import step

@step(stage="ingress", outputs="gold.examples")
def examples(ctx):
    rng = np.random.default_rng(3)
    n = 300
    region = rng.choice(["north", "south", "east"], size=n)
    a = rng.normal(size=n)
    k = rng.integers(0, 5, size=n)
    flag = rng.random(n) > 0.5
    y = ((a + (region == "north") + 0.3 * k - flag) > 0.5).astype(int)
    return pd.DataFrame({"region": region, "a": a, "k": k, "flag": flag, "y": y})

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append")
def train(ctx, examples):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    frame = examples.df()
    x = frame[["region", "a", "k", "flag"]]
    encode = ColumnTransformer(
        [("region", OneHotEncoder(handle_unknown="ignore"), ["region"])], remainder="passthrough"
    )
    model = make_pipeline(encode, LogisticRegression()).fit(x, frame["y"])
    return ctx.log_model(model, input_example=x.head(5))

@step(stage="evaluate", inputs=["ml.fit"], outputs="ml.evaluation", mode="append")
def evaluate(ctx, fit):
    return ctx.gate({"auc": 1.0}, version=ctx.candidate())
"""

MODEL = """model:
  name: mix
  gate:
    metrics: {auc: {min: 0.5}}
endpoint:
  variants:
    champion: {alias: champion}
"""

RECORDS = [
    {"region": "north", "a": 0.5, "k": 1, "flag": True},
    {"region": "east", "a": -1.25, "k": 4, "flag": False},
]
COLUMNS = ["region", "a", "k", "flag"]
ROWS = [[r[c] for c in COLUMNS] for r in RECORDS]
JSON = "application/json"
CSV = "text/csv"


def _json(doc: Any) -> tuple[str, bytes]:
    return JSON, orjson.dumps(doc)


def _with(**changed: Any) -> list[dict[str, Any]]:
    return [{**RECORDS[0], **changed}, RECORDS[1]]


#: name → (content type, body)
CORPUS: dict[str, tuple[str, bytes]] = {
    "split": _json({"dataframe_split": {"columns": COLUMNS, "data": ROWS}}),
    "records": _json({"dataframe_records": RECORDS}),
    "instances": _json({"instances": RECORDS}),
    "inputs-columns": _json({"inputs": {c: [r[c] for r in RECORDS] for c in COLUMNS}}),
    "inputs-records": _json({"inputs": RECORDS}),
    "csv": (CSV, b"region,a,k,flag\nnorth,0.5,1,True\neast,-1.25,4,False\n"),
    "csv-lower-bools": (CSV, b"region,a,k,flag\nnorth,0.5,1,true\neast,-1.25,4,false\n"),
    "csv-reordered": (CSV, b"k,flag,a,region\n1,True,0.5,north\n4,False,-1.25,east\n"),
    "number-for-string": _json({"dataframe_records": _with(region=7)}),
    "string-for-double": _json({"dataframe_records": _with(a="0.5")}),
    "text-for-double": _json({"dataframe_records": _with(a="high")}),
    "int-for-double": _json({"dataframe_records": _with(a=1)}),
    "double-for-long": _json({"dataframe_records": _with(k=1.5)}),
    "whole-double-for-long": _json({"dataframe_records": _with(k=2.0)}),
    "string-for-long": _json({"dataframe_records": _with(k="2")}),
    "bool-for-double": _json({"dataframe_records": _with(a=True)}),
    "int-for-bool": _json({"dataframe_records": _with(flag=1)}),
    "string-for-bool": _json({"dataframe_records": _with(flag="true")}),
    "null-double": _json({"dataframe_records": _with(a=None)}),
    "null-string": _json({"dataframe_records": _with(region=None)}),
    "null-long": _json({"dataframe_records": _with(k=None)}),
    "text-for-long": _json({"dataframe_records": _with(k="2.5")}),
    "instances-number-for-string": _json({"instances": _with(region=7)}),
    "split-string-for-double": _json(
        {"dataframe_split": {"columns": COLUMNS, "data": [["north", "0.5", 1, True]]}}
    ),
    "inputs-rows": _json({"inputs": ROWS}),
    "string-false-for-bool": _json({"dataframe_records": _with(flag="false")}),
    "missing-column": _json({"dataframe_records": [{"region": "north", "a": 0.5, "k": 1}]}),
    "extra-column": _json({"dataframe_records": _with(extra=1)}),
    "csv-missing-column": (CSV, b"region,a,k\nnorth,0.5,1\n"),
    "csv-text-for-double": (CSV, b"region,a,k,flag\nnorth,high,1,True\n"),
    "csv-number-region": (CSV, b"region,a,k,flag\n7,0.5,1,True\n"),
    "no-format-key": _json({"rows": RECORDS}),
    "two-format-keys": _json({"instances": RECORDS, "inputs": RECORDS}),
    "not-json": (JSON, b"{nope"),
    "xml": ("application/xml", b"<a/>"),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """URLs of ``mlflow models serve`` and ``prodml serve`` of the same model version."""
    root = make_platform(tmp_path_factory.mktemp("parity") / "p", {"mix": PIPELINE}, PLATFORM)
    (root / "products" / "mix" / "product.yaml").write_text(PRODUCT.format(name="mix") + MODEL)
    with prodml.connect(root) as ws:
        ws.run("mix")
        ws.promote_model("mix")
        uri = str(ws.tracking_uri)
        app = ws.serving_app(["mix"], no_auth=True)
        port = free_port()
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": uri,
            "MLFLOW_REGISTRY_URI": uri,
            "PYTHONPATH": os.pathsep.join(sys.path),
            # its launcher runs 'uvicorn' from PATH: this interpreter's
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }
        mlflow = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "models", "serve"),
                *("-m", "models:/dev.ml.mix@champion", "--env-manager", "local"),
                *("-h", "127.0.0.1", "-p", str(port), "-w", "1"),
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(root / "mlflow-serve.log").open("wb"),
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert mlflow.poll() is None, (root / "mlflow-serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "mlflow models serve did not start"
                time.sleep(0.25)
            with serving(app) as live:
                yield {"mlflow": f"http://127.0.0.1:{port}", "prodml": live.url}
        finally:
            mlflow.terminate()
            mlflow.wait(30)


def _ask(url: str, content_type: str, body: bytes) -> tuple[int, Any]:
    r = httpx.post(f"{url}/invocations", content=body, headers={"content-type": content_type})
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, r.text


#: where prodml answers otherwise, on purpose: payload → (what prodml reads it as, what
#: MLflow's server reads it as or None where it refuses it, why)
DIVERGES: dict[str, tuple[tuple[str, bytes], tuple[str, bytes] | None, str]] = {
    "string-false-for-bool": (
        _json({"dataframe_records": _with(flag=False)}),
        _json({"dataframe_records": _with(flag=True)}),
        "MLflow casts any non-empty text to True (astype(bool)): 'false' would score as true",
    ),
    "inputs-rows": (
        _json({"dataframe_records": RECORDS}),
        None,  # refused: a 400
        "prodml takes unnamed rows in the signature's order; MLflow's server finds no columns",
    ),
}


def test_item7_invocations_agree_with_mlflow_models_serve(servers: dict[str, str]) -> None:
    disagree = []
    for name, (kind, body) in CORPUS.items():
        mlflow = _ask(servers["mlflow"], kind, body)
        ours = _ask(servers["prodml"], kind, body)
        if name in DIVERGES:
            read_by_us, read_by_mlflow, _ = DIVERGES[name]
            assert ours == _ask(servers["prodml"], *read_by_us), name
            if read_by_mlflow is None:
                assert mlflow[0] == 400, (name, mlflow)
            else:
                assert mlflow == _ask(servers["mlflow"], *read_by_mlflow), name
            continue
        same_status = mlflow[0] == ours[0]
        same_answer = mlflow[0] != 200 or mlflow[1] == ours[1]
        if not (same_status and same_answer):
            disagree.append(f"{name}: mlflow {mlflow} / prodml {ours}")
    assert not disagree, "\n".join(disagree)
