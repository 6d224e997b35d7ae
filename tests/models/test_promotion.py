"""Promotion across environments on real MLflow: the source champion is gated again with the
target's rules (and against the target's champion), copied with its record, and made champion
there; what is refused, and that a refusal copies nothing."""

from __future__ import annotations

import json

import pytest
from tests.models.conftest import Mlflow

from prodml.config.product import ModelConfig
from prodml.models.errors import GateFailedError, ModelError
from prodml.models.promotion import promote_across
from prodml.models.registry import CHAMPION, TRAINING_SET_TAG, ModelRegistry, TrackingTarget

SPEC = {"timestamp": "t", "lookups": [{"table": "features.x", "features": ["f"]}]}


def config(
    name: str, *, floor: float = 0.8, delta: float | None = None, **extra: str
) -> ModelConfig:
    gate: dict[str, object] = {"metrics": {"auc": {"min": floor}}}
    if delta is not None:
        gate["improvement"] = {"metric": "auc", "min_delta": delta}
    return ModelConfig.model_validate({"name": name, "gate": gate, **extra})


def champion(
    home: Mlflow, registry: ModelRegistry, *, auc: str = "0.9", gate: str = "passed"
) -> str:
    """A model in ``registry`` whose version 1 is the champion, with a gate verdict and auc."""
    tags = {"prodml.gate": gate, "prodml.metric.auc": auc, TRAINING_SET_TAG: json.dumps(SPEC)}
    model = home.register(1, registry=registry, tags={1: tags})
    registry.set_alias(model, CHAMPION, 1)
    return model


@pytest.fixture
def envs(mlflow_home: Mlflow) -> tuple[ModelRegistry, ModelRegistry]:
    """staging and prod, sharing the tracking store and registry."""
    return mlflow_home.registry_for("staging"), mlflow_home.registry_for("prod")


def test_the_champion_is_copied_with_its_record(
    mlflow_home: Mlflow, envs: tuple[ModelRegistry, ModelRegistry]
) -> None:
    staging, prod = envs
    model = champion(mlflow_home, staging)
    target = f"{model}_prod"  # an environment overlay may rename the model
    record = promote_across(
        "shop", staging, prod, config(model), config(target), principal="user:ana"
    )
    assert record["from"] == f"staging.ml.{model}/1"
    assert record["to"] == f"prod.ml.{target}/1"
    assert (record["product"], record["previous_champion"], record["promoted_by"]) == (
        "shop",
        None,
        "user:ana",
    )
    assert "auc" in record["gate"] and "pass" in record["gate"]
    (version,) = prod.versions(target)
    assert (version["aliases"], version["gate"], version["source"]) == (
        ["champion"],
        "passed",
        f"staging.ml.{model}/1",
    )
    assert version["metrics"] == {"auc": 0.9}
    assert prod.training_set(target, 1) == SPEC  # the same lookups, resolved in prod when served
    tags = prod.client.get_model_version(f"prod.ml.{target}", "1").tags
    assert tags["prodml.source_run_id"] == mlflow_home.run_id
    assert tags["prodml.promoted_at"] == record["promoted_at"]
    with pytest.raises(ModelError) as again:
        promote_across("shop", staging, prod, config(model), config(target), principal="user:ana")
    assert again.value.message == (
        f"staging.ml.{model}/1 is already the champion of prod (prod.ml.{target}/1)"
    )


def test_the_targets_gate_decides_and_a_refusal_copies_nothing(
    mlflow_home: Mlflow, envs: tuple[ModelRegistry, ModelRegistry]
) -> None:
    staging, prod = envs
    model = champion(mlflow_home, staging)
    with pytest.raises(GateFailedError) as info:
        promote_across(
            "shop", staging, prod, config(model), config(model, floor=0.95), principal="p"
        )
    assert info.value.hint == "nothing was copied to prod"
    assert info.value.reasons == ["auc 0.9000 does not satisfy >= 0.95"]
    assert f"model staging.ml.{model} version 1 failed the gate" in info.value.message
    assert prod.versions(model) == []


def test_the_candidate_must_beat_the_targets_champion(
    mlflow_home: Mlflow, envs: tuple[ModelRegistry, ModelRegistry]
) -> None:
    staging, prod = envs
    model = champion(mlflow_home, staging, auc="0.9")
    champion_there = mlflow_home.register(1, registry=prod, tags={1: {"prodml.metric.auc": "0.95"}})
    prod.set_alias(champion_there, CHAMPION, 1)
    with pytest.raises(GateFailedError) as info:
        promote_across(
            "shop",
            staging,
            prod,
            config(model),
            config(champion_there, delta=0.01),
            principal="p",
        )
    assert info.value.reasons == ["auc 0.9000 does not satisfy >= champion + 0.01"]
    assert [v["version"] for v in prod.versions(champion_there)] == [1]


def test_a_product_deployed_as_code_is_retrained_not_copied(
    mlflow_home: Mlflow, envs: tuple[ModelRegistry, ModelRegistry]
) -> None:
    staging, prod = envs
    code = config("m", deployment="code")
    with pytest.raises(ModelError) as info:
        promote_across("shop", staging, prod, config("m"), code, principal="p")
    assert "product shop is deployed as code" in info.value.message
    assert info.value.hint == "run 'prodml run shop --env prod' (or deploy the code)"


def test_registries_must_be_shared(mlflow_home: Mlflow) -> None:
    elsewhere = ModelRegistry(TrackingTarget("prod", "sqlite:///o.db", "sqlite:///o.db", None))
    with pytest.raises(ModelError) as info:
        promote_across(
            "shop", mlflow_home.registry, elsewhere, config("m"), config("m"), principal="p"
        )
    assert info.value.message == "dev and prod use different model registries"
    assert "share the registry URI" in str(info.value.hint)


def test_the_source_needs_a_champion_that_passed_its_gate(
    mlflow_home: Mlflow, envs: tuple[ModelRegistry, ModelRegistry]
) -> None:
    staging, prod = envs
    no_champion = mlflow_home.register(1, registry=staging)
    with pytest.raises(ModelError, match="has no 'champion' alias"):
        promote_across(
            "shop", staging, prod, config(no_champion), config(no_champion), principal="p"
        )
    unchecked = champion(mlflow_home, staging, gate="failed")
    with pytest.raises(ModelError) as info:
        promote_across("shop", staging, prod, config(unchecked), config(unchecked), principal="p")
    assert info.value.message == (f"staging.ml.{unchecked} version 1 has no passed gate on record")
    assert info.value.hint == "run the evaluate step in the source environment first"
    assert prod.versions(unchecked) == []
