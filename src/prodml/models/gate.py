"""The validation gate: absolute metric bounds and the improvement over the champion."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from prodml.config.product import Gate


@dataclass(frozen=True)
class Check:
    """One rule of the gate and its verdict."""

    metric: str
    rule: str
    candidate: float | None
    champion: float | None
    passed: bool


@dataclass
class GateResult:
    """All checks of one version."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def reasons(self) -> list[str]:
        """The failed checks, in words."""
        return [
            f"{c.metric} {_fmt(c.candidate)} does not satisfy {c.rule}"
            for c in self.checks
            if not c.passed
        ]

    def table(self) -> str:
        """A plain-text table a person can read in a terminal or a log."""
        rows = [("metric", "rule", "candidate", "champion", "verdict")]
        rows += [
            (c.metric, c.rule, _fmt(c.candidate), _fmt(c.champion), "pass" if c.passed else "FAIL")
            for c in self.checks
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
        return "\n".join(lines)


def check(
    gate: Gate, metrics: Mapping[str, float], champion: Mapping[str, float] | None
) -> GateResult:
    """Evaluate ``metrics`` of a candidate against ``gate`` (and the champion's, if any)."""
    result = GateResult()
    for metric, bound in gate.metrics.items():
        value = _number(metrics.get(metric))
        other = _number((champion or {}).get(metric))
        if bound.min is not None:
            ok = value is not None and value >= bound.min
            result.checks.append(Check(metric, f">= {bound.min:g}", value, other, ok))
        if bound.max is not None:
            ok = value is not None and value <= bound.max
            result.checks.append(Check(metric, f"<= {bound.max:g}", value, other, ok))
    imp = gate.improvement
    if imp is not None and champion:
        value = _number(metrics.get(imp.metric))
        base = _number(champion.get(imp.metric))
        if base is None:
            result.checks.append(
                Check(imp.metric, "champion has no value: not compared", value, None, True)
            )
        else:
            delta = imp.min_delta * abs(base) if imp.relative else imp.min_delta
            if imp.higher_is_better:
                rule = f">= champion {'+' if delta >= 0 else '-'} {abs(delta):g}"
                ok = value is not None and value >= base + delta
            else:
                rule = f"<= champion {'-' if delta >= 0 else '+'} {abs(delta):g}"
                ok = value is not None and value <= base - delta
            result.checks.append(Check(imp.metric, rule, value, base, ok))
    return result


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
