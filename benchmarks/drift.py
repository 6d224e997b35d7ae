"""Drift: ``dataset_drift`` on 1M reference + 1M current rows x 20 columns, against Evidently.

Target (``/work/shared/BENCHMARKS.md``, row "drift"): prodml's per-column drift tests are
≥ 10 x faster than Evidently's ``DataDriftPreset`` on the same data, with the same statistics
to 1e-6 on the methods both use.

The data (NumPy ``default_rng`` from fixed seeds, one stream per column and side, so every
process builds exactly the same arrays; ``make_data``): ``--rows`` rows per side (default 1M)
of 14 numeric and 6 categorical columns:

* numeric, all with many distinct values (→ normalised Wasserstein with > 1000 reference
  rows) except ``n11_levels`` (4 distinct float values → Jensen-Shannon): normal, lognormal,
  uniform, exponential, Student-t and Poisson (int64) samples, some unchanged, some shifted in
  current by 0.15-0.5 reference standard deviations or rescaled; ``n09_normal_nan`` has 1 %
  NaN on both sides and a 0.05-std shift (below the 0.1 threshold);
* categorical (strings → Jensen-Shannon): unchanged, shifted frequencies, a category new in
  current, a binary column, and a 50-category column (object dtype) with 2 % ``None``.

No column's score lies near its threshold (a verdict would then hinge on the last bits), and
11 of the 20 columns drift, so the dataset verdict is drift (share 0.55 ≥ 0.5).

Each workload runs in its own subprocess, so peak memory is its own (``VmHWM``, the process's
resident high-water mark, with the RSS after imports and after building the data for scale):

* prodml (this venv): ``dataset_drift(reference, current, kinds)`` on dicts of NumPy arrays
  (float64 / int64 / fixed-width unicode, object for the column with ``None``), kinds given.
  A second row feeds it pandas DataFrames (this venv's pandas) instead: the path a user with
  DataFrames takes (object/string columns are converted inside ``dataset_drift``).
* Evidently (``benchmarks/.venvs/drift``, ``peers/drift/requirements.txt``: evidently 0.7.23
  with pandas 2.3, the same NumPy and SciPy as prodml's venv): the arrays go into a pandas
  DataFrame per side (the arrays are then dropped), ``Dataset.from_pandas`` with
  ``DataDefinition(numerical_columns=..., categorical_columns=...)`` (timed apart, reported),
  then ``Report([DataDriftPreset()], include_tests=True).run(current, reference)`` is the timed
  work. Per-column method, score and threshold come from the ``ValueDrift`` metrics of
  ``snapshot.dict()``, the per-column verdict from their tests (``FAIL`` = drift), the dataset
  share from ``DriftedColumnsCount`` and the dataset verdict from its test.

Both sides first run the same workload untimed on the first 2,000 rows (imports, lazy
initialisation). ``--runs`` rounds (default 3) run the workloads round-robin; the table shows
medians.

Checks (exit 3 when one fails, with the differing columns): the same method per column (and
the one this script designed the column for), every drift score equal to Evidently's within
1e-6 (absolute), the same per-column verdicts, the same drifted share and dataset verdict; the
pandas-input run must give prodml's numpy-input answer, and every round the same answer.

Exit status: 0 when the answers agree (even if the speed target is missed), 3 on a
disagreement, 1 when a workload fails. Without the peer (``--skip-peers``, or its venv cannot
be built) prodml is measured alone.

    .venv/bin/python benchmarks/drift.py                   # 1M + 1M rows
    .venv/bin/python benchmarks/drift.py --rows 100000     # quick check (also --quick)

(``--warmup N`` of the shared flags is not used: the warm-up is the small in-process run.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    PeerUnavailableError,
    bench_arg_parser,
    command_env,
    fmt_mb,
    mem_total_gb,
    peak_mb,
    peer_venv,
    print_table,
    status_mb,
)

SEED = 20241107
TOLERANCE = 1e-6
TARGET_SPEEDUP = 10.0
WARMUP_ROWS = 2000
CHILD_TIMEOUT_S = 3600

#: column → (kind, the method Evidently's defaults should pick with > 1000 reference rows)
COLUMNS: dict[str, tuple[str, str]] = {
    "n00_normal": ("numeric", "wasserstein"),
    "n01_normal_shift": ("numeric", "wasserstein"),
    "n02_normal_shift": ("numeric", "wasserstein"),
    "n03_normal_loc5_shift": ("numeric", "wasserstein"),
    "n04_lognormal": ("numeric", "wasserstein"),
    "n05_lognormal_shift": ("numeric", "wasserstein"),
    "n06_uniform": ("numeric", "wasserstein"),
    "n07_uniform_shift": ("numeric", "wasserstein"),
    "n08_exponential_scale": ("numeric", "wasserstein"),
    "n09_normal_nan": ("numeric", "wasserstein"),
    "n10_poisson_int": ("numeric", "wasserstein"),
    "n11_levels": ("numeric", "jensenshannon"),
    "n12_student_t": ("numeric", "wasserstein"),
    "n13_normal_scale": ("numeric", "wasserstein"),
    "c0_uniform5": ("categorical", "jensenshannon"),
    "c1_shifted5": ("categorical", "jensenshannon"),
    "c2_slight20": ("categorical", "jensenshannon"),
    "c3_new_category": ("categorical", "jensenshannon"),
    "c4_binary": ("categorical", "jensenshannon"),
    "c5_zipf50_nulls": ("categorical", "jensenshannon"),
}
NUMERIC = [c for c, (k, _) in COLUMNS.items() if k == "numeric"]
CATEGORICAL = [c for c, (k, _) in COLUMNS.items() if k == "categorical"]

#: Evidently's stat-test display names → prodml's method names
EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chi2",
    "Z-test p_value": "z",
}


# --------------------------------------------------------------------------------------------
# deterministic data (NumPy only: runs in prodml's venv and in the peer's)
# --------------------------------------------------------------------------------------------


def make_data(rows: int, side: str) -> dict[str, Any]:
    """The ``side`` ("reference" or "current") sample: column name → 1-D NumPy array."""
    import numpy as np

    cur = side == "current"
    streams = {name: i for i, name in enumerate(COLUMNS)}

    def rng(name: str) -> Any:
        return np.random.default_rng([SEED, streams[name], int(cur)])

    def categories(name: str, labels: list[str], p: list[float]) -> Any:
        probs = np.asarray(p, dtype=np.float64)
        idx = rng(name).choice(len(labels), size=rows, p=probs / probs.sum())
        return np.asarray(labels)[idx]

    d: dict[str, Any] = {}
    # numeric: shifts are in reference standard deviations (Wasserstein / std ≈ the shift)
    d["n00_normal"] = rng("n00_normal").normal(0.0, 1.0, rows)
    d["n01_normal_shift"] = rng("n01_normal_shift").normal(0.2 if cur else 0.0, 1.0, rows)
    d["n02_normal_shift"] = rng("n02_normal_shift").normal(0.5 if cur else 0.0, 1.0, rows)
    d["n03_normal_loc5_shift"] = rng("n03_normal_loc5_shift").normal(5.6 if cur else 5.0, 2.0, rows)
    d["n04_lognormal"] = rng("n04_lognormal").lognormal(0.0, 0.5, rows)
    d["n05_lognormal_shift"] = rng("n05_lognormal_shift").lognormal(0.15 if cur else 0.0, 0.5, rows)
    d["n06_uniform"] = rng("n06_uniform").uniform(0.0, 10.0, rows)
    shift = 0.15 * 10.0 / math.sqrt(12.0) if cur else 0.0  # 0.15 std of U(0, 10)
    d["n07_uniform_shift"] = rng("n07_uniform_shift").uniform(shift, 10.0 + shift, rows)
    d["n08_exponential_scale"] = rng("n08_exponential_scale").exponential(1.3 if cur else 1.0, rows)
    g = rng("n09_normal_nan")
    x = g.normal(0.05 if cur else 0.0, 1.0, rows)
    x[g.random(rows) < 0.01] = np.nan
    d["n09_normal_nan"] = x
    d["n10_poisson_int"] = (
        rng("n10_poisson_int").poisson(21.0 if cur else 20.0, rows).astype(np.int64)
    )
    levels = np.array([0.5, 1.5, 2.5, 3.5])
    p_lv = [0.25, 0.3, 0.25, 0.2] if cur else [0.4, 0.3, 0.2, 0.1]
    d["n11_levels"] = levels[rng("n11_levels").choice(4, size=rows, p=p_lv)]
    d["n12_student_t"] = rng("n12_student_t").standard_t(5.0, rows)
    d["n13_normal_scale"] = rng("n13_normal_scale").normal(0.0, 1.3 if cur else 1.0, rows)

    # categorical (strings)
    five = [f"tier_{c}" for c in "abcde"]
    d["c0_uniform5"] = categories("c0_uniform5", five, [1, 1, 1, 1, 1])
    d["c1_shifted5"] = categories(
        "c1_shifted5", five, [0.45, 0.25, 0.15, 0.1, 0.05] if cur else [0.2] * 5
    )
    twenty = [f"region_{i:02d}" for i in range(20)]
    w20 = [1.0 + i / 10 for i in range(20)]
    if cur:
        w20 = [w * (1.05 if i % 2 else 0.95) for i, w in enumerate(w20)]
    d["c2_slight20"] = categories("c2_slight20", twenty, w20)
    ten = [f"channel_{i}" for i in range(10)]
    if cur:  # 20 % of the current rows in a category the reference never saw
        d["c3_new_category"] = categories(
            "c3_new_category", [*ten, "channel_new"], [0.08] * 10 + [0.2]
        )
    else:
        d["c3_new_category"] = categories("c3_new_category", ten, [0.1] * 10)
    d["c4_binary"] = categories("c4_binary", ["no", "yes"], [0.7, 0.3] if not cur else [0.69, 0.31])
    fifty = [f"city_{i:02d}" for i in range(50)]
    zipf = [1.0 / (i + 1) for i in range(50)]
    if cur:
        zipf = [w * (1.1 if i % 3 == 0 else 1.0) for i, w in enumerate(zipf)]
    g = rng("c5_zipf50_nulls")
    idx = g.choice(50, size=rows, p=np.asarray(zipf) / sum(zipf))
    obj = np.asarray(fifty, dtype=object)[idx]
    obj[g.random(rows) < 0.02] = None
    d["c5_zipf50_nulls"] = obj
    assert list(d) == list(COLUMNS)
    return d


# --------------------------------------------------------------------------------------------
# child processes: one per measured workload, so each one's memory is its own
# --------------------------------------------------------------------------------------------


def _head(data: dict[str, Any], n: int) -> dict[str, Any]:
    return {k: v[:n] for k, v in data.items()}


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml's ``dataset_drift`` on dicts of arrays (or pandas DataFrames with ``pandas``)."""
    import numpy as np
    import scipy.spatial.distance
    import scipy.stats

    from prodml.drift.stats import dataset_drift

    del np, scipy  # imported up front: not part of the timed work
    kinds = {c: k for c, (k, _) in COLUMNS.items()}
    rss_imports = status_mb("VmRSS")
    ref = make_data(cfg["rows"], "reference")
    cur = make_data(cfg["rows"], "current")
    if cfg.get("pandas"):
        import pandas as pd

        ref, cur = pd.DataFrame(ref), pd.DataFrame(cur)
        head = (ref.iloc[:WARMUP_ROWS], cur.iloc[:WARMUP_ROWS])
    else:
        head = (_head(ref, WARMUP_ROWS), _head(cur, WARMUP_ROWS))
    dataset_drift(head[0], head[1], kinds)  # warm-up, untimed
    del head
    rss_data = status_mb("VmRSS")
    t0 = time.perf_counter()
    result = dataset_drift(ref, cur, kinds)
    wall = time.perf_counter() - t0
    columns = {
        c.column: {
            "method": c.method,
            "score": c.drift_score,
            "threshold": c.threshold,
            "drift": c.drift,
        }
        for c in result.columns
    }
    versions = {}
    for mod in ("numpy", "scipy", "pandas"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "?"
    return {
        "wall": wall,
        "columns": columns,
        "share": result.drifted_share,
        "drift": result.drift,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "peak": peak_mb(),
        "versions": versions,
    }


def _evidently_answer(snapshot: Any) -> dict[str, Any]:
    """Per-column method/score/threshold/verdict and the dataset share/verdict of a snapshot."""
    d = snapshot.dict()
    columns: dict[str, dict[str, Any]] = {}
    share = count = drift = None
    for m in d["metrics"]:
        cfg = m["config"]
        kind = cfg["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            columns[cfg["column"]] = {
                "method": EVIDENTLY_METHODS.get(cfg["method"], cfg["method"]),
                "score": float(m["value"]),
                "threshold": cfg["threshold"],
                "drift": None,
            }
        elif kind == "DriftedColumnsCount":
            share, count = m["value"]["share"], m["value"]["count"]
    for t in d["tests"]:
        params = t["metric_config"]["params"]
        kind = params["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            columns[params["column"]]["drift"] = t["status"] == "FAIL"
        elif kind == "DriftedColumnsCount":  # "share < drift_share" fails on dataset drift
            drift = t["status"] == "FAIL"
    return {"columns": columns, "share": share, "count": count, "drift": drift}


def child_evidently(cfg: dict[str, Any]) -> dict[str, Any]:
    """Evidently's ``DataDriftPreset`` report on the same data (runs in the peer's venv)."""
    from importlib import metadata

    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    rss_imports = status_mb("VmRSS")
    ref_df = pd.DataFrame(make_data(cfg["rows"], "reference"))
    cur_df = pd.DataFrame(make_data(cfg["rows"], "current"))

    def datasets(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Any, Any]:
        return (
            Dataset.from_pandas(ref, data_definition=definition),
            Dataset.from_pandas(cur, data_definition=definition),
        )

    warm_ref, warm_cur = datasets(ref_df.iloc[:WARMUP_ROWS], cur_df.iloc[:WARMUP_ROWS])
    Report([DataDriftPreset()], include_tests=True).run(warm_cur, warm_ref)  # warm-up
    del warm_ref, warm_cur
    t0 = time.perf_counter()
    ref_ds, cur_ds = datasets(ref_df, cur_df)
    wall_dataset = time.perf_counter() - t0
    rss_data = status_mb("VmRSS")
    report = Report([DataDriftPreset()], include_tests=True)
    t0 = time.perf_counter()
    snapshot = report.run(cur_ds, ref_ds)
    wall = time.perf_counter() - t0
    answer = _evidently_answer(snapshot)
    return {
        "wall": wall,
        "wall_dataset": wall_dataset,
        **answer,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "peak": peak_mb(),
        "versions": {m: metadata.version(m) for m in ("evidently", "pandas", "numpy", "scipy")},
    }


CHILDREN = {"prodml": child_prodml, "evidently": child_evidently}


def child_main(kind: str, cfg_json: str) -> int:
    out = CHILDREN[kind](json.loads(cfg_json))
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# the orchestrating parent (standard library only)
# --------------------------------------------------------------------------------------------


class WrongAnswerError(RuntimeError):
    """prodml's answer differs from Evidently's (or from itself)."""


def run_child(python: Path, kind: str, cfg: dict[str, Any]) -> dict[str, Any]:
    argv = [str(python), str(Path(__file__).resolve()), "--child", kind, json.dumps(cfg)]
    # subprocess.run kills the child on a timeout or any exception (Ctrl-C included)
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=command_env(python.parent),
        cwd=BENCH_DIR,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise RuntimeError(f"child {kind} ({python}) exited with {proc.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def _score_diff(a: float | None, b: float | None) -> float:
    if a is None or b is None:
        return math.inf if (a is None) != (b is None) else 0.0
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    return abs(a - b)


def compare(
    mine: dict[str, Any], theirs: dict[str, Any], label: str, *, check_design: bool = False
) -> tuple[float, list[str]]:
    """Max |score difference| and the list of disagreements (empty when the answers agree)."""
    problems: list[str] = []
    max_diff = 0.0
    for col in COLUMNS:
        a = mine["columns"].get(col)
        b = theirs["columns"].get(col)
        if a is None or b is None:
            problems.append(f"{col}: missing from {'prodml' if a is None else label}")
            continue
        if check_design and a["method"] != COLUMNS[col][1]:
            problems.append(
                f"{col}: method {a['method']}, but the column was built for {COLUMNS[col][1]}"
            )
        if a["method"] != b["method"]:
            problems.append(f"{col}: method prodml={a['method']} {label}={b['method']}")
        diff = _score_diff(a["score"], b["score"])
        max_diff = max(max_diff, diff)
        if diff > TOLERANCE:
            problems.append(
                f"{col}: drift score ({a['method']}) prodml={a['score']!r} "
                f"{label}={b['score']!r} |diff|={diff:.3g}"
            )
        if a["drift"] != b["drift"]:
            problems.append(
                f"{col}: verdict prodml drift={a['drift']} {label} drift={b['drift']} "
                f"(scores {a['score']!r} / {b['score']!r}, threshold {a['threshold']})"
            )
    if _score_diff(mine["share"], theirs["share"]) > 1e-12:
        problems.append(f"dataset: drifted share prodml={mine['share']} {label}={theirs['share']}")
    if mine["drift"] != theirs["drift"]:
        problems.append(f"dataset: verdict prodml={mine['drift']} {label}={theirs['drift']}")
    return max_diff, problems


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=None, help="rows per side (default 1000000; --quick 100000)"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    if rows <= WARMUP_ROWS:
        parser.error(f"--rows must be > {WARMUP_ROWS} (Evidently's defaults change at 1000 rows)")
    rounds = args.runs or 3
    me = Path(sys.executable)
    print(
        f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{mem_total_gb()} | {platform.python_implementation()} {platform.python_version()} | "
        f"{platform.platform()}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"data: {rows} reference + {rows} current rows x {len(COLUMNS)} columns "
        f"({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical), seed {SEED}; "
        f"{rounds} round(s), workloads interleaved"
    )

    peer_python: Path | None = None
    peer_note = ""
    if args.skip_peers:
        peer_note = "peer skipped with --skip-peers"
    else:
        try:
            peer_python = peer_venv("drift", BENCH_DIR / "peers" / "drift" / "requirements.txt")
            peer_python = peer_python / ("python.exe" if os.name == "nt" else "python")
        except PeerUnavailableError as exc:
            peer_note = str(exc)
            print(f"warning: {exc}")

    cfg: dict[str, Any] = {"rows": rows}
    samples: dict[str, list[dict[str, Any]]] = {"prodml": [], "prodml_pandas": [], "evidently": []}
    t_start = time.perf_counter()
    try:
        for r in range(rounds):
            samples["prodml"].append(run_child(me, "prodml", cfg))
            if peer_python is not None:
                samples["evidently"].append(run_child(peer_python, "evidently", cfg))
            samples["prodml_pandas"].append(run_child(me, "prodml", {**cfg, "pandas": True}))
            print(
                f"round {r + 1}/{rounds}: "
                + ", ".join(f"{k} {v[-1]['wall']:.3f} s" for k, v in samples.items() if v),
                flush=True,
            )
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    # answers: every round the same, the pandas path = the numpy path, prodml = Evidently
    problems: list[str] = []
    ref_answer = samples["prodml"][0]
    for label, runs in samples.items():
        for i, s in enumerate(runs):
            if label == "evidently" or (label == "prodml" and i == 0):
                continue
            _, p = compare(ref_answer, s, f"{label}[round {i + 1}]")
            problems += [f"prodml vs {label} round {i + 1}: {x}" for x in p]
    max_diff: float | None = None
    if samples["evidently"]:
        ev0 = samples["evidently"][0]
        for i, s in enumerate(samples["evidently"][1:], start=2):
            _, p = compare(ev0, s, f"evidently[round {i}]")
            problems += [f"evidently round 1 vs round {i}: {x}" for x in p]
        max_diff, p = compare(ref_answer, ev0, "evidently", check_design=True)
        problems += p
        # the pandas path is checked against Evidently too (its own max diff)
        max_diff = max(max_diff, compare(samples["prodml_pandas"][0], ev0, "evidently")[0])

    def med(label: str, key: str) -> float | None:
        vals = [s[key] for s in samples[label] if s.get(key) is not None]
        return statistics.median(vals) if vals else None

    ev_s = med("evidently", "wall")
    verdicts_same = None
    if samples["evidently"]:
        ev0 = samples["evidently"][0]
        verdicts_same = (
            all(
                ref_answer["columns"][c]["drift"] == ev0["columns"].get(c, {}).get("drift")
                for c in COLUMNS
            )
            and ref_answer["drift"] == ev0["drift"]
        )

    def speedup(prodml_s: float | None) -> str:
        if prodml_s is None or ev_s is None or prodml_s == 0:
            return "n/a"
        return f"{ev_s / prodml_s:.1f}x"

    def met(prodml_s: float | None) -> str:
        if prodml_s is None or ev_s is None:
            return "—"
        ok = ev_s / prodml_s >= TARGET_SPEEDUP and not problems
        return "yes" if ok else "NO"

    same_stats = (
        "—" if max_diff is None else f"{'yes' if max_diff <= TOLERANCE else 'NO'} ({max_diff:.2g})"
    )
    same_verdicts = "—" if verdicts_same is None else ("yes" if verdicts_same else "NO")
    size = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows / 1e6:g}M"
    table: list[list[object]] = []
    for label, what in (("prodml", "NumPy arrays"), ("prodml_pandas", "pandas DataFrames")):
        p_s = med(label, "wall")
        table.append(
            [
                f"drift {size}+{size} × {len(COLUMNS)} (prodml on {what})",  # noqa: RUF001
                p_s,
                ev_s,
                speedup(p_s),
                fmt_mb(med(label, "peak")),
                fmt_mb(med("evidently", "peak")),
                same_stats,
                same_verdicts,
                f"≥ {TARGET_SPEEDUP:g}x, same to {TOLERANCE:g}",
                met(p_s),
            ]
        )
    print_table(
        f"drift: {rows} + {rows} rows x {len(COLUMNS)} columns, prodml dataset_drift vs Evidently "
        f"DataDriftPreset, median of {rounds}",
        [
            "workload",
            "prodml s",
            "Evidently s",
            "speed-up",
            "prodml peak MB",
            "Evidently peak MB",
            "same statistics (max abs diff)",
            "same verdicts",
            "target",
            "met?",
        ],
        table,
    )

    versions = ref_answer["versions"]
    print(
        "prodml venv: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + (
            "; peer venv: "
            + ", ".join(f"{k} {v}" for k, v in samples["evidently"][0]["versions"].items())
            if samples["evidently"]
            else f"; {peer_note}"
        )
    )
    print(
        "timed: prodml dataset_drift(reference, current, kinds) / Evidently "
        "Report([DataDriftPreset()], include_tests=True).run(current, reference); not timed: "
        f"data generation, Evidently's Dataset.from_pandas (median {med('evidently', 'wall_dataset') or 0:.3f} s), "
        f"a warm-up on the first {WARMUP_ROWS} rows in each process"
    )
    for label, runs in samples.items():
        if runs:
            print(
                f"{label}: walls {', '.join(format(s['wall'], '.3f') for s in runs)} s; "
                f"RSS after imports {fmt_mb(med(label, 'rss_imports'))} MB, with the data "
                f"{fmt_mb(med(label, 'rss_data'))} MB, peak (VmHWM) {fmt_mb(med(label, 'peak'))} MB"
            )
    print()
    print("per column (prodml numpy-input round 1 vs Evidently round 1):")
    ev0 = samples["evidently"][0] if samples["evidently"] else None
    for col, (kind, _) in COLUMNS.items():
        a = ref_answer["columns"][col]
        line = f"  {col:24s} {kind:11s} {a['method']:13s} prodml {a['score']:.9f} drift={a['drift']!s:5s}"
        if ev0 is not None and col in ev0["columns"]:
            b = ev0["columns"][col]
            line += (
                f" | evidently {b['method']:13s} {b['score']:.9f} drift={b['drift']!s:5s}"
                f" |diff| {_score_diff(a['score'], b['score']):.2g}"
            )
        print(line)
    print(
        f"  dataset: prodml share {ref_answer['share']:.4f} drift={ref_answer['drift']}"
        + (
            f" | evidently share {ev0['share']:.4f} ({ev0['count']:g} columns) drift={ev0['drift']}"
            if ev0 is not None
            else ""
        )
    )
    near = [
        c
        for c, a in ref_answer["columns"].items()
        if a["threshold"] is not None and abs(a["score"] - a["threshold"]) < 100 * TOLERANCE
    ]
    if near:
        print(
            f"note: scores within {100 * TOLERANCE:g} of the threshold (fragile verdicts): {near}"
        )
    print(
        f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    if problems:
        print(f"\nDISAGREEMENT ({len(problems)}):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
