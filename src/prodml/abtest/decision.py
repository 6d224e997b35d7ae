"""Finding experiments across products, and turning a report into a decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prodml.config.product import Experiment, ProductConfig
from prodml.errors import NotFoundError, UsageError

#: a user's --decision → the decision recorded
CHOICES = {"promote": "promote_treatment", "keep": "keep_control"}


def experiments(
    configs: Mapping[str, ProductConfig], decisions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every product's experiments, with their latest decision (``decisions``: newest first)."""
    decided = {(d["product"], d["experiment"]): d for d in reversed(decisions)}
    return [
        {
            "product": pname,
            "experiment": ename,
            "control": exp.control,
            "treatment": exp.treatment,
            "primary_metric": exp.primary,
            "decision": decided.get((pname, ename), {}).get("decision"),
        }
        for pname, config in configs.items()
        for ename, exp in config.ab.experiments.items()
    ]


def find(
    configs: Mapping[str, ProductConfig], name: str, product: str | None
) -> tuple[str, Experiment]:
    """The product and definition of experiment ``name`` (``product`` when names clash)."""
    if product is not None:
        found = configs[product].ab.experiments
        if name not in found:
            raise NotFoundError("experiment", name, list(found))
        return product, found[name]
    owners = [p for p, config in configs.items() if name in config.ab.experiments]
    if not owners:
        known = [e for config in configs.values() for e in config.ab.experiments]
        raise NotFoundError("experiment", name, known)
    if len(owners) > 1:
        raise UsageError(
            f"experiment {name} exists in several products: {', '.join(owners)}",
            hint="name the product that owns it",
        )
    return owners[0], configs[owners[0]].ab.experiments[name]


def check(decision: str | None) -> None:
    """A user's decision is ``promote``, ``keep`` or none (checked before any work)."""
    if decision is not None and decision not in CHOICES:
        raise UsageError(f"unknown decision {decision!r}", hint="promote or keep")


def choose(report: Mapping[str, Any], decision: str | None, principal: str) -> tuple[str, str]:
    """(decision, reason): the user's ``promote``/``keep``, else the report's recommendation
    when it supports one."""
    check(decision)
    recommended = report["recommendation"]["decision"]
    reason = report["recommendation"]["reason"]
    chosen = CHOICES[decision] if decision is not None else recommended
    if chosen in ("continue", "investigate"):
        raise UsageError(
            f"the report does not support a decision yet ({recommended}): {reason}",
            hint="wait for more data, or decide explicitly with --decision promote|keep",
        )
    if decision is not None and chosen != recommended:
        reason = f"decided by {principal} against the recommendation ({recommended}: {reason})"
    return chosen, reason
