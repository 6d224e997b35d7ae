"""Data quality: 10M rows x 10 columns, 19 expectations, prodml against Great Expectations 1.x.

Target (``/work/shared/BENCHMARKS.md``, row "data quality"): prodml's evaluation is ≥ 5 x
faster than Great Expectations 1.x on pandas, with ≤ ½ its peak memory and the same verdicts.

Data (generated once per ``--rows`` under ``benchmarks/.work/quality``, git-ignored, as one
Parquet file that both sides load, untimed): NumPy ``default_rng(SEED)``, ROWS rows (default
10M) of 10 columns:

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

Each measured workload runs in its own process (prodml in this venv, GE in
``benchmarks/.venvs/quality`` from ``peers/quality/requirements.txt``), rounds alternating the
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

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    PeerUnavailableError,
    bench_arg_parser,
    command_env,
    fmt_mb,
    peer_venv,
    print_table,
    ratio,
    work_dir,
)

SEED = 20240601
DATA_VERSION = 1  # bump when the generator changes (the cached Parquet file is keyed by it)
NOW = datetime(2024, 6, 1, tzinfo=UTC)
N_CUSTOMERS = 20_000
MISSING_EVERY = 997  # reference keys k with k % 997 == 0 are absent from the reference table
CATEGORIES = ["beauty", "books", "electronics", "food", "garden", "home", "sports", "toys"]
CODE_REGEX = r"^[A-Z]{3}-[0-9]{4}$"
FRESH_HOURS = 24.0
WARMUP_ROWS = 10_000
REFERENCE = "<reference keys>"  # placeholder in a GE value_set, replaced by the keys

TARGET_SPEEDUP = 5.0
TARGET_MEMORY = 0.5

COLUMNS = {
    "id": "integer",
    "customer_id": "integer",
    "category": "string",
    "code": "string",
    "amount": "float",
    "cost": "float",
    "quantity": "integer",
    "discount": "float",
    "score": "float",
    "event_ts": "timestamp",
}

# counting conventions: "rows" = both count failing rows; "all_duplicates" = GE counts every
# row of a duplicated key, prodml the rows after the first; "table" = table rule (verdict, and
# the observed value where given)
ROWS, ALL_DUPLICATES, TABLE = "rows", "all_duplicates", "table"


def expectation_specs(rows: int) -> list[dict[str, Any]]:
    """The 19 expectations: name, prodml rule (dict), GE class and kwargs, counting rule."""
    specs: list[dict[str, Any]] = []

    def add(name: str, prodml: dict[str, Any], ge: str, kw: dict[str, Any], count: str) -> None:
        specs.append(
            {"name": name, "prodml": {**prodml, "name": name}, "ge": ge, "kw": kw, "count": count}
        )

    for col in ("id", "customer_id", "category", "code", "discount"):
        add(
            f"not_null_{col}",
            {"rule": "not_null", "column": col},
            "ExpectColumnValuesToNotBeNull",
            {"column": col},
            ROWS,
        )
    add(
        "unique_id",
        {"rule": "unique", "columns": ["id"]},
        "ExpectColumnValuesToBeUnique",
        {"column": "id"},
        ALL_DUPLICATES,
    )
    for col, lo, hi in (
        ("amount", 0, 5000),
        ("cost", 0, 5000),
        ("quantity", 1, 100),
        ("discount", 0, 0.5),
        ("score", 0, 1),
    ):
        add(
            f"range_{col}",
            {"rule": "range", "column": col, "min": lo, "max": hi},
            "ExpectColumnValuesToBeBetween",
            {"column": col, "min_value": lo, "max_value": hi},
            ROWS,
        )
    add(
        "allowed_values_category",
        {"rule": "allowed_values", "column": "category", "values": CATEGORIES},
        "ExpectColumnValuesToBeInSet",
        {"column": "category", "value_set": CATEGORIES},
        ROWS,
    )
    add(
        "pattern_code",
        {"rule": "pattern", "column": "code", "regex": CODE_REGEX},
        "ExpectColumnValuesToMatchRegex",
        {"column": "code", "regex": CODE_REGEX},
        ROWS,
    )
    add(
        "referential_customer_id",
        {
            "rule": "referential",
            "column": "customer_id",
            "table": "ref.customers",
            "key": "customer_id",
        },
        "ExpectColumnValuesToBeInSet",
        {"column": "customer_id", "value_set": REFERENCE},
        ROWS,
    )
    add(
        "expression_cost_le_amount",
        {"rule": "expression", "sql": "cost <= amount"},
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": "amount", "column_B": "cost", "or_equal": True},
        ROWS,
    )
    add(
        "row_count",
        {"rule": "row_count", "min": rows, "max": rows},
        "ExpectTableRowCountToBeBetween",
        {"min_value": rows, "max_value": rows},
        TABLE,
    )
    add(
        "schema_all",
        {"rule": "schema", "columns": COLUMNS},
        "ExpectTableColumnsToMatchSet",
        {"column_set": list(COLUMNS), "exact_match": False},
        TABLE,
    )
    add(
        "schema_score_integer",
        {"rule": "schema", "columns": {"score": "integer"}},
        "ExpectColumnValuesToBeOfType",
        {"column": "score", "type_": "int64"},
        TABLE,
    )
    add(
        "freshness_event_ts",
        {"rule": "freshness", "column": "event_ts", "max_age_hours": FRESH_HOURS},
        "ExpectColumnMaxToBeBetween",
        {
            "column": "event_ts",
            "min_value": (NOW - timedelta(hours=FRESH_HOURS)).replace(tzinfo=None),
        },
        TABLE,
    )
    return specs


# --------------------------------------------------------------------------------------------
# deterministic data (NumPy + pyarrow: both venvs have them) and its true results
# --------------------------------------------------------------------------------------------


def reference_keys() -> Any:
    """The reference table's keys: 0..N_CUSTOMERS-1 except every MISSING_EVERY-th."""
    import numpy as np

    keys = np.arange(N_CUSTOMERS, dtype=np.int64)
    return keys[keys % MISSING_EVERY != 0]


def make_data(n: int) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The table (pyarrow) and, per rule name, the true verdict and counts."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    few = max(1, n // 100_000)

    ids = np.arange(n, dtype=np.int64)
    pos = rng.choice(n, size=2 * few, replace=False)
    ids[pos[:few]] = ids[pos[few:]]  # `few` pairs: each copied id now appears exactly twice

    customer = rng.integers(0, N_CUSTOMERS, n, dtype=np.int64)

    cat_idx = rng.integers(0, len(CATEGORIES), n, dtype=np.int32)
    pos = rng.choice(n, size=2 * few, replace=False)
    cat_idx[pos[:few]] = len(CATEGORIES)  # "Toys": not an allowed value
    cat_null = np.zeros(n, dtype=bool)
    cat_null[pos[few:]] = True
    category = pa.array([*CATEGORIES, "Toys"]).take(pa.array(cat_idx, mask=cat_null))

    chars = np.empty((n, 8), dtype=np.uint8)
    chars[:, :3] = rng.integers(ord("A"), ord("Z") + 1, (n, 3), dtype=np.uint8)
    chars[:, 3] = ord("-")
    chars[:, 4:] = rng.integers(ord("0"), ord("9") + 1, (n, 4), dtype=np.uint8)
    pos = rng.choice(n, size=10 * few, replace=False)
    chars[pos[: 5 * few], 0] += 32  # a lower-case first letter
    chars[pos[5 * few :], 3] = ord("_")
    offsets = np.arange(0, 8 * n + 1, 8, dtype=np.int32)
    code = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1))]
    )

    amount = np.minimum(0.01 + rng.gamma(2.0, 50.0, n), 4999.99)
    cost = amount * rng.uniform(0.2, 0.95, n)
    pos = rng.choice(n, size=2 * few, replace=False)
    cost[pos] = amount[pos] * 1.1

    quantity = rng.integers(1, 100, n, dtype=np.int64)
    quantity[rng.choice(n, size=few, replace=False)] = 0

    discount = rng.uniform(0.0, 0.5, n)
    n_null = n // 100
    pos = rng.choice(n, size=n_null + 5 * few, replace=False)
    disc_null = np.zeros(n, dtype=bool)
    disc_null[pos[:n_null]] = True
    discount[pos[n_null:]] = rng.uniform(0.51, 0.9, 5 * few)

    score = rng.random(n)

    now_us = int(NOW.timestamp()) * 1_000_000
    ts_us = now_us - rng.integers(0, 30 * 86_400 * 1_000_000, n, dtype=np.int64)
    ts_us[0] = now_us - 30 * 60 * 1_000_000

    table = pa.table(
        {
            "id": ids,
            "customer_id": customer,
            "category": category,
            "code": code,
            "amount": amount,
            "cost": cost,
            "quantity": quantity,
            "discount": pa.array(discount, mask=disc_null),
            "score": score,
            "event_ts": pa.array(ts_us.astype("datetime64[us]")),
        }
    )

    # ---- the truth, computed directly with NumPy ----
    def row(failed: int, unexpected: int | None = None) -> dict[str, Any]:
        return {
            "passed": failed == 0,
            "failed_rows": failed,
            "unexpected": failed if unexpected is None else unexpected,
        }

    truth: dict[str, dict[str, Any]] = {}
    for col in ("id", "customer_id", "code"):
        truth[f"not_null_{col}"] = row(table.column(col).null_count)
    truth["not_null_category"] = row(int(cat_null.sum()))
    truth["not_null_discount"] = row(int(disc_null.sum()))
    _, counts = np.unique(ids, return_counts=True)
    truth["unique_id"] = row(int(n - counts.size), int(counts[counts > 1].sum()))
    disc_valid = ~disc_null
    for col, values, valid, lo, hi in (
        ("amount", amount, None, 0, 5000),
        ("cost", cost, None, 0, 5000),
        ("quantity", quantity, None, 1, 100),
        ("discount", discount, disc_valid, 0, 0.5),
        ("score", score, None, 0, 1),
    ):
        bad = (values < lo) | (values > hi)
        if valid is not None:
            bad &= valid
        truth[f"range_{col}"] = row(int(bad.sum()))
    truth["allowed_values_category"] = row(int(((cat_idx >= len(CATEGORIES)) & ~cat_null).sum()))
    upper = (chars[:, :3] >= ord("A")) & (chars[:, :3] <= ord("Z"))
    digits = (chars[:, 4:] >= ord("0")) & (chars[:, 4:] <= ord("9"))
    ok = upper.all(axis=1) & (chars[:, 3] == ord("-")) & digits.all(axis=1)
    truth["pattern_code"] = row(int((~ok).sum()))
    truth["referential_customer_id"] = row(int((~np.isin(customer, reference_keys())).sum()))
    truth["expression_cost_le_amount"] = row(int((cost > amount).sum()))
    age_hours = (now_us - int(ts_us.max())) / 3.6e9
    for name, passed, observed in (
        ("row_count", True, float(n)),
        ("schema_all", True, None),
        ("schema_score_integer", False, None),
        ("freshness_event_ts", age_hours <= FRESH_HOURS, age_hours),
    ):
        truth[name] = {
            "passed": passed,
            "failed_rows": None,
            "unexpected": None,
            "observed": observed,
        }
    return table, truth


# --------------------------------------------------------------------------------------------
# child processes: one per measured workload, so each one's RSS is its own
# --------------------------------------------------------------------------------------------


class WrongAnswerError(RuntimeError):
    """The tools disagree with each other or with the truth."""


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_bytes() -> int:
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib * 1024
    return _lifetime_peak()


def _lifetime_peak() -> int:
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024


class Section:
    """Wall and CPU seconds and peak RSS (bytes) of a ``with`` block in this process.

    The peak is the kernel's ``VmHWM`` after resetting it (``/proc/self/clear_refs``, Linux ≥ 4.0)
    at the start of the block; where that fails, the max of a 5 ms RSS sampler.
    """

    def __init__(self) -> None:
        self.method = "VmHWM reset"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sampled = 0

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.sampled = max(self.sampled, _rss_bytes())

    def __enter__(self) -> Section:
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.method = "5 ms sampler"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        self.baseline = _rss_bytes()
        self.sampled = self.baseline
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.sampled, _rss_bytes())
        else:
            hwm = _status_kib("VmHWM")
            self.peak = hwm * 1024 if hwm is not None else _lifetime_peak()

    def facts(self) -> dict[str, Any]:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "peak": self.peak,
            "baseline": self.baseline,
            "lifetime_peak": _lifetime_peak(),
            "memory_method": self.method,
        }


def _release_load_memory() -> None:
    """Hand the Parquet reader's freed buffers back to the OS (both sides, before measuring).

    pyarrow's allocator (mimalloc) keeps freed pages: after ``read_table`` of the 10M-row file
    ~570 MB of decompression buffers stay resident although no array uses them. That is a cost
    of the untimed load, not of the validation, so both children release it.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _versions(*names: str) -> str:
    from importlib import metadata

    out = []
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} ?")
    return ", ".join(out)


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
    _release_load_memory()
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
    with Section() as sec:
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
        "versions": _versions("prodml", "duckdb", "pyarrow", "numpy"),
    }


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def _ge_exception(result: Any) -> str:
    """The message of an exception GE caught while evaluating an expectation ('' if none)."""
    info = result.exception_info or {}
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if x.get("raised_exception"):
                found.append(str(x.get("exception_message") or x))
            for v in x.values():
                walk(v)

    walk(info if isinstance(info, dict) else {})
    return "; ".join(found)


def child_ge(cfg: dict[str, Any]) -> dict[str, Any]:
    """Great Expectations 1.x: a ValidationDefinition run over the pandas DataFrame."""
    import logging

    import great_expectations as gx
    import pandas as pd

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    specs = expectation_specs(cfg["rows"])
    df = pd.read_parquet(cfg["data"])
    _release_load_memory()
    ctx = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm on stderr
    asset = ctx.data_sources.add_pandas("bench").add_dataframe_asset("events")
    batch = asset.add_batch_definition_whole_dataframe("all")
    suite = ctx.suites.add(gx.ExpectationSuite(name="bench"))
    keys = reference_keys().tolist()
    for s in specs:
        kw = {k: (keys if v == REFERENCE else v) for k, v in s["kw"].items()}
        suite.add_expectation(getattr(gx.expectations, s["ge"])(**kw, meta={"rule": s["name"]}))
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name="bench", data=batch, suite=suite)
    )

    def run(frame: Any) -> Any:
        return vd.run(batch_parameters={"dataframe": frame}, result_format="BASIC")

    for _ in range(cfg["warmup"]):
        run(df.head(WARMUP_ROWS))
    with Section() as sec:
        res = run(df)
    naive_now = NOW.replace(tzinfo=None)
    results: dict[str, Any] = {}
    for r in res.results:
        name = r.expectation_config.meta["rule"]
        observed = r.result.get("observed_value")
        if name == "freshness_event_ts" and observed is not None:
            newest = pd.Timestamp(observed).to_pydatetime().replace(tzinfo=None)
            observed = (naive_now - newest).total_seconds() / 3600.0
        results[name] = {
            "passed": bool(r.success),
            "count": r.result.get("unexpected_count"),
            "observed": _json_safe(observed),
            "message": _ge_exception(r),
        }
    return {
        **sec.facts(),
        "results": results,
        "rows": len(df),
        "dtypes": {c: str(t) for c, t in df.dtypes.items()},
        "versions": _versions("great_expectations", "pandas", "numpy", "pyarrow"),
    }


CHILDREN = {
    "generate": child_generate,
    "prodml": child_prodml,
    "ge": child_ge,
}


def child_main(kind: str, cfg_json: str) -> int:
    out = CHILDREN[kind](json.loads(cfg_json))
    print("RESULT " + json.dumps(out), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# the orchestrating parent (standard library only)
# --------------------------------------------------------------------------------------------


def run_child(kind: str, cfg: dict[str, Any], python: Path | None = None) -> dict[str, Any]:
    """Run one child (``python`` defaults to this interpreter) and return its RESULT."""
    exe = str(python) if python is not None else sys.executable
    argv = [exe, str(Path(__file__).resolve()), "--child", kind, json.dumps(cfg)]
    bin_dir = Path(exe).parent
    # subprocess.run kills the child if we are interrupted
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=command_env(bin_dir), check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise RuntimeError(f"child {kind} exited with {proc.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def rows_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def _mb(x: float | None) -> float | None:
    return None if x is None else x / 2**20


def _mem_total_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GB RAM"
    except OSError:
        pass
    return "? RAM"


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


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0] if __doc__ else "quality benchmark")
    parser.add_argument(
        "--rows", type=int, default=None, help="rows of the table (default 10M; 1M with --quick)"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    rounds = args.runs or (1 if args.quick else 3)
    specs = expectation_specs(n)
    t_start = time.perf_counter()
    print(
        f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{_mem_total_gb()} | {platform.python_implementation()} {platform.python_version()} | "
        f"{platform.platform()}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    work = work_dir("quality")
    stem = f"events-{n}-seed{SEED}-v{DATA_VERSION}"
    cfg: dict[str, Any] = {
        "rows": n,
        "data": str(work / f"{stem}.parquet"),
        "truth": str(work / f"{stem}.truth.json"),
        "warmup": args.warmup,
    }
    try:
        if not (Path(cfg["data"]).is_file() and Path(cfg["truth"]).is_file()):
            gen = run_child("generate", cfg)
            print(
                f"data: generated {n} rows x {len(COLUMNS)} columns in {gen['wall']:.1f} s "
                f"-> {cfg['data']} ({gen['bytes'] / 2**20:.0f} MB Parquet)",
                flush=True,
            )
        else:
            print(f"data: reusing {cfg['data']}")
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    truth: dict[str, dict[str, Any]] = json.loads(Path(cfg["truth"]).read_text())

    peer_python: Path | None = None
    peer_note = ""
    if args.skip_peers:
        peer_note = "peer skipped with --skip-peers"
    else:
        try:
            peer_bin = peer_venv("quality", BENCH_DIR / "peers" / "quality" / "requirements.txt")
            peer_python = peer_bin / "python"
        except PeerUnavailableError as exc:
            peer_note = str(exc)
            print(f"warning: {exc}")

    samples: dict[str, list[dict[str, Any]]] = {"prodml": [], "ge": []}
    try:
        for r in range(rounds):
            order = ["prodml", "ge"] if r % 2 == 0 else ["ge", "prodml"]
            for kind in order:
                if kind == "ge" and peer_python is None:
                    continue
                samples[kind].append(run_child(kind, cfg, peer_python if kind == "ge" else None))
            print(
                f"round {r + 1}/{rounds}: "
                + ", ".join(
                    f"{k} {v[-1]['wall']:.2f} s (peak {fmt_mb(_mb(v[-1]['peak']))} MB)"
                    for k, v in samples.items()
                    if v
                ),
                flush=True,
            )
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    # every round must give the same answer; compare the first of each side in detail
    problems: list[str] = []
    for kind, rows in samples.items():
        for x in rows[1:]:
            if x["results"] != rows[0]["results"]:
                problems.append(f"{kind}: results differ between rounds")
    prodml0 = samples["prodml"][0]
    ge0 = samples["ge"][0] if samples["ge"] else None
    lines, found, same_verdicts = compare(
        specs, truth, prodml0["results"], ge0["results"] if ge0 else None
    )
    problems += found
    for kind, rows in samples.items():
        for x in rows:
            if x["rows"] != n:
                problems.append(f"{kind} saw {x['rows']} rows, expected {n}")

    def med(kind: str, key: str) -> float | None:
        rows = samples[kind]
        return statistics.median(float(x[key]) for x in rows) if rows else None

    def growth(kind: str) -> float | None:
        rows = samples[kind]
        return statistics.median(x["peak"] - x["baseline"] for x in rows) if rows else None

    p_s, g_s = med("prodml", "wall"), med("ge", "wall")
    p_peak, g_peak = med("prodml", "peak"), med("ge", "peak")
    speedup = g_s / p_s if p_s and g_s else None
    mem = p_peak / g_peak if p_peak and g_peak else None
    answers_ok = not problems
    met = (
        speedup is not None
        and mem is not None
        and speedup >= TARGET_SPEEDUP
        and mem <= TARGET_MEMORY
        and same_verdicts
        and answers_ok
    )
    verdict_cell = "—" if ge0 is None else ("yes" if same_verdicts and answers_ok else "NO")
    table: list[list[object]] = [
        [
            f"quality {rows_label(n)}×{len(COLUMNS)}, {len(specs)} expectations",  # noqa: RUF001
            p_s,
            g_s,
            ratio(g_s, p_s),
            fmt_mb(_mb(p_peak)),
            fmt_mb(_mb(g_peak)),
            ratio(p_peak, g_peak),
            verdict_cell,
            f"≥ {TARGET_SPEEDUP:g}x faster, memory ≤ {TARGET_MEMORY:g}x, same verdicts",
            "—" if ge0 is None else ("yes" if met else "NO"),
        ],
        [
            "  (info) RSS growth during the validation, over the loaded data",
            "—",
            "—",
            "—",
            fmt_mb(_mb(growth("prodml"))),
            fmt_mb(_mb(growth("ge"))),
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
    print(f"prodml: {prodml0['versions']}; DuckDB threads {prodml0['threads']}")
    if ge0 is not None:
        print(f"peer: {ge0['versions']}; pandas dtypes {ge0['dtypes']}")
    else:
        print(f"peer: {peer_note}")
    print(
        "seconds: one validation of the whole table after loading and warm-up (untimed); "
        f"speed-up = GE s / prodml s. CPU seconds (median): prodml {med('prodml', 'cpu'):.2f}"
        + (f", GE {med('ge', 'cpu'):.2f}" if ge0 else "")
        + ". walls: "
        + "; ".join(
            f"{k} " + ", ".join(f"{x['wall']:.2f}" for x in v) for k, v in samples.items() if v
        )
    )
    print(
        f"peak MB: RSS high-water mark during the timed validation ({prodml0['memory_method']}), "
        "loaded data included (Arrow table / pandas DataFrame); memory ratio = prodml / GE. "
        "RSS before the validation (data loaded): "
        + "; ".join(
            f"{k} {fmt_mb(_mb(statistics.median(x['baseline'] for x in v)))}"
            for k, v in samples.items()
            if v
        )
        + " MB. Process lifetime peak (ru_maxrss, includes the Parquet load): "
        + "; ".join(
            f"{k} {fmt_mb(_mb(statistics.median(x['lifetime_peak'] for x in v)))}"
            for k, v in samples.items()
            if v
        )
        + " MB."
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
    if problems:
        print("DISAGREEMENTS:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
    print(
        f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
