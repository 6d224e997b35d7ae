"""The façade's monitoring: data quality on demand and its history, drift between windows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.workspace.wiring import Wiring


class MonitoringMethods:
    """Data quality and drift."""

    _w: Wiring

    def quality_check(self, target: str) -> list[dict[str, Any]]:
        """Evaluate expectations on whole tables now: a table, or every table of a product
        (results are recorded like those of writes; nothing is dropped or quarantined)."""
        return self._w.quality.check(target)

    def quality_report(self, table: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recorded data-quality results, newest first (of one table, or all)."""
        return self._w.quality.report(table, limit)

    def drift_run(
        self,
        target: str,
        *,
        reference: str | None = None,
        current: str | None = None,
        html: Path | None = None,
    ) -> dict[str, Any]:
        """Compare the watched tables of a product (or one table) between two windows; an
        HTML report is written, drift raises an alert (and retrains when configured)."""
        return self._w.drift.run(target, reference=reference, current=current, html=html)
