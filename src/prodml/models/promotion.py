"""Deploy-model promotion across environments: re-check the gate, copy the champion."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from prodml.config.product import ModelConfig
from prodml.models import gate as gates
from prodml.models.errors import GateFailedError, ModelError
from prodml.models.registry import CHAMPION, TRAINING_SET_TAG, ModelRegistry


def promote_across(
    product: str,
    source: ModelRegistry,
    target: ModelRegistry,
    source_model: ModelConfig,
    target_model: ModelConfig,
    *,
    principal: str,
) -> dict[str, Any]:
    """Copy ``source``'s champion into ``target`` as its champion, after the gate passes again.

    Raises:
        ModelError: the product deploys code, there is no champion, or the registries differ.
        GateFailedError: the champion's recorded metrics fail the target's gate.
    """
    if target_model.deployment == "code":
        raise ModelError(
            f"product {product} is deployed as code: promoting it to {target.env} means "
            f"retraining there, not copying a model",
            hint=f"run 'prodml run {product} --env {target.env}' (or deploy the code)",
        )
    if source.target.registry_uri != target.target.registry_uri:
        raise ModelError(
            f"{source.env} and {target.env} use different model registries",
            hint="copying between registries is not supported yet: share the registry URI",
        )
    version, info = _passed_champion(source, source_model.name)
    source_ref = f"{source.registered_name(source_model.name)}/{version}"
    target_champion = target.alias_version(target_model.name, CHAMPION)
    result = _gate_again(target, target_model, info, source_ref, target_champion)
    copied = target.client.copy_model_version(
        f"models:/{source_ref}", target.registered_name(target_model.name)
    )
    new_version = int(copied.version)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    spec = source.training_set(source_model.name, version)
    target.tag_version(
        target_model.name,
        new_version,
        {
            # the same feature lookups, resolved in the target's catalog when served there
            **({TRAINING_SET_TAG: json.dumps(spec, sort_keys=True)} if spec else {}),
            "prodml.copied_from": source_ref,
            "prodml.source_run_id": str(info["run_id"]),
            "prodml.promoted_by": principal,
            "prodml.promoted_at": stamp,
            "prodml.gate": "passed",
            "prodml.gate.table": result.table()[:4000],
            **{f"prodml.metric.{k}": repr(v) for k, v in info["metrics"].items()},
        },
    )
    target.set_alias(target_model.name, CHAMPION, new_version)
    return {
        "product": product,
        "from": source_ref,
        "to": f"{target.registered_name(target_model.name)}/{new_version}",
        "previous_champion": target_champion,
        "promoted_by": principal,
        "promoted_at": stamp,
        "gate": result.table(),
    }


def _passed_champion(source: ModelRegistry, model: str) -> tuple[int, dict[str, Any]]:
    """The source's champion and its record; it must have passed the gate there."""
    version = source.require_version(model, version=None, alias=CHAMPION)
    info = next(v for v in source.versions(model) if v["version"] == version)
    if info["gate"] != "passed":
        raise ModelError(
            f"{source.registered_name(model)} version {version} has no passed gate on record",
            hint="run the evaluate step in the source environment first",
        )
    return version, info


def _gate_again(
    target: ModelRegistry,
    target_model: ModelConfig,
    info: dict[str, Any],
    source_ref: str,
    target_champion: int | None,
) -> gates.GateResult:
    """The target's gate, on the champion's recorded metrics (against the target's champion);
    a version already copied there is refused."""
    if target_champion is not None:
        current = next(
            v for v in target.versions(target_model.name) if v["version"] == target_champion
        )
        if current["source"] == source_ref:
            raise ModelError(
                f"{source_ref} is already the champion of {target.env} "
                f"({target.registered_name(target_model.name)}/{target_champion})"
            )
    champion_metrics = (
        target.metrics(target_model.name, target_champion) if target_champion else None
    )
    result = gates.check(target_model.gate, info["metrics"], champion_metrics)
    if not result.passed:
        model, version = source_ref.rsplit("/", 1)
        raise GateFailedError(
            model,
            int(version),
            result.table(),
            result.reasons(),
            hint=f"nothing was copied to {target.env}",
        )
    return result
