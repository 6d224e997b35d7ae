"""Calling a step: what its code depends on, the params it sees, turning returns into tables."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from prodml.engine.base import Engine
from prodml.engine.frames import ACCEPTED, describe, to_arrow
from prodml.errors import ProdmlError
from prodml.pipeline.context import StepContext
from prodml.pipeline.errors import StepFailedError
from prodml.pipeline.fingerprint import code_hash, digest
from prodml.pipeline.project import Product
from prodml.pipeline.step import StepSpec, arg_name
from prodml.pipeline.tracking import MODEL_STAGES


def step_code(spec: StepSpec, owner: Product) -> str:
    """What a step's behaviour depends on besides params and inputs: its code, for
    train/evaluate/apply steps the product's ``model:`` config (gate, flavor, …), and the
    expectations of its outputs that change what is written (drop, quarantine)."""
    code = code_hash(spec, owner.path)
    if spec.stage in MODEL_STAGES and owner.config.model is not None:
        code = digest(code, owner.config.model.model_dump(mode="json"))
    shaping = [
        rule.model_dump(mode="json")
        for out in spec.outputs
        if out in owner.config.tables
        for rule in owner.config.tables[out].expectations
        if rule.action in ("drop", "quarantine")
    ]
    return digest(code, shaping) if shaping else code


def step_params(spec: StepSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params a step sees of its product's ``params`` (with the run's overrides): those
    it declared (loading checked they are set), or all of them."""
    if spec.params is None:
        return dict(params)
    return {k: params[k] for k in spec.params}


def param_names(spec: StepSpec) -> list[str]:
    """The names a step's inputs are bound to: its parameters, or the conventional names."""
    if spec.fn is None:
        return [arg_name(i) for i in spec.inputs]

    params = list(inspect.signature(spec.fn).parameters)[1:]
    if len(params) == len(spec.inputs):
        return params
    return [arg_name(i) for i in spec.inputs]


def as_format(engine: Engine, dataset: Any, fmt: str, alias: str) -> Any:
    """A table input as the step asked for it.

    ``duckdb``: a lazy relation; ``dataset``: the lazy (partition-pruned) Arrow dataset, read
    chunk by chunk with bounded read-ahead (what batch scoring wants); ``arrow``, ``pandas``,
    ``polars``: the data in memory.
    """
    if fmt == "duckdb":
        return engine.sql(f'SELECT * FROM "{alias}"')
    if fmt == "dataset":
        return dataset
    table = dataset.to_table()
    if fmt == "arrow":
        return table
    if fmt == "pandas":
        return table.to_pandas()
    if fmt == "polars":
        try:
            import polars as pl
        except ImportError:
            raise ProdmlError(
                "input_format='polars' needs polars", hint='pip install "prodml[polars]"'
            ) from None
        return pl.from_arrow(table)
    raise ProdmlError(f"unknown input format {fmt!r}")  # pragma: no cover


def produce(
    spec: StepSpec,
    ctx: StepContext,
    args: list[Any],
    engine: Engine,
    params: Mapping[str, Any],
) -> dict[str, pa.Table]:
    """Call the step and convert what it returns into one Arrow table per output."""
    if spec.sql is not None:
        used = {k: v for k, v in params.items() if f"${k}" in spec.sql}
        returned: Any = engine.sql(spec.sql, **used)
    else:
        assert spec.fn is not None
        returned = spec.fn(ctx, *args)
    if len(spec.outputs) == 1:
        returned = {spec.outputs[0]: returned}
    elif not isinstance(returned, dict) or set(returned) != set(spec.outputs):
        raise StepFailedError(
            spec.qualified,
            ctx.run_id,
            f"returned {describe(returned)}; a step with several outputs returns a dict with "
            f"exactly the keys {', '.join(spec.outputs)}",
        )
    frames = {}
    for out, value in returned.items():
        frame = to_arrow(value)
        if frame is None:
            raise StepFailedError(
                spec.qualified,
                ctx.run_id,
                f"returned {describe(value)} for {out}; expected {ACCEPTED}",
                hint=f"return a frame from {spec.where()}",
            )
        frames[out] = frame
    return frames
