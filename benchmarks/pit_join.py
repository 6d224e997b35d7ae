"""Point-in-time join: 1M spine rows x 10M feature rows in 3 tables with TTLs, against Feast.

Target (``/work/shared/BENCHMARKS.md``, row "point-in-time join"): prodml's
``point_in_time_join`` gives the rows Feast's DuckDB offline store gives, ≥ 3 x faster than it
and ≥ 30 x faster than Feast's default file (Dask) offline store, with at most half the peak
memory.

The data (NumPy ``default_rng`` from fixed seeds; ``make_data``, untimed, cached under
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
* Feast (``benchmarks/.venvs/feast``, ``peers/feast/requirements.txt``): a throw-away repo in
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

Every child runs with ``FEAST_USAGE=False`` and the telemetry switches of ``_common``; the
children refuse to open internet sockets (``socket.connect`` to a non-loopback address raises).
A child that runs past ``--peer-timeout`` seconds or above ``--mem-limit-mb`` resident memory is
killed and reported as such (``timeout > N s`` / ``killed > N MB``) instead of a time.

Exit status: 0 when the answers agree (even if the speed target is missed), 3 on a
disagreement, 1 when a workload fails.

    .venv/bin/python benchmarks/pit_join.py                 # 1M spine x 10M feature rows
    .venv/bin/python benchmarks/pit_join.py --quick         # 20k x 200k smoke run
    .venv/bin/python benchmarks/pit_join.py --golden tests/features/pit_golden.json

(``--warmup N`` of the shared flags is not used: the warm-up is the small in-process run.)

``--golden PATH`` checks hand-written cases instead (JSON: ``{"cases": [{"name", "spine":
{"columns", "keys", "timestamp"}, "tables": [{"name", "keys", "timestamp", "created",
"features", "ttl_seconds", "columns"}], "expected": {"columns"}}]}``, timestamps as ISO-8601
strings with an offset, normalised to UTC; the expected columns are the spine's columns then
each table's features, rows in spine order): every case runs through Feast-DuckDB in the peer
venv, and (when importable) through prodml here, and each answer is compared with the case's
``expected`` rows. A case may carry ``"feast_differs": "<why>"`` to record a known, intended
difference from Feast; its mismatch is then reported but not counted. Exit 3 when Feast
disagrees with an expected answer (or prodml does).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    forbid_network,
    mem_total_gb,
    peak_mb,
    peer_venv,
    print_table,
    status_mb,
    work_dir,
)

SEED = 20241121
DATA_VERSION = 1  # bump when make_data changes: cached data is rebuilt
FLOAT_TOL = 1e-12
TARGET_VS_DUCKDB = 3.0
TARGET_VS_FILE = 30.0
TARGET_MEMORY = 0.5
WARMUP_ROWS = 1000
CHILD_ENV = {"FEAST_USAGE": "False"}

T0_US = 1_704_067_200 * 1_000_000  # 2024-01-01T00:00:00Z
SPAN_S = 366 * 86_400
N_MERCHANTS = 10
SPINE_TS = "label_ts"
EVENT_TS = "event_ts"
CREATED_TS = "created_ts"
ROW_ID = "row_id"
SPINE_COLUMNS = [ROW_ID, "customer_id", "merchant_id", SPINE_TS, "label"]


@dataclass(frozen=True)
class Table:
    name: str
    share: float  # of --feature-rows
    keys: tuple[str, ...]
    ttl: timedelta | None
    features: tuple[str, ...]


TABLES = (
    Table(
        "customer_profile",
        0.5,
        ("customer_id",),
        timedelta(days=30),
        ("p_balance", "p_score", "p_orders"),
    ),
    Table(
        "customer_activity",
        0.3,
        ("customer_id",),
        timedelta(days=7),
        ("a_amount", "a_count", "a_segment"),
    ),
    Table("customer_merchant", 0.2, ("customer_id", "merchant_id"), None, ("m_spend", "m_visits")),
)
FEATURES = [f for t in TABLES for f in t.features]
OUTPUT_COLUMNS = SPINE_COLUMNS + FEATURES


# --------------------------------------------------------------------------------------------
# deterministic data (NumPy + pyarrow, written once by the parent, untimed)
# --------------------------------------------------------------------------------------------


def _table_sizes(feature_rows: int) -> list[int]:
    sizes = [int(feature_rows * t.share) for t in TABLES]
    sizes[0] += feature_rows - sum(sizes)
    return sizes


def _unique_created(keys: list[Any], event: Any, created: Any) -> None:
    """Bump ``created`` (in place, by 1 µs) until no two rows tie on keys, event and created."""
    import numpy as np

    while True:
        order = np.lexsort((created, event, *reversed(keys)))
        same = np.ones(len(order) - 1, dtype=bool)
        for col in (*keys, event, created):
            c = col[order]
            same &= c[1:] == c[:-1]
        if not same.any():
            return
        created[order[1:][same]] += 1


def _make_table(index: int, table: Table, rows: int, n_customers: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng([SEED, index])
    customer = rng.integers(1, n_customers + 1, rows, dtype=np.int64)
    if table.name == "customer_activity":  # every 5th customer has no activity at all
        customer = np.where(customer % 5 == 0, customer - 1, customer)
    cols: dict[str, Any] = {"customer_id": customer}
    if "merchant_id" in table.keys:
        cols["merchant_id"] = rng.integers(0, N_MERCHANTS, rows, dtype=np.int64)
    event = T0_US + rng.integers(0, SPAN_S, rows, dtype=np.int64) * 1_000_000
    # ~2 % of the rows repeat another row's keys and event time: the created time decides
    n_ties = rows // 50
    if n_ties:
        src = rng.integers(0, rows - n_ties, n_ties)
        for k in table.keys:
            cols[k][rows - n_ties :] = cols[k][src]
        event[rows - n_ties :] = event[src]
    created = event + rng.integers(0, 3600 * 1_000_000, rows, dtype=np.int64)
    _unique_created([cols[k] for k in table.keys], event, created)
    cols[EVENT_TS] = event
    cols[CREATED_TS] = created
    if table.name == "customer_profile":
        cols["p_balance"] = (rng.normal(1000.0, 300.0, rows), rng.random(rows) < 0.01)
        cols["p_score"] = rng.random(rows)
        cols["p_orders"] = rng.poisson(5.0, rows).astype(np.int64)
    elif table.name == "customer_activity":
        cols["a_amount"] = rng.lognormal(3.0, 1.0, rows)
        cols["a_count"] = rng.integers(0, 100, rows, dtype=np.int64)
        segments = np.array(["bronze", "silver", "gold", "platinum"], dtype=object)
        seg = segments[rng.integers(0, 4, rows)]
        seg[rng.random(rows) < 0.01] = None
        cols["a_segment"] = seg
    else:
        cols["m_spend"] = rng.exponential(50.0, rows)
        cols["m_visits"] = rng.integers(1, 30, rows, dtype=np.int64)
    return cols


def _make_spine(rows: int, n_customers: int, tables: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng([SEED, 99])
    n_absent = max(1, n_customers // 20)  # ids above n_customers have no feature rows at all
    customer = np.where(
        rng.random(rows) < 0.95,
        rng.integers(1, n_customers + 1, rows, dtype=np.int64),
        rng.integers(n_customers + 1, n_customers + n_absent + 1, rows, dtype=np.int64),
    )
    merchant = rng.integers(0, N_MERCHANTS, rows, dtype=np.int64)
    day = 86_400 * 1_000_000
    ts = T0_US + rng.integers(-5 * day, SPAN_S * 1_000_000 + 10 * day, rows, dtype=np.int64)

    # rows placed on purpose: (table, offset from a feature row's event time, share)
    prof, act, merch = tables
    ttl_p = int(TABLES[0].ttl.total_seconds()) * 1_000_000  # type: ignore[union-attr]
    ttl_a = int(TABLES[1].ttl.total_seconds()) * 1_000_000  # type: ignore[union-attr]
    placed = [
        (prof, 0, 0.05),  # exactly at an event: event_ts <= t is inclusive
        (prof, -1, 0.01),  # 1 µs before an event
        (prof, ttl_p, 0.03),  # exactly event + TTL: still fresh (inclusive)
        (prof, ttl_p + 1, 0.02),  # 1 µs later: expired
        (act, 0, 0.03),
        (act, ttl_a, 0.03),
        (act, ttl_a + 1, 0.02),
        (merch, 0, 0.03),  # both keys of the two-key table
        (merch, 5 * day, 0.02),
    ]
    positions = rng.permutation(rows)
    start = 0
    for table, offset, share in placed:
        n = int(rows * share)
        at = positions[start : start + n]
        start += n
        src = rng.integers(0, len(table[EVENT_TS]), n)
        customer[at] = table["customer_id"][src]
        if "merchant_id" in table:
            merchant[at] = table["merchant_id"][src]
        ts[at] = table[EVENT_TS][src] + offset
    # ~2 % exact duplicates (keys and time) of other spine rows, with their own label
    n_dup = int(rows * 0.02)
    at = positions[start : start + n_dup]
    src = rng.integers(0, rows, n_dup)
    customer[at], merchant[at], ts[at] = customer[src], merchant[src], ts[src]
    return {
        ROW_ID: np.arange(rows, dtype=np.int64),
        "customer_id": customer,
        "merchant_id": merchant,
        SPINE_TS: ts,
        "label": rng.integers(0, 2, rows, dtype=np.int64),
    }


def _arrow_table(cols: dict[str, Any]) -> Any:
    import pyarrow as pa

    ts_type = pa.timestamp("us", tz="UTC")
    arrays = {}
    for name, value in cols.items():
        mask = None
        if isinstance(value, tuple):
            value, mask = value
        if name in (SPINE_TS, EVENT_TS, CREATED_TS):
            arrays[name] = pa.array(value, type=pa.int64()).cast(ts_type)
        elif value.dtype == object:
            arrays[name] = pa.array(value, type=pa.string())
        else:
            arrays[name] = pa.array(value, mask=mask)
    return pa.table(arrays)


def make_data(spine_rows: int, feature_rows: int) -> Path:
    """Write (once) the spine and the three feature tables; return their directory."""
    import pyarrow.parquet as pq

    out = work_dir("pit_join") / f"{spine_rows}x{feature_rows}"
    meta = {"version": DATA_VERSION, "seed": SEED, "spine": spine_rows, "features": feature_rows}
    meta_file = out / "meta.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()) == meta:
        return out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    n_customers = max(50, feature_rows // 50)
    tables = []
    for i, (table, rows) in enumerate(zip(TABLES, _table_sizes(feature_rows), strict=True)):
        cols = _make_table(i, table, rows, n_customers)
        pq.write_table(_arrow_table(cols), out / f"{table.name}.parquet")
        keep = {k: cols[k] for k in (*table.keys, EVENT_TS)}
        tables.append(keep)
        del cols
    spine = _make_spine(spine_rows, n_customers, tables)
    pq.write_table(_arrow_table(spine), out / "spine.parquet")
    meta_file.write_text(json.dumps(meta))
    return out


# --------------------------------------------------------------------------------------------
# child processes: one per measured workload, so each one's memory is its own
# --------------------------------------------------------------------------------------------


def _timed_start(cfg: dict[str, Any]) -> None:
    """Tell the parent the timed work starts now (so a timeout bounds the timed part only)."""
    if cfg.get("marker"):
        Path(cfg["marker"]).write_text(str(time.time()))


def _versions(*mods: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for mod in mods:
        try:
            out[mod] = metadata.version(mod)
        except metadata.PackageNotFoundError:
            out[mod] = "?"
    return out


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
    _timed_start(cfg)
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
        "versions": _versions("prodml", "duckdb", "pyarrow"),
    }


def _feast_store(repo: Path, offline: str) -> Any:
    from feast import FeatureStore, RepoConfig

    if offline == "duckdb":
        from feast.infra.offline_stores.duckdb import DuckDBOfflineStoreConfig

        offline_cfg: Any = DuckDBOfflineStoreConfig()
    else:
        from feast.infra.offline_stores.dask import DaskOfflineStoreConfig

        offline_cfg = DaskOfflineStoreConfig(type="file")
    from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig

    config = RepoConfig(
        project="pit_bench",
        provider="local",
        registry=str(repo / "registry.db"),
        online_store=SqliteOnlineStoreConfig(path=str(repo / "online.db")),
        offline_store=offline_cfg,
        repo_path=repo,
        entity_key_serialization_version=3,
    )
    return FeatureStore(config=config)


_FEAST_TYPES = {
    "int64": "Int64",
    "int32": "Int32",
    "double": "Float64",
    "float": "Float32",
    "string": "String",
    "large_string": "String",
    "bool": "Bool",
}


def _feast_dtype(arrow_type: Any) -> Any:
    import pyarrow as pa
    from feast import types

    if pa.types.is_timestamp(arrow_type):
        return types.UnixTimestamp
    name = _FEAST_TYPES.get(str(arrow_type))
    if name is None:
        raise ValueError(f"no Feast type for Arrow type {arrow_type}")
    return getattr(types, name)


def _feast_value_type(arrow_type: Any) -> Any:
    from feast import ValueType

    return {
        "int64": ValueType.INT64,
        "int32": ValueType.INT32,
        "string": ValueType.STRING,
        "large_string": ValueType.STRING,
    }[str(arrow_type)]


def _feast_apply(store: Any, tables: list[dict[str, Any]]) -> list[str]:
    """Register one entity per key and one feature view per table; return the feature refs.

    ``tables``: name, path, keys, timestamp, created (or None), features, ttl (timedelta or
    None: Feast's ``timedelta(0)``, "lives forever"), schema (pyarrow).
    """
    from feast import Entity, FeatureView, Field, FileSource

    entities: dict[str, Any] = {}
    views = []
    refs = []
    for t in tables:
        schema = t["schema"]
        for k in t["keys"]:
            if k not in entities:
                entities[k] = Entity(
                    name=k, join_keys=[k], value_type=_feast_value_type(schema.field(k).type)
                )
        source = FileSource(
            name=f"{t['name']}_source",
            path=str(t["path"]),
            timestamp_field=t["timestamp"],
            created_timestamp_column=t["created"] or "",
        )
        views.append(
            FeatureView(
                name=t["name"],
                entities=[entities[k] for k in t["keys"]],
                ttl=t["ttl"] if t["ttl"] is not None else timedelta(0),
                schema=[Field(name=k, dtype=_feast_dtype(schema.field(k).type)) for k in t["keys"]]
                + [Field(name=f, dtype=_feast_dtype(schema.field(f).type)) for f in t["features"]],
                source=source,
                online=False,
            )
        )
        refs += [f"{t['name']}:{f}" for f in t["features"]]
    store.apply([*entities.values(), *views])
    return refs


def child_feast(cfg: dict[str, Any]) -> dict[str, Any]:
    """Feast ``get_historical_features`` (DuckDB or file store) from the same Parquet files."""
    import feast
    import pyarrow.parquet as pq

    del feast  # imported up front: not part of the timed work
    data = Path(cfg["data"])
    rss_imports = status_mb("VmRSS")
    with tempfile.TemporaryDirectory(prefix="feast-repo-", dir=cfg["tmp"]) as tmp:
        repo = Path(tmp)
        t0 = time.perf_counter()
        store = _feast_store(repo, cfg["offline"])
        tables = [
            {
                "name": t.name,
                "path": data / f"{t.name}.parquet",
                "keys": list(t.keys),
                "timestamp": EVENT_TS,
                "created": CREATED_TS,
                "features": list(t.features),
                "ttl": t.ttl,
                "schema": pq.read_schema(data / f"{t.name}.parquet"),
            }
            for t in TABLES
        ]
        refs = _feast_apply(store, tables)
        wall_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        entity_df = pq.read_table(data / "spine.parquet").to_pandas()
        wall_spine = time.perf_counter() - t0
        store.get_historical_features(
            entity_df=entity_df.head(WARMUP_ROWS).copy(), features=refs
        ).to_arrow()  # warm-up
        rss_data = status_mb("VmRSS")
        _timed_start(cfg)
        t0 = time.perf_counter()
        result = store.get_historical_features(entity_df=entity_df, features=refs).to_arrow()
        wall = time.perf_counter() - t0
        peak = peak_mb()
    pq.write_table(result, cfg["out"])
    return {
        "wall": wall,
        "wall_setup": wall_setup,
        "wall_spine": wall_spine,
        "rows": result.num_rows,
        "peak": peak,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "versions": _versions("feast", "duckdb", "ibis-framework", "dask", "pandas", "pyarrow"),
    }


# --------------------------------------------------------------------------------------------
# golden cases (small hand-written cases, JSON)
# --------------------------------------------------------------------------------------------


def _parse_ts(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: timestamp {value!r} is not an ISO-8601 string")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise ValueError(f"{where}: timestamp {value!r} has no UTC offset")
    return ts.astimezone(UTC)


def _golden_columns(columns: dict[str, list[Any]], timestamps: set[str], where: str) -> Any:
    """A pyarrow table from JSON columns; ``timestamps`` become ``timestamp[us, tz=UTC]``."""
    import pyarrow as pa

    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{where}: columns of different lengths {sorted(lengths)}")
    arrays = {}
    for name, values in columns.items():
        if name in timestamps:
            parsed = [_parse_ts(v, f"{where}.{name}") for v in values]
            arrays[name] = pa.array(parsed, type=pa.timestamp("us", tz="UTC"))
        else:
            arr = pa.array(values)
            arrays[name] = arr.cast(pa.float64()) if pa.types.is_null(arr.type) else arr
    return pa.table(arrays)


def load_golden(path: Path) -> list[dict[str, Any]]:
    """The cases of a golden file, as Arrow tables (see the module docstring for the format)."""
    doc = json.loads(path.read_text())
    cases = []
    for i, case in enumerate(doc["cases"]):
        name = case.get("name") or f"case {i}"
        spine_ts = case["spine"]["timestamp"]
        spine = _golden_columns(case["spine"]["columns"], {spine_ts}, f"{name}.spine")
        tables = []
        for t in case["tables"]:
            ts = {t["timestamp"]} | ({t["created"]} if t.get("created") else set())
            ttl = t.get("ttl_seconds")
            tables.append(
                {
                    "name": t["name"],
                    "keys": list(t["keys"]),
                    "timestamp": t["timestamp"],
                    "created": t.get("created"),
                    "features": list(t["features"]),
                    "ttl": None if ttl is None else timedelta(seconds=ttl),
                    "data": _golden_columns(t["columns"], ts, f"{name}.{t['name']}"),
                }
            )
        # expected timestamps stay strings: compared as instants with the answer's timestamps
        expected = _golden_columns(case["expected"]["columns"], set(), f"{name}.expected")
        cases.append(
            {
                "name": name,
                "spine": spine,
                "spine_keys": list(case["spine"].get("keys", [])),
                "timestamp": spine_ts,
                "tables": tables,
                "expected": expected,
                "feast_differs": case.get("feast_differs"),
            }
        )
    return cases


def _cell_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, datetime) or isinstance(b, datetime):
        if isinstance(a, str):
            a = _parse_ts(a, "expected")
        if isinstance(b, str):
            b = _parse_ts(b, "expected")
        return bool(a == b)
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return abs(fa - fb) <= FLOAT_TOL
    return bool(a == b)


def compare_golden(actual: Any, expected: Any) -> list[str]:
    """Differences between an answer (Arrow table, spine order) and a case's expected rows."""
    problems = []
    if actual.column_names != expected.column_names:
        problems.append(f"columns {actual.column_names} != expected {expected.column_names}")
    if actual.num_rows != expected.num_rows:
        problems.append(f"{actual.num_rows} rows != expected {expected.num_rows}")
    for col in expected.column_names:
        if col not in actual.column_names:
            continue
        got = actual.column(col).to_pylist()
        want = expected.column(col).to_pylist()
        for r, (a, b) in enumerate(zip(got, want, strict=False)):
            if not _cell_equal(a, b):
                problems.append(f"row {r} {col}: got {a!r}, expected {b!r}")
    return problems


def _golden_feast_case(case: dict[str, Any], tmp: Path) -> Any:
    """One golden case through Feast-DuckDB: the answer as an Arrow table in spine order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    row = "_golden_row"
    with tempfile.TemporaryDirectory(prefix="feast-golden-", dir=tmp) as d:
        repo = Path(d)
        tables = []
        for t in case["tables"]:
            path = repo / f"{t['name']}.parquet"
            pq.write_table(t["data"], path)
            tables.append({**t, "path": path, "schema": t["data"].schema})
        store = _feast_store(repo, "duckdb")
        refs = _feast_apply(store, tables)
        spine = case["spine"]
        spine = spine.append_column(row, pa.array(range(spine.num_rows), type=pa.int64()))
        entity_df = spine.to_pandas(
            types_mapper={pa.int64(): _pd_int64(), pa.bool_(): _pd_bool()}.get
        )
        result = store.get_historical_features(entity_df=entity_df, features=refs).to_arrow()
    result = result.take(pc.sort_indices(result, [(row, "ascending")]))
    return result.drop_columns([row])


def _pd_int64() -> Any:
    import pandas as pd

    return pd.Int64Dtype()


def _pd_bool() -> Any:
    import pandas as pd

    return pd.BooleanDtype()


def child_golden(cfg: dict[str, Any]) -> dict[str, Any]:
    """Every golden case through Feast-DuckDB; per case: equal to expected, and the differences."""
    import pyarrow.parquet as pq

    del pq
    out = []
    for case in load_golden(Path(cfg["path"])):
        try:
            result = _golden_feast_case(case, Path(cfg["tmp"]))
            problems = compare_golden(result, case["expected"])
            rows = [[_json_cell(v) for v in r.values()] for r in result.to_pylist()]
            out.append({"name": case["name"], "problems": problems, "rows": rows, "error": None})
        except Exception as exc:
            out.append(
                {
                    "name": case["name"],
                    "problems": [],
                    "rows": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
    return {"cases": out, "versions": _versions("feast", "duckdb", "ibis-framework")}


def _json_cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return v


def _golden_prodml_case(case: dict[str, Any]) -> Any:
    from prodml.features.pit import FeatureSource, point_in_time_join

    sources = [
        FeatureSource(
            name=t["name"],
            data=t["data"],
            keys=t["keys"],
            timestamp=t["timestamp"],
            features=t["features"],
            created=t["created"],
            ttl=t["ttl"],
        )
        for t in case["tables"]
    ]
    return point_in_time_join(case["spine"], timestamp=case["timestamp"], sources=sources)


def run_golden(path: Path, peer_python: Path | None, peer_note: str) -> int:
    cases = load_golden(path)  # fails early (here) on a malformed file
    print(f"golden file {path}: {len(cases)} case(s)")
    feast_answers: dict[str, dict[str, Any]] = {}
    versions = ""
    if peer_python is not None:
        res = run_child(
            peer_python,
            "golden",
            {"path": str(path.resolve()), "tmp": str(work_dir("pit_join"))},
            timeout=600,
            mem_limit_mb=None,
        )
        if "error" in res:
            print(f"error: {res['error']}", file=sys.stderr)
            return 1
        feast_answers = {c["name"]: c for c in res["cases"]}
        versions = ", ".join(f"{k} {v}" for k, v in res["versions"].items())
    try:
        import prodml.features.pit  # noqa: F401

        have_prodml = True
    except ImportError as exc:
        have_prodml = False
        print(f"prodml side skipped: {exc}")

    table = []
    failures = 0
    details: list[str] = []
    for case in cases:
        name = case["name"]
        known = case["feast_differs"]
        feast_cell = "—"
        if name in feast_answers:
            fa = feast_answers[name]
            if fa["error"]:
                feast_cell = "error"
                details.append(f"{name}: Feast failed: {fa['error']}")
                failures += 0 if known else 1
            elif fa["problems"]:
                feast_cell = f"differs (known: {known})" if known else "NO"
                failures += 0 if known else 1
                details += [f"{name}: Feast {p}" for p in fa["problems"][:10]]
                details.append(f"{name}: Feast rows {fa['rows']}")
            else:
                feast_cell = "yes" + (" (but marked feast_differs)" if known else "")
        prodml_cell = "—"
        if have_prodml:
            try:
                problems = compare_golden(_golden_prodml_case(case), case["expected"])
                prodml_cell = "yes" if not problems else "NO"
                failures += 1 if problems else 0
                details += [f"{name}: prodml {p}" for p in problems[:10]]
            except Exception as exc:
                prodml_cell = "error"
                failures += 1
                details.append(f"{name}: prodml failed: {type(exc).__name__}: {exc}")
        table.append([name, feast_cell, prodml_cell, known or ""])
    print_table(
        f"point-in-time golden cases ({path.name}): answers equal to the expected rows",
        ["case", "Feast-DuckDB = expected", "prodml = expected", "known Feast difference"],
        table,
    )
    if versions:
        print(f"peer venv: {versions}")
    elif peer_note:
        print(f"Feast not run: {peer_note}")
    for d in details:
        print(f"  {d}")
    return 3 if failures else 0


# --------------------------------------------------------------------------------------------
# the parent: run the children, compare the answers, print the table
# --------------------------------------------------------------------------------------------


def child_main(kind: str, cfg_json: str) -> int:
    forbid_network("pit_join")
    cfg = json.loads(cfg_json)
    funcs = {"prodml": child_prodml, "feast": child_feast, "golden": child_golden}
    result = funcs[kind](cfg)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def _rss_of(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_child(
    python: Path,
    kind: str,
    cfg: dict[str, Any],
    *,
    timeout: float,
    mem_limit_mb: float | None,
) -> dict[str, Any]:
    """Run one child; its RESULT dict, or ``{"error": ..., "killed": ...}`` when it failed.

    A killed child (``timeout`` seconds, or above ``mem_limit_mb`` RSS) reports
    ``timed_lower_bound``: how long its timed work had run (None if it had not started), from
    the marker file the child writes when the timed call starts.
    """
    marker = Path(tempfile.mkdtemp(prefix="pit-marker-")) / "timed_start"
    cfg = {**cfg, "marker": str(marker)}
    argv = [str(python), str(Path(__file__).resolve()), "--child", kind, json.dumps(cfg)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            text=True,
            env=command_env(python.parent, CHILD_ENV),
            cwd=BENCH_DIR,
        )
        t0 = time.perf_counter()
        killed = None
        max_rss = 0.0
        try:
            while proc.poll() is None:
                time.sleep(0.2)
                rss = _rss_of(proc.pid) or 0.0
                max_rss = max(max_rss, rss)
                if time.perf_counter() - t0 > timeout:
                    killed = f"timeout > {timeout:g} s"
                elif mem_limit_mb is not None and rss > mem_limit_mb:
                    killed = f"killed > {mem_limit_mb:.0f} MB RSS"
                if killed:
                    proc.kill()
                    proc.wait()
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    started = float(marker.read_text()) if marker.is_file() else None
    shutil.rmtree(marker.parent, ignore_errors=True)
    if killed:
        bound = None if started is None else time.time() - started
        if bound is not None:
            killed += f" (timed part > {bound:.0f} s)" if "timeout" in killed else ""
        else:
            killed += " (before the timed part started)"
        return {"error": killed, "killed": killed, "max_rss": max_rss, "timed_lower_bound": bound}
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(stderr.strip().splitlines()[-30:])
        return {"error": f"child {kind} ({python}) exited with {proc.returncode}:\n{tail}"}
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def _normalise(table: Any, *, nan_as_null: bool = False) -> Any:
    """Sorted by row_id; ints/floats/strings/timestamps to one type per kind (NaN → NULL too
    with ``nan_as_null``: pandas' missing value, for the file store's answer)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.take(pc.sort_indices(table, [(ROW_ID, "ascending")]))
    cols = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        t = col.type
        if pa.types.is_timestamp(t):
            col = col.cast(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_floating(t):
            col = col.cast(pa.float64())
            if nan_as_null:
                col = pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col)
        elif pa.types.is_integer(t):
            col = col.cast(pa.int64())
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.large_string())
        cols[name] = col
    return pa.table(cols)


def compare_results(mine: Any, ref: Any, label: str) -> tuple[list[str], dict[str, int]]:
    """Differences between two join results (both normalised); per-column mismatch counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    problems: list[str] = []
    counts: dict[str, int] = {}
    if mine.num_rows != ref.num_rows:
        problems.append(f"rows: prodml {mine.num_rows}, {label} {ref.num_rows}")
        return problems, counts
    if not mine.column(ROW_ID).equals(ref.column(ROW_ID)):
        problems.append(f"{ROW_ID}: the two results hold different spine rows")
        return problems, counts
    for col in OUTPUT_COLUMNS:
        if col not in mine.column_names or col not in ref.column_names:
            problems.append(
                f"{col}: missing from {'prodml' if col not in mine.column_names else label}"
            )
            continue
        a, b = mine.column(col), ref.column(col)
        a_null = np.asarray(pc.is_null(a).to_numpy(zero_copy_only=False))
        b_null = np.asarray(pc.is_null(b).to_numpy(zero_copy_only=False))
        bad = a_null != b_null
        both = ~a_null & ~b_null
        if a.type != b.type:
            problems.append(f"{col}: type prodml {a.type}, {label} {b.type}")
            counts[col] = int(bad.sum())
            continue
        if pa.types.is_floating(a.type):
            av = a.fill_null(0.0).to_numpy()
            bv = b.fill_null(0.0).to_numpy()
            bad |= both & ~(np.abs(av - bv) <= FLOAT_TOL)
        else:
            eq = pc.equal(a, b).fill_null(False).to_numpy(zero_copy_only=False)
            bad |= both & ~np.asarray(eq)
        counts[col] = int(bad.sum())
        if bad.any():
            idx = np.flatnonzero(bad)
            rows = mine.column(ROW_ID).to_numpy()[idx[:5]].tolist()
            examples = ", ".join(
                f"row_id {r}: prodml {a[i].as_py()!r} / {label} {b[i].as_py()!r}"
                for r, i in zip(rows, idx[:5], strict=True)
            )
            problems.append(f"{col}: {len(idx)} row(s) differ ({examples})")
    return problems, counts


def file_store_report(file_res: Any, ref: Any, spine: Any) -> str:
    """How the file store's answer differs from Feast-DuckDB's (rows lost/merged, values)."""
    import numpy as np
    import pyarrow.compute as pc

    n_spine = spine.num_rows
    ids = file_res.column(ROW_ID).to_numpy()
    distinct = np.unique(ids)
    missing = np.setdiff1d(spine.column(ROW_ID).to_numpy(), distinct)
    # a missing spine row whose (customer_id, label_ts) the file store returned was "merged"
    key = spine.column("customer_id").to_numpy()
    ts = spine.column(SPINE_TS).cast("int64").to_numpy()
    returned = set(zip(key[distinct].tolist(), ts[distinct].tolist(), strict=True))
    merged = sum(
        1
        for k, t in zip(key[missing].tolist(), ts[missing].tolist(), strict=True)
        if (k, t) in returned
    )
    dropped = len(missing) - merged
    # the rows it did return: same values as Feast-DuckDB?
    # (pandas turned int features with NULLs into floats: back to Feast-DuckDB's types)
    ref_rows = ref.take(pc.index_in(file_res.column(ROW_ID), value_set=ref.column(ROW_ID)))
    file_res = file_res.select(ref.column_names).cast(ref.schema)
    _, counts = compare_results(file_res, ref_rows, "file")
    n_bad = max(counts.values()) if counts else 0
    return (
        f"{file_res.num_rows} rows of {n_spine} ({file_res.num_rows - n_spine:+d}): "
        f"{dropped} spine rows dropped (keys with feature rows but none in the window), "
        f"{merged} merged into an equal (customer_id, {SPINE_TS}) row; of the rows it returned, "
        f"columns differing from Feast-DuckDB's in at most {n_bad} rows"
        + (f" ({', '.join(f'{c} {n}' for c, n in counts.items() if n)})" if n_bad else "")
    )


def _mem_total_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 16_384.0


def _size(n: int) -> str:
    return f"{n // 1000}k" if n < 1_000_000 else f"{n / 1e6:g}M"


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
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
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    peer_python: Path | None = None
    peer_note = ""
    if args.skip_peers:
        peer_note = "peer skipped with --skip-peers"
    else:
        try:
            bin_dir = peer_venv("feast", BENCH_DIR / "peers" / "feast" / "requirements.txt")
            peer_python = bin_dir / ("python.exe" if os.name == "nt" else "python")
        except PeerUnavailableError as exc:
            peer_note = str(exc)
            print(f"warning: {exc}")

    if args.golden:
        return run_golden(args.golden, peer_python, peer_note)

    spine_rows = args.spine_rows or (20_000 if args.quick else 1_000_000)
    feature_rows = args.feature_rows or (200_000 if args.quick else 10_000_000)
    rounds = args.runs or (1 if args.quick else 3)
    mem_limit = args.mem_limit_mb or 0.85 * _mem_total_mb()
    print(
        f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{mem_total_gb()} | {platform.python_implementation()} {platform.python_version()} | "
        f"{platform.platform()}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    data = make_data(spine_rows, feature_rows)
    sizes = _table_sizes(feature_rows)
    print(
        f"data: {spine_rows} spine rows, {feature_rows} feature rows "
        f"({', '.join(f'{t.name} {n}' for t, n in zip(TABLES, sizes, strict=True))}), "
        f"seed {SEED}, in {data} (ready in {time.perf_counter() - t0:.1f} s); "
        f"{rounds} round(s), workloads interleaved"
    )

    results = work_dir("pit_join") / "results"
    results.mkdir(exist_ok=True)
    me = Path(sys.executable)
    base = {"data": str(data), "tmp": str(work_dir("pit_join"))}
    workloads: dict[str, tuple[Path, dict[str, Any], str]] = {
        "prodml": (me, {**base, "out": str(results / "prodml.parquet")}, "prodml")
    }
    if peer_python is not None:
        workloads["feast_duckdb"] = (
            peer_python,
            {**base, "offline": "duckdb", "out": str(results / "feast_duckdb.parquet")},
            "feast",
        )
        if not args.skip_file_store:
            workloads["feast_file"] = (
                peer_python,
                {**base, "offline": "file", "out": str(results / "feast_file.parquet")},
                "feast",
            )
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in workloads}
    failed: dict[str, str] = {}
    lower_bounds: dict[str, float] = {}  # label -> the timed part ran at least this long
    t_start = time.perf_counter()
    for r in range(rounds):
        ran: list[str] = []
        for label, (python, cfg, kind) in workloads.items():
            if label in failed or (label == "feast_file" and r >= args.file_store_runs):
                continue
            res = run_child(python, kind, cfg, timeout=args.peer_timeout, mem_limit_mb=mem_limit)
            if "error" in res:
                failed[label] = res.get("killed") or res["error"]
                if res.get("timed_lower_bound") is not None and "timeout" in failed[label]:
                    lower_bounds[label] = res["timed_lower_bound"]
                print(f"{label}: {res['error']}", file=sys.stderr)
                ran.append(f"{label} {failed[label].splitlines()[0]}")
                if label == "prodml" and not res.get("killed"):
                    return 1
                continue
            samples[label].append(res)
            ran.append(f"{label} {res['wall']:.3f} s ({fmt_mb(res['peak'])} MB)")
        print(f"round {r + 1}/{rounds}: {', '.join(ran)}", flush=True)

    import pyarrow.parquet as pq

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
        mine = _normalise(raw)
    ref = None
    rows_equal = "—"
    if samples.get("feast_duckdb"):
        raw = pq.read_table(results / "feast_duckdb.parquet")
        if sorted(raw.column_names) != sorted(OUTPUT_COLUMNS):
            problems.append(f"Feast-DuckDB columns {raw.column_names} (expected {OUTPUT_COLUMNS})")
        elif raw.column_names != OUTPUT_COLUMNS:
            print(f"note: Feast-DuckDB column order {raw.column_names}")
        ref = _normalise(raw)
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
        file_note = file_store_report(
            _normalise(pq.read_table(results / "feast_file.parquet"), nan_as_null=True), ref, spine
        )

    def med(label: str, key: str) -> float | None:
        vals = [s[key] for s in samples.get(label, []) if s.get(key) is not None]
        return statistics.median(vals) if vals else None

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

    def feast_info(key: str) -> str:
        v = med("feast_duckdb", key) or med("feast_file", key)
        return "—" if v is None else f"{v:.2f}"

    def mem_ratio(label: str) -> str:
        v = med(label, "peak")
        return "n/a" if v is None or p_mb is None else f"{p_mb / v:.2f}"

    def met(label: str, target: float) -> str:
        v, m = med(label, "wall"), med(label, "peak")
        if v is None or p_s is None or m is None or p_mb is None:
            return "—"
        ok = v / p_s >= target and p_mb / m <= TARGET_MEMORY and not problems
        return "yes" if ok else "NO"

    size = f"{_size(spine_rows)} × {_size(feature_rows)}"  # noqa: RUF001
    table = [
        [
            f"pit join {size}, vs Feast-DuckDB",
            cell("prodml", "wall"),
            cell("feast_duckdb", "wall"),
            speed("feast_duckdb"),
            cell("prodml", "peak"),
            cell("feast_duckdb", "peak"),
            mem_ratio("feast_duckdb"),
            rows_equal,
            f"≥ {TARGET_VS_DUCKDB:g}x, mem ≤ {TARGET_MEMORY:g}, same rows",
            met("feast_duckdb", TARGET_VS_DUCKDB),
        ],
    ]
    if "feast_file" in workloads:
        file_rows = (
            f"{int(med('feast_file', 'rows') or 0)} rows (not the reference)"
            if samples.get("feast_file")
            else "—"
        )
        table.append(
            [
                f"pit join {size}, vs Feast file store (Dask)",
                cell("prodml", "wall"),
                cell("feast_file", "wall"),
                speed("feast_file"),
                cell("prodml", "peak"),
                cell("feast_file", "peak"),
                mem_ratio("feast_file"),
                file_rows,
                f"≥ {TARGET_VS_FILE:g}x, mem ≤ {TARGET_MEMORY:g}",
                met("feast_file", TARGET_VS_FILE),
            ]
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
    if samples["prodml"]:
        print(
            "prodml venv: "
            + ", ".join(f"{k} {v}" for k, v in samples["prodml"][0]["versions"].items())
        )
    peer = samples.get("feast_duckdb") or samples.get("feast_file")
    if peer:
        print("peer venv: " + ", ".join(f"{k} {v}" for k, v in peer[0]["versions"].items()))
    elif peer_note:
        print(f"peer: {peer_note}")
    print(
        "timed: prodml point_in_time_join(datasets of the Parquet files) -> pyarrow.Table / Feast "
        "store.get_historical_features(entity_df, features).to_arrow() over FileSources of the "
        "same files; not timed: data generation, Feast repo setup + apply "
        f"(median {feast_info('wall_setup')} s), reading the spine into the "
        f"pandas entity_df (median {feast_info('wall_spine')} s), "
        f"a warm-up on the first {WARMUP_ROWS} spine rows in each process"
    )
    for label, runs in samples.items():
        if runs:
            print(
                f"{label}: walls {', '.join(format(s['wall'], '.3f') for s in runs)} s; "
                f"rows {runs[0]['rows']}; RSS after imports {fmt_mb(med(label, 'rss_imports'))} "
                f"MB, after the warm-up {fmt_mb(med(label, 'rss_data'))} MB, "
                f"peak (VmHWM) {fmt_mb(med(label, 'peak'))} MB"
            )
        elif label in failed:
            print(f"{label}: {failed[label].splitlines()[0]}")
    if file_note:
        print(f"Feast file store (not a correctness reference): {file_note}")
    print(
        f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"total {time.perf_counter() - t_start:.0f} s"
    )
    if problems:
        print(f"\nDISAGREEMENT ({len(problems)}):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 3
    if "prodml" in failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
