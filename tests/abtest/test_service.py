"""The experiments service on its own, with the model registry's part (moving aliases) given by
the test: listing with decisions, reports, concluding (checked before any work, recorded),
and which product an experiment belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.abtest.test_report import platform, simulate

import prodml
from prodml.abtest.service import Experiments
from prodml.errors import NotFoundError, UsageError


class Registry:
    """The aliases of clf's model: champion v1, challenger v2; records each settle."""

    def __init__(self) -> None:
        self.settled: list[dict[str, object]] = []

    def settle(
        self, product: str, *, control: str, treatment: str, promote: bool, tags: dict[str, str]
    ) -> tuple[int | None, int | None]:
        self.settled.append(
            {"product": product, "control": control, "treatment": treatment, "promote": promote}
            | {"tags": tags}
        )
        return 1, 2 if promote else 1


def _experiments(ws: prodml.Workspace, registry: Registry, charts: Path) -> Experiments:
    w = ws._w  # the components the wiring would give it
    return Experiments(
        w.catalog,
        w.store,
        {n: p.config for n, p in w.products.items()},
        w.engine,
        "tester",
        settle=registry.settle,
        registered_name=lambda product: f"dev.ml.{product}",
        charts=charts,
    )


@pytest.fixture
def exposed(tmp_path: Path) -> Path:
    """clf with 2000 units of traffic: the challenger converts clearly better."""
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        simulate(
            ws,
            n=2000,
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.10, "challenger": 0.20},
            means={"champion": 20.0, "challenger": 20.0},
        )
    return root


def test_a_report_then_a_recorded_decision(exposed: Path, tmp_path: Path) -> None:
    registry = Registry()
    with prodml.connect(exposed) as ws:
        experiments = _experiments(ws, registry, tmp_path / "charts")
        (listed,) = experiments.list()
        assert (listed["product"], listed["experiment"], listed["decision"]) == (
            "clf",
            "new_model",
            None,
        )
        report = experiments.report("new_model")
        assert (tmp_path / "charts" / "clf.new_model.png").is_file()
        done = experiments.conclude("new_model")
        (relisted,) = experiments.list()
    assert report["recommendation"]["decision"] == "promote_treatment"
    assert registry.settled == [
        {
            "product": "clf",
            "control": "champion",
            "treatment": "challenger",
            "promote": True,
            "tags": {"prodml.ab.new_model": "promote_treatment", "prodml.ab.decided_by": "tester"},
        }
    ]
    assert (done["decision"], done["model"], done["decided_by"]) == (
        "promote_treatment",
        "dev.ml.clf",
        "tester",
    )
    assert (done["champion_before"], done["champion_after"]) == (1, 2)
    assert relisted["decision"] == "promote_treatment"


def test_keeping_the_control_against_the_recommendation_says_who(
    exposed: Path, tmp_path: Path
) -> None:
    registry = Registry()
    with prodml.connect(exposed) as ws:
        done = _experiments(ws, registry, tmp_path).conclude("new_model", decision="keep")
    assert done["decision"] == "keep_control" and registry.settled[0]["promote"] is False
    assert done["reason"].startswith("decided by tester against the recommendation")


def test_bad_requests_change_nothing(exposed: Path, tmp_path: Path) -> None:
    registry = Registry()
    with prodml.connect(exposed) as ws:
        experiments = _experiments(ws, registry, tmp_path)
        with pytest.raises(UsageError, match="unknown decision 'maybe'"):
            experiments.conclude("new_model", decision="maybe")
        with pytest.raises(NotFoundError, match="unknown product 'clff'"):
            experiments.report("new_model", product="clff")
        with pytest.raises(NotFoundError, match="new_model"):
            experiments.conclude("new_modle")
        assert experiments.list()[0]["decision"] is None
    assert registry.settled == []
