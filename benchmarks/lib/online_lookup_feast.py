"""The online lookup benchmark's peer: Feast repos over the same Parquet file (SQLite and Redis
online stores), apply + materialize, and the in-process child timing ``get_online_features``
(runs in the peer's venv, ``benchmarks/.venvs/feast``); and the benchmark's Redis db."""

from __future__ import annotations

import shutil
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lib.machine import versions
from lib.memory import status_mb
from lib.online_lookup_data import (
    EVENT_TS,
    FEAST_PROJECT,
    FEAST_REFS,
    FEAST_VIEW,
    FEATURES,
    FLOATS,
    INTS,
    KEY,
    AnswerLog,
    normalise_values,
    time_variants,
)
from lib.server import HOST


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

    out: dict[str, Any] = {"stores": {}, "versions": versions("feast", "redis", "pandas")}
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
    out: dict[str, Any] = {"stores": {}, "versions": versions("feast", "redis", "pandas")}
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

        lat = time_variants(variants, {"feast": sink}, requests, warmup)
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
