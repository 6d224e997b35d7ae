"""Online lookup: 1 entity x 20 features, in process and over HTTP, against Feast's online reads.

Target (``/work/shared/BENCHMARKS.md``, row "online lookup"): one entity's 20 features with a
p99 latency ≤ 1 ms in process and ≤ 3 ms over HTTP on loopback; the peer, measured in the same
run on the same data, is Feast's online read from its SQLite and Redis online stores.

The data (NumPy ``default_rng`` from a fixed seed; ``make_data``, untimed, cached under
``benchmarks/.work/online_lookup/data/`` until the parameters change), one Parquet file:
``--entities`` entities (default 100k; ``entity_id`` the odd numbers 1, 3, 5, …, so even ids are
keys that do not exist), each with one row and ~30 % with a second, older row holding other
values (the latest row must win), columns ``entity_id`` (int64), ``event_ts`` (timestamp[us,
UTC], 2024) and 20 features: ``f00`` to ``f11`` doubles (1 % NULL), ``f12`` to ``f17`` int64,
``f18``, ``f19`` strings (``f19`` 1 % NULL).

Setup (untimed; seconds reported):

* prodml: a platform in ``benchmarks/.work/online_lookup/platform`` with two environments,
  ``sqlite`` (the default online store, ``<state_dir>/online.db``) and ``redis``
  (``online_store.url: redis://127.0.0.1:6379/15``, ``--redis-url``), each with its own catalog.
  One product declares ``features.entity_features`` (keys ``[entity_id]``, timestamp
  ``event_ts``, no TTL) written by a step that reads the Parquet file, an ``endpoint:`` (no
  model needs to be registered: the feature route does not score) with ``reload_seconds:
  3600`` and no inference log. Per environment: ``ws.run(product)``, then
  ``ws.features.publish()``.
* Feast (``benchmarks/.venvs/feast``, ``peers/feast/requirements.txt``): one repo per online
  store under ``benchmarks/.work/online_lookup/feast_<store>`` (``feature_store.yaml``: file
  registry, ``offline_store: duckdb``, ``online_store`` ``type: sqlite`` or ``type: redis`` with
  ``connection_string: 127.0.0.1:6379,db=15``), an ``Entity`` (int64 join key), a ``FeatureView``
  of the 20 features over a ``FileSource`` of the same Parquet file, ``apply``, then
  ``materialize`` over the whole year.

Timed (every call is one entity; keys drawn with a fixed seed from the existing ones, the same
sequence for both tools; ``--lookups`` per measurement per round after ``--warmup-lookups``
untimed calls; ``--runs`` rounds, default 3; percentiles over the pooled samples):

* in process, each tool in its own child process (ABBA order over rounds), keys in blocks of
  500 with the variants round-robin per block:

  * prodml ``ws.features.online("features.entity_features", [{"entity_id": k}])``, and the
    layer below it, ``ws.features.online_features.lookup(FeatureLookup(...), [{...}])`` with the
    ``FeatureLookup`` built once (also the backend's bare ``store.read`` of the encoded key, as
    a floor, in the detail table);
  * Feast ``store.get_online_features(features=[20 refs], entity_rows=[{"entity_id":
    k}]).to_dict()``.

* over HTTP on loopback, both servers up at once, one worker each: ``prodml serve --no-auth
  --product … --env <store>`` (``POST /v1/features/online`` with ``{"table":
  "features.entity_features", "entities": [{"entity_id": k}]}``) and ``feast serve
  --workers 1 --no-access-log --max-requests 0 --registry_ttl_sec 3600`` (``POST
  /get-online-features`` with ``{"features": [20 refs], "entities": {"entity_id": [k]}}``;
  ``--max-requests 0``: without it, gunicorn restarts Feast's worker every ~1000 requests).
  A server is measured once it answers a lookup (prodml: and once its ``GET /ready`` no
  longer says ``loading``: at start it resolves its model in the background, importing MLflow;
  no model is registered here, so it settles on "no champion alias"). This script is the
  client: ``http.client`` keep-alive connections, one request at a time (concurrency 1),
  latency from sending the request to having read the whole body (not decoded); after a
  warm-up on the same connection (the warm-up keys, for at least 2 s), blocks of 500 requests
  alternate between the two servers (ABBA). Then ``GET /health`` on each, as the floor of
  its HTTP stack (detail table).

Checks (exit 3 when one fails): for a sample of 500 existing and 100 absent keys, every path
(prodml ``online()``, ``lookup()``, HTTP; Feast in process and HTTP) gives the Parquet truth —
the values of the latest row per key (doubles exactly, NULL as NULL), prodml's statuses
``present`` / ``not_found`` and its event time; and every timed answer of prodml equals
Feast's answer for the same key (a digest of all in-process answers; all HTTP bodies decoded).
Feast returns event times in whole seconds: its event times are compared at that precision.

The machine is shared: the load average is printed at the start and the end, and before
measuring the script waits (up to ``--max-load-wait`` seconds, default 180) for the 1-minute
load average to fall to ``--load-threshold`` (default 1.0). Redis keys (db 15) of both tools
are deleted before the setup and at the end. Every child runs with ``FEAST_USAGE=False`` and the
telemetry switches of ``_common``, and refuses non-loopback connections.

Exit status: 0 when the answers agree (even if a target is missed), 3 on a disagreement, 1
when something fails.

    .venv/bin/python benchmarks/online_lookup.py             # 100k entities, 3 x 10k lookups
    .venv/bin/python benchmarks/online_lookup.py --quick     # 20k entities, 1 x 2k lookups
    .venv/bin/python benchmarks/online_lookup.py --profile   # + cProfile of prodml's online()
    .venv/bin/python benchmarks/online_lookup.py --skip-peers --stores sqlite

(``--warmup N`` of the shared flags is not used: the warm-up is ``--warmup-lookups``.)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    PeerUnavailableError,
    ServerFailedError,
    ServerProcess,
    bench_arg_parser,
    command_env,
    fmt_mb,
    forbid_network,
    free_port,
    mem_total_gb,
    peer_venv,
    print_table,
    prodml_bin,
    status_mb,
    work_dir,
)

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
TARGET_MS = {"in process": 1.0, "HTTP": 3.0}
HOST = "127.0.0.1"
START_TIMEOUT = 120.0
PROFILE_CALLS = 5000
WARMUP_SECONDS_HTTP = 2.0  # per server, at least (and at least the warm-up keys once)


# --------------------------------------------------------------------------------------------
# deterministic data (NumPy + pyarrow, written once by the parent, untimed)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# prodml platform (parent, untimed)
# --------------------------------------------------------------------------------------------


def _platform_yaml(redis_url: str) -> str:
    return (
        "name: online_bench\n"
        "default_env: sqlite\n"
        "state_dir: .prodml\n"
        "landing_dir: landing\n"
        "storage: {root: data}\n"
        "environments:\n"
        f"  sqlite: {{catalog: {ENVS['sqlite']}}}\n"
        f"  redis: {{catalog: {ENVS['redis']}, online_store: {{url: '{redis_url}'}}}}\n"
    )


def _product_yaml() -> str:
    features = "\n".join(f"      {f}: feature {f} of the benchmark" for f in FEATURES)
    return (
        f"name: {PRODUCT}\n"
        "description: online lookup benchmark (20 features per entity)\n"
        "owners: [{name: bench, role: accountable}]\n"
        "features:\n"
        f"  {TABLE}:\n"
        "    description: 20 generated features per entity.\n"
        f"    keys: [{KEY}]\n"
        f"    timestamp: {EVENT_TS}\n"
        "    features:\n"
        f"{features}\n"
        "model:\n"
        f"  name: {PRODUCT}\n"
        "endpoint:\n"
        "  reload_seconds: 3600\n"
        "  inference_log: {enabled: false}\n"
    )


_PIPELINE = '''\
"""Writes the benchmark's feature table from the generated Parquet file."""

from prodml import step

DATA = {data!r}


@step(stage="features", outputs="{table}")
def entity_features(ctx):
    import pyarrow.parquet as pq

    return pq.read_table(DATA)
'''


def build_platform(root: Path, data: Path, redis_url: str) -> Path:
    if root.exists():
        shutil.rmtree(root)
    product = root / "products" / PRODUCT
    product.mkdir(parents=True)
    (root / "prodml.yaml").write_text(_platform_yaml(redis_url))
    (product / "product.yaml").write_text(_product_yaml())
    (product / "pipeline.py").write_text(_PIPELINE.format(data=str(data), table=TABLE))
    return root


def publish(root: Path, env: str) -> dict[str, Any]:
    """Run the product and publish the table to the environment's online store."""
    import prodml

    with prodml.connect(root, env) as ws:
        full = f"{ENVS[env]}.{TABLE}"
        ws.features.online_store.drop(full)  # a stale Redis state would look up to date
        t0 = time.perf_counter()
        result = ws.run(PRODUCT)
        failed = [s for s in result.steps if s["status"] != "succeeded"]
        if failed:
            raise RuntimeError(f"prodml run {PRODUCT} ({env}) failed: {failed}")
        run_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        (published,) = ws.features.publish()
        return {
            "run": run_s,
            "publish": time.perf_counter() - t0,
            "keys": published.keys,
            "rows": published.rows_read,
        }


def drop_prodml_redis(root: Path) -> None:
    import prodml

    if (root / "prodml.yaml").is_file():
        with prodml.connect(root, "redis") as ws:
            ws.features.online_store.drop(f"{ENVS['redis']}.{TABLE}")


def drop_feast_redis(redis_url: str) -> int:
    """Delete Feast's keys (they end with the project name) from the benchmark's Redis db."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=b"*" + FEAST_PROJECT.encode(), count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                deleted += int(client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(client.unlink(*batch))
        return deleted
    finally:
        client.close()


def redis_available(redis_url: str) -> str | None:
    """None when Redis answers, else why not."""
    try:
        import redis
    except ImportError:
        return "the redis package is not installed in prodml's venv"
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis at {redis_url} does not answer: {exc}"
    finally:
        client.close()
    return None


def feast_connection_string(redis_url: str) -> str:
    """``redis://host:port/db`` as Feast's ``host:port,db=N``."""
    url = urllib.parse.urlparse(redis_url)
    db = url.path.strip("/") or "0"
    return f"{url.hostname or HOST}:{url.port or 6379},db={db}"


# --------------------------------------------------------------------------------------------
# child processes: one per tool and round, so each one's interpreter is its own
# --------------------------------------------------------------------------------------------


def _versions(*mods: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for mod in mods:
        try:
            out[mod] = metadata.version(mod)
        except metadata.PackageNotFoundError:
            out[mod] = "?"
    return out


def _time_variants(
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


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml in process: ``ws.features.online`` and ``online_features.lookup`` per store."""
    import prodml
    from prodml.features import FeatureLookup
    from prodml.features.online import PRESENT

    requests = [[{KEY: k}] for k in cfg["keys"]]
    warmup = [[{KEY: k}] for k in cfg["warmup_keys"]]
    out: dict[str, Any] = {"stores": {}, "versions": _versions("prodml", "redis")}
    for store in cfg["stores"]:
        ws = prodml.connect(cfg["root"], store)
        features = ws.features
        flookup = FeatureLookup(TABLE)
        online = features.online_features
        backend = online.store
        full = f"{online.catalog}.{TABLE}"
        variants: dict[str, Callable[[Any], Any]] = {
            "online": lambda e, f=features: f.online(TABLE, e),
            "lookup": lambda e, o=online, fl=flookup: o.lookup(fl, e),
            "read": lambda e, s=backend, t=full: s.read(t, [str(e[0][KEY])]),
        }
        logs = {name: AnswerLog() for name in variants}

        def hits(log: AnswerLog) -> Callable[[Any], None]:
            def sink(answer: Any) -> None:
                (hit,) = answer
                found = set(hit.statuses.values()) == {PRESENT}
                log.add(normalise_values(hit.values), found=found)

            return sink

        sinks = {
            "online": hits(logs["online"]),
            "lookup": hits(logs["lookup"]),
            "read": lambda a, log=logs["read"]: log.add([], found=a[0] is not None),
        }
        lat = _time_variants(variants, sinks, requests, warmup)
        res: dict[str, Any] = {
            "lat": lat,
            "digest": {name: logs[name].digest() for name in ("online", "lookup")},
            "not_present": {name: logs[name].bad for name in ("online", "lookup")},
            "read_missing": logs["read"].bad,
        }
        checks: dict[str, list[Any]] = {}
        for name in ("online", "lookup"):
            rows = []
            for k in cfg["check_keys"]:
                (hit,) = variants[name]([{KEY: k}])
                rows.append(
                    [
                        k,
                        list(normalise_values(hit.values)),
                        sorted(set(hit.statuses.values())),
                        epoch_us(hit.event_timestamp),
                    ]
                )
            checks[name] = rows
        res["checks"] = checks
        if cfg.get("profile"):
            res["profile"] = _profile(variants["online"], requests[:PROFILE_CALLS])
        ws.close()
        out["stores"][store] = res
    out["rss"] = status_mb("VmRSS")
    return out


def _profile(fn: Callable[[Any], Any], requests: Sequence[Any]) -> str:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for req in requests:
        fn(req)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(18)
    text = buf.getvalue()
    # keep the header line with the totals and the table
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(ln for ln in lines if not ln.startswith(("Ordered by", "   List reduced")))


def _feast_yaml(repo: Path, store: str, connection: str) -> str:
    online = (
        f"  type: sqlite\n  path: {repo / 'online.db'}\n"
        if store == "sqlite"
        else f"  type: redis\n  connection_string: '{connection}'\n"
    )
    return (
        f"project: {FEAST_PROJECT}\n"
        "provider: local\n"
        f"registry: {repo / 'registry.db'}\n"
        f"online_store:\n{online}"
        "offline_store:\n  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )


def child_feast_setup(cfg: dict[str, Any]) -> dict[str, Any]:
    """Write each Feast repo, apply the entity and the feature view, materialize (untimed)."""
    from datetime import UTC, datetime, timedelta

    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64, String

    out: dict[str, Any] = {"stores": {}, "versions": _versions("feast", "redis", "pandas")}
    for store, repo_s in cfg["repos"].items():
        repo = Path(repo_s)
        if repo.exists():
            shutil.rmtree(repo)
        repo.mkdir(parents=True)
        (repo / "feature_store.yaml").write_text(_feast_yaml(repo, store, cfg["connection"]))
        t0 = time.perf_counter()
        fs = FeatureStore(repo_path=str(repo))
        entity = Entity(name=KEY, join_keys=[KEY], value_type=ValueType.INT64)
        dtype = {**dict.fromkeys(FLOATS, Float64), **dict.fromkeys(INTS, Int64)}
        view = FeatureView(
            name=FEAST_VIEW,
            entities=[entity],
            ttl=timedelta(0),  # Feast: no expiry (prodml's table has no TTL either)
            schema=[Field(name=KEY, dtype=Int64)]
            + [Field(name=f, dtype=dtype.get(f, String)) for f in FEATURES],
            source=FileSource(
                name=f"{FEAST_VIEW}_source", path=cfg["data"], timestamp_field=EVENT_TS
            ),
            online=True,
        )
        fs.apply([entity, view])
        apply_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fs.materialize(
            start_date=datetime(2023, 1, 1, tzinfo=UTC), end_date=datetime(2025, 1, 1, tzinfo=UTC)
        )
        out["stores"][store] = {"apply": apply_s, "materialize": time.perf_counter() - t0}
    return out


def _feast_values(result: dict[str, list[Any]], i: int = 0) -> tuple[Any, ...]:
    return normalise_values({f: result[f][i] for f in FEATURES})


def child_feast(cfg: dict[str, Any]) -> dict[str, Any]:
    """Feast in process: ``get_online_features(...).to_dict()`` per store."""
    from feast import FeatureStore

    requests = [[{KEY: k}] for k in cfg["keys"]]
    warmup = [[{KEY: k}] for k in cfg["warmup_keys"]]
    out: dict[str, Any] = {"stores": {}, "versions": _versions("feast", "redis", "pandas")}
    for store, repo in cfg["repos"].items():
        fs = FeatureStore(repo_path=repo)
        variants: dict[str, Callable[[Any], Any]] = {
            "feast": lambda e, s=fs: s.get_online_features(
                features=FEAST_REFS, entity_rows=e
            ).to_dict()
        }
        log = AnswerLog()

        def sink(answer: Any, log: AnswerLog = log) -> None:
            values = _feast_values(answer)
            log.add(values, found=any(v is not None for v in values))

        lat = _time_variants(variants, {"feast": sink}, requests, warmup)
        rows = []
        for k in cfg["check_keys"]:
            got = fs.get_online_features(features=FEAST_REFS, entity_rows=[{KEY: k}]).to_dict(
                include_event_timestamps=True
            )
            # Feast answers event times in whole seconds (0 for a key it does not have)
            stamps = {got.get(f"{f}__ts", [None])[0] for f in FEATURES} - {None}
            event = None
            if len(stamps) == 1:
                ts = stamps.pop()
                ts = int(ts.timestamp()) if hasattr(ts, "timestamp") else int(ts)
                event = ts or None
            elif stamps:
                event = -1  # not one event time for the row: reported as a difference
            rows.append([k, list(_feast_values(got)), [], event])
        out["stores"][store] = {
            "lat": lat,
            "digest": {"feast": log.digest()},
            "none_rows": log.bad,
            "checks": {"feast": rows},
        }
    out["rss"] = status_mb("VmRSS")
    return out


def child_main(kind: str, cfg_path: str) -> int:
    forbid_network("online_lookup")
    cfg = json.loads(Path(cfg_path).read_text())
    funcs = {"prodml": child_prodml, "feast": child_feast, "feast_setup": child_feast_setup}
    result = funcs[kind](cfg)
    Path(cfg["out"]).write_text(json.dumps(result))
    return 0


def run_child(python: Path, kind: str, cfg: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """Run one child (config and result through files); raise with its stderr on failure."""
    cfg_path = tmp / f"{kind}.cfg.json"
    out_path = tmp / f"{kind}.out.json"
    out_path.unlink(missing_ok=True)
    cfg_path.write_text(json.dumps({**cfg, "out": str(out_path)}))
    proc = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--child", kind, str(cfg_path)],
        capture_output=True,
        text=True,
        env=command_env(python.parent, CHILD_ENV),
        cwd=tmp,
        check=False,
    )
    if proc.returncode != 0 or not out_path.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise RuntimeError(f"child {kind} ({python}) exited with {proc.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


# --------------------------------------------------------------------------------------------
# HTTP: the servers and a sequential keep-alive client (this process)
# --------------------------------------------------------------------------------------------


def _group_rss_mb(pgid: int) -> float | None:
    """Summed RSS of the processes in a process group (Feast: gunicorn master + worker)."""
    total, seen = 0.0, False
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
                    seen = True
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


@dataclass
class Server(ServerProcess):
    """A server this script started: ready once a lookup answers 200 (and, for prodml,
    once ``settle`` no longer says "loading")."""

    path: str = "/"  # the lookup route
    probe: bytes = b""  # a request body that must answer 200
    settle: str | None = None  # GET path whose body must stop saying "loading"
    rss: float | None = None

    def wait_ready(self) -> None:
        def probe() -> str | None:
            status, body = post_once(self.port, self.path, self.probe)
            return None if status == 200 and self._settled() else f"{status} {body[:300]!r}"

        self.wait_until(probe, timeout=START_TIMEOUT, poll=0.25)

    def _settled(self) -> bool:
        """prodml loads its models in the background at start (importing MLflow, full GC
        passes): measure only once ``/ready`` no longer says ``loading``."""
        if self.settle is None:
            return True
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request("GET", self.settle)
            return b'"loading"' not in conn.getresponse().read()
        finally:
            conn.close()

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s."""
        super().stop(grace)


def post_once(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Client:
    """One keep-alive connection to a server; requests one at a time."""

    def __init__(self, port: int, path: str, make_body: Callable[[int], bytes]) -> None:
        self.port = port
        self.path = path
        self.make_body = make_body
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Content-Type": "application/json"}

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", self.path, body, self.headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


def prodml_body(key: int) -> bytes:
    return json.dumps({"table": TABLE, "entities": [{KEY: key}]}).encode()


def feast_body(key: int) -> bytes:
    return json.dumps({"features": FEAST_REFS, "entities": {KEY: [key]}}).encode()


def parse_prodml(body: bytes) -> tuple[tuple[Any, ...], list[str], int | None]:
    from datetime import datetime

    (hit,) = json.loads(body)["results"]
    event = hit["event_timestamp"]
    event_us = None if event is None else epoch_us(datetime.fromisoformat(event))
    return normalise_values(hit["values"]), sorted(set(hit["statuses"].values())), event_us


def parse_feast(body: bytes) -> tuple[Any, ...]:
    doc = json.loads(body)
    names = doc["metadata"]["feature_names"]
    return normalise_values({n: r["values"][0] for n, r in zip(names, doc["results"], strict=True)})


@dataclass
class HttpRun:
    """Latencies (ns), statuses and bodies of one server's timed requests, over all rounds."""

    lat: list[int] = field(default_factory=list)
    rounds_p99: list[float] = field(default_factory=list)
    bad_status: int = 0
    bodies: list[bytes] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)


def http_round(
    clients: dict[str, Client], keys: Sequence[int], runs: dict[str, HttpRun], flip: bool
) -> None:
    """One round: blocks of BLOCK keys, the servers alternating per block (ABBA)."""
    perf = time.perf_counter_ns
    bodies = {label: [c.make_body(k) for k in keys] for label, c in clients.items()}
    names = list(clients)
    before = {label: len(runs[label].lat) for label in names}
    for b, start in enumerate(range(0, len(keys), BLOCK)):
        order = names if (b % 2 == 0) != flip else names[::-1]
        stop = min(start + BLOCK, len(keys))
        for label in order:
            client, run = clients[label], runs[label]
            lat, got, mine = run.lat, run.bodies, bodies[label]
            for i in range(start, stop):
                t0 = perf()
                status, data = client.post(mine[i])
                lat.append(perf() - t0)
                got.append(data)
                if status != 200:
                    run.bad_status += 1
            run.keys.extend(keys[start:stop])
    for label in names:
        mine_lat = sorted(runs[label].lat[before[label] :])
        runs[label].rounds_p99.append(percentile(mine_lat, 0.99) / 1e6)


def warm_up(client: Client, keys: Sequence[int], min_seconds: float) -> None:
    """The warm-up keys, repeated until at least ``min_seconds`` have passed."""
    t0 = time.perf_counter()
    while True:
        for k in keys:
            client.post(client.make_body(k))
        if time.perf_counter() - t0 >= min_seconds:
            return


def http_floor(clients: dict[str, Client], n: int) -> dict[str, list[int]]:
    """``GET /health`` n times per server (blocks alternating): the HTTP stack's own cost."""
    perf = time.perf_counter_ns
    lat: dict[str, list[int]] = {label: [] for label in clients}
    names = list(clients)
    for b, start in enumerate(range(0, n, BLOCK)):
        for label in names if b % 2 == 0 else names[::-1]:
            client, out = clients[label], lat[label]
            for _ in range(start, min(start + BLOCK, n)):
                t0 = perf()
                status, _body = client.get("/health")
                out.append(perf() - t0)
                if status != 200:
                    raise ServerFailedError(f"{label}: GET /health answered {status}")
    return lat


# --------------------------------------------------------------------------------------------
# statistics, load, checks
# --------------------------------------------------------------------------------------------


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return sorted_xs[max(0, math.ceil(q * len(sorted_xs)) - 1)]


@dataclass
class Lat:
    """Latency summary in milliseconds."""

    n: int
    p50: float
    p99: float
    mean: float
    max: float
    rounds_p99: list[float]

    @classmethod
    def of(cls, samples_ns: Sequence[int], rounds_p99: list[float] | None = None) -> Lat:
        xs = sorted(samples_ns)
        return cls(
            n=len(xs),
            p50=percentile(xs, 0.50) / 1e6,
            p99=percentile(xs, 0.99) / 1e6,
            mean=sum(xs) / len(xs) / 1e6,
            max=xs[-1] / 1e6,
            rounds_p99=rounds_p99 or [],
        )


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for_load(threshold: float, max_wait: float) -> str:
    """Wait until the 1-minute load average is ≤ threshold (at most max_wait s)."""
    t0 = time.perf_counter()
    first = os.getloadavg()[0]
    if first <= threshold:
        return f"load average {loadavg()} before measuring (threshold {threshold:g})"
    if max_wait <= 0:
        return f"load average {loadavg()} before measuring: above {threshold:g}, not waiting"
    print(
        f"load average {loadavg()} > {threshold:g}: waiting up to {max_wait:.0f} s for it to drop",
        flush=True,
    )
    while os.getloadavg()[0] > threshold and time.perf_counter() - t0 < max_wait:
        time.sleep(5)
    waited = time.perf_counter() - t0
    now = os.getloadavg()[0]
    verdict = "dropped" if now <= threshold else "still above the threshold: measuring anyway"
    return (
        f"load average was {first:.2f} before measuring; waited {waited:.0f} s, now {loadavg()} "
        f"({verdict})"
    )


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


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@dataclass
class Bench:
    """One run's parameters, paths and results."""

    args: argparse.Namespace
    entities: int
    lookups: int
    warm: int
    rounds: int
    stores: list[str]
    skipped: dict[str, str]
    feast_bin: Path | None
    base: Path
    data: Path = Path()
    truth: Truth | None = None
    check_keys: list[int] = field(default_factory=list)
    keys_per_round: list[list[int]] = field(default_factory=list)
    warmup_keys: list[int] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # store -> problems
    failed: dict[str, str] = field(default_factory=dict)
    feast_setup: dict[str, Any] = field(default_factory=dict)
    inproc: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"prodml": [], "feast": []}
    )
    http: dict[str, dict[str, HttpRun]] = field(default_factory=dict)
    floor: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    servers: dict[str, dict[str, tuple[float, float | None]]] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.base / "platform"

    @property
    def tmp(self) -> Path:
        return self.base / "tmp"

    @property
    def repos(self) -> dict[str, str]:
        return {s: str(self.base / f"feast_{s}") for s in self.stores}

    @property
    def feast_python(self) -> Path | None:
        if self.feast_bin is None or "feast" in self.failed:
            return None
        return self.feast_bin / f"python{'.exe' * (os.name == 'nt')}"

    def problem(self, store: str, text: str) -> None:
        self.problems.setdefault(store, []).append(text)

    # -- data and setup (untimed) -----------------------------------------------------------

    def make_inputs(self) -> None:
        import numpy as np

        t0 = time.perf_counter()
        self.data = make_data(self.entities)
        rng = np.random.default_rng([SEED, self.entities, 1])
        ids = np.arange(self.entities, dtype=np.int64) * 2 + 1
        absent = rng.choice(self.entities, CHECK_ABSENT, replace=False) * 2 + 2
        self.check_keys = sorted(
            rng.choice(ids, CHECK_PRESENT, replace=False).tolist() + absent.tolist()
        )
        self.truth = load_truth(self.data, self.check_keys)
        self.keys_per_round = [rng.choice(ids, self.lookups).tolist() for _ in range(self.rounds)]
        self.warmup_keys = rng.choice(ids, self.warm).tolist()
        print(
            f"data: {self.entities} entities x {len(FEATURES)} features ({len(FLOATS)} double, "
            f"{len(INTS)} int64, {len(STRINGS)} string), {int(self.entities * (1 + OLD_SHARE))} "
            f"rows, seed {SEED}, {self.data} (ready in {time.perf_counter() - t0:.1f} s); "
            f"{self.rounds} round(s) x {self.lookups} lookups after {self.warm} warm-up lookups; "
            f"stores: {', '.join(self.stores)}",
            flush=True,
        )

    def setup(self) -> None:
        redis_url = self.args.redis_url
        if "redis" in self.stores:
            self.cleanup_redis(quiet=True)
        build_platform(self.root, self.data, redis_url)
        for store in self.stores:
            s = publish(self.root, store)
            print(
                f"prodml setup ({store}): run {s['run']:.1f} s, publish {s['publish']:.1f} s "
                f"({s['keys']} keys from {s['rows']} rows)",
                flush=True,
            )
        python = self.feast_python
        if python is None:
            return
        cfg = {
            "repos": self.repos,
            "data": str(self.data),
            "connection": feast_connection_string(redis_url),
        }
        try:
            self.feast_setup = run_child(python, "feast_setup", cfg, self.tmp)
        except RuntimeError as exc:
            self.failed["feast"] = str(exc)
            print(f"Feast setup failed: {exc}", file=sys.stderr)
            return
        for store, s in self.feast_setup["stores"].items():
            print(
                f"Feast setup ({store}): apply {s['apply']:.1f} s, "
                f"materialize {s['materialize']:.1f} s",
                flush=True,
            )

    def cleanup_redis(self, *, quiet: bool = False) -> None:
        """Delete both tools' keys from the benchmark's Redis db."""
        drop_prodml_redis(self.root)
        n = drop_feast_redis(self.args.redis_url)
        if not quiet:
            print(f"Redis cleanup: prodml's table dropped, {n} Feast keys deleted")

    # -- measurements -----------------------------------------------------------------------

    def in_process(self) -> None:
        common = {"check_keys": self.check_keys, "warmup_keys": self.warmup_keys}
        for r in range(self.rounds):
            for tool in ("prodml", "feast") if r % 2 == 0 else ("feast", "prodml"):
                cfg = {**common, "keys": self.keys_per_round[r]}
                if tool == "prodml":
                    cfg.update(
                        root=str(self.root),
                        stores=self.stores,
                        profile=self.args.profile and r == 0,
                    )
                    self.inproc[tool].append(run_child(Path(sys.executable), tool, cfg, self.tmp))
                    continue
                python = self.feast_python
                if python is None:
                    continue
                cfg["repos"] = self.repos
                try:
                    self.inproc[tool].append(run_child(python, tool, cfg, self.tmp))
                except RuntimeError as exc:
                    self.failed["feast"] = str(exc)
                    print(f"Feast in process failed: {exc}", file=sys.stderr)
            print(f"in process: round {r + 1}/{self.rounds} done (load {loadavg()})", flush=True)

    def over_http(self, store: str) -> None:
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        feast_repo = Path(self.repos[store]) if self.feast_python is not None else None
        with running(_server_pair(store, self.root, feast_repo, self.feast_bin, logs)) as servers:
            clients = {
                label: Client(s.port, s.path, prodml_body if label == "prodml" else feast_body)
                for label, s in servers.items()
            }
            try:
                for client in clients.values():  # on the connections used below
                    warm_up(client, self.warmup_keys, WARMUP_SECONDS_HTTP)
                runs = {label: HttpRun() for label in clients}
                for r in range(self.rounds):
                    http_round(clients, self.keys_per_round[r], runs, flip=r % 2 == 1)
                    print(f"HTTP ({store}): round {r + 1}/{self.rounds} done (load {loadavg()})")
                self.floor[store] = http_floor(clients, min(self.lookups, 2000))
                checks = self._http_checks(clients)
            finally:
                for client in clients.values():
                    client.close()
            for label, s in servers.items():
                assert s.proc is not None
                self.servers.setdefault(store, {})[label] = (
                    s.start_seconds,
                    _group_rss_mb(s.proc.pid),
                )
        self.http[store] = runs
        assert self.truth is not None
        for label, rows in checks.items():
            for p in check_rows(f"{label} HTTP", rows, self.truth, prodml=label == "prodml"):
                self.problem(store, p)

    def _http_checks(self, clients: dict[str, Client]) -> dict[str, list[Any]]:
        """The check keys through each server (after the timed requests)."""
        checks: dict[str, list[Any]] = {label: [] for label in clients}
        for k in self.check_keys:
            for label, client in clients.items():
                status, body = client.post(client.make_body(k))
                if status != 200:
                    checks[label].append([k, [f"HTTP {status}"] * len(FEATURES), [], None])
                elif label == "prodml":
                    values, statuses, event = parse_prodml(body)
                    checks[label].append([k, list(values), statuses, event])
                else:
                    checks[label].append([k, list(parse_feast(body)), [], None])
        return checks

    # -- answers ----------------------------------------------------------------------------

    def check_answers(self) -> None:
        assert self.truth is not None
        for store in self.stores:
            for res in self.inproc["prodml"]:
                s = res["stores"][store]
                for name, rows in s["checks"].items():
                    for p in check_rows(f"prodml {name}()", rows, self.truth, prodml=True):
                        self.problem(store, p)
                for name, n in s["not_present"].items():
                    if n:
                        self.problem(store, f"prodml {name}(): {n} timed lookups not present")
                if s["read_missing"]:
                    self.problem(store, f"prodml store.read: {s['read_missing']} keys missing")
                if s["digest"]["online"] != s["digest"]["lookup"]:
                    self.problem(store, "prodml online() and lookup() answers differ")
            for res in self.inproc["feast"]:
                if res["stores"][store]["none_rows"]:
                    n = res["stores"][store]["none_rows"]
                    self.problem(store, f"Feast in process: {n} timed lookups found nothing")
                rows = res["stores"][store]["checks"]["feast"]
                for p in check_rows("Feast in process", rows, self.truth, prodml=False):
                    self.problem(store, p)
            pairs = zip(self.inproc["prodml"], self.inproc["feast"], strict=False)
            for r, (mine, peer) in enumerate(pairs):
                a = mine["stores"][store]["digest"]["online"]
                b = peer["stores"][store]["digest"]["feast"]
                if a != b:
                    self.problem(
                        store,
                        f"in process, round {r + 1}: the answers to the {self.lookups} timed "
                        f"lookups differ between prodml and Feast (digest {a} vs {b})",
                    )
            self._check_http_bodies(store)

    def _check_http_bodies(self, store: str) -> None:
        runs = self.http.get(store, {})
        for label, run in runs.items():
            if run.bad_status:
                self.problem(store, f"{label} HTTP: {run.bad_status} non-200 answers")
        if "prodml" not in runs:
            return
        mine = [parse_prodml(b) for b in runs["prodml"].bodies]
        not_present = sum(1 for m in mine if m[1] != ["present"])
        if not_present:
            self.problem(store, f"prodml HTTP: {not_present} timed answers not present")
        if "feast" in runs:
            peer = [parse_feast(b) for b in runs["feast"].bodies]
            keys = runs["prodml"].keys
            if keys != runs["feast"].keys:
                self.problem(store, "HTTP: the two servers were not sent the same keys")
            differ = [k for k, m, p in zip(keys, mine, peer, strict=True) if m[0] != p]
            if differ:
                self.problem(
                    store,
                    f"HTTP: {len(differ)} of {len(mine)} timed answers differ between prodml "
                    f"and Feast (keys {differ[:5]})",
                )
        for run in runs.values():
            run.bodies.clear()

    # -- report -----------------------------------------------------------------------------

    def pooled(self, tool: str, store: str, variant: str) -> Lat | None:
        samples: list[int] = []
        per_round = []
        for res in self.inproc[tool]:
            lat = res["stores"][store]["lat"][variant]
            samples += lat
            per_round.append(percentile(sorted(lat), 0.99) / 1e6)
        return Lat.of(samples, per_round) if samples else None

    def http_lat(self, tool: str, store: str) -> Lat | None:
        run = self.http.get(store, {}).get(tool)
        return Lat.of(run.lat, run.rounds_p99) if run and run.lat else None

    def report(self) -> None:
        table, details = [], []
        for store in [*self.stores, *self.skipped]:
            if store in self.skipped:
                row = [store, "—", "—", "—", "—", "—", "n/a", "—", "—", "skipped"]
                table.append(row)
                continue
            ok = "NO" if self.problems.get(store) else "yes"
            for kind, label, mine, peer in self._main_rows(store):
                target = TARGET_MS[kind]
                met = (
                    "—" if mine is None else ("yes" if mine.p99 <= target and ok == "yes" else "NO")
                )
                table.append(
                    [
                        store,
                        label,
                        _ms(mine.p50 if mine else None),
                        _ms(mine.p99 if mine else None),
                        _ms(peer.p50 if peer else None),
                        _ms(peer.p99 if peer else None),
                        _ratio_p99(mine, peer),
                        ok,
                        f"p99 ≤ {target:g} ms",
                        met,
                    ]
                )
            details += self._detail_rows(store)
        print_table(
            f"online lookup: 1 entity x {len(FEATURES)} features of {self.entities} entities, "
            f"{self.rounds} x {self.lookups} lookups per row (random existing keys), prodml vs "
            "Feast (SQLite / Redis online stores), latency in ms",
            [
                "store",
                "mode",
                "prodml p50",
                "prodml p99",
                "Feast p50",
                "Feast p99",
                "p99 Feast/prodml",
                "answers equal",
                "target",
                "met?",
            ],
            table,
        )
        print_table(
            "details (ms; RSS: the in-process child after its lookups, the server's process "
            "group after the requests)",
            ["store", "what", "calls", "p50", "p99", "mean", "max", "p99 per round", "RSS MB"],
            details,
        )

    def _main_rows(self, store: str) -> list[tuple[str, str, Lat | None, Lat | None]]:
        rows: list[tuple[str, str, Lat | None, Lat | None]] = [
            (
                "in process",
                "in process: ws.features.online()",
                self.pooled("prodml", store, "online"),
                self.pooled("feast", store, "feast"),
            ),
            (
                "in process",
                "in process: online_features.lookup()",
                self.pooled("prodml", store, "lookup"),
                None,
            ),
        ]
        if not self.args.skip_http:
            rows.append(
                (
                    "HTTP",
                    "HTTP, 1 keep-alive connection",
                    self.http_lat("prodml", store),
                    self.http_lat("feast", store),
                )
            )
        return rows

    def _detail_rows(self, store: str) -> list[list[str]]:
        rss_prodml = _median([r["rss"] for r in self.inproc["prodml"] if r.get("rss")])
        rss_feast = _median([r["rss"] for r in self.inproc["feast"] if r.get("rss")])
        servers = self.servers.get(store, {})
        floor = self.floor.get(store, {})
        rows: list[tuple[str, Lat | None, float | None]] = [
            ("prodml ws.features.online()", self.pooled("prodml", store, "online"), rss_prodml),
            ("prodml online_features.lookup()", self.pooled("prodml", store, "lookup"), None),
            ("prodml backend store.read() alone", self.pooled("prodml", store, "read"), None),
            (
                "Feast get_online_features().to_dict()",
                self.pooled("feast", store, "feast"),
                rss_feast,
            ),
            (
                "prodml serve POST /v1/features/online",
                self.http_lat("prodml", store),
                servers["prodml"][1] if "prodml" in servers else None,
            ),
            (
                "feast serve POST /get-online-features",
                self.http_lat("feast", store),
                servers["feast"][1] if "feast" in servers else None,
            ),
            ("prodml serve GET /health (HTTP floor)", _lat_or_none(floor.get("prodml")), None),
            ("feast serve GET /health (HTTP floor)", _lat_or_none(floor.get("feast")), None),
        ]
        return [
            [
                store,
                label,
                str(lat.n),
                _ms(lat.p50),
                _ms(lat.p99),
                _ms(lat.mean),
                _ms(lat.max),
                ", ".join(f"{x:.3f}" for x in lat.rounds_p99) or "—",
                fmt_mb(rss),
            ]
            for label, lat, rss in rows
            if lat is not None
        ]


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _ratio_p99(mine: Lat | None, peer: Lat | None) -> str:
    if mine is None or peer is None or mine.p99 == 0:
        return "n/a"
    return f"{peer.p99 / mine.p99:.1f}x"


def _median(values: Sequence[float]) -> float | None:
    xs = sorted(values)
    return xs[len(xs) // 2] if xs else None


def _lat_or_none(samples: Sequence[int] | None) -> Lat | None:
    return Lat.of(samples) if samples else None


def _server_pair(
    store: str, root: Path, repo: Path | None, feast_bin: Path | None, logs: Path
) -> dict[str, Server]:
    """``prodml serve`` of the store's environment and ``feast serve`` of its repo."""
    port = free_port(HOST)
    servers = {
        "prodml": Server(
            label=f"prodml serve ({store})",
            argv=[
                str(prodml_bin()),
                "serve",
                "--product",
                PRODUCT,
                "--env",
                store,
                "--no-auth",
                "--host",
                HOST,
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=command_env(prodml_bin().parent),
            cwd=root,
            log=logs / f"prodml_serve_{store}.log",
            port=port,
            path="/v1/features/online",
            probe=prodml_body(1),
            settle="/ready",
        )
    }
    if repo is not None and feast_bin is not None:
        port = free_port(HOST)
        servers["feast"] = Server(
            label=f"feast serve ({store})",
            argv=[
                str(feast_bin / "feast"),
                "-c",
                str(repo),
                "serve",
                "-h",
                HOST,
                "-p",
                str(port),
                "--no-access-log",
                "--workers",
                "1",
                "--max-requests",
                "0",
                "--max-requests-jitter",
                "0",
                "--registry_ttl_sec",
                "3600",
            ],
            env=command_env(feast_bin, CHILD_ENV),
            cwd=repo,
            log=logs / f"feast_serve_{store}.log",
            port=port,
            path="/get-online-features",
            probe=feast_body(1),
        )
    return servers


@contextlib.contextmanager
def running(servers: dict[str, Server]) -> Iterator[dict[str, Server]]:
    """Start the servers, wait until each answers a lookup, stop them at the end."""
    try:
        for s in servers.values():
            s.start()
        for s in servers.values():
            s.wait_ready()
        yield servers
    finally:
        for s in servers.values():
            s.stop()


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=None, help="default 100k (--quick 20k)")
    parser.add_argument(
        "--lookups",
        type=int,
        default=None,
        help="timed lookups per measurement and round (default 10k, --quick 2k)",
    )
    parser.add_argument(
        "--warmup-lookups", type=int, default=None, metavar="N", help="default 1000 (--quick 200)"
    )
    parser.add_argument(
        "--stores", default="sqlite,redis", help="comma-separated: sqlite, redis (default both)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--skip-http", action="store_true", help="in-process measurements only")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of prodml's online() calls"
    )
    parser.add_argument(
        "--load-threshold",
        type=float,
        default=1.0,
        help="wait before measuring while the 1-min load average is above this (default 1.0)",
    )
    parser.add_argument(
        "--max-load-wait",
        type=float,
        default=None,
        metavar="S",
        help="wait at most S seconds for the load (default 180, --quick 30; 0: never wait)",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or set(stores) - set(ENVS):
        parser.error(f"--stores: sqlite and/or redis (got {args.stores!r})")
    max_wait = args.max_load_wait if args.max_load_wait is not None else (30 if args.quick else 180)
    print(
        f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} CPUs | "
        f"{mem_total_gb()} | {platform.python_implementation()} {platform.python_version()} | "
        f"{platform.platform()}"
    )
    print(f"load average at start: {loadavg()}", flush=True)
    t_start = time.perf_counter()
    skipped: dict[str, str] = {}
    if "redis" in stores:
        why = redis_available(args.redis_url)
        if why:
            skipped["redis"] = why
            stores.remove("redis")
            print(f"warning: no Redis rows: {why}")
    if not stores:
        return 1
    feast_bin: Path | None = None
    peer_note = ""
    if args.skip_peers:
        peer_note = "peer skipped with --skip-peers"
    else:
        try:
            feast_bin = peer_venv("feast", BENCH_DIR / "peers" / "feast" / "requirements.txt")
        except PeerUnavailableError as exc:
            peer_note = str(exc)
            print(f"warning: {exc}")

    bench = Bench(
        args=args,
        entities=args.entities or (20_000 if args.quick else 100_000),
        lookups=args.lookups or (2_000 if args.quick else 10_000),
        warm=args.warmup_lookups or (200 if args.quick else 1_000),
        rounds=args.runs or (1 if args.quick else 3),
        stores=stores,
        skipped=skipped,
        feast_bin=feast_bin,
        base=work_dir("online_lookup"),
    )
    shutil.rmtree(bench.tmp, ignore_errors=True)
    bench.tmp.mkdir()
    bench.make_inputs()
    try:
        bench.setup()
        load_note = wait_for_load(args.load_threshold, max_wait)
        print(load_note, flush=True)
        bench.in_process()
        if not args.skip_http:
            for store in stores:
                bench.over_http(store)
    except (RuntimeError, ServerFailedError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if "redis" in stores:
            try:
                bench.cleanup_redis()
            except Exception as exc:
                print(f"warning: Redis cleanup failed: {exc}", file=sys.stderr)

    bench.check_answers()
    bench.report()
    if bench.inproc["prodml"]:
        versions = bench.inproc["prodml"][0]["versions"]
        print("prodml venv: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    if bench.feast_setup:
        versions = bench.feast_setup["versions"]
        print("peer venv: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    elif peer_note:
        print(f"peer: {peer_note}")
    for tool, why in bench.failed.items():
        print(f"{tool} failed: {why.splitlines()[0]}")
    for store, why in skipped.items():
        print(f"{store}: skipped ({why})")
    for store, info in bench.servers.items():
        ready = ", ".join(f"{label} ready in {start:.1f} s" for label, (start, _) in info.items())
        print(f"servers ({store}): {ready}")
    print(
        "timed: each call, from the request to the answer as Python objects (in process: "
        "prodml's Lookup objects / Feast's to_dict()) or to the whole HTTP body read (not "
        "decoded); not timed: data generation, prodml run + publish, Feast apply + materialize, "
        f"server start, {bench.warm} warm-up lookups per measurement"
    )
    print(load_note)
    if args.profile and bench.inproc["prodml"]:
        calls = min(PROFILE_CALLS, bench.lookups)
        for store in stores:
            prof = bench.inproc["prodml"][0]["stores"][store].get("profile")
            if prof:
                print(f"\ncProfile of {calls} prodml ws.features.online() calls ({store}):")
                print(prof)
    print(f"load average at end: {loadavg()}; total {time.perf_counter() - t_start:.0f} s")
    problems = [f"{store}: {p}" for store, ps in bench.problems.items() for p in ps]
    if problems:
        print(f"\nDISAGREEMENT ({len(problems)}):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
