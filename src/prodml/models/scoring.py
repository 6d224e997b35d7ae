"""Batch scoring: a registered version over Arrow chunks, in spawned worker processes."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
from collections.abc import Iterator, Sequence
from concurrent import futures
from datetime import datetime
from typing import Any

import pyarrow as pa

from prodml.models.errors import ModelError

# Column types of an MLflow signature and the Arrow types that can feed them.
_NUMERIC = {"double", "float", "long", "integer", "boolean"}
_TEXT = {"string"}


def input_columns(model_uri: str) -> list[tuple[str, str]]:
    """The (name, type) pairs of a logged model's input signature."""
    from mlflow.models import get_model_info

    signature = get_model_info(model_uri).signature
    if signature is None or signature.inputs is None:
        raise ModelError(
            f"{model_uri} was logged without a signature", hint="log it with ctx.log_model"
        )
    return [
        (c.name, str(c.type.name if hasattr(c.type, "name") else c.type))
        for c in signature.inputs.inputs
    ]


def check_inputs(
    schema: pa.Schema, wanted: Sequence[tuple[str, str]], keep: Sequence[str], model: str
) -> None:
    """Every signature column present with a compatible type, and the kept columns present.

    Raises:
        ModelError: listing all missing columns, then all columns of the wrong type.
    """
    have = {f.name: f.type for f in schema}
    missing = [n for n, _ in wanted if n not in have] + [k for k in keep if k not in have]
    if missing:
        raise ModelError(
            f"the scoring input lacks column(s) {', '.join(missing)} that {model} needs",
            hint=f"input columns: {', '.join(have)}",
        )
    wrong = []
    for name, kind in wanted:
        t = have[name]
        numeric = (
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)
        )
        text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        if (kind in _NUMERIC and not numeric and not pa.types.is_null(t)) or (
            kind in _TEXT and not text and not pa.types.is_null(t)
        ):
            wrong.append(f"{name} is {t}, the model expects {kind}")
    if wrong:
        raise ModelError(
            f"wrong column type(s) for {model}: {'; '.join(wrong)}",
            hint="cast them in a step before scoring",
        )


def schema_of(data: Any) -> pa.Schema:
    """The Arrow schema of a table, dataset or DuckDB relation."""
    if type(data).__name__ == "DuckDBPyRelation":
        return data.limit(0).to_arrow_table().schema
    schema = getattr(data, "schema", None)
    if not isinstance(schema, pa.Schema):
        raise ModelError(
            f"cannot score a {type(data).__name__}",
            hint="pass the step's input (a DuckDB relation) or an Arrow table",
        )
    return schema


def batches(data: Any, columns: Sequence[str], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Arrow record batches of at most ``chunk_rows`` rows (never the whole input at once)."""
    if hasattr(data, "to_batches") and not isinstance(data, pa.Table):  # a dataset
        yield from data.to_batches(
            columns=list(columns), batch_size=chunk_rows, batch_readahead=1, fragment_readahead=1
        )
        return
    if isinstance(data, pa.Table):
        yield from data.select(list(columns)).to_batches(max_chunksize=chunk_rows)
        return
    if type(data).__name__ == "DuckDBPyRelation":
        reader = data.select(*[f'"{c}"' for c in columns]).to_arrow_reader(chunk_rows)
        for batch in reader:
            yield from pa.Table.from_batches([batch]).to_batches(max_chunksize=chunk_rows)
        return
    raise ModelError(
        f"cannot score a {type(data).__name__}",
        hint="pass the step's input (a DuckDB relation) or an Arrow table",
    )


# -- worker side (spawned processes load the model once) -------------------------------------

# the model a spawned worker (or the parent, with one worker) loaded: {"model", "proba"}
_LOADED: dict[str, Any] = {}


def _load(path: str, flavor: str, threads: int | None = None) -> None:
    if threads is not None:  # a worker process: share the cores with its siblings
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # comes with scikit-learn; without it there is nothing to limit
            pass
        else:
            _LOADED["limits"] = threadpool_limits(threads)
    if flavor == "sklearn":
        import mlflow.sklearn

        model = mlflow.sklearn.load_model(path)
        classes = getattr(model, "classes_", None)
        proba = hasattr(model, "predict_proba") and classes is not None and len(classes) == 2
    else:
        import mlflow.pyfunc

        model, proba = mlflow.pyfunc.load_model(path), False
    _LOADED.update(model=model, proba=proba)


def _adopt(payload: bytes, proba: bool, threads: int) -> None:
    """Worker initializer: take the model the parent loaded (no MLflow import in workers)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        _LOADED["limits"] = threadpool_limits(threads)
    _LOADED.update(model=pickle.loads(payload), proba=proba)


def _predict(batch: pa.RecordBatch, features: Sequence[str]) -> pa.Array:
    frame = batch.select(list(features)).to_pandas()
    model = _LOADED["model"]
    if _LOADED["proba"]:
        return pa.array(model.predict_proba(frame)[:, 1], pa.float64())
    out = model.predict(frame)
    return pa.array(getattr(out, "to_numpy", lambda: out)())


def _predict_ipc(payload: bytes, features: Sequence[str]) -> bytes:
    batch = pa.ipc.open_stream(payload).read_next_batch()
    result = pa.record_batch([_predict(batch, features)], names=["prediction"])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, result.schema) as writer:
        writer.write_batch(result)
    return bytes(sink.getvalue())


def _to_ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue())


def score(
    data: Any,
    *,
    model_path: str,
    flavor: str,
    features: Sequence[str],
    keep: Sequence[str],
    meta: dict[str, Any],
    chunk_rows: int,
    workers: int,
) -> pa.RecordBatchReader:
    """Predictions for every row of ``data``: kept columns, ``prediction``, model metadata.

    A stream: each chunk is read, scored and handed on (to the Delta writer) before the next
    is read, so memory stays a few chunks whatever the input's size (``2 * workers`` chunks
    in flight with worker processes).
    """
    columns = list(dict.fromkeys([*keep, *features]))
    chunks = batches(data, columns, chunk_rows)
    scored = (
        _in_process(chunks, model_path, flavor, features)
        if workers <= 1
        else _in_workers(chunks, model_path, flavor, features, workers)
    )
    out = (_with_meta(batch.select(list(keep)), prediction, meta) for batch, prediction in scored)
    first = next(out, None)
    if first is None:  # no rows: still the full schema, so writing an empty result works
        schema = schema_of(data)
        kept = pa.schema([schema.field(k) for k in keep])
        empty = _with_meta(
            pa.record_batch([pa.array([], f.type) for f in kept], schema=kept),
            pa.array([], pa.float64()),
            meta,
        )
        return pa.RecordBatchReader.from_batches(empty.schema, [])
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], out))


def _in_process(
    chunks: Iterator[pa.RecordBatch], model_path: str, flavor: str, features: Sequence[str]
) -> Iterator[tuple[pa.RecordBatch, pa.Array]]:
    _load(model_path, flavor)
    for batch in chunks:
        yield batch, _predict(batch, features)


def _in_workers(
    chunks: Iterator[pa.RecordBatch],
    model_path: str,
    flavor: str,
    features: Sequence[str],
    workers: int,
) -> Iterator[tuple[pa.RecordBatch, pa.Array]]:
    ctx = multiprocessing.get_context("spawn")  # delta-rs' runtime hangs after fork
    threads = max(1, (os.cpu_count() or 1) // workers)  # no oversubscription of cores
    _load(model_path, flavor)  # once, here: workers get it pickled, not from MLflow
    try:
        init: Any = _adopt
        initargs: tuple[Any, ...] = (pickle.dumps(_LOADED["model"]), _LOADED["proba"], threads)
    except (pickle.PicklingError, TypeError, AttributeError):
        init, initargs = _load, (model_path, flavor, threads)
    with futures.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=init, initargs=initargs
    ) as pool:
        pending: list[tuple[pa.RecordBatch, futures.Future[bytes]]] = []
        for batch in chunks:
            payload = _to_ipc(batch.select(list(features)))
            pending.append((batch, pool.submit(_predict_ipc, payload, features)))
            if len(pending) >= 2 * workers:
                done, fut = pending.pop(0)
                yield done, pa.ipc.open_stream(fut.result()).read_next_batch().column(0)
        for done, fut in pending:
            yield done, pa.ipc.open_stream(fut.result()).read_next_batch().column(0)


def _with_meta(kept: pa.RecordBatch, prediction: pa.Array, meta: dict[str, Any]) -> pa.RecordBatch:
    arrays = [*kept.columns, prediction]
    names = [*kept.schema.names, "prediction"]
    n = len(prediction)
    for key, value in meta.items():  # constants: one repeated scalar per chunk
        if isinstance(value, datetime):
            scalar = pa.scalar(value, pa.timestamp("us", tz="UTC"))
        elif isinstance(value, int) and not isinstance(value, bool):
            scalar = pa.scalar(value, pa.int64())
        else:
            scalar = pa.scalar(value, pa.string())
        arrays.append(pa.repeat(scalar, n))
        names.append(key)
    return pa.record_batch(arrays, names=names)
