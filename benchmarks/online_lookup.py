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
  This script is the client: ``http.client`` keep-alive connections, one request at a time
  (concurrency 1), latency from sending the request to having read the whole body; blocks of
  500 requests alternate between the two servers (ABBA).

Checks (exit 3 when one fails): for a sample of 500 existing and 100 absent keys, every path
(prodml ``online()``, ``lookup()``, HTTP; Feast in process and HTTP) gives the Parquet truth —
the values of the latest row per key (doubles exactly, NULL as NULL), prodml's statuses
``present`` / ``not_found`` and its event time; and every timed answer of prodml equals
Feast's answer for the same key (a digest of all in-process answers; all HTTP bodies decoded).

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
import signal
import socket
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
    bench_arg_parser,
    command_env,
    fmt_mb,
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


class WrongAnswerError(RuntimeError):
    """A tool's answer differs from the truth or from the other tool's."""


class ServerFailedError(RuntimeError):
    """A server did not start (or died); the message carries its log tail."""


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
    present_ids: list[int]  # every existing key (sorted)


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
    sample = latest.take(at[found]).to_pylist()
    for key in wanted[~found].tolist():
        rows[key] = None
    for row in sample:
        event_us = int(row[EVENT_TS].timestamp() * 1_000_000)
        rows[row[KEY]] = (event_us, normalise_values(row))
    return Truth(rows, latest_ids.tolist())


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


def digest(answers: Sequence[tuple[Any, ...]]) -> str:
    return hashlib.sha256(json.dumps(answers).encode()).hexdigest()[:16]


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


def _forbid_network() -> None:
    """Make any socket connection to a non-loopback address raise (nothing may go online)."""
    import ipaddress

    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise OSError(f"online_lookup benchmark: network access to {address!r} refused")
        return connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]


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
    requests: Sequence[Any],
    warmup: Sequence[Any],
) -> tuple[dict[str, list[int]], dict[str, list[Any]]]:
    """Call each variant once per request (blocks of BLOCK, variants round-robin per block);
    latencies in ns and the answers, per variant."""
    perf = time.perf_counter_ns
    for fn in variants.values():
        for req in warmup:
            fn(req)
    lat: dict[str, list[int]] = {name: [] for name in variants}
    answers: dict[str, list[Any]] = {name: [] for name in variants}
    names = list(variants)
    for b, start in enumerate(range(0, len(requests), BLOCK)):
        block = requests[start : start + BLOCK]
        order = names if b % 2 == 0 else names[::-1]
        for name in order:
            fn, out, got = variants[name], lat[name], answers[name]
            for req in block:
                t0 = perf()
                answer = fn(req)
                out.append(perf() - t0)
                got.append(answer)
    return lat, answers


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
        lat, answers = _time_variants(variants, requests, warmup)
        res: dict[str, Any] = {"lat": lat, "digest": {}, "not_present": {}}
        for name in ("online", "lookup"):
            hits = [a[0] for a in answers[name]]
            res["digest"][name] = digest([normalise_values(h.values) for h in hits])
            res["not_present"][name] = sum(1 for h in hits if set(h.statuses.values()) != {PRESENT})
        res["read_missing"] = sum(1 for a in answers["read"] if a[0] is None)
        checks: dict[str, list[Any]] = {}
        for name in ("online", "lookup"):
            rows = []
            for k in cfg["check_keys"]:
                (hit,) = variants[name]([{KEY: k}])
                event = hit.event_timestamp
                rows.append(
                    [
                        k,
                        list(normalise_values(hit.values)),
                        sorted(set(hit.statuses.values())),
                        None if event is None else int(event.timestamp() * 1_000_000),
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
        lat, answers = _time_variants(variants, requests, warmup)
        values = [_feast_values(a) for a in answers["feast"]]
        rows = []
        for k in cfg["check_keys"]:
            got = fs.get_online_features(features=FEAST_REFS, entity_rows=[{KEY: k}]).to_dict(
                include_event_timestamps=True
            )
            stamps = {got.get(f"{f}__ts", [None])[0] for f in FEATURES} - {None}
            event = None
            if len(stamps) == 1:
                ts = stamps.pop()
                event = int(ts.timestamp() * 1_000_000) if hasattr(ts, "timestamp") else ts
            rows.append([k, list(_feast_values(got)), [], event])
        out["stores"][store] = {
            "lat": lat,
            "digest": {"feast": digest(values)},
            "none_rows": sum(1 for v in values if all(x is None for x in v)),
            "checks": {"feast": rows},
        }
    out["rss"] = status_mb("VmRSS")
    return out


def child_main(kind: str, cfg_path: str) -> int:
    _forbid_network()
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


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
class Server:
    """A server this script started (its own process group)."""

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    port: int
    path: str  # the lookup route
    probe: bytes  # a request body that must answer 200
    proc: subprocess.Popen[bytes] | None = None
    start_seconds: float = 0.0
    rss: float | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def wait_ready(self) -> None:
        assert self.proc is not None
        t0 = time.perf_counter()
        last = "no answer"
        while time.perf_counter() - t0 < START_TIMEOUT:
            if self.proc.poll() is not None:
                raise ServerFailedError(
                    f"{self.label} exited with {self.proc.returncode} before it was ready "
                    f"({' '.join(self.argv)}); log {self.log} (tail):\n{self.log_tail()}"
                )
            try:
                status, body = post_once(self.port, self.path, self.probe)
            except OSError as exc:
                last = str(exc)
            else:
                if status == 200:
                    self.start_seconds = time.perf_counter() - t0
                    return
                last = f"{status} {body[:300]!r}"
            time.sleep(0.25)
        raise ServerFailedError(
            f"{self.label} not ready after {START_TIMEOUT:.0f} s ({last}); "
            f"log {self.log} (tail):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after 20 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers that outlived the leader


def post_once(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Client:
    """One keep-alive connection; requests one at a time."""

    def __init__(self, port: int, path: str) -> None:
        self.port = port
        self.path = path
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Content-Type": "application/json"}

    def post(self, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", self.path, body, self.headers)
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
    event_us = None if event is None else int(datetime.fromisoformat(event).timestamp() * 1e6)
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
    clients: dict[str, tuple[Client, Callable[[int], bytes]]],
    keys: Sequence[int],
    runs: dict[str, HttpRun],
    flip: bool,
) -> None:
    """One round: blocks of BLOCK keys, the servers alternating per block (ABBA)."""
    perf = time.perf_counter_ns
    bodies = {label: [make(k) for k in keys] for label, (_, make) in clients.items()}
    names = list(clients)
    before = {label: len(runs[label].lat) for label in names}
    for b, start in enumerate(range(0, len(keys), BLOCK)):
        order = names if (b % 2 == 0) != flip else names[::-1]
        for label in order:
            client = clients[label][0]
            run = runs[label]
            lat, got = run.lat, run.bodies
            for i in range(start, min(start + BLOCK, len(keys))):
                body = bodies[label][i]
                t0 = perf()
                status, data = client.post(body)
                lat.append(perf() - t0)
                got.append(data)
                if status != 200:
                    run.bad_status += 1
            run.keys.extend(keys[start : start + BLOCK])
    for label in names:
        mine = sorted(runs[label].lat[before[label] :])
        runs[label].rounds_p99.append(percentile(mine, 0.99) / 1e6)


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
    if first <= threshold or max_wait <= 0:
        return f"load average {loadavg()} before measuring (threshold {threshold:g})"
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


def _server_pair(
    store: str,
    root: Path,
    repo: Path | None,
    feast_bin: Path | None,
    logs: Path,
) -> dict[str, Server]:
    servers = {}
    port = _free_port()
    servers["prodml"] = Server(
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
    )
    if repo is not None and feast_bin is not None:
        port = _free_port()
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
        "--lookups", type=int, default=None, help="timed lookups per measurement and round"
    )
    parser.add_argument("--warmup-lookups", type=int, default=None, metavar="N")
    parser.add_argument(
        "--stores", default="sqlite,redis", help="comma-separated: sqlite, redis (default both)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--skip-http", action="store_true", help="in-process measurements only")
    parser.add_argument("--profile", action="store_true", help="cProfile prodml's online()")
    parser.add_argument("--load-threshold", type=float, default=1.0)
    parser.add_argument("--max-load-wait", type=float, default=None, metavar="S")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(*args.child)

    entities = args.entities or (20_000 if args.quick else 100_000)
    lookups = args.lookups or (2_000 if args.quick else 10_000)
    warm = args.warmup_lookups or (200 if args.quick else 1_000)
    rounds = args.runs or (1 if args.quick else 3)
    max_wait = args.max_load_wait if args.max_load_wait is not None else (30 if args.quick else 180)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - set(ENVS)
    if unknown or not stores:
        parser.error(f"--stores: sqlite and/or redis (got {args.stores!r})")

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
            print(f"warning: Redis rows skipped: {why}")
    if not stores:
        print("nothing to measure", file=sys.stderr)
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
    feast_python = None if feast_bin is None else feast_bin / f"python{'.exe' * (os.name == 'nt')}"

    base = work_dir("online_lookup")
    tmp = base / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    t0 = time.perf_counter()
    data = make_data(entities)
    rng_seed = [SEED, entities, 1]
    import numpy as np

    rng = np.random.default_rng(rng_seed)
    all_ids = np.arange(entities, dtype=np.int64) * 2 + 1
    check_keys = sorted(
        rng.choice(all_ids, CHECK_PRESENT, replace=False).tolist()
        + (rng.choice(entities, CHECK_ABSENT, replace=False) * 2 + 2).tolist()
    )
    truth = load_truth(data, check_keys)
    keys_per_round = [rng.choice(all_ids, lookups).tolist() for _ in range(rounds)]
    warmup_keys = rng.choice(all_ids, warm).tolist()
    print(
        f"data: {entities} entities x {len(FEATURES)} features "
        f"({len(FLOATS)} double, {len(INTS)} int64, {len(STRINGS)} string), "
        f"{int(entities * (1 + OLD_SHARE))} rows, seed {SEED}, {data} "
        f"(ready in {time.perf_counter() - t0:.1f} s); {rounds} round(s) x {lookups} lookups "
        f"after {warm} warm-up lookups; stores: {', '.join(stores)}",
        flush=True,
    )

    root = base / "platform"
    repos = {s: base / f"feast_{s}" for s in stores}
    connection = feast_connection_string(args.redis_url)
    problems: list[str] = []
    failed: dict[str, str] = {}
    try:
        # ---- setup (untimed) ----------------------------------------------------------------
        if "redis" in stores:
            drop_prodml_redis(root)
            if feast_python is not None:
                drop_feast_redis(args.redis_url)
        build_platform(root, data, args.redis_url)
        setup: dict[str, Any] = {}
        for store in stores:
            setup[store] = publish(root, store)
            s = setup[store]
            print(
                f"prodml setup ({store}): run {s['run']:.1f} s, publish {s['publish']:.1f} s "
                f"({s['keys']} keys from {s['rows']} rows)",
                flush=True,
            )
        feast_setup: dict[str, Any] = {}
        if feast_python is not None:
            try:
                feast_setup = run_child(
                    feast_python,
                    "feast_setup",
                    {
                        "repos": {s: str(p) for s, p in repos.items()},
                        "data": str(data),
                        "connection": connection,
                    },
                    tmp,
                )
                for store, s in feast_setup["stores"].items():
                    print(
                        f"Feast setup ({store}): apply {s['apply']:.1f} s, "
                        f"materialize {s['materialize']:.1f} s",
                        flush=True,
                    )
            except RuntimeError as exc:
                failed["feast"] = str(exc)
                print(f"Feast setup failed: {exc}", file=sys.stderr)
                feast_python = None

        load_note = wait_for_load(args.load_threshold, max_wait)
        print(load_note, flush=True)

        # ---- in process ---------------------------------------------------------------------
        inproc: dict[str, list[dict[str, Any]]] = {"prodml": [], "feast": []}
        common = {"check_keys": check_keys, "warmup_keys": warmup_keys}
        for r in range(rounds):
            order = ["prodml", "feast"] if r % 2 == 0 else ["feast", "prodml"]
            for tool in order:
                cfg = {**common, "keys": keys_per_round[r]}
                if tool == "prodml":
                    cfg.update(root=str(root), stores=stores, profile=args.profile and r == 0)
                    res = run_child(Path(sys.executable), "prodml", cfg, tmp)
                elif feast_python is not None:
                    cfg.update(repos={s: str(p) for s, p in repos.items()})
                    try:
                        res = run_child(feast_python, "feast", cfg, tmp)
                    except RuntimeError as exc:
                        failed["feast"] = str(exc)
                        print(f"Feast in process failed: {exc}", file=sys.stderr)
                        feast_python = None
                        continue
                else:
                    continue
                inproc[tool].append(res)
            print(f"in process: round {r + 1}/{rounds} done ({loadavg()})", flush=True)

        # ---- HTTP ---------------------------------------------------------------------------
        http: dict[str, dict[str, HttpRun]] = {}
        servers_info: dict[str, dict[str, tuple[float, float | None]]] = {}
        if not args.skip_http:
            logs = base / "logs"
            logs.mkdir(exist_ok=True)
            for store in stores:
                feast_repo = repos[store] if feast_python is not None else None
                pair = _server_pair(store, root, feast_repo, feast_bin, logs)
                with running(pair) as servers:
                    clients = {
                        label: (
                            Client(s.port, s.path),
                            prodml_body if label == "prodml" else feast_body,
                        )
                        for label, s in servers.items()
                    }
                    for client, make in clients.values():  # warm-up (also opens the conns)
                        for k in warmup_keys:
                            client.post(make(k))
                    runs = {label: HttpRun() for label in clients}
                    for r in range(rounds):
                        http_round(clients, keys_per_round[r], runs, flip=r % 2 == 1)
                        print(f"HTTP ({store}): round {r + 1}/{rounds} done ({loadavg()})")
                    # the check keys, after timing
                    checks: dict[str, list[Any]] = {label: [] for label in clients}
                    for k in check_keys:
                        for label, (client, make) in clients.items():
                            status, body = client.post(make(k))
                            if status != 200:
                                checks[label].append([k, [None] * len(FEATURES), [], None])
                                continue
                            if label == "prodml":
                                values, statuses, event = parse_prodml(body)
                                checks[label].append([k, list(values), statuses, event])
                            else:
                                checks[label].append([k, list(parse_feast(body)), [], None])
                    for label, s in servers.items():
                        assert s.proc is not None
                        servers_info.setdefault(store, {})[label] = (
                            s.start_seconds,
                            _group_rss_mb(s.proc.pid),
                        )
                    for client, _ in clients.values():
                        client.close()
                http[store] = runs
                for label, rows in checks.items():
                    problems += check_rows(
                        f"{label} HTTP ({store})", rows, truth, prodml=label == "prodml"
                    )
    except (RuntimeError, ServerFailedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if "redis" in stores:
            with contextlib.suppress(Exception):
                drop_prodml_redis(root)
            with contextlib.suppress(Exception):
                n = drop_feast_redis(args.redis_url)
                print(f"Redis cleanup: Feast keys deleted {n}; prodml's table dropped")

    # ---- answers ----------------------------------------------------------------------------
    for store in stores:
        for res in inproc["prodml"]:
            s = res["stores"][store]
            for name, rows in s["checks"].items():
                problems += check_rows(f"prodml {name}() ({store})", rows, truth, prodml=True)
            for name, n in s["not_present"].items():
                if n:
                    problems.append(f"prodml {name}() ({store}): {n} timed lookups not present")
            if s["read_missing"]:
                problems.append(f"prodml store.read ({store}): {s['read_missing']} keys missing")
            if s["digest"]["online"] != s["digest"]["lookup"]:
                problems.append(f"prodml ({store}): online() and lookup() answers differ")
        for res in inproc["feast"]:
            s = res["stores"][store]
            problems += check_rows(
                f"Feast in process ({store})", s["checks"]["feast"], truth, prodml=False
            )
        for r, (mine, peer) in enumerate(zip(inproc["prodml"], inproc["feast"], strict=False)):
            a = mine["stores"][store]["digest"]["online"]
            b = peer["stores"][store]["digest"]["feast"]
            if a != b:
                problems.append(
                    f"in process ({store}), round {r + 1}: the answers to the {lookups} timed "
                    f"lookups differ between prodml and Feast (digest {a} vs {b})"
                )
        runs = http.get(store, {})
        for label, run in runs.items():
            if run.bad_status:
                problems.append(f"{label} HTTP ({store}): {run.bad_status} non-200 answers")
        if "prodml" in runs and "feast" in runs:
            mine_vals = [parse_prodml(b) for b in runs["prodml"].bodies]
            peer_vals = [parse_feast(b) for b in runs["feast"].bodies]
            differ = [
                k
                for k, m, p in zip(runs["prodml"].keys, mine_vals, peer_vals, strict=True)
                if m[0] != p
            ]
            not_present = sum(1 for m in mine_vals if m[1] != ["present"])
            if differ:
                problems.append(
                    f"HTTP ({store}): {len(differ)} of {len(mine_vals)} timed answers differ "
                    f"between prodml and Feast (keys {differ[:5]})"
                )
            if not_present:
                problems.append(f"prodml HTTP ({store}): {not_present} timed answers not present")
            for b in (runs["prodml"], runs["feast"]):
                b.bodies.clear()

    # ---- table --------------------------------------------------------------------------------
    def pooled(tool: str, store: str, variant: str) -> Lat | None:
        samples: list[int] = []
        per_round = []
        for res in inproc[tool]:
            lat = res["stores"][store]["lat"][variant]
            samples += lat
            per_round.append(percentile(sorted(lat), 0.99) / 1e6)
        return Lat.of(samples, per_round) if samples else None

    def http_lat(tool: str, store: str) -> Lat | None:
        run = http.get(store, {}).get(tool)
        return Lat.of(run.lat, run.rounds_p99) if run and run.lat else None

    def ms(x: float | None) -> str:
        return "—" if x is None else f"{x:.3f}"

    def ratio_p99(mine: Lat | None, peer: Lat | None) -> str:
        if mine is None or peer is None or mine.p99 == 0:
            return "n/a"
        return f"{peer.p99 / mine.p99:.1f}x"

    answers_ok = "yes" if not problems else "NO"
    table = []
    details = []
    for store in [*stores, *skipped]:
        if store in skipped:
            table.append(
                [store, "all", "—", "—", "—", "—", "n/a", "—", "—", f"skipped: {skipped[store]}"]
            )
            continue
        rows: list[tuple[str, str, Lat | None, Lat | None]] = [
            (
                "in process",
                "in process: ws.features.online()",
                pooled("prodml", store, "online"),
                pooled("feast", store, "feast"),
            ),
            (
                "in process",
                "in process: online_features.lookup()",
                pooled("prodml", store, "lookup"),
                None,
            ),
        ]
        if not args.skip_http:
            rows.append(
                (
                    "HTTP",
                    "HTTP (loopback, 1 connection)",
                    http_lat("prodml", store),
                    http_lat("feast", store),
                )
            )
        for kind, label, mine, peer in rows:
            target = TARGET_MS[kind]
            met = "—" if mine is None else ("yes" if mine.p99 <= target and not problems else "NO")
            table.append(
                [
                    store,
                    label,
                    ms(mine and mine.p50),
                    ms(mine and mine.p99),
                    ms(peer and peer.p50),
                    ms(peer and peer.p99),
                    ratio_p99(mine, peer),
                    answers_ok,
                    f"p99 ≤ {target:g} ms",
                    met,
                ]
            )
        floor = pooled("prodml", store, "read")
        detail_rows: list[tuple[str, Lat | None, float | None]] = [
            ("prodml online()", pooled("prodml", store, "online"), _med_rss(inproc["prodml"])),
            ("prodml online_features.lookup()", pooled("prodml", store, "lookup"), None),
            ("prodml backend store.read() only", floor, None),
            (
                "Feast get_online_features().to_dict()",
                pooled("feast", store, "feast"),
                _med_rss(inproc["feast"]),
            ),
        ]
        for tool in ("prodml", "feast"):
            info = servers_info.get(store, {}).get(tool)
            detail_rows.append(
                (
                    f"{'prodml serve' if tool == 'prodml' else 'feast serve'} over HTTP",
                    http_lat(tool, store),
                    info[1] if info else None,
                )
            )
        for label, lat, rss in detail_rows:
            if lat is None:
                continue
            details.append(
                [
                    store,
                    label,
                    str(lat.n),
                    ms(lat.p50),
                    ms(lat.p99),
                    ms(lat.mean),
                    ms(lat.max),
                    ", ".join(f"{x:.3f}" for x in lat.rounds_p99),
                    fmt_mb(rss),
                ]
            )
    print_table(
        f"online lookup: 1 entity x {len(FEATURES)} features of {entities} entities, "
        f"{rounds} x {lookups} lookups per row (random existing keys), prodml vs Feast "
        f"(SQLite / Redis online stores), latency in ms",
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
        "details (ms; RSS: the in-process child after its lookups, the server's process group)",
        ["store", "what", "lookups", "p50", "p99", "mean", "max", "p99 per round", "RSS MB"],
        details,
    )
    if inproc["prodml"]:
        print(
            "prodml venv: "
            + ", ".join(f"{k} {v}" for k, v in inproc["prodml"][0]["versions"].items())
        )
    if feast_setup:
        print("peer venv: " + ", ".join(f"{k} {v}" for k, v in feast_setup["versions"].items()))
    elif peer_note:
        print(f"peer: {peer_note}")
    for tool, why in failed.items():
        print(f"{tool} failed: {why.splitlines()[0]}")
    for store, info in servers_info.items():
        print(
            f"servers ({store}): "
            + ", ".join(f"{label} ready in {start:.1f} s" for label, (start, _) in info.items())
        )
    print(
        "timed: each call from request to the Python answer (in process: Lookup objects / "
        "Feast's to_dict(); HTTP: http.client keep-alive POST until the whole body is read, "
        "JSON not decoded); not timed: data generation, prodml run + publish, Feast apply + "
        f"materialize, server start, warm-up ({warm} lookups per measurement)"
    )
    print(load_note)
    if args.profile:
        for store in stores:
            prof = inproc["prodml"][0]["stores"][store].get("profile") if inproc["prodml"] else None
            if prof:
                print(f"\ncProfile of {PROFILE_CALLS} prodml ws.features.online() calls ({store}):")
                print(prof)
    print(
        f"load average at end: {loadavg()}; total {time.perf_counter() - t_start:.0f} s",
        flush=True,
    )
    if problems:
        print(f"\nDISAGREEMENT ({len(problems)}):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 3
    return 0


def _med_rss(results: Sequence[dict[str, Any]]) -> float | None:
    values = sorted(r["rss"] for r in results if r.get("rss") is not None)
    return values[len(values) // 2] if values else None


if __name__ == "__main__":
    sys.exit(main())
