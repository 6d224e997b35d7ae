"""Incremental processing: 100 daily partitions, then 1 new partition added.

Target (``/work/shared/BENCHMARKS.md``, row "incremental"): the re-run after one new daily
partition arrives costs ≤ 5 % of the full run. Peer: the full recompute of the same pipeline
(``ws.run(..., full_refresh=True)``, i.e. ``prodml run --full-refresh``) after the day is added.

The product has three ``replace_partitions`` steps partitioned by ``day``:

* ``ingest`` (ingress): reads the day's landing CSV ``landing/events/day=YYYY-MM-DD/part.csv``
  into ``bronze.events`` (all text);
* ``clean`` (features): casts types and drops rows without an amount into ``silver.events``;
* ``daily`` (features): aggregates per day and customer segment into ``gold.daily_segment``.

Sequence, all in process through the Python API (``connect`` + ``ws.run`` + ``close``, after an
untimed warm-up run on a tiny platform that loads every lazily imported library): the full run
over the initial days; a re-run with nothing new (info); then ``--adds`` times: add one new day
and re-run (each must process exactly that one partition in each step); finally a full refresh.
``gold.daily_segment`` is checked against counts and sums computed while generating the data,
after the incremental runs and after the full refresh. Exit status is non-zero only on errors or
wrong answers, never on a missed target.

    .venv/bin/python benchmarks/incremental.py [--quick] [--days N] [--rows-per-day N]
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from lib.args import bench_arg_parser
from lib.checks import EXIT_DISAGREEMENT, WrongAnswerError
from lib.env import PRODML_YAML, work_dir
from lib.machine import machine_line
from lib.memory import lifetime_peak_bytes
from lib.table import fmt_mb, print_table

PRODUCT = "events"
SEED = 20240101
SEGMENTS = 100
TARGET_PCT = 5.0
STEPS = ("ingest", "clean", "daily")
GOLD = "gold.daily_segment"


PRODUCT_YAML = f"""\
name: {PRODUCT}
description: Daily events, cleaned and aggregated per day (incremental benchmark).
owners: [{{name: bench, role: accountable}}]
"""

PIPELINE = f'''\
"""Landing CSV -> bronze -> silver -> gold, each step replacing the partitions it processes."""

from prodml import step


@step(stage="ingress", inputs=["landing:events"], outputs="bronze.events",
      partition_by="day", mode="replace_partitions")
def ingest(ctx, events):
    return ctx.read_files(events, format="csv",
                          columns=["id", "day", "customer", "amount_cents"])


@step(stage="features", inputs=["bronze.events"], outputs="silver.events",
      partition_by="day", mode="replace_partitions")
def clean(ctx, events):
    return ctx.sql("""
        select cast(id as bigint) as id, day, cast(customer as integer) as customer,
               cast(amount_cents as bigint) as amount_cents
        from events
        where amount_cents <> ''
    """)


@step(stage="features", inputs=["silver.events"], outputs="{GOLD}",
      partition_by="day", mode="replace_partitions")
def daily(ctx, events):
    return ctx.sql("""
        select day, customer % {SEGMENTS} as segment, count(*) as n,
               sum(amount_cents) as amount_cents, count(distinct customer) as customers
        from events
        group by all
    """)
'''

Key = tuple[str, int]


class Expected:
    """Counts and sums per (day, segment), computed while writing the landing files."""

    def __init__(self) -> None:
        self.n: dict[Key, int] = defaultdict(int)
        self.amount: dict[Key, int] = defaultdict(int)
        self.customers: dict[Key, set[int]] = defaultdict(set)

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        return sorted(
            (day, seg, self.n[(day, seg)], self.amount[(day, seg)], len(self.customers[(day, seg)]))
            for day, seg in self.n
        )


def day_of(i: int) -> str:
    return (date(2024, 1, 1) + timedelta(days=i)).isoformat()


def write_day(landing: Path, i: int, rows: int, expected: Expected) -> str:
    """Write day ``i``'s CSV (seeded per day, so any day is the same whenever it is written)."""
    day = day_of(i)
    rng = random.Random(SEED * 1000 + i)
    folder = landing / "events" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "part.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "day", "customer", "amount_cents"])
        base = i * rows
        for r in range(rows):
            customer = rng.randrange(10_000)
            if rng.random() < 0.01:  # a missing amount: dropped by the clean step
                out.writerow([base + r, day, customer, ""])
                continue
            amount = rng.randrange(1, 100_000)
            out.writerow([base + r, day, customer, amount])
            key = (day, customer % SEGMENTS)
            expected.n[key] += 1
            expected.amount[key] += amount
            expected.customers[key].add(customer)
    return day


def make_platform(root: Path) -> None:
    product = root / "products" / PRODUCT
    product.mkdir(parents=True)
    (root / "prodml.yaml").write_text(PRODML_YAML)
    (product / "product.yaml").write_text(PRODUCT_YAML)
    (product / "pipeline.py").write_text(PIPELINE)


def timed_run(root: Path, full_refresh: bool = False) -> tuple[float, list[dict]]:
    import prodml

    t0 = time.perf_counter()
    ws = prodml.connect(root, env="dev")
    try:
        result = ws.run(PRODUCT, full_refresh=full_refresh)
    finally:
        ws.close()
    wall = time.perf_counter() - t0
    if result.status != "succeeded":
        raise WrongAnswerError(f"run {result.run_id} ended {result.status}: {result.error}")
    return wall, result.steps


def check_partitions(steps: list[dict], expected: list[str] | None, where: str) -> None:
    """Each step succeeded with exactly ``expected`` partitions (None: each step skipped)."""
    names = [s["step"] for s in steps]
    if names != [f"{PRODUCT}.{s}" for s in STEPS]:
        raise WrongAnswerError(f"{where}: unexpected steps {names}")
    for s in steps:
        if expected is None:
            if s["status"] != "skipped":
                raise WrongAnswerError(f"{where}: {s['step']} {s['status']} ({s.get('reason')})")
            continue
        got = sorted(s.get("partitions") or [])
        if s["status"] != "succeeded" or got != sorted(expected):
            shown = got if len(got) <= 3 else f"{len(got)} partitions {got[0]}..{got[-1]}"
            raise WrongAnswerError(
                f"{where}: {s['step']} {s['status']} with {shown}; expected "
                f"{len(expected)} partition(s) ({s.get('reason')})"
            )


def gold_rows(root: Path) -> list[tuple[str, int, int, int, int]]:
    import prodml

    with prodml.connect(root, env="dev") as ws:
        table = ws.read(GOLD).to_pydict()
    return sorted(
        zip(
            (str(d) for d in table["day"]),
            table["segment"],
            table["n"],
            table["amount_cents"],
            table["customers"],
            strict=True,
        )
    )


def check_gold(root: Path, expected: Expected, where: str) -> list[tuple]:
    got = gold_rows(root)
    want = expected.rows()
    if got != want:
        diff = [(g, w) for g, w in zip(got, want, strict=False) if g != w][:3]
        raise WrongAnswerError(
            f"{where}: {GOLD} has {len(got)} rows, expected {len(want)}; first differences "
            f"(got, expected): {diff}"
        )
    return got


def _peak_rss_mb() -> float:
    return lifetime_peak_bytes() / 2**20


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=None, help="initial days (default 100)")
    parser.add_argument(
        "--rows-per-day", type=int, default=None, help="rows per daily CSV (default 20000)"
    )
    parser.add_argument(
        "--adds",
        type=int,
        default=None,
        help="new days added one at a time (default 5; --runs N also sets it)",
    )
    args = parser.parse_args()
    days = args.days or (20 if args.quick else 100)
    rows = args.rows_per_day or (2_000 if args.quick else 20_000)
    adds = args.adds or args.runs or (2 if args.quick else 5)

    print(machine_line(ram=False))
    print(f"data: {days} days x {rows} rows (then +{adds} day(s), one at a time), seed {SEED}")

    root = work_dir("incremental", clean=True) / "platform"
    make_platform(root)
    landing = root / "landing"
    expected = Expected()
    t0 = time.perf_counter()
    all_days = [write_day(landing, i, rows, expected) for i in range(days)]
    print(f"generated {days} landing files in {time.perf_counter() - t0:.1f} s")

    # Warm everything a run loads lazily (pyarrow, duckdb, deltalake, SQLAlchemy, alembic) with
    # a tiny run of the same product elsewhere, so the first timed run is not charged for it.
    warm = root.parent / "warm-up"
    make_platform(warm)
    write_day(warm / "landing", 0, 10, Expected())
    rss_before = _peak_rss_mb()

    try:
        timed_run(warm)
        full, steps = timed_run(root)
        check_partitions(steps, all_days, "full run")
        nothing, steps = timed_run(root)
        check_partitions(steps, None, "re-run with nothing new")
        increments: list[float] = []
        for k in range(adds):
            new_day = write_day(landing, days + k, rows, expected)
            all_days.append(new_day)
            wall, steps = timed_run(root)
            check_partitions(steps, [new_day], f"re-run after adding {new_day}")
            increments.append(wall)
        incremental_gold = check_gold(root, expected, "after the incremental runs")
        refresh, steps = timed_run(root, full_refresh=True)
        check_partitions(steps, all_days, "full refresh")
        if check_gold(root, expected, "after the full refresh") != incremental_gold:
            raise WrongAnswerError("full refresh and incremental runs disagree")  # unreachable
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return EXIT_DISAGREEMENT

    inc = statistics.median(increments)
    pct_full = 100 * inc / full
    pct_refresh = 100 * inc / refresh

    def met(pct: float) -> str:
        return "yes" if pct <= TARGET_PCT else "NO"

    n = len(all_days)
    table: list[list[object]] = [
        [f"full run, {days} partitions x 3 steps", f"{full:.3f}", "100.0 %", "—", "—"],
        [
            "re-run, nothing new (all skipped)",
            f"{nothing:.3f}",
            f"{100 * nothing / full:.2f} %",
            "(info)",
            "—",
        ],
        [
            f"re-run after 1 new day (median of {adds}), 1 partition x 3 steps",
            f"{inc:.3f}",
            f"{pct_full:.2f} %",
            f"≤ {TARGET_PCT:g} %",
            met(pct_full),
        ],
        [
            f"peer: full recompute (--full-refresh), {n} partitions x 3 steps",
            f"{refresh:.3f}",
            f"{100 * refresh / full:.2f} %",
            "—",
            "—",
        ],
        [
            "re-run after 1 new day vs full recompute",
            f"{inc:.3f}",
            f"{pct_refresh:.2f} % of recompute",
            f"≤ {TARGET_PCT:g} %",
            met(pct_refresh),
        ],
    ]
    print_table(
        f"incremental: {days} daily partitions x {rows} rows, then +1 day",
        ["workload", "seconds", "% of full", "target", "met?"],
        table,
    )
    print(f"incremental re-runs (s): {', '.join(f'{x:.3f}' for x in increments)}")
    print(
        f"gold.daily_segment: {len(incremental_gold)} rows, identical after the incremental "
        "runs and after the full refresh, and equal to the counts/sums computed at generation"
    )
    print(
        f"peak RSS of this process: {fmt_mb(rss_before)} MB after generating the data, "
        f"{fmt_mb(_peak_rss_mb())} MB after all runs (in-process runs: a high-water mark)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
