"""The batch scoring benchmark's product: deterministic data (the same functions run inside the
pipeline, whose source is copied into ``pipeline.py``, and in the peers' processes), the
platform, and the checks of a run's step record and of ``gold.predictions``."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lib.checks import WrongAnswerError
from lib.env import PRODML_YAML

PRODUCT = "bench"
MODEL = "dev.ml.bench"
MODEL_URI = f"models:/{MODEL}@champion"
SEED = 20240611
N_FEATURES = 30
FEATURES = [f"f{i:02d}" for i in range(N_FEATURES)]
TRAIN_ROWS = 100_000
EVAL_ROWS = 50_000
TOLERANCE = 1e-9


PRODUCT_YAML = f"""\
name: {PRODUCT}
description: 2M rows x 30 features scored by a registered sklearn model (batch scoring benchmark).
owners: [{{name: bench, role: accountable}}]
model: {{name: {PRODUCT}, flavor: sklearn, gate: {{metrics: {{auc: {{min: 0.5}}}}}}}}
"""


def make_day(i: int, rows: int) -> tuple:  # type: ignore[type-arg]
    """Day ``i``: a (rows x N_FEATURES) float64 C-order matrix and 0/1 labels (seeded per day)."""
    import numpy as np

    rng = np.random.default_rng([SEED, i])
    x = rng.standard_normal((rows, N_FEATURES))
    w = np.random.default_rng(SEED).standard_normal(N_FEATURES)  # the same weights every day
    logit = 0.5 * (x @ w) + x[:, 0] * x[:, 1] + np.sin(3 * x[:, 2]) + rng.standard_normal(rows)
    return x, (logit > 0).astype(np.int8)


def day_of(i: int) -> str:
    """The ``day`` partition value of day ``i``."""
    return (date(2024, 1, 1) + timedelta(days=i)).isoformat()


def pipeline_source(days: int, rows_per_day: int) -> str:
    import inspect

    return f'''\
"""gold.features -> model (train, evaluate, gate) -> gold.predictions (batch scoring benchmark)."""

import os
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from prodml import step

SEED = {SEED}
N_FEATURES = {N_FEATURES}
FEATURES = {FEATURES!r}
DAYS = {days}
ROWS_PER_DAY = {rows_per_day}
TRAIN_ROWS = {min(TRAIN_ROWS, days * rows_per_day // 2)}
EVAL_ROWS = {min(EVAL_ROWS, days * rows_per_day // 4)}
CHUNK = int(os.environ.get("BENCH_CHUNK_ROWS", "100000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))


{inspect.getsource(make_day)}

{inspect.getsource(day_of)}

@step(stage="ingress", outputs="gold.features", output_partition_by="day", params=[])
def features(ctx):
    parts = []
    for i in range(DAYS):
        x, y = make_day(i, ROWS_PER_DAY)
        xt = np.ascontiguousarray(x.T)
        start = i * ROWS_PER_DAY
        columns = {{
            "id": pa.array(np.arange(start, start + ROWS_PER_DAY, dtype=np.int64)),
            "day": pa.array([day_of(i)] * ROWS_PER_DAY, pa.string()),
        }}
        columns.update({{name: pa.array(xt[j]) for j, name in enumerate(FEATURES)}})
        columns["label"] = pa.array(y)
        parts.append(pa.table(columns))
    return pa.concat_tables(parts)


@step(stage="train", inputs=["gold.features"], outputs="ml.training", mode="append")
def train(ctx, features):
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame = features.filter(f"id < {{TRAIN_ROWS}}").order("id").df()
    X = frame[FEATURES]
    model = HistGradientBoostingClassifier(max_iter=50, early_stopping=False, random_state=0)
    model.fit(X, frame["label"])
    ctx.log_params({{"max_iter": 50, "train_rows": len(frame)}})
    return ctx.log_model(model, input_example=X.head(5))


@step(stage="evaluate", inputs=["ml.training", "gold.features"], outputs="ml.evaluation",
      mode="append")
def evaluate(ctx, training, features):
    from sklearn.metrics import roc_auc_score

    v = ctx.candidate()
    model = ctx.load_model(version=v)
    frame = features.filter(
        f"id >= {{TRAIN_ROWS}} and id < {{TRAIN_ROWS + EVAL_ROWS}}"
    ).order("id").df()
    auc = roc_auc_score(frame["label"], model.predict_proba(frame[FEATURES])[:, 1])
    return ctx.gate({{"auc": float(auc)}}, version=v)


@step(stage="apply", inputs=["gold.features"], outputs="gold.predictions", partition_by="day",
      mode="replace_partitions", input_format="dataset")
def score(ctx, features):
    return ctx.score(features, alias="champion", keep=["id", "day"], chunk_rows=CHUNK,
                     workers=WORKERS)
'''


def make_platform(root: Path, days: int, rows_per_day: int) -> None:
    product = root / "products" / PRODUCT
    product.mkdir(parents=True)
    (root / "prodml.yaml").write_text(PRODML_YAML)
    (product / "product.yaml").write_text(PRODUCT_YAML)
    (product / "pipeline.py").write_text(pipeline_source(days, rows_per_day))


def _ts(value: Any) -> float:
    from datetime import datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return float(value.timestamp())


def step_facts(s: dict[str, Any]) -> dict[str, Any]:
    wall = None
    if s.get("started_at") and s.get("ended_at"):
        wall = _ts(s["ended_at"]) - _ts(s["started_at"])
    return {
        "status": s["status"],
        "wall": wall,
        "cpu": s.get("cpu_seconds"),
        "peak_rss": s.get("peak_rss_bytes"),
        "rows": s.get("rows_written"),
        "partitions": len(s.get("partitions") or []),
    }


def check_predictions(ws: Any, cfg: dict[str, Any], champion: int) -> None:
    """``gold.predictions`` sorted by id equals the bare model's ``predict_proba[:, 1]``."""
    import numpy as np
    import pyarrow.compute as pc

    table = ws.read("gold.predictions")
    n = cfg["days"] * cfg["rows_per_day"]
    if table.num_rows != n:
        raise WrongAnswerError(f"gold.predictions has {table.num_rows} rows, expected {n}")
    want_cols = {"id", "day", "prediction", "model_name", "model_version", "model_alias",
                 "prodml_run_id", "scored_at"}  # fmt: skip
    if not want_cols <= set(table.column_names):
        raise WrongAnswerError(f"gold.predictions columns {table.column_names}")
    table = table.take(pc.sort_indices(table, [("id", "ascending")]))
    ids = table.column("id").to_numpy()
    if not np.array_equal(ids, np.arange(n)):
        raise WrongAnswerError("gold.predictions does not hold every id exactly once")
    days = np.array([day_of(i) for i in range(cfg["days"])])
    got_days = table.column("day").to_numpy(zero_copy_only=False).astype(str)
    if not np.array_equal(got_days, np.repeat(days, cfg["rows_per_day"])):
        raise WrongAnswerError("gold.predictions: wrong day for some ids")
    for col, value in (("model_name", MODEL), ("model_version", champion),
                       ("model_alias", "champion")):  # fmt: skip
        distinct = pc.unique(table.column(col)).to_pylist()
        if distinct != [value]:
            raise WrongAnswerError(f"gold.predictions.{col} is {distinct[:3]}, expected {value!r}")
    got = table.column("prediction").to_numpy()
    want = np.load(cfg["bare_npy"])
    diff = float(np.max(np.abs(got - want)))
    if not diff <= TOLERANCE:
        raise WrongAnswerError(f"prodml predictions differ from predict_proba by up to {diff}")
