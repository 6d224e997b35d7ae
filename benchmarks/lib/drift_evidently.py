"""The drift benchmark's peer: Evidently's ``DataDriftPreset`` report (runs in the peer's
venv, ``benchmarks/.venvs/drift``)."""

from __future__ import annotations

import time
from typing import Any

from lib.drift_data import CATEGORICAL, EVIDENTLY_METHODS, NUMERIC, WARMUP_ROWS, make_data
from lib.machine import versions
from lib.memory import peak_mb, status_mb


def _evidently_answer(snapshot: Any) -> dict[str, Any]:
    """Per-column method/score/threshold/verdict and the dataset share/verdict of a snapshot."""
    d = snapshot.dict()
    columns: dict[str, dict[str, Any]] = {}
    share = count = drift = None
    for m in d["metrics"]:
        cfg = m["config"]
        kind = cfg["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            columns[cfg["column"]] = {
                "method": EVIDENTLY_METHODS.get(cfg["method"], cfg["method"]),
                "score": float(m["value"]),
                "threshold": cfg["threshold"],
                "drift": None,
            }
        elif kind == "DriftedColumnsCount":
            share, count = m["value"]["share"], m["value"]["count"]
    for t in d["tests"]:
        params = t["metric_config"]["params"]
        kind = params["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            columns[params["column"]]["drift"] = t["status"] == "FAIL"
        elif kind == "DriftedColumnsCount":  # "share < drift_share" fails on dataset drift
            drift = t["status"] == "FAIL"
    return {"columns": columns, "share": share, "count": count, "drift": drift}


def child_evidently(cfg: dict[str, Any]) -> dict[str, Any]:
    """Evidently's ``DataDriftPreset`` report on the same data (runs in the peer's venv)."""
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    rss_imports = status_mb("VmRSS")
    ref_df = pd.DataFrame(make_data(cfg["rows"], "reference"))
    cur_df = pd.DataFrame(make_data(cfg["rows"], "current"))

    def datasets(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Any, Any]:
        return (
            Dataset.from_pandas(ref, data_definition=definition),
            Dataset.from_pandas(cur, data_definition=definition),
        )

    warm_ref, warm_cur = datasets(ref_df.iloc[:WARMUP_ROWS], cur_df.iloc[:WARMUP_ROWS])
    Report([DataDriftPreset()], include_tests=True).run(warm_cur, warm_ref)  # warm-up
    del warm_ref, warm_cur
    t0 = time.perf_counter()
    ref_ds, cur_ds = datasets(ref_df, cur_df)
    wall_dataset = time.perf_counter() - t0
    rss_data = status_mb("VmRSS")
    report = Report([DataDriftPreset()], include_tests=True)
    t0 = time.perf_counter()
    snapshot = report.run(cur_ds, ref_ds)
    wall = time.perf_counter() - t0
    answer = _evidently_answer(snapshot)
    return {
        "wall": wall,
        "wall_dataset": wall_dataset,
        **answer,
        "rss_imports": rss_imports,
        "rss_data": rss_data,
        "peak": peak_mb(),
        "versions": versions("evidently", "pandas", "numpy", "scipy"),
    }
