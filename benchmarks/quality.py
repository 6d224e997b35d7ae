"""Data quality: 10M rows x 10 columns, 19 expectations, prodml against Great Expectations 1.x.

Target (``/work/shared/BENCHMARKS.md``, row "data quality"): prodml's evaluation is ≥ 5 x
faster than Great Expectations 1.x on pandas, with ≤ ½ its peak memory and the same verdicts.

Data (``lib/quality_data.py``; generated once per ``--rows`` under ``benchmarks/.work/quality``,
git-ignored, as one Parquet file that both sides load, untimed): NumPy ``default_rng(SEED)``,
ROWS rows (default 10M) of 10 columns:

* ``id`` int64, unique but for ``few`` duplicate *pairs* (``few`` = rows / 100k, at least 1);
* ``customer_id`` int64 in [0, 20000); the reference table holds those keys except every
  997th (21 keys absent), so ~0.1 % of the rows point nowhere;
* ``category`` string, 8 values, plus ``few`` rows ``"Toys"`` (not allowed) and ``few`` nulls;
* ``code`` string ``AAA-0000``, with 10 x ``few`` rows malformed (lower-case letter or ``_``);
* ``amount`` float64 (gamma), ``cost`` float64 (≤ amount, but ``2 x few`` rows above it);
* ``quantity`` int64 in [1, 99], ``few`` rows 0;
* ``discount`` float64 in [0, 0.5), 1 % null, ``5 x few`` rows above 0.5;
* ``score`` float64 in [0, 1); ``event_ts`` timestamp[us] over the 30 days before NOW
  (2024-06-01 UTC), newest 30 min before NOW.

The generator also computes, with NumPy, the true result of every rule (in each tool's
counting convention): both tools are checked against it and against each other.

The 19 expectations, one prodml rule ↔ one GE core expectation each:

=====  ===========================================  ============================================
 n      prodml rule                                  Great Expectations 1.x
=====  ===========================================  ============================================
 1-5    not_null id, customer_id, category, code,    ExpectColumnValuesToNotBeNull
        discount
 6      unique [id]                                  ExpectColumnValuesToBeUnique
 7-11   range amount, cost, quantity, discount,      ExpectColumnValuesToBeBetween
        score
 12     allowed_values category                      ExpectColumnValuesToBeInSet
 13     pattern code ``^[A-Z]{3}-[0-9]{4}$``         ExpectColumnValuesToMatchRegex
 14     referential customer_id → reference table    ExpectColumnValuesToBeInSet(reference keys)
 15     expression ``cost <= amount``                ExpectColumnPairValuesAToBeGreaterThanB
                                                     (amount, cost, or_equal=True)
 16     row_count [rows, rows]                       ExpectTableRowCountToBeBetween
 17     schema (10 columns with their types)         ExpectTableColumnsToMatchSet(exact_match=F)
 18     schema {score: integer} (fails)              ExpectColumnValuesToBeOfType(score, int64)
 19     freshness event_ts ≤ 24 h at NOW             ExpectColumnMaxToBeBetween(event_ts,
                                                     min_value=NOW - 24 h)
=====  ===========================================  ============================================

What "the same answer" means (checked per rule; exit 3 if any check fails):

* verdict: prodml ``passed`` = GE ``success`` = the NumPy truth, for all 19;
* row rules: prodml ``failed_rows`` = GE ``result["unexpected_count"]`` = truth, except
  ``unique``: GE counts every row of a duplicated key (2 per pair), prodml only the rows after
  the first (1 per pair); each is checked against the truth in its own convention;
* the regex is anchored, so GE's ``re.search`` semantics equal prodml's full match;
* nulls are not judged by range / allowed_values / pattern / referential in either tool, so the
  columns with nulls (category, discount) exercise that; ``amount`` and ``cost`` have no nulls
  (prodml's expression counts a null as failing, GE's pair rule skips rows only when both are
  missing); there is no NaN (prodml's range flags NaN, pandas treats it as missing);
* table rules: verdict, plus the observed value where both report one: row_count (rows) and
  freshness (age in hours = NOW - GE's observed max); the schema rules are verdict only (GE's
  set rule compares names, prodml's schema rule names and types).

Each measured workload runs in its own process (prodml in this venv, GE, ``lib/quality_ge.py``,
in ``benchmarks/.venvs/quality`` from ``peers/quality/requirements.txt``), rounds alternating the
order (ABBA). Each process loads the Parquet file (prodml: ``pyarrow.parquet.read_table``; GE:
``pandas.read_parquet``, pandas 3 with Arrow-backed strings), builds its rules (prodml:
``TypeAdapter(list[Expectation])``; GE: ephemeral context, pandas data source, dataframe asset,
whole-dataframe batch definition, ExpectationSuite, ValidationDefinition), runs ``--warmup``
untimed validations of the first 10k rows, then times one validation of the whole table:

* prodml: ``evaluate(duckdb.connect(), table, rules, ...)`` (DuckDB with its default threads,
  i.e. the machine's cores; the CPU seconds are printed too);
* GE: ``validation_definition.run(batch_parameters={"dataframe": df}, result_format="BASIC")``
  (BASIC: the cheapest format that still reports unexpected counts).

Memory: the peak RSS of the process *during the timed validation*: the kernel's high-water
mark (``VmHWM``) is reset through ``/proc/self/clear_refs`` just before it and read just after
(a 5 ms sampler when that is not possible). It includes the loaded data (Arrow table for prodml,
pandas DataFrame for GE) plus what the validation allocates; the growth over the RSS just before
is printed as well, and so is each process's lifetime peak (``ru_maxrss``, which also counts the
Parquet load). After loading, both children return pyarrow's freed pool pages to the OS
(``default_memory_pool().release_unused()``): otherwise ~570 MB of the Parquet reader's buffers
stay resident in prodml's process (its table *is* the reader's Arrow data) and count as its
memory, although no array uses them.

Exit status: 0 even when a target is missed; 1 on errors; 3 when an answer disagrees.

    .venv/bin/python benchmarks/quality.py                   # 10M rows, 3 rounds
    .venv/bin/python benchmarks/quality.py --rows 1000000    # quicker (also --quick)
    .venv/bin/python benchmarks/quality.py --skip-peers      # prodml alone
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.checks import report_problems
from lib.children import ChildFailedError, child_main, run_child
from lib.env import python_in, work_dir
from lib.machine import end_line, loadavg, machine_line, versions, versions_text
from lib.memory import HighWater, mb
from lib.peers import open_peer
from lib.quality_data import (
    ALL_DUPLICATES,
    COLUMNS,
    DATA_VERSION,
    NOW,
    ROWS,
    SEED,
    TABLE,
    WARMUP_ROWS,
    expectation_specs,
    make_data,
    reference_keys,
    release_load_memory,
)
from lib.quality_ge import child_ge
from lib.table import fmt_mb, print_table, ratio, size_label
from lib.timing import median_of

TARGET_SPEEDUP = 5.0
TARGET_MEMORY = 0.5
SCRIPT = Path(__file__)

Samples = dict[str, list[dict[str, Any]]]


# --------------------------------------------------------------------------------------------
# build (the data, once per row count) and prodml (this venv); GE is lib/quality_ge.py
# --------------------------------------------------------------------------------------------


def child_generate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Write the Parquet file and the truth (JSON) for ``cfg['rows']`` rows."""
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    table, truth = make_data(cfg["rows"])
    tmp = Path(cfg["data"]).with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(cfg["data"])
    Path(cfg["truth"]).write_text(json.dumps(truth, indent=1))
    return {"wall": time.perf_counter() - t0, "bytes": Path(cfg["data"]).stat().st_size}


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml: ``evaluate`` (one DuckDB pass) over the Arrow table."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pydantic import TypeAdapter

    from prodml.config.expectations import Expectation
    from prodml.quality.engine import evaluate

    specs = expectation_specs(cfg["rows"])
    rules = TypeAdapter(list[Expectation]).validate_python([s["prodml"] for s in specs])
    data = pq.read_table(cfg["data"])
    release_load_memory()
    reference = pa.table({"customer_id": reference_keys()})
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )

    def run(table: Any) -> Any:
        return evaluate(
            con,
            table,
            rules,
            table="bench.events",
            reference=lambda name: reference,
            history=lambda rule: [],
            now=NOW,
        )

    for _ in range(cfg["warmup"]):
        run(data.slice(0, WARMUP_ROWS))
    with HighWater() as sec:
        ev = run(data)
    results = {
        r.rule: {
            "passed": r.passed,
            "count": r.failed_rows,
            "observed": r.observed,
            "message": r.message,
        }
        for r in ev.results
    }
    threads = con.sql("SELECT current_setting('threads')").fetchall()
    return {
        **sec.facts(),
        "results": results,
        "rows": ev.rows_in,
        "threads": threads[0][0] if threads else None,
        "versions": versions_text(versions("prodml", "duckdb", "pyarrow", "numpy")),
    }


WORKLOADS = {"generate": child_generate, "prodml": child_prodml, "ge": child_ge}


def prepare(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Parquet file and its truth (generated in a child when missing); returns the truth."""
    n = cfg["rows"]
    if not (Path(cfg["data"]).is_file() and Path(cfg["truth"]).is_file()):
        gen = run_child(SCRIPT, "generate", cfg)
        print(
            f"data: generated {n} rows x {len(COLUMNS)} columns in {gen['wall']:.1f} s "
            f"-> {cfg['data']} ({gen['bytes'] / 2**20:.0f} MB Parquet)",
            flush=True,
        )
    else:
        print(f"data: reusing {cfg['data']}")
    truth: dict[str, dict[str, Any]] = json.loads(Path(cfg["truth"]).read_text())
    return truth


def measure(cfg: dict[str, Any], rounds: int, peer: Path | None) -> Samples:
    """``rounds`` rounds of prodml and GE, each in its own process, the order alternating."""
    samples: Samples = {"prodml": [], "ge": []}
    for r in range(rounds):
        order = ["prodml", "ge"] if r % 2 == 0 else ["ge", "prodml"]
        for kind in order:
            if kind == "ge" and peer is None:
                continue
            samples[kind].append(
                run_child(SCRIPT, kind, cfg, python=peer if kind == "ge" else None)
            )
        print(
            f"round {r + 1}/{rounds}: "
            + ", ".join(
                f"{k} {v[-1]['wall']:.2f} s (peak {fmt_mb(mb(v[-1]['peak']))} MB)"
                for k, v in samples.items()
                if v
            ),
            flush=True,
        )
    return samples


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def compare(
    specs: list[dict[str, Any]],
    truth: dict[str, dict[str, Any]],
    prodml: dict[str, Any],
    ge: dict[str, Any] | None,
) -> tuple[list[str], list[str], bool]:
    """Per-rule lines, problems, and whether prodml's verdicts equal GE's."""
    lines: list[str] = []
    problems: list[str] = []
    same_verdicts = ge is not None
    for s in specs:
        name, t = s["name"], truth[s["name"]]
        p = prodml.get(name)
        g = ge.get(name) if ge is not None else None
        if p is None:
            problems.append(f"{name}: prodml returned no result")
            continue
        if ge is not None and g is None:
            problems.append(f"{name}: GE returned no result")
            same_verdicts = False
            continue
        if p["passed"] != t["passed"]:
            problems.append(f"{name}: prodml passed={p['passed']}, truth {t['passed']}")
        if g is not None:
            if g["message"]:
                problems.append(f"{name}: GE raised: {g['message']}")
            if g["passed"] != t["passed"]:
                problems.append(f"{name}: GE success={g['passed']}, truth {t['passed']}")
            if g["passed"] != p["passed"]:
                same_verdicts = False
        if s["count"] in (ROWS, ALL_DUPLICATES):
            if p["count"] != t["failed_rows"]:
                problems.append(
                    f"{name}: prodml failed_rows={p['count']}, truth {t['failed_rows']}"
                )
            if g is not None and g["count"] != t["unexpected"]:
                problems.append(
                    f"{name}: GE unexpected_count={g['count']}, truth {t['unexpected']}"
                )
            if g is not None and s["count"] == ROWS and g["count"] != p["count"]:
                problems.append(f"{name}: prodml {p['count']} failing rows, GE {g['count']}")
        elif t.get("observed") is not None:
            want = float(t["observed"])
            for who, r in (("prodml", p), ("GE", g)):
                if r is None:
                    continue
                got = r["observed"]
                if not isinstance(got, int | float) or abs(float(got) - want) > 1e-6:
                    problems.append(f"{name}: {who} observed {got!r}, truth {want!r}")
        if s["count"] == TABLE:
            p_s = f"passed={p['passed']} observed={_fmt(p['observed'])}"
            g_s = "—" if g is None else f"success={g['passed']} observed={_fmt(g['observed'])}"
            t_s = f"passed={t['passed']}" + (
                f" observed={_fmt(t['observed'])}" if t.get("observed") is not None else ""
            )
        else:
            p_s = f"passed={p['passed']} failed_rows={p['count']}"
            g_s = "—" if g is None else f"success={g['passed']} unexpected_count={g['count']}"
            t_s = f"passed={t['passed']} rows={t['failed_rows']}" + (
                f" (all duplicates {t['unexpected']})" if s["count"] == ALL_DUPLICATES else ""
            )
        lines.append(f"  {name:<26} {s['ge']:<40} truth {t_s}; prodml {p_s}; GE {g_s}")
    return lines, problems, same_verdicts


def check(
    specs: list[dict[str, Any]], truth: dict[str, dict[str, Any]], samples: Samples, n: int
) -> tuple[list[str], list[str], bool]:
    """Every round the same answer; the first of each side compared in detail (per-rule lines,
    problems, whether the verdicts are the same)."""
    problems: list[str] = []
    for kind, rows in samples.items():
        for x in rows[1:]:
            if x["results"] != rows[0]["results"]:
                problems.append(f"{kind}: results differ between rounds")
    ge0 = samples["ge"][0] if samples["ge"] else None
    lines, found, same_verdicts = compare(
        specs, truth, samples["prodml"][0]["results"], ge0["results"] if ge0 else None
    )
    problems += found
    for kind, rows in samples.items():
        for x in rows:
            if x["rows"] != n:
                problems.append(f"{kind} saw {x['rows']} rows, expected {n}")
    return lines, problems, same_verdicts


# --------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------


def report(
    n: int, rounds: int, specs: list[dict[str, Any]], samples: Samples, same: bool, ok: bool
) -> None:
    def growth(kind: str) -> float | None:
        rows = samples[kind]
        return statistics.median(x["peak"] - x["baseline"] for x in rows) if rows else None

    p_s, g_s = median_of(samples["prodml"], "wall"), median_of(samples["ge"], "wall")
    p_peak, g_peak = median_of(samples["prodml"], "peak"), median_of(samples["ge"], "peak")
    speedup = g_s / p_s if p_s and g_s else None
    mem = p_peak / g_peak if p_peak and g_peak else None
    met = (
        speedup is not None
        and mem is not None
        and speedup >= TARGET_SPEEDUP
        and mem <= TARGET_MEMORY
        and same
        and ok
    )
    have_ge = bool(samples["ge"])
    verdict_cell = "—" if not have_ge else ("yes" if same and ok else "NO")
    table: list[list[object]] = [
        [
            f"quality {size_label(n)}×{len(COLUMNS)}, {len(specs)} expectations",  # noqa: RUF001
            p_s,
            g_s,
            ratio(g_s, p_s),
            fmt_mb(mb(p_peak)),
            fmt_mb(mb(g_peak)),
            ratio(p_peak, g_peak),
            verdict_cell,
            f"≥ {TARGET_SPEEDUP:g}x faster, memory ≤ {TARGET_MEMORY:g}x, same verdicts",
            "—" if not have_ge else ("yes" if met else "NO"),
        ],
        [
            "  (info) RSS growth during the validation, over the loaded data",
            "—",
            "—",
            "—",
            fmt_mb(mb(growth("prodml"))),
            fmt_mb(mb(growth("ge"))),
            ratio(growth("prodml"), growth("ge")),
            "—",
            "(info)",
            "—",
        ],
    ]
    print_table(
        f"data quality: {n} rows x {len(COLUMNS)} columns, {len(specs)} expectations, "
        f"median of {rounds} round(s)",
        [
            "workload",
            "prodml s",
            "GE s",
            "speed-up",
            "prodml peak MB",
            "GE peak MB",
            "memory ratio",
            "same verdicts",
            "target",
            "met?",
        ],
        table,
    )


def details(samples: Samples, lines: list[str], peer_note: str) -> None:
    """Versions, what was timed, memory per process, the per-rule answers."""
    prodml0 = samples["prodml"][0]
    ge0 = samples["ge"][0] if samples["ge"] else None

    def each(key: str) -> str:
        return "; ".join(
            f"{k} {fmt_mb(mb(statistics.median(x[key] for x in v)))}"
            for k, v in samples.items()
            if v
        )

    print(f"prodml: {prodml0['versions']}; DuckDB threads {prodml0['threads']}")
    if ge0 is not None:
        print(f"peer: {ge0['versions']}; pandas dtypes {ge0['dtypes']}")
    else:
        print(f"peer: {peer_note}")
    ge_cpu = median_of(samples["ge"], "cpu")
    print(
        "seconds: one validation of the whole table after loading and warm-up (untimed); "
        f"speed-up = GE s / prodml s. CPU seconds (median): prodml "
        f"{median_of(samples['prodml'], 'cpu'):.2f}"
        + (f", GE {ge_cpu:.2f}" if ge_cpu is not None else "")
        + ". walls: "
        + "; ".join(
            f"{k} " + ", ".join(f"{x['wall']:.2f}" for x in v) for k, v in samples.items() if v
        )
    )
    print(
        f"peak MB: RSS high-water mark during the timed validation ({prodml0['memory_method']}), "
        "loaded data included (Arrow table / pandas DataFrame); memory ratio = prodml / GE. "
        f"RSS before the validation (data loaded): {each('baseline')} MB. "
        f"Process lifetime peak (ru_maxrss, includes the Parquet load): {each('lifetime_peak')} MB."
    )
    print(
        "answers: verdicts and row counts checked against the NumPy truth and between the tools; "
        "unique: GE counts every row of a duplicated id, prodml the rows after the first "
        "(pairs only in the data); schema rules: verdict only (GE's set rule compares names); "
        "row_count / freshness: verdict and observed value."
    )
    print("per rule (first round):")
    for line in lines:
        print(line)


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0], children=True)
    parser.add_argument(
        "--rows", type=int, default=None, help="rows of the table (default 10M; 1M with --quick)"
    )
    args = parser.parse_args()
    if args.child:
        return child_main(WORKLOADS, *args.child)

    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    rounds = args.runs or (1 if args.quick else 3)
    specs = expectation_specs(n)
    t_start = time.perf_counter()
    print(machine_line())
    print(f"load average at start: {loadavg()}")
    work = work_dir("quality")
    stem = f"events-{n}-seed{SEED}-v{DATA_VERSION}"
    cfg: dict[str, Any] = {
        "rows": n,
        "data": str(work / f"{stem}.parquet"),
        "truth": str(work / f"{stem}.truth.json"),
        "warmup": args.warmup,
    }
    try:
        truth = prepare(cfg)  # build
        peer_bin, peer_note = open_peer("quality", skip=args.skip_peers)
        samples = measure(cfg, rounds, python_in(peer_bin) if peer_bin else None)  # prodml, peer
    except ChildFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    lines, problems, same_verdicts = check(specs, truth, samples, n)  # compare
    report(n, rounds, specs, samples, same_verdicts, not problems)  # table
    details(samples, lines, peer_note)
    code = report_problems(problems, "DISAGREEMENTS")
    print(end_line(t_start))
    return code


if __name__ == "__main__":
    sys.exit(main())
