"""Errors of model operations."""

from __future__ import annotations

from prodml.errors import ProdmlError, UnavailableError, UsageError


class ModelError(UsageError):
    """A model, version or alias is missing, or a promotion is not allowed."""

    exit_code = 2


class TrackingUnavailableError(UnavailableError):
    """The tracking server or registry cannot be reached."""


class GateFailedError(ProdmlError):
    """A model version did not pass the validation gate.

    Attributes:
        table: the metric table (rule, candidate, champion, verdict) as text.
    """

    def __init__(
        self,
        model: str,
        version: int,
        table: str,
        reasons: list[str],
        *,
        hint: str = "the version stays registered, without the challenger alias",
    ) -> None:
        self.table = table
        self.reasons = reasons
        super().__init__(
            f"model {model} version {version} failed the gate: {'; '.join(reasons)}\n{table}",
            hint=hint,
        )
