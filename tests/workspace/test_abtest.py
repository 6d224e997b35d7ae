"""The façade's A/B tests: experiments with their latest decision, reports, decisions recorded
and listed per product (the statistics are tested in tests/abtest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.abtest.test_report import platform, simulate

import prodml
from prodml.errors import NotFoundError, UsageError


def test_experiments_reports_and_decisions(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        assert [(e["experiment"], e["decision"]) for e in ws.experiments()] == [("new_model", None)]
        with pytest.raises(UsageError, match="no exposures yet"):
            ws.ab_report("new_model")
        simulate(
            ws,
            n=600,
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.1, "challenger": 0.1},
            means={"champion": 20.0, "challenger": 20.0},
        )
        report = ws.ab_report("new_model", product="clf", chart=tmp_path / "ab.png")
        assert ws.ab_decisions() == [] and ws.ab_decisions("clf") == []
        with pytest.raises(NotFoundError, match="unknown product 'nope'"):
            ws.ab_report("new_model", product="nope")
    assert report["experiment"] == "new_model" and (tmp_path / "ab.png").is_file()
    assert sum(report["units"].values()) == 600
    assert set(report["units"]) == {"champion", "challenger"}
