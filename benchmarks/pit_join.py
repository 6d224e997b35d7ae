"""Point-in-time join: 1M spine rows x 10M feature rows in 3 tables with TTLs, against Feast.

Target (``/work/shared/BENCHMARKS.md``, row "point-in-time join"): prodml's
``point_in_time_join`` gives the rows Feast's DuckDB offline store gives, ≥ 3 x faster than it
and ≥ 30 x faster than Feast's default file (Dask) offline store, with at most half the peak
memory.

The data (``lib/pit_join_data.py``; NumPy ``default_rng`` from fixed seeds; ``make_data``,
untimed, cached under
``benchmarks/.work/pit_join/<spine>x<features>/`` until the parameters change), all timestamps
``timestamp[us, tz=UTC]`` in Parquet:

* ``spine.parquet`` (``--spine-rows``, default 1M): ``row_id`` (0..n-1, the spine's order),
  ``customer_id``, ``merchant_id``, ``label_ts``, ``label``. Random times over the year plus
  rows placed on purpose: exactly at a feature row's event time (inclusive upper bound), exactly
  at event time + TTL (inclusive TTL bound), 1 µs past it (expired), 1 µs before an event, ~2 %
  exact duplicates of another row's keys and time (different ``label``), ~5 % customers that
  appear in no feature table, and times before any feature exists.
* three feature tables (``--feature-rows``, default 10M, split 50/30/20 %), each with
  ``event_ts``, ``created_ts`` (event + up to 1 h; ~2 % of the rows repeat another row's keys
  and event time with a different ``created_ts``, so the tie-break decides; no two rows tie on
  both) and a few features:

  * ``customer_profile`` (50 %), key ``customer_id``, TTL 30 days: p_balance (float, 1 % NULL),
    p_score, p_orders (int);
  * ``customer_activity`` (30 %), key ``customer_id`` (every 5th customer has none), TTL 7
    days: a_amount, a_count (int), a_segment (string, 1 % NULL);
  * ``customer_merchant`` (20 %), keys ``customer_id``, ``merchant_id``, no TTL: m_spend,
    m_visits (int).

Each workload runs in its own child process (this script re-invoked with ``--child``), so its
peak memory (``VmHWM``) is its own; each first runs once, untimed, on the first 1,000 spine rows
(imports, lazy initialisation, page cache), then once timed on the whole spine. ``--runs``
rounds (default 3, ``--quick`` 1) run the workloads round-robin and the table shows medians;
the file store, slow, runs in the first ``--file-store-runs`` rounds only (default 1;
``--skip-file-store`` leaves it out):

* prodml (this venv): ``point_in_time_join(ds.dataset(spine.parquet), timestamp="label_ts",
  sources=[FeatureSource(..., data=ds.dataset(<table>.parquet), created="created_ts",
  ttl=...)])`` — from the Parquet files on disk to a ``pyarrow.Table``.
* Feast (``lib/pit_join_feast.py``, in ``benchmarks/.venvs/feast`` from
  ``peers/feast/requirements.txt``): a throw-away repo in
  a temporary directory (``RepoConfig`` with a file registry, ``Entity``, ``FeatureView(ttl=...)``
  over ``FileSource(path=<table>.parquet, timestamp_field="event_ts",
  created_timestamp_column="created_ts")``, ``store.apply``), untimed; the spine read into the
  pandas DataFrame Feast needs as ``entity_df`` (untimed, reported); then the timed work is
  ``store.get_historical_features(entity_df, features=[...]).to_arrow()``, once with
  ``offline_store: duckdb`` and once with the default ``file`` store (Dask). A table without a
  TTL is ``ttl=timedelta(0)`` (Feast: lives forever).

Checks (exit 3 when one fails): prodml's result keeps every spine row in the spine's order, and
has the same columns and the same rows as Feast-DuckDB's after sorting both by ``row_id``:
NULLs in the same places, floats equal to 1e-12, everything else exactly. Feast's file store
is *not* a correctness reference (it drops spine rows whose keys have rows but none in the
window, merges spine rows with equal keys and time, and does not reliably break event-time ties
by the created time: it sorts by created, then non-stably by event time): its row count, the
spine rows it lost, and whether the rows it did return carry Feast-DuckDB's values are
reported, not judged.

Every child runs with ``FEAST_USAGE=False`` and the telemetry switches of ``lib.env``; the
children refuse to open internet sockets (``socket.connect`` to a non-loopback address raises).
A child that runs past ``--peer-timeout`` seconds or above ``--mem-limit-mb`` resident memory is
killed and reported as such (``timeout > N s`` / ``killed > N MB``) instead of a time.

Exit status: 0 when the answers agree (even if the speed target is missed), 3 on a
disagreement, 1 when a workload fails.

    .venv/bin/python benchmarks/pit_join.py                 # 1M spine x 10M feature rows
    .venv/bin/python benchmarks/pit_join.py --quick         # 20k x 200k smoke run
    .venv/bin/python benchmarks/pit_join.py --golden tests/features/pit_golden.json

(``--warmup N`` of the shared flags is not used: the warm-up is the small in-process run.)

``--golden PATH`` checks hand-written cases instead (``lib/pit_join_golden.py``; JSON:
``{"cases": [{"name", "spine": {"columns", "keys", "timestamp"}, "tables": [{"name", "keys",
"timestamp", "created", "features", "ttl_seconds", "columns"}], "expected": {"columns"}}]}``,
timestamps as ISO-8601 strings with an offset, normalised to UTC; the expected columns are the
spine's columns then each table's features, rows in spine order): every case runs through
Feast-DuckDB in the peer venv, and (when importable) through prodml here, and each answer is
compared with the case's ``expected`` rows. A case may carry ``"feast_differs": "<why>"`` to
record a known, intended difference from Feast; its mismatch is then reported but not counted.
Exit 3 when Feast disagrees with an expected answer (or prodml does).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.checks import report_problems
from lib.children import ChildFailedError, child_main, run_child, timed_start
from lib.env import BENCH_DIR, python_in, work_dir
from lib.machine import end_line, loadavg, machine_line, versions, versions_text
from lib.memory import mem_total_mb, peak_mb, status_mb
from lib.peers import open_peer
from lib.pit_join_compare import compare_results, file_store_report, normalise
from lib.pit_join_data import (
    CREATED_TS,
    EVENT_TS,
    OUTPUT_COLUMNS,
    ROW_ID,
    SEED,
    SPINE_TS,
    TABLES,
    WARMUP_ROWS,
    make_data,
    table_sizes,
)
from lib.pit_join_feast import child_feast
from lib.pit_join_golden import child_golden, run_golden
from lib.table import fmt_mb, print_table, size_label
from lib.timing import median_of

TARGET_VS_DUCKDB = 3.0
TARGET_VS_FILE = 30.0
TARGET_MEMORY = 0.5
CHILD_ENV = {"FEAST_USAGE": "False"}
SCRIPT = Path(__file__)

Samples = dict[str, list[dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# prodml (this venv); Feast is lib/pit_join_feast.py, the data lib/pit_join_data.py
# --------------------------------------------------------------------------------------------


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml's ``point_in_time_join`` from the Parquet files (datasets) to an Arrow table."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from prodml.features.pit import FeatureSource, point_in_time_join

    data = Path(cfg["data"])
    rss_imports = status_mb("VmRSS")
    sources = [
        FeatureSource(
            name=t.name,
            data=ds.dataset(data / f"{t.name}.parquet", format="parquet"),
            keys=list(t.keys),
            timestamp=EVENT_TS,
            features=list(t.features),
            created=CREATED_TS,
            ttl=t.ttl,
        )
        for t in TABLES
    ]
    spine = ds.dataset(data / "spine.parquet", format="parquet")
    point_in_time_join(spine.head(WARMUP_ROWS), timestamp=SPINE_TS, sources=sources)  # warm-up
    rss_data = status_mb("VmRSS")
    timed_start(cfg)
    t0 = time.perf_counter()
    result = point_in_time_join(spine, timestamp=SPINE_TS, sources=sources)
    wall = time.perf_counter() - t0
    peak = peak_mb()
    pq.write_table(result, cfg["out"])
    return {
        "wall": wall,
        "rows": result.num_rows,
        "peak": peak,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "versions": versions("prodml", "duckdb", "pyarrow"),
    }


WORKLOADS = {"prodml": child_prodml, "feast": child_feast, "golden": child_golden}


@dataclass
class Runs:
    """Each workload's samples; the ones that failed (why) and, for a timeout, how long the
    timed part had run at least."""

    samples: Samples
    failed: dict[str, str] = field(default_factory=dict)
    lower_bounds: dict[str, float] = field(default_factory=dict)


def workloads(data: Path, peer: Path | None, skip_file_store: bool) -> dict[str, Any]:
    """label -> (python, config, workload kind)."""
    results = work_dir("pit_join") / "results"
    results.mkdir(exist_ok=True)
    base = {"data": str(data), "tmp": str(work_dir("pit_join"))}
    out: dict[str, tuple[Path, dict[str, Any], str]] = {
        "prodml": (Path(sys.executable), {**base, "out": str(results / "prodml.parquet")}, "prodml")
    }
    if peer is not None:
        for offline, label in (("duckdb", "feast_duckdb"), ("file", "feast_file")):
            if offline == "file" and skip_file_store:
                continue
            cfg = {**base, "offline": offline, "out": str(results / f"{label}.parquet")}
            out[label] = (peer, cfg, "feast")
    return out


def measure(work: dict[str, Any], rounds: int, args: Any, mem_limit: float) -> Runs | None:
    """``rounds`` rounds, the workloads round-robin (the file store in the first
    ``--file-store-runs`` only). None when prodml itself fails."""
    runs = Runs({k: [] for k in work})
    for r in range(rounds):
        ran: list[str] = []
        for label, (python, cfg, kind) in work.items():
            if label in runs.failed or (label == "feast_file" and r >= args.file_store_runs):
                continue
            try:
                res = run_child(
                    SCRIPT,
                    kind,
                    cfg,
                    python=python,
                    extra_env=CHILD_ENV,
                    cwd=BENCH_DIR,
                    timeout=args.peer_timeout,
                    mem_limit_mb=mem_limit,
                )
            except ChildFailedError as exc:
                runs.failed[label] = exc.killed or str(exc)
                if exc.timed_lower_bound is not None and "timeout" in runs.failed[label]:
                    runs.lower_bounds[label] = exc.timed_lower_bound
                print(f"{label}: {exc}", file=sys.stderr)
                ran.append(f"{label} {runs.failed[label].splitlines()[0]}")
                if label == "prodml" and not exc.killed:
                    return None
                continue
            runs.samples[label].append(res)
            ran.append(f"{label} {res['wall']:.3f} s ({fmt_mb(res['peak'])} MB)")
        print(f"round {r + 1}/{rounds}: {', '.join(ran)}", flush=True)
    return runs


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


def check(data: Path, samples: Samples) -> tuple[list[str], str, str]:
    """prodml keeps the spine's rows in its order and equals Feast-DuckDB's rows; the file
    store is reported. Returns the problems, the "rows equal" cell and the file-store note."""
    import pyarrow.parquet as pq

    results = work_dir("pit_join") / "results"
    problems: list[str] = []
    spine = pq.read_table(data / "spine.parquet")
    mine = mine_schema = None
    if samples["prodml"]:
        raw = pq.read_table(results / "prodml.parquet")
        mine_schema = raw.schema
        if raw.column_names != OUTPUT_COLUMNS:
            problems.append(f"prodml columns {raw.column_names} != {OUTPUT_COLUMNS}")
        if not raw.column(ROW_ID).equals(spine.column(ROW_ID)):
            problems.append("prodml: the result's rows are not the spine's rows in spine order")
        mine = normalise(raw)
    ref = None
    rows_equal = "—"
    if samples.get("feast_duckdb"):
        raw = pq.read_table(results / "feast_duckdb.parquet")
        if sorted(raw.column_names) != sorted(OUTPUT_COLUMNS):
            problems.append(f"Feast-DuckDB columns {raw.column_names} (expected {OUTPUT_COLUMNS})")
        elif raw.column_names != OUTPUT_COLUMNS:
            print(f"note: Feast-DuckDB column order {raw.column_names}")
        ref = normalise(raw)
        if mine_schema is not None and not raw.schema.equals(mine_schema):
            print(
                f"note: result types differ before normalising: prodml {mine_schema}, "
                f"Feast-DuckDB {raw.schema}"
            )
        if mine is not None:
            p, _ = compare_results(mine, ref, "Feast-DuckDB")
            problems += p
            rows_equal = "yes" if not p else "NO"
    file_note = ""
    if samples.get("feast_file") and ref is not None:
        file_res = normalise(pq.read_table(results / "feast_file.parquet"), nan_as_null=True)
        file_note = file_store_report(file_res, ref, spine)
    return problems, rows_equal, file_note


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------


def report(
    sizes: tuple[int, int], rounds: int, args: Any, runs: Runs, problems: list[str], equal: str
) -> None:
    samples, failed, lower_bounds = runs.samples, runs.failed, runs.lower_bounds
    spine_rows, feature_rows = sizes

    def med(label: str, key: str) -> float | None:
        return median_of(samples.get(label, []), key)

    p_s, p_mb = med("prodml", "wall"), med("prodml", "peak")

    def cell(label: str, key: str) -> str:
        if label in failed and not samples.get(label):
            if key == "wall" and label in lower_bounds:
                return f"timeout (> {lower_bounds[label]:.0f})"
            return "—" if key == "peak" else str(failed[label].splitlines()[0])
        v = med(label, key)
        return "—" if v is None else (fmt_mb(v) if key == "peak" else f"{v:.3f}")

    def speed(label: str) -> str:
        v = med(label, "wall")
        if v is None and label in lower_bounds and p_s:
            return f"> {lower_bounds[label] / p_s:.0f}x"
        return "n/a" if v is None or p_s is None else f"{v / p_s:.1f}x"

    def mem_ratio(label: str) -> str:
        v = med(label, "peak")
        return "n/a" if v is None or p_mb is None else f"{p_mb / v:.2f}"

    def met(label: str, target: float) -> str:
        v, m = med(label, "wall"), med(label, "peak")
        if v is None or p_s is None or m is None or p_mb is None:
            return "—"
        ok = v / p_s >= target and p_mb / m <= TARGET_MEMORY and not problems
        return "yes" if ok else "NO"

    def row(label: str, what: str, rows: str, target: str, goal: float) -> list[object]:
        return [
            f"pit join {size}, vs {what}",
            cell("prodml", "wall"),
            cell(label, "wall"),
            speed(label),
            cell("prodml", "peak"),
            cell(label, "peak"),
            mem_ratio(label),
            rows,
            target,
            met(label, goal),
        ]

    size = f"{size_label(spine_rows)} × {size_label(feature_rows)}"  # noqa: RUF001
    memory = f"mem ≤ {TARGET_MEMORY:g}"
    target = f"≥ {TARGET_VS_DUCKDB:g}x, {memory}, same rows"
    table = [row("feast_duckdb", "Feast-DuckDB", equal, target, TARGET_VS_DUCKDB)]
    if "feast_file" in samples:
        file_rows = (
            f"{int(med('feast_file', 'rows') or 0)} rows (not the reference)"
            if samples.get("feast_file")
            else "—"
        )
        target = f"≥ {TARGET_VS_FILE:g}x, {memory}"
        table.append(
            row("feast_file", "Feast file store (Dask)", file_rows, target, TARGET_VS_FILE)
        )
    print_table(
        f"point-in-time join: {spine_rows} spine rows x {feature_rows} feature rows in 3 tables "
        f"(TTL 30 d / 7 d / none), prodml point_in_time_join vs Feast get_historical_features, "
        f"median of {rounds} (file store: {min(rounds, args.file_store_runs)})",
        [
            "workload",
            "prodml s",
            "Feast s",
            "speed-up",
            "prodml peak MB",
            "Feast peak MB",
            "peak prodml/Feast",
            "rows equal",
            "target",
            "met?",
        ],
        table,
    )


def details(runs: Runs, peer_note: str, file_note: str) -> None:
    """Versions, what was timed, walls and memory per workload, the file store's answer."""
    samples, failed = runs.samples, runs.failed
    if samples["prodml"]:
        print(f"prodml venv: {versions_text(samples['prodml'][0]['versions'])}")
    peer = samples.get("feast_duckdb") or samples.get("feast_file")
    if peer:
        print(f"peer venv: {versions_text(peer[0]['versions'])}")
    elif peer_note:
        print(f"peer: {peer_note}")

    def feast_info(key: str) -> str:
        v = median_of(samples.get("feast_duckdb", []), key) or median_of(
            samples.get("feast_file", []), key
        )
        return "—" if v is None else f"{v:.2f}"

    print(
        "timed: prodml point_in_time_join(datasets of the Parquet files) -> pyarrow.Table / Feast "
        "store.get_historical_features(entity_df, features).to_arrow() over FileSources of the "
        "same files; not timed: data generation, Feast repo setup + apply "
        f"(median {feast_info('wall_setup')} s), reading the spine into the "
        f"pandas entity_df (median {feast_info('wall_spine')} s), "
        f"a warm-up on the first {WARMUP_ROWS} spine rows in each process"
    )
    for label, done in samples.items():
        if done:
            print(
                f"{label}: walls {', '.join(format(s['wall'], '.3f') for s in done)} s; "
                f"rows {done[0]['rows']}; RSS after imports "
                f"{fmt_mb(median_of(done, 'rss_imports'))} MB, after the warm-up "
                f"{fmt_mb(median_of(done, 'rss_data'))} MB, "
                f"peak (VmHWM) {fmt_mb(median_of(done, 'peak'))} MB"
            )
        elif label in failed:
            print(f"{label}: {failed[label].splitlines()[0]}")
    if file_note:
        print(f"Feast file store (not a correctness reference): {file_note}")


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0], children=True)
    parser.add_argument("--spine-rows", type=int, default=None, help="default 1M (--quick 20k)")
    parser.add_argument(
        "--feature-rows",
        type=int,
        default=None,
        help="total over 3 tables; default 10M (--quick 200k)",
    )
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help="kill a child after S seconds and report 'timeout > S s' (default 1800)",
    )
    parser.add_argument(
        "--mem-limit-mb",
        type=float,
        default=None,
        metavar="MB",
        help="kill a child above this RSS (default: 85%% of RAM)",
    )
    parser.add_argument(
        "--file-store-runs",
        type=int,
        default=1,
        metavar="N",
        help="timed runs of Feast's file store (default 1: it is slow)",
    )
    parser.add_argument("--skip-file-store", action="store_true", help="do not run the file store")
    parser.add_argument("--golden", type=Path, metavar="PATH", help="check golden cases instead")
    args = parser.parse_args()
    if args.child:
        return child_main(WORKLOADS, *args.child, network="pit_join")

    peer_bin, peer_note = open_peer("feast", skip=args.skip_peers)
    peer = python_in(peer_bin) if peer_bin else None
    if args.golden:
        return run_golden(SCRIPT, args.golden, peer, peer_note)

    spine_rows = args.spine_rows or (20_000 if args.quick else 1_000_000)
    feature_rows = args.feature_rows or (200_000 if args.quick else 10_000_000)
    rounds = args.runs or (1 if args.quick else 3)
    mem_limit = args.mem_limit_mb or 0.85 * mem_total_mb()
    print(machine_line())
    print(f"load average at start: {loadavg()}")
    t0 = time.perf_counter()
    data = make_data(spine_rows, feature_rows)  # build
    sizes = table_sizes(feature_rows)
    print(
        f"data: {spine_rows} spine rows, {feature_rows} feature rows "
        f"({', '.join(f'{t.name} {n}' for t, n in zip(TABLES, sizes, strict=True))}), "
        f"seed {SEED}, in {data} (ready in {time.perf_counter() - t0:.1f} s); "
        f"{rounds} round(s), workloads interleaved"
    )
    t_start = time.perf_counter()
    runs = measure(workloads(data, peer, args.skip_file_store), rounds, args, mem_limit)
    if runs is None:  # prodml failed
        return 1
    problems, rows_equal, file_note = check(data, runs.samples)  # compare
    report((spine_rows, feature_rows), rounds, args, runs, problems, rows_equal)  # table
    details(runs, peer_note, file_note)
    print(end_line(t_start))
    code = report_problems(problems)
    if code == 0 and "prodml" in runs.failed:
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
