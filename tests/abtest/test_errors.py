"""``prodml.abtest.errors``: outcome and statistics errors are usage errors (400) that are also
``ValueError``s, and the A/B code raises them with messages that say what is wrong."""

from __future__ import annotations

import pytest

from prodml.abtest import outcomes, stats
from prodml.abtest.errors import OutcomeError, StatisticsInputError
from prodml.errors import UsageError, http_status


@pytest.mark.parametrize("cls", [OutcomeError, StatisticsInputError])
def test_usage_errors_that_are_value_errors(cls: type[UsageError]) -> None:
    err = cls("bad value", hint="fix it")
    assert isinstance(err, UsageError) and isinstance(err, ValueError)
    assert (http_status(err), err.exit_code, err.retryable) == (400, 2, False)
    assert str(err) == "bad value (fix it)"


def test_a_malformed_outcome_raises_outcome_error() -> None:
    with pytest.raises(OutcomeError, match=r"outcomes\[0\]\.value must be a finite number"):
        outcomes.parse({"outcomes": [{"unit_id": "u", "metric": "m", "value": "x"}]}, {"m"}, 10)


def test_bad_statistics_input_raises_statistics_input_error() -> None:
    with pytest.raises(StatisticsInputError, match="a rate metric takes only the values 0 and 1"):
        stats.summarize([0, 1, 2], "rate", 0.05)
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\), got 1.5"):
        stats.summarize([0, 1], "rate", 1.5)  # caught as a ValueError too
