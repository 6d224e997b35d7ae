"""Batch scoring: a registered sklearn model scores 2M rows x 30 features into a Delta table.

Target (``/work/shared/BENCHMARKS.md``, row "batch scoring"): the apply step's throughput is
≥ 0.9 x a bare ``model.predict_proba`` on the in-memory array, ≥ 3 x an ``mlflow.pyfunc``
loop over pandas chunks, and its memory is bounded by the chunk size (not by the row count).

The platform (``lib/batch_scoring_pipeline.py``; under ``benchmarks/.work/batch_scoring``,
git-ignored) has one product ``bench``:

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

1. peer (``lib/batch_scoring_peers.py``):
   ``mlflow.sklearn.load_model("models:/dev.ml.bench@champion")`` (untimed), the 2M x 30
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

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.batch_scoring_peers import (
    TreeRss,
    child_bare,
    child_pyfunc,
    children_cpu,
    warm_imports,
)
from lib.batch_scoring_pipeline import (
    N_FEATURES,
    PRODUCT,
    SEED,
    TOLERANCE,
    check_predictions,
    day_of,
    make_platform,
    step_facts,
)
from lib.checks import EXIT_DISAGREEMENT, WrongAnswerError
from lib.children import ChildFailedError, child_main, run_child
from lib.env import work_dir
from lib.machine import end_line, loadavg, machine_line, versions, versions_text
from lib.memory import mb
from lib.table import fmt_mb, print_table

TARGET_VS_BARE = 0.9
TARGET_VS_PYFUNC = 3.0
TARGET_MEMORY_GROWTH = 2.0  # RSS growth scoring 100 % of rows / scoring 10 % of rows
SCRIPT = Path(__file__)

Samples = dict[str, list[dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# build (the platform, one full run) and prodml (re-scoring); the peers: lib/batch_scoring_peers
# --------------------------------------------------------------------------------------------


def child_setup(cfg: dict[str, Any]) -> dict[str, Any]:
    """Build the platform and run the whole product once (untimed setup, but reported)."""
    import prodml

    root = Path(cfg["root"])
    make_platform(root, cfg["days"], cfg["rows_per_day"])
    warm_imports()
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
        registered = ws.model_versions(PRODUCT)
    champion = [v for v in registered if "champion" in v["aliases"]]
    if len(champion) != 1:
        raise WrongAnswerError(f"no single champion after the first run: {registered}")
    return {
        "wall": wall,
        "steps": {s["step"].split(".")[-1]: step_facts(s) for s in steps},
        "champion": champion[0]["version"],
        "auc": champion[0]["metrics"].get("auc"),
    }


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml: re-score (``full_refresh`` or a partition range) with ``BENCH_WORKERS``."""
    import prodml

    warm_imports()
    root = Path(cfg["root"])
    profile = None
    if cfg.get("profile"):
        import cProfile

        profile = cProfile.Profile()
    cpu_children0 = children_cpu()
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
    cpu_children = children_cpu() - cpu_children0
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
        facts = step_facts(steps[0])
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


WORKLOADS = {"setup": child_setup, "bare": child_bare, "pyfunc": child_pyfunc,
             "prodml": child_prodml}  # fmt: skip


def child(kind: str, cfg: dict[str, Any], workers: int | None = None) -> dict[str, Any]:
    """One workload in its own process (prodml's with ``workers`` and the chunk size)."""
    env = None
    if workers is not None:
        env = {"BENCH_WORKERS": str(workers), "BENCH_CHUNK_ROWS": str(cfg["chunk_rows"])}
    return run_child(SCRIPT, kind, cfg, extra_env=env, echo_stderr=bool(cfg.get("profile")))


def measure(cfg: dict[str, Any], rounds: int, workers_list: list[int]) -> Samples:
    """``rounds`` rounds of bare, pyfunc and prodml (per worker count), each a fresh process."""
    samples: Samples = {"bare": [], "pyfunc": []}
    for w in workers_list:
        samples[f"prodml{w}"] = []
    for r in range(rounds):
        samples["bare"].append(child("bare", cfg))
        samples["pyfunc"].append(child("pyfunc", cfg))
        for w in workers_list:
            samples[f"prodml{w}"].append(child("prodml", cfg, w))
        print(
            f"round {r + 1}/{rounds}: "
            + ", ".join(
                f"{k} {v[-1]['step']['wall'] if 'step' in v[-1] else v[-1]['wall']:.2f} s"
                for k, v in samples.items()
            ),
            flush=True,
        )
    return samples


# --------------------------------------------------------------------------------------------
# table (the answers are checked in the children: every prodml run against bare predict_proba)
# --------------------------------------------------------------------------------------------


def _med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(x[key]) for x in rows)


def _step_med(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(x["step"][key]) for x in rows)


def _peak_cell(rows: list[dict[str, Any]]) -> str:
    peak = statistics.median(x["peak"] for x in rows)
    growth = statistics.median(x["peak"] - x["baseline"] for x in rows)
    return f"{fmt_mb(mb(peak))} (+{fmt_mb(mb(growth))})"


def _growth(run: dict[str, Any]) -> float:
    return float(run["peak"] - run["baseline"])


def report(
    cfg: dict[str, Any], rounds: int, samples: Samples, small: dict[str, Any], small_rows: int
) -> None:
    n = cfg["days"] * cfg["rows_per_day"]
    chunk = cfg["chunk_rows"]
    bare_s, pyfunc_s = _med(samples["bare"], "wall"), _med(samples["pyfunc"], "wall")

    def rate(seconds: float) -> str:
        return f"{n / seconds / 1e6:.2f} M"

    def vs(seconds: float, peer: float) -> str:
        return f"{peer / seconds:.2f}x"

    def met(ok: bool) -> str:
        return "yes" if ok else "NO"

    table: list[list[object]] = [
        ["peer: bare predict_proba(X), whole in-memory array", rate(bare_s), bare_s, "1.00x",
         vs(bare_s, pyfunc_s), _peak_cell(samples["bare"]), "—", "—"],
        [f"peer: mlflow.pyfunc .predict over pandas chunks of {chunk}", rate(pyfunc_s), pyfunc_s,
         vs(pyfunc_s, bare_s), "1.00x", _peak_cell(samples["pyfunc"]), "—", "—"],
    ]  # fmt: skip
    for w in cfg["workers_list"]:
        rows = samples[f"prodml{w}"]
        step_s, e2e_s = _step_med(rows, "wall"), _med(rows, "wall")
        ok = step_s <= bare_s / TARGET_VS_BARE and step_s <= pyfunc_s / TARGET_VS_PYFUNC
        table.append(
            [
                f"prodml apply step (ctx.score, workers={w}): step wall",
                rate(step_s),
                step_s,
                vs(step_s, bare_s),
                vs(step_s, pyfunc_s),
                _peak_cell(rows),
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
    growth_full = statistics.median(_growth(x) for x in samples["prodml1"])
    growth_small = _growth(small)
    mem_ratio = growth_full / growth_small if growth_full and growth_small > 0 else None
    table.append(
        [
            f"prodml memory: RSS growth scoring {n} rows vs {small_rows} rows (workers=1)",
            "—",
            "—",
            "—",
            "—",
            f"+{fmt_mb(mb(growth_full))} vs +{fmt_mb(mb(growth_small))}"
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


def details(cfg: dict[str, Any], samples: Samples, small: dict[str, Any], small_rows: int) -> None:
    """What the columns mean, the memory row, the step records, the walls."""
    n = cfg["days"] * cfg["rows_per_day"]
    chunk = cfg["chunk_rows"]
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
        f"memory row: workers=1, full refresh ({n} rows) vs partitions {small['partitions']} "
        f"({small_rows} rows, step wall {small['step']['wall']:.2f} s); growth is "
        "the process's peak RSS over its RSS after connect"
    )
    for w in cfg["workers_list"]:
        rows = samples[f"prodml{w}"]
        print(
            f"prodml workers={w} step record (median): cpu {_step_med(rows, 'cpu'):.2f} s in the "
            f"parent + {_med(rows, 'cpu_children'):.2f} s in spawn workers, peak RSS of the "
            f"parent {fmt_mb(mb(_step_med(rows, 'peak_rss')))} MB; walls "
            + ", ".join(f"{x['step']['wall']:.2f}" for x in rows)
        )
    bare_walls = ", ".join(f"{x['wall']:.2f}" for x in samples["bare"])
    pyfunc_walls = ", ".join(f"{x['wall']:.2f}" for x in samples["pyfunc"])
    print(
        f"peer walls: bare {bare_walls}; pyfunc {pyfunc_walls} "
        f"(cpu {_med(samples['bare'], 'cpu'):.2f} / {_med(samples['pyfunc'], 'cpu'):.2f} s)"
    )
    growths = {k: ", ".join(f"{_growth(x) / 2**20:.0f}" for x in v) for k, v in samples.items()}
    print("RSS growth per round (MB): " + "; ".join(f"{k} {v}" for k, v in growths.items()))
    print(
        f"answers: every prodml run's gold.predictions (sorted by id) = bare predict_proba[:, 1] "
        f"within {TOLERANCE:g}, all {n} ids once with their day and champion v{cfg['champion']}; "
        "pyfunc labels = (proba > 0.5)"
    )


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0], children=True)
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
    args = parser.parse_args()
    if args.child:
        return child_main(WORKLOADS, *args.child)

    days = args.days or 20
    rows_per_day = args.rows_per_day or (10_000 if args.quick else 100_000)
    chunk = args.chunk_rows or rows_per_day
    rounds = args.runs or (2 if args.quick else 3)
    small_days = max(1, days // 10)
    print(machine_line())
    found = versions("scikit-learn", "mlflow", "numpy", "pandas", "pyarrow", "duckdb", "deltalake")
    print(f"versions: {versions_text(found)}")
    print(f"load average at start: {loadavg()}")
    print(
        f"data: {days} days x {rows_per_day} rows = {days * rows_per_day} rows x {N_FEATURES} "
        f"float64 features, seed {SEED}; chunk_rows {chunk}; {rounds} round(s), workloads "
        "interleaved"
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
        "workers_list": [1] if args.workers <= 1 else [1, args.workers],
    }
    t_start = time.perf_counter()
    try:
        setup = child("setup", cfg)  # build
        cfg["champion"] = setup["champion"]
        print(
            f"first run (ingress + train + evaluate + apply, promote=True): {setup['wall']:.1f} s; "
            + ", ".join(
                f"{k} {v['wall']:.1f} s" for k, v in setup["steps"].items() if v["wall"] is not None
            )
            + f"; champion v{setup['champion']}, auc {setup['auc']:.4f}",
            flush=True,
        )
        samples = measure(cfg, rounds, cfg["workers_list"])  # peers and prodml, interleaved
        # memory bounded by the chunk size? score 10 % of the partitions, workers=1
        partitions = f"{day_of(0)}..{day_of(small_days - 1)}"
        small_cfg = {**cfg, "partitions": partitions, "expect_partitions": small_days}
        small = {**child("prodml", small_cfg, 1), "partitions": partitions}
        if args.profile:
            child("prodml", {**cfg, "profile": True}, 1)
    except WrongAnswerError as exc:  # compare: the children check every answer
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return EXIT_DISAGREEMENT
    except ChildFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report(cfg, rounds, samples, small, small_days * rows_per_day)  # table
    details(cfg, samples, small, small_days * rows_per_day)
    print(end_line(t_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
