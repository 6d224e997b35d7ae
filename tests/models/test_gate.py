"""The gate's rules: absolute bounds, improvement over the champion, missing metrics."""

from __future__ import annotations

from prodml.config.product import Bound, Gate, Improvement
from prodml.models.gate import check


def test_bounds_and_improvement() -> None:
    gate = Gate(
        metrics={"auc": Bound(min=0.7), "loss": Bound(max=0.5)},
        improvement=Improvement(metric="auc", min_delta=0.01),
    )
    ok = check(gate, {"auc": 0.80, "loss": 0.4}, {"auc": 0.78})
    assert ok.passed and ok.reasons() == []
    worse = check(gate, {"auc": 0.785, "loss": 0.6}, {"auc": 0.78})
    assert not worse.passed
    assert worse.reasons() == [
        "loss 0.6000 does not satisfy <= 0.5",
        "auc 0.7850 does not satisfy >= champion + 0.01",
    ]
    table = worse.table().splitlines()
    assert table[0].split() == ["metric", "rule", "candidate", "champion", "verdict"]
    assert table[-1].split()[-1] == "FAIL"


def test_relative_improvement_and_lower_is_better() -> None:
    gate = Gate(
        improvement=Improvement(metric="rmse", min_delta=0.1, relative=True, higher_is_better=False)
    )
    assert check(gate, {"rmse": 8.9}, {"rmse": 10.0}).passed
    assert not check(gate, {"rmse": 9.5}, {"rmse": 10.0}).passed


def test_no_champion_checks_bounds_only_and_missing_metrics_fail() -> None:
    gate = Gate(metrics={"auc": Bound(min=0.5)}, improvement=Improvement(metric="auc"))
    assert check(gate, {"auc": 0.6}, None).passed
    missing = check(gate, {"other": 1.0}, None)
    assert not missing.passed and "auc -" in missing.reasons()[0]
    assert not check(gate, {"auc": float("nan")}, None).passed
