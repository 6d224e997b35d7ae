"""Params set for one run (``--params k=v``): parsed, checked against product.yaml, qualified."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from prodml.errors import UsageError, did_you_mean
from prodml.pipeline.planner import RunOptions
from prodml.products import Product


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["c=0.5", "churn.days=7"]`` → ``{"c": 0.5, "churn.days": 7}`` (values read as YAML
    scalars: numbers, booleans, null, or text)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(
                f"--params {item!r} is not name=value", hint="e.g. --params learning_rate=0.1"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        if isinstance(value, dict | list):
            value = text  # a param set on the command line is a scalar
        out[key] = value
    return out


def qualify(options: RunOptions, product: str, products: Mapping[str, Product]) -> RunOptions:
    """Options whose params are keyed ``product.param`` (a bare ``param`` is ``product``'s),
    each one set in that product's product.yaml; an unknown one is an error."""
    qualified: dict[str, Any] = {}
    for key, value in options.params:
        owner, _dot, name = key.rpartition(".")
        owner = owner or product
        if owner not in products:
            raise UsageError(
                f"param {key!r}: there is no product {owner!r}",
                hint=did_you_mean(owner, products) or "name it param or product.param",
            )
        known = products[owner].config.params
        if name not in known:
            hint = did_you_mean(name, known)
            raise UsageError(
                f"param {key!r}: product {owner} has no param {name!r}",
                hint=hint or f"its params: {', '.join(sorted(known)) or 'none'}",
            )
        qualified[f"{owner}.{name}"] = value
    return dataclasses.replace(options, params=tuple(sorted(qualified.items())))
