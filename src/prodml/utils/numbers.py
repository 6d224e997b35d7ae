"""Numbers made safe for JSON."""

from __future__ import annotations

import math


def finite_or_none(value: float | None) -> float | None:
    """A JSON-safe float: NaN and ±inf become ``None``."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
