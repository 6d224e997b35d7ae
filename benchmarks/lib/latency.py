"""Latency statistics: nearest-rank percentiles and a summary in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return sorted_xs[max(0, math.ceil(q * len(sorted_xs)) - 1)]


@dataclass
class Lat:
    """Latency summary in milliseconds (of samples in nanoseconds)."""

    n: int
    p50: float
    p99: float
    mean: float
    max: float
    rounds_p99: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, samples_ns: Sequence[int], rounds_p99: list[float] | None = None) -> Lat:
        xs = sorted(samples_ns)
        return cls(
            n=len(xs),
            p50=percentile(xs, 0.50) / 1e6,
            p99=percentile(xs, 0.99) / 1e6,
            mean=sum(xs) / len(xs) / 1e6,
            max=xs[-1] / 1e6,
            rounds_p99=rounds_p99 or [],
        )

    @classmethod
    def maybe(cls, samples_ns: Sequence[int] | None) -> Lat | None:
        """The summary of the samples, None when there are none."""
        return cls.of(samples_ns) if samples_ns else None


def p99_ms(samples_ns: Sequence[int]) -> float:
    """The p99 of nanosecond samples, in milliseconds."""
    return percentile(sorted(samples_ns), 0.99) / 1e6
