"""``prodml.utils.numbers``: floats made safe for JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from prodml.utils.numbers import finite_or_none


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"), np.inf])
def test_non_finite_becomes_none(value: float) -> None:
    assert finite_or_none(value) is None


def test_none_stays_none() -> None:
    assert finite_or_none(None) is None


@pytest.mark.parametrize(
    ("value", "expected"), [(1.5, 1.5), (0, 0.0), (-3, -3.0), (np.float64(2.25), 2.25)]
)
def test_finite_values_become_python_floats(value: float, expected: float) -> None:
    out = finite_or_none(value)
    assert out == expected
    assert type(out) is float


def test_numpy_scalars_become_plain_floats_json_accepts() -> None:
    values = [finite_or_none(v) for v in np.array([1.0, np.nan, 3.0], dtype=np.float32)]
    assert json.dumps(values, allow_nan=False) == "[1.0, null, 3.0]"


def test_non_numbers_are_rejected() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        finite_or_none("abc")  # type: ignore[arg-type]
