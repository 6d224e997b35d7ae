"""Drift: ``dataset_drift`` on 1M reference + 1M current rows x 20 columns, against Evidently.

Target (``/work/shared/BENCHMARKS.md``, row "drift"): prodml's per-column drift tests are
≥ 10 x faster than Evidently's ``DataDriftPreset`` on the same data, with the same statistics
to 1e-6 on the methods both use.

The data (``lib/drift_data.py``; NumPy ``default_rng`` from fixed seeds, one stream per column
and side, so every process builds exactly the same arrays): ``--rows`` rows per side (default
1M) of 14 numeric and 6 categorical columns:

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
* Evidently (``lib/drift_evidently.py``, in ``benchmarks/.venvs/drift`` from
  ``peers/drift/requirements.txt``: evidently 0.7.23 with pandas 2.3, the same NumPy and SciPy
  as prodml's venv): the arrays go into a pandas DataFrame per side (the arrays are then
  dropped), ``Dataset.from_pandas`` with ``DataDefinition(numerical_columns=...,
  categorical_columns=...)`` (timed apart, reported), then ``Report([DataDriftPreset()],
  include_tests=True).run(current, reference)`` is the timed work. Per-column method, score and
  threshold come from the ``ValueDrift`` metrics of ``snapshot.dict()``, the per-column verdict
  from their tests (``FAIL`` = drift), the dataset share from ``DriftedColumnsCount`` and the
  dataset verdict from its test.

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

import math
import sys
import time
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.checks import report_problems
from lib.children import ChildFailedError, child_main, run_child
from lib.drift_data import CATEGORICAL, COLUMNS, NUMERIC, SEED, WARMUP_ROWS, make_data
from lib.drift_evidently import child_evidently
from lib.env import BENCH_DIR, python_in
from lib.machine import end_line, loadavg, machine_line, versions, versions_text
from lib.memory import peak_mb, status_mb
from lib.peers import open_peer
from lib.table import fmt_mb, print_table, size_label
from lib.timing import median_of

TOLERANCE = 1e-6
TARGET_SPEEDUP = 10.0
CHILD_TIMEOUT_S = 3600
SCRIPT = Path(__file__)

Samples = dict[str, list[dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# prodml (this venv)
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
    return {
        "wall": wall,
        "columns": columns,
        "share": result.drifted_share,
        "drift": result.drift,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "peak": peak_mb(),
        "versions": versions("numpy", "scipy", "pandas"),
    }


WORKLOADS = {"prodml": child_prodml, "evidently": child_evidently}


def measure(rows: int, rounds: int, peer: Path | None) -> Samples:
    """``rounds`` rounds of prodml (NumPy input), Evidently, prodml (pandas input), each in its
    own process."""
    me = Path(sys.executable)
    cfg: dict[str, Any] = {"rows": rows}
    samples: Samples = {"prodml": [], "prodml_pandas": [], "evidently": []}

    def child(python: Path, kind: str, config: dict[str, Any]) -> dict[str, Any]:
        return run_child(
            SCRIPT, kind, config, python=python, cwd=BENCH_DIR, timeout=CHILD_TIMEOUT_S
        )

    for r in range(rounds):
        samples["prodml"].append(child(me, "prodml", cfg))
        if peer is not None:
            samples["evidently"].append(child(peer, "evidently", cfg))
        samples["prodml_pandas"].append(child(me, "prodml", {**cfg, "pandas": True}))
        print(
            f"round {r + 1}/{rounds}: "
            + ", ".join(f"{k} {v[-1]['wall']:.3f} s" for k, v in samples.items() if v),
            flush=True,
        )
    return samples


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


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


def check(samples: Samples) -> tuple[list[str], float | None, bool | None]:
    """Every round the same, the pandas path = the NumPy path, prodml = Evidently: the
    problems, the max score difference to Evidently, whether the verdicts are the same."""
    problems: list[str] = []
    ref_answer = samples["prodml"][0]
    for label, runs in samples.items():
        for i, s in enumerate(runs):
            if label == "evidently" or (label == "prodml" and i == 0):
                continue
            _, p = compare(ref_answer, s, f"{label}[round {i + 1}]")
            problems += [f"prodml vs {label} round {i + 1}: {x}" for x in p]
    if not samples["evidently"]:
        return problems, None, None
    ev0 = samples["evidently"][0]
    for i, s in enumerate(samples["evidently"][1:], start=2):
        _, p = compare(ev0, s, f"evidently[round {i}]")
        problems += [f"evidently round 1 vs round {i}: {x}" for x in p]
    max_diff, p = compare(ref_answer, ev0, "evidently", check_design=True)
    problems += p
    # the pandas path is checked against Evidently too (its own max diff)
    max_diff = max(max_diff, compare(samples["prodml_pandas"][0], ev0, "evidently")[0])
    verdicts_same = (
        all(
            ref_answer["columns"][c]["drift"] == ev0["columns"].get(c, {}).get("drift")
            for c in COLUMNS
        )
        and ref_answer["drift"] == ev0["drift"]
    )
    return problems, max_diff, verdicts_same


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------


def report(
    rows: int,
    rounds: int,
    samples: Samples,
    checked: tuple[list[str], float | None, bool | None],
) -> None:
    problems, max_diff, verdicts_same = checked
    ev_s = median_of(samples["evidently"], "wall")

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
    size = size_label(rows)
    table: list[list[object]] = []
    for label, what in (("prodml", "NumPy arrays"), ("prodml_pandas", "pandas DataFrames")):
        p_s = median_of(samples[label], "wall")
        table.append(
            [
                f"drift {size}+{size} × {len(COLUMNS)} (prodml on {what})",  # noqa: RUF001
                p_s,
                ev_s,
                speedup(p_s),
                fmt_mb(median_of(samples[label], "peak")),
                fmt_mb(median_of(samples["evidently"], "peak")),
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


def details(samples: Samples, peer_note: str) -> None:
    """Versions, what was timed, walls and memory per process, the per-column scores."""
    ref_answer = samples["prodml"][0]
    ev0 = samples["evidently"][0] if samples["evidently"] else None
    print(
        "prodml venv: "
        + versions_text(ref_answer["versions"])
        + (f"; peer venv: {versions_text(ev0['versions'])}" if ev0 else f"; {peer_note}")
    )
    print(
        "timed: prodml dataset_drift(reference, current, kinds) / Evidently "
        "Report([DataDriftPreset()], include_tests=True).run(current, reference); not timed: "
        "data generation, Evidently's Dataset.from_pandas "
        f"(median {median_of(samples['evidently'], 'wall_dataset') or 0:.3f} s), "
        f"a warm-up on the first {WARMUP_ROWS} rows in each process"
    )
    for label, runs in samples.items():
        if runs:
            print(
                f"{label}: walls {', '.join(format(s['wall'], '.3f') for s in runs)} s; "
                f"RSS after imports {fmt_mb(median_of(runs, 'rss_imports'))} MB, with the data "
                f"{fmt_mb(median_of(runs, 'rss_data'))} MB, "
                f"peak (VmHWM) {fmt_mb(median_of(runs, 'peak'))} MB"
            )
    print()
    print("per column (prodml numpy-input round 1 vs Evidently round 1):")
    for col, (kind, _) in COLUMNS.items():
        a = ref_answer["columns"][col]
        line = (
            f"  {col:24s} {kind:11s} {a['method']:13s} prodml {a['score']:.9f} "
            f"drift={a['drift']!s:5s}"
        )
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


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0], children=True)
    parser.add_argument(
        "--rows", type=int, default=None, help="rows per side (default 1000000; --quick 100000)"
    )
    args = parser.parse_args()
    if args.child:
        return child_main(WORKLOADS, *args.child)

    rows = args.rows or (100_000 if args.quick else 1_000_000)
    if rows <= WARMUP_ROWS:
        parser.error(f"--rows must be > {WARMUP_ROWS} (Evidently's defaults change at 1000 rows)")
    rounds = args.runs or 3
    print(machine_line())
    print(f"load average at start: {loadavg()}")
    print(
        f"data: {rows} reference + {rows} current rows x {len(COLUMNS)} columns "
        f"({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical), seed {SEED}; "
        f"{rounds} round(s), workloads interleaved"
    )
    peer_bin, peer_note = open_peer("drift", skip=args.skip_peers)
    t_start = time.perf_counter()
    try:  # build (in each child) -> prodml -> peer
        samples = measure(rows, rounds, python_in(peer_bin) if peer_bin else None)
    except ChildFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    checked = check(samples)  # compare
    report(rows, rounds, samples, checked)  # table
    details(samples, peer_note)
    print(end_line(t_start))
    return report_problems(checked[0])


if __name__ == "__main__":
    sys.exit(main())
