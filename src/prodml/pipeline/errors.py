"""Errors of pipeline definitions and runs."""

from __future__ import annotations

from prodml.errors import ProdmlError, UsageError


class PipelineDefinitionError(UsageError):
    """A step or the DAG is declared wrongly (caught before anything runs)."""

    exit_code = 2


class StepFailedError(ProdmlError):
    """A step raised or returned something prodml cannot write.

    Attributes:
        step: the step's qualified name (``product.step``).
        run_id: the run it failed in.
    """

    traced = True  # the step's own exception is its cause

    def __init__(self, step: str, run_id: str, message: str, *, hint: str | None = None) -> None:
        self.step = step
        self.run_id = run_id
        super().__init__(f"step {step} failed in run {run_id}: {message}", hint=hint)


class SkipStep(ProdmlError):
    """Raised by a step (or by what it calls) to decline to run now.

    The step is recorded as skipped with the message as its reason; its state is not
    recorded, so the next run tries it again (e.g. an apply step before any champion exists).
    """
