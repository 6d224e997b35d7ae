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
    model = source_model.name
    version = source.require_version(model, version=None, alias=CHAMPION)
    recorded = source.versions(model)
    info = next(v for v in recorded if v["version"] == version)
    if info["gate"] != "passed":
        raise ModelError(
            f"{source.registered_name(model)} version {version} has no passed gate on record",
            hint="run the evaluate step in the source environment first",
        )
    target_champion = target.alias_version(target_model.name, CHAMPION)
    source_ref = f"{source.registered_name(model)}/{version}"
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
        raise GateFailedError(
            source.registered_name(model),
            version,
            result.table(),
            result.reasons(),
            hint=f"nothing was copied to {target.env}",
        )
    copied = target.client.copy_model_version(
        f"models:/{source.registered_name(model)}/{version}",
        target.registered_name(target_model.name),
    )
    new_version = int(copied.version)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    spec = source.training_set(model, version)
    target.tag_version(
        target_model.name,
        new_version,
        {
            # the same feature lookups, resolved in the target's catalog when served there
            **({TRAINING_SET_TAG: json.dumps(spec, sort_keys=True)} if spec else {}),
            "prodml.copied_from": f"{source.registered_name(model)}/{version}",
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
        "from": f"{source.registered_name(model)}/{version}",
        "to": f"{target.registered_name(target_model.name)}/{new_version}",
        "previous_champion": target_champion,
        "promoted_by": principal,
        "promoted_at": stamp,
        "gate": result.table(),
    }
