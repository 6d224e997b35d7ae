"""Errors of data quality: expectations that cannot be evaluated, and failed writes."""

from __future__ import annotations

from prodml.errors import ProdmlError, UsageError


class ExpectationError(UsageError):
    """An expectation cannot be evaluated on this table (unknown column, wrong type, bad SQL)."""


class QualityFailedError(ProdmlError):
    """A ``fail`` expectation failed: nothing was written."""
