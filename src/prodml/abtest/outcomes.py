"""Outcomes: what happened to a unit after it was served (a conversion, a spend), per metric."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prodml.abtest.errors import OutcomeError

if TYPE_CHECKING:
    import pyarrow as pa

DOCS = {
    "unit_id": "The unit the outcome belongs to (joined to the inference log's unit_id).",
    "metric": "The experiment metric the value counts towards.",
    "value": "The value: 0/1 for a rate metric, any number for a mean metric.",
    "time": "When the outcome happened (UTC).",
    "date": "The UTC day of time (partition).",
    "received": "When the server received it.",
}


@dataclass
class Outcomes:
    """Validated outcome rows of one request."""

    unit_ids: list[str]
    metrics: list[str]
    values: list[float]
    times: list[datetime]
    received: datetime

    @property
    def n(self) -> int:
        """Rows."""
        return len(self.unit_ids)


def parse(doc: Any, metrics: set[str], max_rows: int) -> Outcomes:
    """``{"outcomes": [{"unit_id", "metric", "value", "time"?}, ...]}`` → rows, or a clear error."""
    if not isinstance(doc, dict) or set(doc) != {"outcomes"}:
        raise OutcomeError(
            'the body must be {"outcomes": [{"unit_id": ..., "metric": ..., "value": ...}]}'
        )
    rows = doc["outcomes"]
    if not isinstance(rows, list) or not rows:
        raise OutcomeError("outcomes must be a non-empty list")
    if len(rows) > max_rows:
        raise OutcomeError(f"{len(rows)} outcomes in one request; at most {max_rows}")
    received = datetime.now(UTC)
    out = Outcomes([], [], [], [], received)
    for i, row in enumerate(rows):
        where = f"outcomes[{i}]"
        if not isinstance(row, dict):
            raise OutcomeError(f"{where} must be an object")
        unknown = sorted(set(row) - {"unit_id", "metric", "value", "time"})
        if unknown:
            raise OutcomeError(f"{where}: unknown key(s) {', '.join(unknown)}")
        unit, metric, value = row.get("unit_id"), row.get("metric"), row.get("value")
        if isinstance(unit, bool) or not isinstance(unit, (str, int)) or unit == "":
            raise OutcomeError(f"{where}.unit_id must be a non-empty string or an integer")
        if metric not in metrics:
            raise OutcomeError(
                f"{where}.metric {metric!r} is not an experiment metric "
                f"(metrics: {', '.join(sorted(metrics))})"
            )
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise OutcomeError(f"{where}.value must be a finite number")
        when = received
        if row.get("time") is not None:
            try:
                when = datetime.fromisoformat(str(row["time"]))
                when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            except (ValueError, OverflowError):
                raise OutcomeError(
                    f"{where}.time {row['time']!r} is not an ISO-8601 time in range"
                ) from None
        out.unit_ids.append(str(unit))
        out.metrics.append(metric)
        out.values.append(float(value))
        out.times.append(when)
    return out


def to_table(batches: list[Outcomes]) -> pa.Table:
    """Outcome rows → Arrow."""
    import pyarrow as pa

    times = [t for b in batches for t in b.times]
    return pa.table(
        {
            "unit_id": pa.array([u for b in batches for u in b.unit_ids], pa.string()),
            "metric": pa.array([m for b in batches for m in b.metrics], pa.string()),
            "value": pa.array([v for b in batches for v in b.values], pa.float64()),
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
            "date": pa.array([t.date() for t in times], pa.date32()),
            "received": pa.array(
                [b.received for b in batches for _ in range(b.n)], pa.timestamp("us", tz="UTC")
            ),
        }
    )
