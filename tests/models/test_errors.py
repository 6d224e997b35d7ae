"""Errors of model operations: their kinds (exit code, HTTP status, retry), and a failed gate's
message built from the gate's own table and reasons."""

from __future__ import annotations

from prodml.config.product import Gate
from prodml.errors import UnavailableError, UsageError, http_status
from prodml.models.errors import GateFailedError, ModelError, TrackingUnavailableError
from prodml.models.gate import check


def test_kinds_of_model_errors() -> None:
    missing = ModelError("model dev.ml.m has no versions yet", hint="run the train step")
    assert isinstance(missing, UsageError)
    assert (missing.exit_code, http_status(missing), missing.retryable) == (2, 400, False)
    assert str(missing) == "model dev.ml.m has no versions yet (run the train step)"
    down = TrackingUnavailableError("cannot reach the tracking server")
    assert isinstance(down, UnavailableError)
    assert (down.retryable, http_status(down), down.exit_code) == (True, 503, 1)


def test_a_failed_gate_says_which_rules_failed_and_shows_the_table() -> None:
    gate = Gate.model_validate({"metrics": {"auc": {"min": 0.8}, "loss": {"max": 0.3}}})
    result = check(gate, {"auc": 0.75, "loss": 0.5}, None)
    error = GateFailedError("dev.ml.m", 3, result.table(), result.reasons())
    assert error.reasons == [
        "auc 0.7500 does not satisfy >= 0.8",
        "loss 0.5000 does not satisfy <= 0.3",
    ]
    first, table = error.message.split("\n", 1)
    assert first == (
        "model dev.ml.m version 3 failed the gate: auc 0.7500 does not satisfy >= 0.8; "
        "loss 0.5000 does not satisfy <= 0.3"
    )
    assert table == error.table == result.table()
    assert error.hint == "the version stays registered, without the challenger alias"
    assert http_status(error) == 500 and error.exit_code == 1


def test_a_failed_gate_may_say_what_else_happened() -> None:
    error = GateFailedError("dev.ml.m", 1, "t", ["r"], hint="nothing was copied to prod")
    assert str(error).endswith("(nothing was copied to prod)")
