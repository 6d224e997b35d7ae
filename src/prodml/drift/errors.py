"""Errors of drift monitoring: data or settings the drift tests cannot work with."""

from __future__ import annotations

from prodml.errors import UsageError


class DriftInputError(UsageError, ValueError):
    """A column or setting a drift test cannot use (wrong kind, empty, NaN, unknown method)."""


class DriftTypeError(UsageError, TypeError):
    """A column whose values no drift test compares (datetimes, complex numbers)."""
