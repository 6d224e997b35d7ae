"""``prodml.drift.defaults``: Evidently 0.7's thresholds as data, the method and kind checks,
and the default-method choice under custom boundaries."""

from __future__ import annotations

import dataclasses

import pytest

from prodml.drift.defaults import (
    CORRECTIONS,
    DEFAULTS,
    KINDS,
    METHODS,
    NUMERIC_ONLY,
    P_INCLUSIVE,
    P_VALUE_METHODS,
    SELECTION_RULES,
    Defaults,
    check_kind,
    check_method,
    select_method,
)
from prodml.drift.errors import DriftInputError


def test_evidently_defaults() -> None:
    d = DEFAULTS
    assert (d.small_reference_rows, d.binary_max_unique, d.categorical_max_unique) == (1000, 2, 5)
    assert d.integer_categorical_max_unique == 10
    assert (d.p_value_threshold, d.wasserstein_threshold, d.jensenshannon_threshold) == (
        0.05,
        0.1,
        0.1,
    )
    assert (d.psi_bins, d.psi_epsilon, d.psi_threshold) == (10, 1e-4, 0.1)
    assert (d.dataset_share, d.min_rows, d.correlation_threshold) == (0.5, 30, 0.2)


def test_defaults_are_frozen_and_replaceable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.min_rows = 1  # type: ignore[misc]
    custom = dataclasses.replace(DEFAULTS, p_value_threshold=0.01)
    assert custom.p_value_threshold == 0.01 and DEFAULTS.p_value_threshold == 0.05


@pytest.mark.parametrize(
    ("method", "expected"),
    [("ks", 0.05), ("chi2", 0.05), ("z", 0.05), ("wasserstein", 0.1), ("jensenshannon", 0.1)],
)
def test_threshold_of_each_method(method: str, expected: float) -> None:
    assert DEFAULTS.threshold(method) == expected  # type: ignore[arg-type]


def test_threshold_follows_custom_defaults() -> None:
    custom = Defaults(
        p_value_threshold=0.01, wasserstein_threshold=0.3, jensenshannon_threshold=0.2
    )
    assert [custom.threshold(m) for m in METHODS] == [0.01, 0.3, 0.01, 0.01, 0.2]


def test_threshold_of_an_unknown_method() -> None:
    with pytest.raises(DriftInputError, match="unknown drift method 'psi'; expected one of"):
        DEFAULTS.threshold("psi")  # type: ignore[arg-type]


def test_method_sets_are_consistent() -> None:
    assert P_VALUE_METHODS | {"wasserstein", "jensenshannon"} == set(METHODS)
    assert P_INCLUSIVE <= P_VALUE_METHODS
    assert {"ks", "wasserstein"} == NUMERIC_ONLY
    assert CORRECTIONS == ("none", "bonferroni", "holm", "bh")
    assert {r.method for r in SELECTION_RULES} == set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_check_method_returns_a_known_method(method: str) -> None:
    assert check_method(method) == method


def test_check_method_names_the_known_ones() -> None:
    with pytest.raises(DriftInputError) as info:
        check_method("KS")
    assert str(info.value) == (
        "unknown drift method 'KS'; expected one of "
        "('ks', 'wasserstein', 'chi2', 'z', 'jensenshannon')"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_check_kind_accepts_the_kinds(kind: str) -> None:
    assert check_kind(kind) is None


@pytest.mark.parametrize("kind", ["Numeric", "ordinal", ""])
def test_check_kind_refuses_others(kind: str) -> None:
    with pytest.raises(DriftInputError) as info:
        check_kind(kind)
    assert str(info.value) == f"kind must be 'numeric' or 'categorical', got {kind!r}"


def test_select_method_checks_the_kind() -> None:
    with pytest.raises(DriftInputError, match="got 'text'"):
        select_method("text", 10, 3)  # type: ignore[arg-type]


def test_select_method_uses_the_given_boundaries() -> None:
    small = Defaults(small_reference_rows=100, binary_max_unique=3, categorical_max_unique=8)
    assert select_method("numeric", 100, 3, small) == "z"
    assert select_method("numeric", 100, 8, small) == "chi2"
    assert select_method("numeric", 100, 9, small) == "ks"
    assert select_method("numeric", 101, 9, small) == "wasserstein"
    assert select_method("categorical", 101, 3, small) == "jensenshannon"
    # the same numbers with the built-in boundaries
    assert select_method("numeric", 100, 3) == "chi2"
    assert select_method("numeric", 101, 9) == "ks"


def test_select_method_with_no_values_is_the_binary_band() -> None:
    assert select_method("categorical", 0, 0) == "z"
