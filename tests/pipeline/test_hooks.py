"""What the pipeline needs from other domains: the feature store and the training sets it
builds conform to the protocols steps use, and governance's check is an ``Authorize`` that is
silent when governance is off and raises when it refuses."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
from tests.helpers import GOVERNED_PLATFORM as GOVERNED
from tests.helpers import SHOP_PIPELINE as PIPELINE
from tests.helpers import make_platform

import prodml
from prodml.catalog.policies import Access
from prodml.errors import AccessDeniedError
from prodml.features.training import StepTrainingSets, TrainingSet
from prodml.pipeline import hooks
from prodml.pipeline.hooks import TrainingSets


def protocol_members(protocol: type) -> list[str]:
    return [
        n
        for n, v in vars(protocol).items()
        if not n.startswith("_") and (callable(v) or isinstance(v, property))
    ]


def parameters(fn: object) -> list[tuple[str, object]]:
    """Names and kinds of a function's parameters, ``self`` left out."""
    return [(p.name, p.kind) for p in list(inspect.signature(fn).parameters.values())[1:]]  # type: ignore[arg-type]


def test_the_feature_store_is_the_training_sets_steps_use() -> None:
    members = protocol_members(TrainingSets)
    assert members == ["table_name", "build", "record_consumers"]
    for name in members:
        assert parameters(getattr(StepTrainingSets, name)) == parameters(
            getattr(TrainingSets, name)
        ), name


def test_a_training_set_carries_the_spec_logged_with_a_model() -> None:
    assert protocol_members(hooks.TrainingSet) == ["spec"]
    assert {f.name: f.type for f in dataclasses.fields(TrainingSet)}["spec"] == "dict[str, Any]"


@pytest.fixture
def governed(tmp_path: Path) -> Path:
    return make_platform(tmp_path / "gov", {"shop": PIPELINE}, platform=GOVERNED)


def test_governance_authorizes_model_access_for_steps(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        authorize: hooks.Authorize | None = ws._w.run_env().authorize
        assert authorize is not None
        authorize(Access(principal="ops", step="shop.train"), "execute", "model", "dev.ml.m")
        with pytest.raises(
            AccessDeniedError, match=r"ana may not execute model dev\.ml\.m: it lacks EXECUTE"
        ):
            authorize(Access(principal="ana", step="shop.train"), "execute", "model", "dev.ml.m")


def test_without_governance_authorize_allows_everything(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    with prodml.connect(root) as ws:
        authorize = ws._w.run_env().authorize
        assert authorize is not None
        authorize(Access(principal="anyone"), "create_model", "model", "dev.ml.m")
        assert isinstance(ws._w.run_env().training_sets, StepTrainingSets)
