"""The drift monitor on its own, with its alert and retrain callables given by the test:
drift alerts (and retrains when the product says so), no drift stays quiet, reports go to the
reports folder by default, results are recorded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import PRODUCT, make_platform
from tests.workspace.test_monitoring import SETTINGS, TYPED, _landing

import prodml
from prodml.drift.service import DriftMonitor
from prodml.products import Product

# a train step: what drift.retrain runs
TRAINED = (
    TYPED
    + """
@step(stage="train", inputs=["silver.sales"], outputs="ml.fit", mode="append")
def fit(ctx, sales):
    return ctx.sql("SELECT count(*) AS n FROM sales")
"""
)


class Calls:
    """What the monitor asked for: alerts (product, fields) and retrains (product, steps)."""

    def __init__(self) -> None:
        self.alerts: list[tuple[str | None, dict[str, Any]]] = []
        self.retrains: list[tuple[str, list[str]]] = []

    def alert(self, product: Product | None, fields: dict[str, Any]) -> str:
        self.alerts.append((product.name if product else None, fields))
        return "logged"

    def retrain(self, product: str, steps: Sequence[str]) -> str:
        self.retrains.append((product, list(steps)))
        return "20240101T000000-retrain1"


@pytest.fixture
def drifting(tmp_path: Path) -> Path:
    root = make_platform(tmp_path / "p", {"shop": TRAINED})
    settings = SETTINGS.replace("  reference: before\n", "  reference: before\n  retrain: true\n")
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + settings)
    _landing(root, 8, shifted=2)
    with prodml.connect(root) as ws:
        ws.run("shop")
    return root


def _monitor(ws: prodml.Workspace, calls: Calls, reports: Path) -> DriftMonitor:
    w = ws._w  # the components the wiring would give it
    return DriftMonitor(
        w.catalog,
        w.engine,
        w.products,
        env=w.env,
        principal=w.principal,
        reports=reports,
        alert=calls.alert,
        retrain=calls.retrain,
    )


def test_drift_alerts_and_retrains_the_products_train_steps(drifting: Path, tmp_path: Path) -> None:
    calls = Calls()
    with prodml.connect(drifting) as ws:
        report = _monitor(ws, calls, tmp_path / "reports").run("shop")
        recorded = ws.read("monitoring.drift_results").to_pylist()
    ((product, fields),) = calls.alerts
    assert product == "shop" and fields["kind"] == "drift" and fields["target"] == "shop"
    assert fields["drifted_tables"] == ["dev.silver.sales"]
    assert fields["summary"].startswith("drift in ") and "amount" in fields["summary"]
    assert calls.retrains == [("shop", ["fit"])]
    assert report["alert"] == "logged" and report["retrain"] == "20240101T000000-retrain1"
    html = Path(report["html"])
    assert html.parent == tmp_path / "reports" and html.name.startswith("shop.")
    assert fields["report"] == report["html"]
    assert {r["column"] for r in recorded} == {"amount"} and recorded[0]["drift"] is True


def test_no_drift_stays_quiet(drifting: Path, tmp_path: Path) -> None:
    calls = Calls()
    with prodml.connect(drifting) as ws:
        report = _monitor(ws, calls, tmp_path).run(
            "shop", reference="2024-01-01..2024-01-03", current="2024-01-04..2024-01-06"
        )
    assert report["drift"] is False and "alert" not in report and "retrain" not in report
    assert calls.alerts == [] and calls.retrains == []


def test_a_watched_table_on_its_own_is_its_products_to_act_on(
    drifting: Path, tmp_path: Path
) -> None:
    calls = Calls()
    with prodml.connect(drifting) as ws:
        report = _monitor(ws, calls, tmp_path).run(
            "silver.sales", reference="2024-01-01..2024-01-06", current="2024-01-07..2024-01-08"
        )
    assert report["drift"] is True
    assert [p for p, _ in calls.alerts] == ["shop"]  # the product that watches it
    assert calls.retrains == [("shop", ["fit"])]
    assert report["target"] == "silver.sales" and report["product"] == "shop"
