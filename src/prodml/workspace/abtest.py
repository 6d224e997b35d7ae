"""The façade's A/B tests: experiments, reports, decisions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.workspace.wiring import Wiring


class ExperimentMethods:
    """A/B experiments of the products' endpoints."""

    _w: Wiring

    def experiments(self) -> list[dict[str, Any]]:
        """Every product's A/B experiments, with their latest decision."""
        return self._w.experiments.list()

    def ab_report(
        self, experiment: str, *, product: str | None = None, chart: Path | None = None
    ) -> dict[str, Any]:
        """Per-variant results, lift, p-values, SRM and a recommendation; a PNG chart of the
        metrics over time (default: under the state directory)."""
        return self._w.experiments.report(experiment, product=product, chart=chart)

    def ab_conclude(
        self, experiment: str, *, product: str | None = None, decision: str | None = None
    ) -> dict[str, Any]:
        """Act on an experiment (promote the treatment, or keep the control) and record it."""
        return self._w.experiments.conclude(experiment, product=product, decision=decision)

    def ab_decisions(self, product: str | None = None) -> list[dict[str, Any]]:
        """Recorded decisions, newest first."""
        return self._w.store.decisions(self._w.settings.catalog, product=product)
