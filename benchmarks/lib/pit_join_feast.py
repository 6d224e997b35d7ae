"""The point-in-time join benchmark's peer: Feast ``get_historical_features`` with its DuckDB
offline store or its default file (Dask) store, over FileSources of the same Parquet files (runs
in the peer's venv, ``benchmarks/.venvs/feast``)."""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from lib.children import timed_start
from lib.machine import versions
from lib.memory import peak_mb, status_mb
from lib.pit_join_data import CREATED_TS, EVENT_TS, TABLES, WARMUP_ROWS


def feast_store(repo: Path, offline: str) -> Any:
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


def feast_apply(store: Any, tables: list[dict[str, Any]]) -> list[str]:
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
        store = feast_store(repo, cfg["offline"])
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
        refs = feast_apply(store, tables)
        wall_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        entity_df = pq.read_table(data / "spine.parquet").to_pandas()
        wall_spine = time.perf_counter() - t0
        store.get_historical_features(
            entity_df=entity_df.head(WARMUP_ROWS).copy(), features=refs
        ).to_arrow()  # warm-up
        rss_data = status_mb("VmRSS")
        timed_start(cfg)
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
        "versions": versions("feast", "duckdb", "ibis-framework", "dask", "pandas", "pyarrow"),
    }
