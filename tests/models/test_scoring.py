"""Batch scoring: chunks, worker processes, prediction lineage and bad scoring input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.models.errors import ModelError
from prodml.pipeline.errors import StepFailedError

PIPELINE = """
import numpy as np
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="gold.rows", output_partition_by="day", params=[])
def rows(ctx):
    rng = np.random.default_rng(3)
    n = 3000
    return pa.table({
        "id": np.arange(n), "day": np.array(["d1", "d2", "d3"])[np.arange(n) % 3],
        "a": rng.normal(size=n), "b": rng.normal(size=n),
        "kind": np.array(["x", "y"])[np.arange(n) % 2],
    })

@step(stage="train", inputs=["gold.rows"], outputs="ml.fit", mode="append", params=[])
def train(ctx, rows):
    from sklearn.ensemble import HistGradientBoostingClassifier  # skops must be told its types
    frame = rows.df()
    y = (frame["a"] > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame[["a", "b"]], y)
    return ctx.log_model(model, input_example=frame[["a", "b"]])

@step(stage="evaluate", inputs=["ml.fit"], outputs="ml.evaluation", mode="append", params=[])
def evaluate(ctx, fit):
    return ctx.gate({"auc": 0.9}, version=ctx.candidate())

@step(stage="apply", inputs=["gold.rows"], outputs="gold.scores", partition_by="day",
      mode="replace_partitions", params=["workers", "columns", "where"])
def score(ctx, rows):
    data = ctx.sql(f"select {ctx.params['columns']} from rows where {ctx.params['where']}")
    return ctx.score(data, keep=["id", "day"], chunk_rows=700, workers=ctx.params["workers"])
"""

MODEL = """params: {{workers: {workers}, columns: "{columns}", where: "{where}"}}
model: {{name: m, gate: {{metrics: {{auc: {{min: 0.5}}}}}}}}
"""


def platform(tmp_path: Path, workers: int = 1, columns: str = "*", where: str = "true") -> Path:
    root = make_platform(tmp_path / "p", {"s": PIPELINE})
    configure(root, workers, columns, where)
    return root


def configure(root: Path, workers: int = 1, columns: str = "*", where: str = "true") -> None:
    (root / "products" / "s" / "product.yaml").write_text(
        PRODUCT.format(name="s") + MODEL.format(workers=workers, columns=columns, where=where)
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_scores_every_row_in_chunks_and_links_the_model(tmp_path: Path, workers: int) -> None:
    root = platform(tmp_path, workers)
    with prodml.connect(root) as ws:
        result = ws.run("s", promote=True)
        assert {s["step"]: s["status"] for s in result.steps}["s.score"] == "succeeded"
        scores = ws.read("gold.scores").sort_by("id")
        assert scores.num_rows == 3000
        assert set(scores.column_names) >= {
            "id",
            "day",
            "prediction",
            "model_name",
            "model_version",
            "model_alias",
            "prodml_run_id",
            "scored_at",
        }
        assert set(scores.column("model_name").to_pylist()) == {"dev.ml.m"}
        assert set(scores.column("model_version").to_pylist()) == {1}
        assert set(scores.column("prodml_run_id").to_pylist()) == {result.run_id}
        model = ws.load_model("s", alias="champion", flavor="sklearn")
        rows = ws.read("gold.rows").sort_by("id")
        expected = model.predict_proba(rows.select(["a", "b"]).to_pandas())[:, 1]
        np.testing.assert_allclose(scores.column("prediction").to_numpy(), expected, rtol=1e-12)


def test_empty_input_writes_an_empty_predictions_table(tmp_path: Path) -> None:
    root = platform(tmp_path, where="false")
    with prodml.connect(root) as ws:
        ws.run("s", promote=True)
        empty = ws.read("gold.scores")
        assert empty.num_rows == 0
        assert {"id", "prediction", "model_version", "model_alias"} <= set(empty.column_names)


def test_scoring_input_missing_or_mistyped_columns(tmp_path: Path) -> None:
    root = platform(tmp_path, columns="id, day, kind")
    with prodml.connect(root) as ws:
        with pytest.raises(StepFailedError, match=r"lacks column.s. a, b that dev.ml.m needs"):
            ws.run("s", promote=True)
        assert not ws.table_exists("gold.scores")
    configure(root, columns="id, day, kind AS a, b")
    with prodml.connect(root) as ws:
        with pytest.raises(StepFailedError, match="a is string, the model expects double"):
            ws.run("s")
        assert not ws.table_exists("gold.scores")


def test_check_inputs_lists_every_problem() -> None:
    from prodml.models.scoring import check_inputs

    schema = pa.schema([("a", pa.string()), ("b", pa.int32()), ("c", pa.float64())])
    with pytest.raises(ModelError, match=r"lacks column.s. x, y, k"):
        check_inputs(schema, [("a", "double"), ("x", "double"), ("y", "string")], ["k"], "m")
    with pytest.raises(
        ModelError,
        match="a is string, the model expects double; c is double, the model expects string",
    ):
        check_inputs(schema, [("a", "double"), ("b", "long"), ("c", "string")], [], "m")
