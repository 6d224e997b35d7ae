"""Request bodies → typed columns: MLflow's scoring protocol and the product's own JSON shape.

Parsing is column-wise: each input column becomes one NumPy array, checked against the model's
signature in one vectorised conversion (no DataFrame unless the model needs one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from prodml.serving.errors import PayloadError, UnsupportedPayloadError

if TYPE_CHECKING:
    import numpy as np

MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_NUMERIC = {"double", "float", "long", "integer", "boolean"}
_TEXT = {"string"}


@dataclass
class Records:
    """Input records column-wise: ``columns[name]`` holds one value per record."""

    columns: dict[str, list[Any]]
    n: int
    params: dict[str, Any] | None = None
    #: parsed from MLflow's protocol: values are converted as ``mlflow models serve`` does
    #: (see :func:`coerce`); the product route's records are taken strictly
    mlflow: bool = False


def loads(body: bytes) -> Any:
    """Parse JSON, or a 400 that says where it broke."""
    if not body:
        raise PayloadError("the request body is empty: send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed JSON: {exc}") from None


def parse_invocations(body: bytes, content_type: str, columns: Sequence[str]) -> Records:
    """An MLflow ``/invocations`` body (JSON in one of the four forms, or CSV with a header)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "text/csv":
        records = _csv(body)
        records.mlflow = True
        return records
    if kind not in ("application/json", ""):
        raise UnsupportedPayloadError(
            f"unsupported content type {kind!r}: send application/json or text/csv"
        )
    doc = loads(body)
    if not isinstance(doc, dict):
        raise PayloadError(
            f"the body must be a JSON object with one of the keys {', '.join(MLFLOW_FORMATS)}"
        )
    given = [k for k in MLFLOW_FORMATS if k in doc]
    if len(given) != 1:
        found = ", ".join(given) if given else "none of them"
        raise PayloadError(
            f"the body must have exactly one of {', '.join(MLFLOW_FORMATS)} (found {found})"
        )
    unknown = sorted(set(doc) - {given[0], "params"})
    if unknown:
        raise PayloadError(f"unknown key(s) {', '.join(unknown)} beside {given[0]}")
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise PayloadError("params must be a JSON object")
    data = doc[given[0]]
    if given[0] == "dataframe_split":
        records = _split(data)
    elif given[0] == "dataframe_records":
        records = _records(data, "dataframe_records", union=True)
    else:
        records = _tensor_like(data, given[0], columns)
    records.params = params
    records.mlflow = True
    return records


def parse_product(body: bytes) -> Records:
    """The product route's body: ``{"records": [{column: value, ...}, ...]}``."""
    doc = loads(body)
    if not isinstance(doc, dict) or "records" not in doc:
        raise PayloadError('the body must be a JSON object {"records": [{...}, ...]}')
    unknown = sorted(set(doc) - {"records"})
    if unknown:
        raise PayloadError(f"unknown key(s) {', '.join(unknown)}: only 'records' is accepted")
    return _records(doc["records"], "records")


def _split(data: Any) -> Records:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
        raise PayloadError('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
    names = data["columns"]
    rows = data.get("data")
    if not isinstance(rows, list):
        raise PayloadError("dataframe_split.data must be a list of rows")
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        raise PayloadError("dataframe_split.columns must be distinct strings")
    width = len(names)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise PayloadError(
                f"dataframe_split.data row {i} has {got} values; columns has {width}"
            )
    cols = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    return Records(dict(zip(names, cols, strict=True)), len(rows))


def _records(data: Any, where: str, *, union: bool = False) -> Records:
    """Records column-wise. Each must have the first one's columns; with ``union`` (MLflow's
    protocol, as pandas reads records) a column a record lacks is null there."""
    if not isinstance(data, list) or not data:
        raise PayloadError(f"{where} must be a non-empty list of objects")
    first = data[0]
    if not isinstance(first, dict):
        raise PayloadError(f"{where}[0] must be an object of column: value")
    if union:
        bad = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
        if bad is not None:
            raise PayloadError(f"{where}[{bad}] must be an object of column: value")
        every = list(dict.fromkeys(k for rec in data for k in rec))
        return Records({k: [rec.get(k) for rec in data] for k in every}, len(data))
    names = list(first)
    columns: dict[str, list[Any]] = {n: [] for n in names}
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise PayloadError(f"{where}[{i}] must be an object of column: value")
        if len(rec) != len(names) or rec.keys() != columns.keys():
            extra = sorted(set(rec) - set(names))
            lacking = sorted(set(names) - set(rec))
            raise PayloadError(
                f"{where}[{i}] has other columns than {where}[0]"
                + (f"; missing: {', '.join(lacking)}" if lacking else "")
                + (f"; extra: {', '.join(extra)}" if extra else "")
            )
        for name in names:
            columns[name].append(rec[name])
    return Records(columns, len(data))


def _tensor_like(data: Any, where: str, columns: Sequence[str]) -> Records:
    if isinstance(data, dict):  # {column: [values]} (or a single record of scalars)
        if not data:
            raise PayloadError(f"{where} is empty")
        values = list(data.values())
        if all(not isinstance(v, list) for v in values):
            return Records({k: [v] for k, v in data.items()}, 1)
        lengths = {len(v) if isinstance(v, list) else -1 for v in values}
        if len(lengths) != 1 or -1 in lengths:
            raise PayloadError(f"{where} as columns must map every column to a list of one length")
        return Records({k: list(v) for k, v in data.items()}, lengths.pop())
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return _records(data, where, union=True)
    if isinstance(data, list) and data and all(isinstance(r, list) for r in data):
        width = len(columns)
        for i, row in enumerate(data):
            if len(row) != width:
                raise PayloadError(
                    f"{where}[{i}] has {len(row)} values; the model takes {width} "
                    f"({', '.join(columns)}) in that order"
                )
        cols = [list(c) for c in zip(*data, strict=True)]
        return Records(dict(zip(columns, cols, strict=True)), len(data))
    raise PayloadError(
        f"{where} must be a list of records, a list of rows in signature order, "
        "or an object of column: list"
    )


def _csv(body: bytes) -> Records:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the CSV body is not UTF-8") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PayloadError(f"malformed CSV: {exc}") from None
    if not rows or not rows[0]:
        raise PayloadError("the CSV body needs a header row with the column names")
    names, data = rows[0], [r for r in rows[1:] if r]
    if len(set(names)) != len(names):
        raise PayloadError("the CSV header repeats a column name")
    for i, row in enumerate(data, start=2):
        if len(row) != len(names):
            raise PayloadError(f"CSV line {i} has {len(row)} fields; the header has {len(names)}")
    if not data:
        raise PayloadError("the CSV body has a header but no rows")
    cols = [list(c) for c in zip(*data, strict=True)]
    return Records(
        {n: [v if v != "" else None for v in c] for n, c in zip(names, cols, strict=True)},
        len(data),
    )


def coerce(records: Records, schema: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    """The signature's columns as arrays: numbers and booleans as float64 (null → NaN),
    strings as objects.

    The product route is strict: numbers for numeric columns (``true`` is not one), strings
    for string columns. MLflow's protocol (``records.mlflow``) converts as ``mlflow models
    serve`` does: text and booleans that read as numbers are numbers, an integer column's
    values are truncated to integers and may not be null, ``"true"``/``"false"`` are booleans,
    numbers and booleans sent for a string column are their text.

    Raises:
        PayloadError: listing every missing column, or every column with values of the wrong
            type (with the first offending record).
    """
    import numpy as np

    missing = [name for name, _ in schema if name not in records.columns]
    if missing:
        raise PayloadError(
            f"missing column(s): {', '.join(missing)}; the model takes "
            f"{', '.join(f'{n} ({t})' for n, t in schema)}"
        )
    lenient = records.mlflow
    out: dict[str, np.ndarray] = {}
    wrong: list[str] = []
    for name, kind in schema:
        values = records.columns[name]
        if kind in _NUMERIC:
            boolean = kind == "boolean"
            arr, bad, read = _numeric(
                values, bools=lenient or boolean, text=lenient, boolean=boolean
            )
            if bad is None and lenient and kind in _INTEGER and read not in ("i", "u", "b"):
                arr, bad, why = _integral(arr, values)
                if bad is not None:
                    wrong.append(f"{name} expects {kind}, record {bad} {why}")
                    continue
            if bad is not None:
                wrong.append(f"{name} expects {kind}, record {bad} has {_show(values[bad])}")
                continue
            out[name] = arr
        elif kind in _TEXT:
            bad = next(
                (i for i, v in enumerate(values) if v is not None and not isinstance(v, str)), None
            )
            texts = values
            if bad is not None and lenient:  # as MLflow's server: a number's text
                texts = [v if v is None or isinstance(v, str) else _text(v) for v in values]
                bad = next((i for i, v in enumerate(texts) if v is _UNTEXTABLE), None)
            if bad is not None:
                wrong.append(f"{name} expects string, record {bad} has {_show(values[bad])}")
                continue
            out[name] = np.array(texts, dtype=object)
        else:  # other signature types pass through for the model to judge
            out[name] = np.array(values, dtype=object)
    if wrong:
        raise PayloadError(f"wrong type(s): {'; '.join(wrong)}")
    return out


_INTEGER = {"long", "integer"}
_TRUTH = {"true": 1.0, "false": 0.0}
_UNTEXTABLE = object()


def _text(value: Any) -> Any:
    """A JSON scalar's text as MLflow's server makes it (``7`` → ``"7"``); lists and
    objects have none."""
    return str(value) if isinstance(value, (int, float)) else _UNTEXTABLE


def _numeric(
    values: list[Any], *, bools: bool, text: bool, boolean: bool
) -> tuple[np.ndarray, int | None, str]:
    """float64 values, or the index of the first value that is not a number (or null), and
    what they were read from (NumPy's kind of a list of plain numbers, ``""`` otherwise):
    ``bools`` takes ``true``/``false`` as 1/0, ``text`` numbers written as text (and, for a
    ``boolean`` column, ``"true"``/``"false"``)."""
    import numpy as np

    try:
        arr = np.asarray(values)
    except ValueError:  # ragged nesting
        arr = np.empty(0)
        kind = "ragged"
    else:
        kind = arr.dtype.kind
    fast = arr.ndim == 1 and (kind in "fiu" or (kind == "b" and bools))
    if fast and (bools or bool not in set(map(type, values))):  # [1, true] reads as ints
        return arr.astype(np.float64, copy=False), None, kind
    if text and kind == "U" and arr.ndim == 1 and not boolean:
        try:
            return arr.astype(np.float64), None, ""
        except ValueError:
            pass
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if v is None:
            out[i] = np.nan
        elif isinstance(v, bool):
            if not bools:
                return np.empty(0), i, ""
            out[i] = float(v)
        elif isinstance(v, (int, float)):
            out[i] = float(v)
        elif text and isinstance(v, str) and boolean and v.strip().lower() in _TRUTH:
            out[i] = _TRUTH[v.strip().lower()]
        elif text and isinstance(v, str):
            try:
                out[i] = float(v)
            except ValueError:
                return np.empty(0), i, ""
        else:
            return np.empty(0), i, ""
    return out, None, ""


def _integral(arr: np.ndarray, values: list[Any]) -> tuple[np.ndarray, int | None, str]:
    """An integer column's values as MLflow's server takes them: truncated toward zero
    (``1.5`` → 1), text only when it is an integer's, never null."""
    import numpy as np

    missing = np.flatnonzero(~np.isfinite(arr))
    if missing.size:
        i = int(missing[0])
        return arr, i, f"has {_show(values[i])} (integers cannot be missing: send a number)"
    for i, v in enumerate(values):
        if isinstance(v, str):
            try:
                int(v)
            except ValueError:
                return arr, i, f"has {_show(v)}, not an integer's text"
    return np.trunc(arr), None, ""


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
