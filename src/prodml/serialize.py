"""One serializer: any result prodml returns, as JSON-ready data (``--json``, HTTP bodies).

Dataclasses become objects of their fields (a field with ``metadata={"json": False}`` is left
out; names in a class's ``JSON_PROPERTIES`` are added from its properties); datetimes and dates
are ISO 8601; NaN and infinities become null; NumPy scalars become numbers; pydantic models
dump in JSON mode; anything else becomes its text.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    """``value`` as data JSON can hold."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        plain = item()
        if isinstance(plain, int) and getattr(value.dtype, "kind", None) == "M":
            plain = value.astype("datetime64[us]").item()  # a ns datetime64 gives an int
        return to_jsonable(plain)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return to_jsonable(dump(mode="json"))
    return str(value)


def _dataclass(value: Any) -> dict[str, Any]:
    out = {
        f.name: to_jsonable(getattr(value, f.name))
        for f in dataclasses.fields(value)
        if f.metadata.get("json", True)
    }
    for name in getattr(type(value), "JSON_PROPERTIES", ()):
        out[name] = to_jsonable(getattr(value, name))
    return out
