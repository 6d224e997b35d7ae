"""``prodml.drift.errors``: drift errors are usage errors (400) that are also ``ValueError`` /
``TypeError``, and the drift code raises them with messages that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from prodml.drift.defaults import check_kind
from prodml.drift.errors import DriftInputError, DriftTypeError
from prodml.drift.samples import clean_input
from prodml.errors import UsageError, http_status


def test_input_error_is_a_usage_and_value_error() -> None:
    err = DriftInputError("bins must be >= 1, got 0")
    assert isinstance(err, UsageError) and isinstance(err, ValueError)
    assert not isinstance(err, TypeError)
    assert (http_status(err), err.exit_code, err.retryable) == (400, 2, False)


def test_type_error_is_a_usage_and_type_error() -> None:
    err = DriftTypeError("complex values are not supported", hint="cast to float")
    assert isinstance(err, UsageError) and isinstance(err, TypeError)
    assert not isinstance(err, ValueError)
    assert http_status(err) == 400
    assert str(err) == "complex values are not supported (cast to float)"


def test_drift_code_raises_input_errors() -> None:
    with pytest.raises(
        DriftInputError, match="kind must be 'numeric' or 'categorical', got 'ordinal'"
    ):
        check_kind("ordinal")


def test_drift_code_raises_type_errors_for_datetimes() -> None:
    dates = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")
    with pytest.raises(TypeError, match="current: datetime/timedelta columns are not supported"):
        clean_input(dates, "current")
