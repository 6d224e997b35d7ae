"""The quality benchmark's peer: Great Expectations 1.x, a ValidationDefinition run over the
pandas DataFrame (runs in the peer's venv, ``benchmarks/.venvs/quality``)."""

from __future__ import annotations

from typing import Any

from lib.machine import versions, versions_text
from lib.memory import HighWater
from lib.quality_data import (
    NOW,
    REFERENCE,
    WARMUP_ROWS,
    expectation_specs,
    reference_keys,
    release_load_memory,
)


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
    release_load_memory()
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
    with HighWater() as sec:
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
        "versions": versions_text(versions("great_expectations", "pandas", "numpy", "pyarrow")),
    }
