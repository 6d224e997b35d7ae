"""The drift monitor of one environment: compare, report, alert, and retrain when asked.

Alerting and retraining belong to other parts of prodml: they are injected as callables
(``alert`` sends an alert and says what happened; ``retrain`` runs steps of a product and
returns the run's id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.config.product import DriftConfig, DriftTable
from prodml.drift.report import render
from prodml.drift.run import PREDICTIONS, compare, store_results, watched
from prodml.drift.windows import parse
from prodml.engine.base import Engine
from prodml.names import TableName
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
        product, config, tables = watched(self.catalog, self.products, target)
        access = Access(principal=self.principal, step="drift run")
        report = self._compare(product, config, tables, target, reference, current, access)
        report["html"] = self._write_html(report, html)
        return self._act(product, config, report)

    def _compare(
        self,
        product: Product | None,
        config: DriftConfig,
        tables: dict[TableName, DriftTable],
        target: str,
        reference: str | None,
        current: str | None,
        access: Access,
    ) -> dict[str, Any]:
        """The report of ``tables`` (and a served product's predictions) between the windows,
        recorded in ``monitoring.drift_results``."""
        cur = parse(current or config.current, "current")
        ref = parse(reference or config.reference, "reference")
        optional = {}
        if product is not None and product.config.endpoint is not None and target == product.name:
            log = self.catalog.name(product.config.inference_log_table)
            if self.catalog.exists(log) and log not in tables:
                optional[log] = PREDICTIONS
        engine = self.make_engine()
        try:
            report = compare(
                self.catalog,
                engine,
                tables,
                optional,
                current=cur,
                reference=ref,
                correction=config.correction,
                access=access,
            )
        finally:
            engine.close()
        report.update(target=target, product=product.name if product else None, env=self.env)
        store_results(self.catalog, report, access)
        return report

    def _write_html(self, report: dict[str, Any], html: Path | None) -> str:
        """Write the self-contained HTML report (``{stamp}`` in the name: the check's time)."""
        template = html or self.reports / f"{report['target']}.{{stamp}}.html"
        stamp = datetime.fromisoformat(report["checked_at"])
        out = Path(str(template).replace("{stamp}", f"{stamp:%Y%m%dT%H%M%S}"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(report))
        return str(out)

    def _act(
        self, product: Product | None, config: DriftConfig, report: dict[str, Any]
    ) -> dict[str, Any]:
        """Drift raises an alert, and retrains when the product's ``drift.retrain`` says so."""
        target = report["target"]
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
