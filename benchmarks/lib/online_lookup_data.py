"""The online lookup benchmark's data (one Parquet file of 20 features per entity, NumPy from a
fixed seed), its truth (the latest row per key), the answer digests and checks, and the timed
loop both tools' in-process children share."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.env import work_dir

SEED = 20241127
DATA_VERSION = 1  # bump when make_data changes: cached data is rebuilt
T0_US = 1_704_067_200 * 1_000_000  # 2024-01-01T00:00:00Z
SPAN_US = 366 * 86_400 * 1_000_000
OLD_SHARE = 0.3  # entities with a second, older row
NULL_SHARE = 0.01

KEY = "entity_id"
EVENT_TS = "event_ts"
FLOATS = [f"f{i:02d}" for i in range(12)]
INTS = [f"f{i:02d}" for i in range(12, 18)]
STRINGS = [f"f{i:02d}" for i in range(18, 20)]
FEATURES = FLOATS + INTS + STRINGS
TABLE = "features.entity_features"
PRODUCT = "online_bench"
ENVS = {"sqlite": "olb_sqlite", "redis": "olb_redis"}  # environment -> catalog
FEAST_PROJECT = "prodml_online_lookup_bench"  # also the suffix of Feast's Redis keys
FEAST_VIEW = "entity_features"
FEAST_REFS = [f"{FEAST_VIEW}:{f}" for f in FEATURES]
CHILD_ENV = {"FEAST_USAGE": "False"}

BLOCK = 500  # keys per block; variants / servers alternate per block
CHECK_PRESENT = 500
CHECK_ABSENT = 100


def _feature_columns(rng: Any, rows: int) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    cols: dict[str, Any] = {}
    for f in FLOATS:
        values = np.round(rng.normal(0.0, 100.0, rows), int(rng.integers(2, 12)))
        cols[f] = pa.array(values, pa.float64(), mask=rng.random(rows) < NULL_SHARE)
    for f in INTS:
        cols[f] = pa.array(rng.integers(-(2**40), 2**40, rows), pa.int64())
    segments = np.array([f"segment_{i:02d}" for i in range(50)], dtype=object)
    cols["f18"] = pa.array(segments[rng.integers(0, 50, rows)], pa.string())
    countries = np.array([f"C{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(120)], object)
    cols["f19"] = pa.array(
        countries[rng.integers(0, 120, rows)], pa.string(), mask=rng.random(rows) < NULL_SHARE
    )
    return cols


def make_data(entities: int) -> Path:
    """The feature rows as Parquet (cached by size and version); returns the file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = work_dir("online_lookup/data") / f"entities_{entities}_v{DATA_VERSION}.parquet"
    if path.is_file():
        return path
    rng = np.random.default_rng([SEED, entities])
    ids = np.arange(entities, dtype=np.int64) * 2 + 1
    event = T0_US + rng.integers(30 * 86_400 * 1_000_000, SPAN_US, entities)
    n_old = int(entities * OLD_SHARE)
    old = rng.choice(entities, n_old, replace=False)
    old_event = event[old] - rng.integers(1, 30 * 86_400 * 1_000_000, n_old)
    current, older = _feature_columns(rng, entities), _feature_columns(rng, n_old)
    columns = {
        KEY: pa.array(np.concatenate([ids, ids[old]])),
        EVENT_TS: pa.array(np.concatenate([event, old_event])).cast(pa.timestamp("us", "UTC")),
    }
    for f in FEATURES:
        columns[f] = pa.concat_arrays([current[f], older[f]])
    table = pa.table(columns)
    table = table.take(pa.array(rng.permutation(table.num_rows)))
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=64 * 1024)
    tmp.rename(path)
    return path


@dataclass
class Truth:
    """The latest row per key of the sample keys (absent keys: None)."""

    rows: dict[int, tuple[int, tuple[Any, ...]] | None]  # key -> (event_us, values)


def load_truth(path: Path, check_keys: Sequence[int]) -> Truth:
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    ids = table.column(KEY).to_numpy()
    ts = table.column(EVENT_TS).cast("int64").to_numpy()
    order = np.lexsort((ts, ids))
    sorted_ids = ids[order]
    last = order[np.r_[sorted_ids[1:] != sorted_ids[:-1], True]]  # the latest row per key
    latest = table.take(last)
    latest_ids = latest.column(KEY).to_numpy()
    rows: dict[int, tuple[int, tuple[Any, ...]] | None] = {}
    wanted = np.asarray(check_keys, dtype=np.int64)
    at = np.searchsorted(latest_ids, wanted)
    found = (at < len(latest_ids)) & (latest_ids[np.minimum(at, len(latest_ids) - 1)] == wanted)
    sample = latest.take(at[found])
    for key in wanted[~found].tolist():
        rows[key] = None
    events = sample.column(EVENT_TS).cast("int64").to_pylist()
    for row, event_us in zip(sample.to_pylist(), events, strict=True):
        rows[row[KEY]] = (event_us, normalise_values(row))
    return Truth(rows)


def epoch_us(when: Any) -> int | None:
    """A time-zone aware datetime as microseconds since the epoch (exact), None for None."""
    from datetime import UTC, datetime, timedelta

    if when is None:
        return None
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def normalise_values(values: Any) -> tuple[Any, ...]:
    """A mapping feature -> value as a tuple in FEATURES order: doubles as float, NaN as None."""
    out = []
    for f in FEATURES:
        v = values.get(f)
        if v is not None and f in FLOATS:
            v = float(v)
            if math.isnan(v):
                v = None
        out.append(v)
    return tuple(out)


class AnswerLog:
    """A running digest of a measurement's answers (so no answer is kept alive: keeping tens
    of thousands would make the timed loop's garbage collections slower than the tool's own)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.bad = 0  # answers that are not a found entity

    def add(self, values: Sequence[Any], *, found: bool = True) -> None:
        self._hash.update(json.dumps(values).encode() + b"\n")
        self.count += 1
        self.bad += not found

    def digest(self) -> str:
        return self._hash.hexdigest()[:16]


def time_variants(
    variants: dict[str, Callable[[Any], Any]],
    sinks: dict[str, Callable[[Any], None]],
    requests: Sequence[Any],
    warmup: Sequence[Any],
) -> dict[str, list[int]]:
    """Call each variant once per request (blocks of BLOCK, variants round-robin per block);
    each answer goes to the variant's sink after its call (untimed). Latencies in ns."""
    perf = time.perf_counter_ns
    for fn in variants.values():
        for req in warmup:
            fn(req)
    lat: dict[str, list[int]] = {name: [] for name in variants}
    names = list(variants)
    for b, start in enumerate(range(0, len(requests), BLOCK)):
        block = requests[start : start + BLOCK]
        order = names if b % 2 == 0 else names[::-1]
        for name in order:
            fn, out, sink = variants[name], lat[name], sinks[name]
            for req in block:
                t0 = perf()
                answer = fn(req)
                out.append(perf() - t0)
                sink(answer)
    return lat


def _fmt_row(values: Sequence[Any]) -> str:
    return "[" + ", ".join(repr(v) for v in values[:6]) + (", …]" if len(values) > 6 else "]")


def check_rows(label: str, rows: Sequence[Any], truth: Truth, *, prodml: bool) -> list[str]:
    """A path's answers for the check keys against the truth (first 5 problems)."""
    problems: list[str] = []
    for key, values, statuses, event in rows:
        expected = truth.rows[key]
        want_values = expected[1] if expected else (None,) * len(FEATURES)
        why = []
        if tuple(values) != want_values:
            bad = [f for f, a, b in zip(FEATURES, values, want_values, strict=True) if a != b]
            why.append(
                f"values differ in {', '.join(bad[:5])} "
                f"(got {_fmt_row(values)}, expected {_fmt_row(want_values)})"
            )
        if prodml:
            want_status = ["present"] if expected else ["not_found"]
            if statuses != want_status:
                why.append(f"statuses {statuses} (expected {want_status})")
        want_event = expected[0] if expected else None
        if not prodml and want_event is not None:
            want_event //= 1_000_000  # Feast: whole seconds
        if (prodml or event is not None) and event != want_event:
            why.append(f"event time {event} (expected {want_event})")
        if why:
            problems.append(f"{label}: key {key}: {'; '.join(why)}")
    if len(problems) > 5:
        problems = [*problems[:5], f"{label}: … {len(problems) - 5} more keys differ"]
    return problems
