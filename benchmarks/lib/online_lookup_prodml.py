"""The online lookup benchmark's prodml side: the platform (two environments, SQLite and Redis
online stores), run + publish, and the in-process child that times ``ws.online_features`` and
the layer below it (``OnlineFeatures.lookup``; the backend's bare ``read`` as a floor)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lib.machine import versions
from lib.memory import status_mb
from lib.online_lookup_data import (
    ENVS,
    EVENT_TS,
    FEATURES,
    KEY,
    PRODUCT,
    TABLE,
    AnswerLog,
    epoch_us,
    normalise_values,
    time_variants,
)

PROFILE_CALLS = 5000


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


def online_layer(ws: Any) -> Any:
    """The layer below ``ws.online_features``: ``OnlineFeatures`` over the environment's online
    store (its own connection, opened as the workspace opens it; close its ``store``)."""
    from prodml.features.lookup import OnlineFeatures
    from prodml.features.online import open_store
    from prodml.features.training import declared_tables

    config = ws.settings.online_store
    store = open_store(config.url, ws.state_dir, config.type)
    configs = {name: product.config for name, product in ws.products.items()}
    return OnlineFeatures(store, declared_tables(configs, {}, ws.catalog_name), ws.catalog_name)


def drop_table(ws: Any) -> None:
    """Remove the benchmark table's records and publish state from the online store."""
    online = online_layer(ws)
    try:
        online.store.drop(f"{ws.catalog_name}.{TABLE}")
    finally:
        online.store.close()


def publish(root: Path, env: str) -> dict[str, Any]:
    """Run the product and publish the table to the environment's online store."""
    import prodml

    with prodml.connect(root, env) as ws:
        drop_table(ws)  # a stale Redis state would look up to date
        t0 = time.perf_counter()
        result = ws.run(PRODUCT)
        failed = [s for s in result.steps if s["status"] != "succeeded"]
        if failed:
            raise RuntimeError(f"prodml run {PRODUCT} ({env}) failed: {failed}")
        run_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        (published,) = ws.publish_features()
        return {
            "run": run_s,
            "publish": time.perf_counter() - t0,
            "keys": published.keys,
            "rows": published.rows_read,
        }


def drop_prodml_redis(root: Path) -> None:
    """Drop prodml's table from the Redis online store (the ``redis`` environment)."""
    import prodml

    if (root / "prodml.yaml").is_file():
        with prodml.connect(root, "redis") as ws:
            drop_table(ws)


def _check_row(key: int, hit: Any) -> list[Any]:
    values = list(normalise_values(hit.values))
    return [key, values, sorted(set(hit.statuses.values())), epoch_us(hit.event_timestamp)]


def _store(ws: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    """One store's measurement: ``online`` / ``lookup`` / ``read`` round-robin per block."""
    from prodml.features import FeatureLookup
    from prodml.features.online import PRESENT

    requests = [[{KEY: k}] for k in cfg["keys"]]
    warmup = [[{KEY: k}] for k in cfg["warmup_keys"]]
    flookup = FeatureLookup(TABLE)
    online = online_layer(ws)
    backend = online.store
    full = f"{online.catalog}.{TABLE}"
    variants: dict[str, Callable[[Any], Any]] = {
        "online": lambda e, w=ws: w.online_features(TABLE, e),
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
    lat = time_variants(variants, sinks, requests, warmup)
    res: dict[str, Any] = {
        "lat": lat,
        "digest": {name: logs[name].digest() for name in ("online", "lookup")},
        "not_present": {name: logs[name].bad for name in ("online", "lookup")},
        "read_missing": logs["read"].bad,
        "checks": {
            name: [_check_row(k, variants[name]([{KEY: k}])[0]) for k in cfg["check_keys"]]
            for name in ("online", "lookup")
        },
    }
    if cfg.get("profile"):
        res["profile"] = _profile(variants["online"], requests[:PROFILE_CALLS])
    backend.close()
    return res


def child_prodml(cfg: dict[str, Any]) -> dict[str, Any]:
    """prodml in process: ``ws.online_features`` and ``OnlineFeatures.lookup`` per store."""
    import prodml

    out: dict[str, Any] = {"stores": {}, "versions": versions("prodml", "redis")}
    for store in cfg["stores"]:
        ws = prodml.connect(cfg["root"], store)
        out["stores"][store] = _store(ws, cfg)
        ws.close()
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
