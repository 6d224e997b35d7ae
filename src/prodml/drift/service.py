"""The drift monitor of one environment: compare, report, alert, and retrain when asked.

Alerting and retraining belong to other parts of prodml: they are injected as callables
(``alert`` sends an alert and says what happened; ``retrain`` runs steps of a product and
returns the run's id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.drift.run import run
from prodml.engine.base import Engine
from prodml.products import TRACKED_STAGES, Product

#: (the product, or None for a table no product watches; the alert's fields) → the outcome
Alert = Callable[[Product | None, dict[str, Any]], str]
#: (product, steps to run) → the run's id
Retrain = Callable[[str, Sequence[str]], str]


class DriftMonitor:
    """Compares watched tables between two windows, and acts on drift.

    Args:
        catalog: the environment's catalog.
        make_engine: a fresh engine per check.
        products: every product of the environment.
        env: the environment's name (in reports and alerts).
        principal: who checks.
        reports: where reports go by default.
        alert: sends an alert.
        retrain: runs a product's train steps.
    """

    def __init__(
        self,
        catalog: Catalog,
        make_engine: Callable[[], Engine],
        products: Mapping[str, Product],
        *,
        env: str,
        principal: str,
        reports: Path,
        alert: Alert,
        retrain: Retrain,
    ) -> None:
        self.catalog = catalog
        self.make_engine = make_engine
        self.products = products
        self.env = env
        self.principal = principal
        self.reports = reports
        self._alert = alert
        self._retrain = retrain

    def run(
        self,
        target: str,
        *,
        reference: str | None = None,
        current: str | None = None,
        html: Path | None = None,
    ) -> dict[str, Any]:
        """Compare the watched tables of a product (or one table) between two windows.

        Results go to ``monitoring.drift_results``; a self-contained HTML report is written
        (default: under ``reports``); drift raises an alert, and retrains when the product's
        ``drift.retrain`` says so.
        """
        product, config, report = run(
            self.catalog,
            self.make_engine,
            self.products,
            target,
            reference=reference,
            current=current,
            access=Access(principal=self.principal, step="drift run"),
            env=self.env,
            html=html or self.reports / f"{target}.{{stamp}}.html",
        )
        columns, drifted = report["drifted_columns"], report["drifted_tables"]
        if not columns:
            return report
        report["alert"] = self._alert(
            product,
            {
                "kind": "drift",
                "target": target,
                "summary": f"drift in {', '.join(columns)}",
                "drifted_tables": drifted,
                "report": report["html"],
            },
        )
        if product is not None and config.retrain and drifted:
            steps = [s.name for s in product.steps if s.stage in TRACKED_STAGES]
            if steps:
                report["retrain"] = self._retrain(product.name, steps)
        return report
