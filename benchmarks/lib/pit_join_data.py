"""The point-in-time join benchmark's data: a spine and three feature tables with TTLs, event-time
ties, exact TTL edges, duplicates and unmatched keys (NumPy + pyarrow, written once per size by
the parent, untimed)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from lib.env import work_dir

SEED = 20241121
DATA_VERSION = 1  # bump when make_data changes: cached data is rebuilt
FLOAT_TOL = 1e-12
WARMUP_ROWS = 1000

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


def table_sizes(feature_rows: int) -> list[int]:
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
    for i, (table, rows) in enumerate(zip(TABLES, table_sizes(feature_rows), strict=True)):
        cols = _make_table(i, table, rows, n_customers)
        pq.write_table(_arrow_table(cols), out / f"{table.name}.parquet")
        keep = {k: cols[k] for k in (*table.keys, EVENT_TS)}
        tables.append(keep)
        del cols
    spine = _make_spine(spine_rows, n_customers, tables)
    pq.write_table(_arrow_table(spine), out / "spine.parquet")
    meta_file.write_text(json.dumps(meta))
    return out
