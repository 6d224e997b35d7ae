"""Sticky, deterministic variant assignment: a salted hash of the unit id picks the variant."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping

from prodml.abtest.errors import StatisticsInputError

_SCALE = float(2**64)


def bucket(unit: str, salt: str) -> float:
    """A uniform number in [0, 1) fixed by ``salt`` and ``unit`` (same on every process)."""
    digest = hashlib.blake2b(f"{salt}\x1f{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


class Assigner:
    """Maps unit ids to variants in proportion to their weights.

    The same unit always gets the same variant for a given salt and weights; changing one
    variant's weight moves only the units on the boundary it shifts.
    """

    def __init__(self, weights: Mapping[str, float], salt: str) -> None:
        live = [(name, float(w)) for name, w in weights.items() if w > 0]
        if not live:
            raise StatisticsInputError("no variant has a weight above 0")
        total = sum(w for _, w in live)
        self.salt = salt
        self.names = [name for name, _ in live]
        self.shares = {name: w / total for name, w in live}
        edges, acc = [], 0.0
        for _, w in live[:-1]:
            acc += w / total
            edges.append(acc)
        self._edges = edges

    def assign(self, unit: str) -> str:
        """The variant of ``unit``."""
        if len(self.names) == 1:
            return self.names[0]
        return self.names[bisect.bisect_right(self._edges, bucket(unit, self.salt))]
