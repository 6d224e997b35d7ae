"""Batch scoring: a registered sklearn model scores 2M rows x 30 features into a Delta table.

Target (``/work/shared/BENCHMARKS.md``, row "batch scoring"): the apply step's throughput is
≥ 0.9 x a bare ``model.predict_proba`` on the in-memory array, ≥ 3 x an ``mlflow.pyfunc``
loop over pandas chunks, and its memory is bounded by the chunk size (not by the row count).

The platform (under ``benchmarks/.work/batch_scoring``, git-ignored) has one product ``bench``:

* ``features`` (ingress): DAYS x ROWS_PER_DAY rows (default 20 x 100k = 2M) of 30 float64
  features, ``id``, ``day`` and a ``label``, generated with NumPy from fixed seeds (one seed per
  day) and written to ``gold.features`` partitioned by day;
* ``train``: ``HistGradientBoostingClassifier(max_iter=50, early_stopping=False)`` fitted on
  the first 100k ids, logged and registered with ``ctx.log_model``;
* ``evaluate``: AUC on the next 50k ids, gated (``auc >= 0.5``);
* ``score`` (apply): ``ctx.score(features, alias="champion", keep=["id", "day"], chunk_rows=,
  workers=)`` into ``gold.predictions`` (``replace_partitions`` by day). ``BENCH_CHUNK_ROWS``
  and ``BENCH_WORKERS`` (environment) set the chunk size and the worker processes.

The model: HistGradientBoosting's ``predict_proba`` on 2M x 30 takes ~4.5 s here (OpenMP over
both cores), long enough for prodml's overheads to be measured against real work.
RandomForest(50, depth 10) fits in ~18 s and predicts in ~10 s single-threaded: too slow for
the budget. (Both need ``skops_trusted_types`` with MLflow's default skops format:
``ctx.log_model`` works them out for the model it is given.)

The measured processes import everything first, untimed (including ``skops.io``, ~1.7 s, and
MLflow's SQLAlchemy stores, ~1.2 s: one-off costs of a fresh process); the model is loaded
untimed by the peers and inside the step by prodml.

Sequence: one untimed full run ``ws.run("bench", promote=True)`` (the version passes the gate
and becomes champion inside the run, so the apply step scores), then ``--runs`` rounds, each
a fresh subprocess per workload, round-robin so machine drift hits all alike:

1. peer: ``mlflow.sklearn.load_model("models:/dev.ml.bench@champion")`` (untimed), the 2M x 30
   array generated in memory (untimed), then ``predict_proba(X)[:, 1]`` timed;
2. peer: ``mlflow.pyfunc.load_model(...)`` (untimed), a pandas DataFrame over the same array
   (untimed), then a loop of ``.predict(df.iloc[i:i + chunk])`` timed;
3. prodml: ``ws.run("bench", steps=["score"], full_refresh=True)`` with workers=1 and with
   ``--workers`` (default 2): the step's own wall (``started_at``..``ended_at``), CPU and peak
   RSS from the step record, and the end-to-end wall of ``connect`` + ``run``.

Answers are checked: after every prodml run ``gold.predictions`` (sorted by id) must hold every
id once with its day, the champion's name/version/alias, and ``prediction`` equal to the bare
``predict_proba[:, 1]`` within 1e-9; the pyfunc loop's labels must equal ``proba > 0.5``.

Memory: every workload runs in its own process; a sampler thread records the peak RSS of the
process tree (prodml's spawn workers included; the step record counts only the parent) and
the growth over the RSS before any data is touched (after imports and model load for the
peers, after ``connect`` for prodml). "Bounded by the chunk size" is checked by scoring 10 % of
the partitions (``partitions=START..END``) and the whole table: the RSS growth must not scale
with the rows (full ≤ 2 x the 10 % run's growth).

Exit status is non-zero only on errors or wrong answers, never on a missed target.

    .venv/bin/python benchmarks/batch_scoring.py [--quick] [--runs N] [--days N]
        [--rows-per-day N] [--chunk-rows N] [--workers N] [--profile]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PRODML_YAML,
    bench_arg_parser,
    command_env,
    fmt_mb,
    mem_total_gb,
    print_table,
    work_dir,
)

PRODUCT = "bench"
MODEL = "dev.ml.bench"
MODEL_URI = f"models:/{MODEL}@champion"
SEED = 20240611
N_FEATURES = 30
FEATURES = [f"f{i:02d}" for i in range(N_FEATURES)]
TRAIN_ROWS = 100_000
EVAL_ROWS = 50_000
TOLERANCE = 1e-9

TARGET_VS_BARE = 0.9
TARGET_VS_PYFUNC = 3.0
TARGET_MEMORY_GROWTH = 2.0  # RSS growth scoring 100 % of rows / scoring 10 % of rows


PRODUCT_YAML = f"""\
name: {PRODUCT}
description: 2M rows x 30 features scored by a registered sklearn model (batch scoring benchmark).
owners: [{{name: bench, role: accountable}}]
model: {{name: {PRODUCT}, flavor: sklearn, gate: {{metrics: {{auc: {{min: 0.5}}}}}}}}
"""


# --------------------------------------------------------------------------------------------
# deterministic data: the same functions run inside the pipeline (their source is copied into
# pipeline.py) and in the peers' processes
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# child processes: one per measured workload, so each one's RSS is its own
# --------------------------------------------------------------------------------------------


class WrongAnswerError(RuntimeError):
    """A run failed, or its predictions disagree with the bare model's."""


class TreeRss:
    """Peak RSS of this process plus its children (spawn workers), sampled every 10 ms."""

    def __init__(self) -> None:
        import threading

        import psutil

        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline

    def _sample(self) -> None:
        import psutil

        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self._sample()

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _warm_imports() -> None:
    """Import what every workload uses, outside the timed sections.

    Includes two one-off costs of a fresh process: MLflow's SQLAlchemy stores (~1.2 s, the
    first registry call) and ``skops.io`` (~1.7 s, the first sklearn model load: its trusted-type
    table walks sklearn's modules). prodml's spawn workers still pay both inside the step.
    """
    import importlib
    import warnings

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    for module in (
        "deltalake",
        "duckdb",
        "pandas",
        "pyarrow",
        "sklearn.ensemble",
        "mlflow.pyfunc",
        "mlflow.sklearn",
        "mlflow.store.tracking.sqlalchemy_store",
        "mlflow.store.model_registry.sqlalchemy_store",
        "skops.io",
    ):
        importlib.import_module(module)


def _set_uris(ws: Any) -> None:
    import mlflow

    mlflow.set_tracking_uri(ws.models.target.tracking_uri)
    mlflow.set_registry_uri(ws.models.target.registry_uri)


def _features_matrix(days: int, rows_per_day: int) -> Any:
    import numpy as np

    x = np.empty((days * rows_per_day, N_FEATURES))
    for i in range(days):
        x[i * rows_per_day : (i + 1) * rows_per_day] = make_day(i, rows_per_day)[0]
    return x


def _cpu_children() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def child_setup(cfg: dict[str, Any]) -> dict[str, Any]:
    """Build the platform and run the whole product once (untimed setup, but reported)."""
    import prodml

    root = Path(cfg["root"])
    make_platform(root, cfg["days"], cfg["rows_per_day"])
    _warm_imports()
    t0 = time.perf_counter()
    with prodml.connect(root, env="dev") as ws:
        result = ws.run(PRODUCT, promote=True)
        wall = time.perf_counter() - t0
        if result.status != "succeeded":
            raise WrongAnswerError(f"first run {result.run_id} ended {result.status}")
        steps = ws.run_info(result.run_id)["steps"]
        statuses = {s["step"]: s["status"] for s in steps}
        if any(v != "succeeded" for v in statuses.values()) or len(statuses) != 4:
            raise WrongAnswerError(f"first run: step statuses {statuses}")
        versions = ws.model_versions(PRODUCT)
    champion = [v for v in versions if "champion" in v["aliases"]]
    if len(champion) != 1:
        raise WrongAnswerError(f"no single champion after the first run: {versions}")
    return {
        "wall": wall,
        "steps": {s["step"].split(".")[-1]: _step_facts(s) for s in steps},
        "champion": champion[0]["version"],
        "auc": champion[0]["metrics"].get("auc"),
    }


def child_bare(cfg: dict[str, Any]) -> dict[str, Any]:
    """Peer 1: the registered model's ``predict_proba`` on the whole in-memory array."""
    import mlflow.sklearn
    import numpy as np

    import prodml

    _warm_imports()
    with prodml.connect(Path(cfg["root"]), env="dev") as ws:
        _set_uris(ws)
    model = mlflow.sklearn.load_model(MODEL_URI)
    with TreeRss() as rss:
        x = _features_matrix(cfg["days"], cfg["rows_per_day"])
        t0, c0 = time.perf_counter(), time.process_time()
        proba = model.predict_proba(x)[:, 1]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = Path(cfg["bare_npy"])
    if not out.exists():
        np.save(out, proba)
    else:  # every round must give the same answer
        diff = float(np.max(np.abs(np.load(out) - proba)))
        if diff > TOLERANCE:
            raise WrongAnswerError(f"bare predict_proba differs between rounds by {diff}")
    return {"wall": wall, "cpu": cpu, "peak": rss.peak, "baseline": rss.baseline}


def child_pyfunc(cfg: dict[str, Any]) -> dict[str, Any]:
    """Peer 2: ``mlflow.pyfunc`` ``.predict`` over pandas chunks of the same array."""
    import mlflow.pyfunc
    import numpy as np
    import pandas as pd

    import prodml

    _warm_imports()
    with prodml.connect(Path(cfg["root"]), env="dev") as ws:
        _set_uris(ws)
    model = mlflow.pyfunc.load_model(MODEL_URI)
    chunk = cfg["chunk_rows"]
    with TreeRss() as rss:
        x = _features_matrix(cfg["days"], cfg["rows_per_day"])
        frame = pd.DataFrame(x, columns=FEATURES, copy=False)
        t0, c0 = time.perf_counter(), time.process_time()
        labels = [
            np.asarray(model.predict(frame.iloc[s : s + chunk]))
            for s in range(0, len(frame), chunk)
        ]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    got = np.concatenate(labels)
    want = (np.load(cfg["bare_npy"]) > 0.5).astype(got.dtype)
    if got.shape != want.shape or not np.array_equal(got, want):
        bad = int(np.sum(got != want)) if got.shape == want.shape else got.shape
        raise WrongAnswerError(f"pyfunc labels disagree with predict_proba > 0.5: {bad}")
    return {"wall": wall, "cpu": cpu, "peak": rss.peak, "baseline": rss.baseline}


def _ts(value: Any) -> float:
    from datetime import datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return float(value.timestamp())


def _step_facts(s: dict[str, Any]) -> dict[str, Any]:
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


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml: re-score (``full_refresh`` or a partition range) with ``BENCH_WORKERS``."""
    import prodml

    _warm_imports()
    root = Path(cfg["root"])
    profile = None
    if cfg.get("profile"):
        import cProfile

        profile = cProfile.Profile()
    cpu_children0 = _cpu_children()
    t0 = time.perf_counter()
    with TreeRss() as rss:
        ws = prodml.connect(root, env="dev")
        try:
            if profile is not None:
                profile.enable()
            result = ws.run(
                PRODUCT,
                steps=["score"],
                full_refresh=cfg["partitions"] is None,
                partitions=cfg["partitions"],
            )
            if profile is not None:
                profile.disable()
        finally:
            ws.close()
    wall = time.perf_counter() - t0
    cpu_children = _cpu_children() - cpu_children0
    if profile is not None:
        import pstats

        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    with prodml.connect(root, env="dev") as ws:
        if result.status != "succeeded":
            raise WrongAnswerError(f"run {result.run_id} ended {result.status}: {result.error}")
        steps = ws.run_info(result.run_id)["steps"]
        if [s["step"] for s in steps] != [f"{PRODUCT}.score"]:
            raise WrongAnswerError(f"unexpected steps {[s['step'] for s in steps]}")
        facts = _step_facts(steps[0])
        want_parts = cfg["expect_partitions"]
        want_rows = want_parts * cfg["rows_per_day"]
        if (
            facts["status"] != "succeeded"
            or facts["partitions"] != want_parts
            or facts["rows"] != want_rows
        ):
            raise WrongAnswerError(
                f"score step {facts['status']} with {facts['partitions']} partitions, "
                f"{facts['rows']} rows; expected {want_parts} partitions, {want_rows} rows"
            )
        check_predictions(ws, cfg, cfg["champion"])
    return {
        "wall": wall,
        "step": facts,
        "cpu_children": cpu_children,
        "peak": rss.peak,
        "baseline": rss.baseline,
    }


CHILDREN = {"setup": child_setup, "bare": child_bare, "pyfunc": child_pyfunc,
            "prodml": child_prodml}  # fmt: skip


def child_main(kind: str, cfg_json: str) -> int:
    cfg = json.loads(cfg_json)
    try:
        out = CHILDREN[kind](cfg)
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER ({kind}): {exc}", file=sys.stderr)
        return 3
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# the orchestrating parent (standard library only)
# --------------------------------------------------------------------------------------------


def run_child(
    kind: str, cfg: dict[str, Any], extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", kind, json.dumps(cfg)]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=command_env(extra=extra_env), check=False
    )
    if cfg.get("profile") and proc.stderr:
        print(proc.stderr, file=sys.stderr)
    if proc.returncode == 3:
        raise WrongAnswerError(proc.stderr.strip().splitlines()[-1])
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise RuntimeError(f"child {kind} exited with {proc.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def _mb(x: float | None) -> float | None:
    return None if x is None else x / 2**20


def _versions() -> str:
    out = []
    for name in ("scikit-learn", "mlflow", "numpy", "pandas", "pyarrow", "duckdb", "deltalake"):
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} ?")
    return ", ".join(out)


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=None, help="day partitions (default 20)")
    parser.add_argument(
        "--rows-per-day", type=int, default=None, help="rows per day (default 100000; quick 10000)"
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=None, help="chunk size (default: rows per day)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one workers=1 scoring run (stderr)"
    )
    parser.add_argument("--child", nargs=2, help=argparse_hidden())
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    days = args.days or 20
    rows_per_day = args.rows_per_day or (10_000 if args.quick else 100_000)
    chunk = args.chunk_rows or rows_per_day
    rounds = args.runs or (2 if args.quick else 3)
    n = days * rows_per_day
    small_days = max(1, days // 10)

    print(
        f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{mem_total_gb()} | {platform.python_implementation()} {platform.python_version()} | "
        f"{platform.platform()}"
    )
    print(f"versions: {_versions()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"data: {days} days x {rows_per_day} rows = {n} rows x {N_FEATURES} float64 features, "
        f"seed {SEED}; chunk_rows {chunk}; {rounds} round(s), workloads interleaved"
    )

    work = work_dir("batch_scoring", clean=True)
    cfg: dict[str, Any] = {
        "root": str(work / "platform"),
        "days": days,
        "rows_per_day": rows_per_day,
        "chunk_rows": chunk,
        "bare_npy": str(work / "bare_proba.npy"),
        "partitions": None,
        "expect_partitions": days,
    }
    t_start = time.perf_counter()
    try:
        setup = run_child("setup", cfg)
        cfg["champion"] = setup["champion"]
        print(
            f"first run (ingress + train + evaluate + apply, promote=True): {setup['wall']:.1f} s; "
            + ", ".join(
                f"{k} {v['wall']:.1f} s" for k, v in setup["steps"].items() if v["wall"] is not None
            )
            + f"; champion v{setup['champion']}, auc {setup['auc']:.4f}",
            flush=True,
        )
        workers_list = [1] if args.workers <= 1 else [1, args.workers]
        samples: dict[str, list[dict[str, Any]]] = {"bare": [], "pyfunc": []}
        for w in workers_list:
            samples[f"prodml{w}"] = []
        for r in range(rounds):
            samples["bare"].append(run_child("bare", cfg))
            samples["pyfunc"].append(run_child("pyfunc", cfg))
            for w in workers_list:
                env = {"BENCH_WORKERS": str(w), "BENCH_CHUNK_ROWS": str(chunk)}
                samples[f"prodml{w}"].append(run_child("prodml", cfg, env))
            print(
                f"round {r + 1}/{rounds}: "
                + ", ".join(
                    f"{k} {v[-1]['step']['wall'] if 'step' in v[-1] else v[-1]['wall']:.2f} s"
                    for k, v in samples.items()
                ),
                flush=True,
            )
        # memory bounded by the chunk size? score 10 % of the partitions, workers=1
        env1 = {"BENCH_WORKERS": "1", "BENCH_CHUNK_ROWS": str(chunk)}
        small_cfg = {
            **cfg,
            "partitions": f"{day_of(0)}..{day_of(small_days - 1)}",
            "expect_partitions": small_days,
        }
        small = run_child("prodml", small_cfg, env1)
        if args.profile:
            run_child("prodml", {**cfg, "profile": True}, env1)
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return 3

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(x[key]) for x in rows)

    def step_med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(x["step"][key]) for x in rows)

    bare_s = med(samples["bare"], "wall")
    pyfunc_s = med(samples["pyfunc"], "wall")

    def rate(seconds: float) -> str:
        return f"{n / seconds / 1e6:.2f} M"

    def vs(seconds: float, peer: float) -> str:
        return f"{peer / seconds:.2f}x"

    def met(ok: bool) -> str:
        return "yes" if ok else "NO"

    def peak_cell(rows: list[dict[str, Any]]) -> str:
        peak = statistics.median(x["peak"] for x in rows)
        growth = statistics.median(x["peak"] - x["baseline"] for x in rows)
        return f"{fmt_mb(_mb(peak))} (+{fmt_mb(_mb(growth))})"

    table: list[list[object]] = [
        [
            "peer: bare predict_proba(X), whole in-memory array",
            rate(bare_s),
            bare_s,
            "1.00x",
            vs(bare_s, pyfunc_s),
            peak_cell(samples["bare"]),
            "—",
            "—",
        ],
        [
            f"peer: mlflow.pyfunc .predict over pandas chunks of {chunk}",
            rate(pyfunc_s),
            pyfunc_s,
            vs(pyfunc_s, bare_s),
            "1.00x",
            peak_cell(samples["pyfunc"]),
            "—",
            "—",
        ],
    ]
    growth_full = None
    for w in workers_list:
        rows = samples[f"prodml{w}"]
        step_s = step_med(rows, "wall")
        e2e_s = med(rows, "wall")
        ok = step_s <= bare_s / TARGET_VS_BARE and step_s <= pyfunc_s / TARGET_VS_PYFUNC
        if w == 1:
            growth_full = statistics.median(x["peak"] - x["baseline"] for x in rows)
        table.append(
            [
                f"prodml apply step (ctx.score, workers={w}): step wall",
                rate(step_s),
                step_s,
                vs(step_s, bare_s),
                vs(step_s, pyfunc_s),
                peak_cell(rows),
                f"≥ {TARGET_VS_BARE:g}x bare, ≥ {TARGET_VS_PYFUNC:g}x pyfunc",
                met(ok),
            ]
        )
        table.append(
            [
                f"prodml ws.run(steps=[score], full_refresh) workers={w}: end to end",
                rate(e2e_s),
                e2e_s,
                vs(e2e_s, bare_s),
                vs(e2e_s, pyfunc_s),
                "—",
                "(info)",
                "—",
            ]
        )
    growth_small = small["peak"] - small["baseline"]
    mem_ratio = growth_full / growth_small if growth_full and growth_small > 0 else None
    table.append(
        [
            f"prodml memory: RSS growth scoring {n} rows vs {small_days * rows_per_day} rows "
            "(workers=1)",
            "—",
            "—",
            "—",
            "—",
            f"+{fmt_mb(_mb(growth_full))} vs +{fmt_mb(_mb(growth_small))}"
            + (f" ({mem_ratio:.2f}x)" if mem_ratio else ""),
            f"≤ {TARGET_MEMORY_GROWTH:g}x (bounded by chunk)",
            met(mem_ratio is not None and mem_ratio <= TARGET_MEMORY_GROWTH),
        ]
    )
    print_table(
        f"batch scoring: {n} rows x {N_FEATURES} features, HistGradientBoosting(50) -> Delta, "
        f"median of {rounds}",
        [
            "workload",
            "rows/s",
            "seconds",
            "ratio vs bare predict",
            "ratio vs pyfunc loop",
            "peak RSS MB (growth)",
            "target",
            "met?",
        ],
        table,
    )
    print(
        "ratios are throughput ratios (rows/s of the row / rows/s of the peer). "
        "peak RSS (median of rounds) is the process tree (spawn workers included); growth is "
        "over the RSS before any data was touched (after imports/model load for the peers, "
        "after connect for prodml). "
        f"chunk input = {chunk} rows x {N_FEATURES + 2} columns x 8 B = "
        f"{chunk * (N_FEATURES + 2) * 8 / 2**20:.1f} MB; the whole feature matrix is "
        f"{n * N_FEATURES * 8 / 2**20:.0f} MB."
    )
    print(
        f"memory row: workers=1, full refresh ({n} rows) vs partitions {small_cfg['partitions']} "
        f"({small_days * rows_per_day} rows, step wall {small['step']['wall']:.2f} s); growth is "
        "the process's peak RSS over its RSS after connect"
    )
    for w in workers_list:
        rows = samples[f"prodml{w}"]
        print(
            f"prodml workers={w} step record (median): cpu {step_med(rows, 'cpu'):.2f} s in the "
            f"parent + {med(rows, 'cpu_children'):.2f} s in spawn workers, peak RSS of the parent "
            f"{fmt_mb(_mb(step_med(rows, 'peak_rss')))} MB; walls "
            + ", ".join(f"{x['step']['wall']:.2f}" for x in rows)
        )
    bare_walls = ", ".join(f"{x['wall']:.2f}" for x in samples["bare"])
    pyfunc_walls = ", ".join(f"{x['wall']:.2f}" for x in samples["pyfunc"])
    print(
        f"peer walls: bare {bare_walls}; pyfunc {pyfunc_walls} "
        f"(cpu {med(samples['bare'], 'cpu'):.2f} / {med(samples['pyfunc'], 'cpu'):.2f} s)"
    )
    growths = {
        k: ", ".join(f"{(x['peak'] - x['baseline']) / 2**20:.0f}" for x in v)
        for k, v in samples.items()
    }
    print("RSS growth per round (MB): " + "; ".join(f"{k} {v}" for k, v in growths.items()))
    print(
        f"answers: every prodml run's gold.predictions (sorted by id) = bare predict_proba[:, 1] "
        f"within {TOLERANCE:g}, all {n} ids once with their day and champion v{cfg['champion']}; "
        "pyfunc labels = (proba > 0.5)"
    )
    print(
        f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
