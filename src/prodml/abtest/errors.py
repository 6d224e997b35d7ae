"""Errors of A/B testing: outcomes that cannot be recorded, data the statistics refuse."""

from __future__ import annotations

from prodml.errors import UsageError


class OutcomeError(UsageError, ValueError):
    """An outcome record is malformed."""


class StatisticsInputError(UsageError, ValueError):
    """Data or settings a statistical test cannot work with (a rate that is not 0/1, NaN, …)."""
