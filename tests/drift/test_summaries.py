"""``prodml.drift.summaries``: histograms of both samples on shared bins (numeric and
categorical, with an "other" bucket) and the change of the correlation matrix, as plain JSON;
bad input is refused with the side and the problem named."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from prodml.drift.defaults import Defaults
from prodml.drift.errors import DriftInputError
from prodml.drift.summaries import correlation_change, histogram


def test_numeric_histogram_on_shared_bins() -> None:
    h = histogram(np.array([0.0, 1.0, 1.0, np.nan]), [2.0, 3.0, 4.0], bins=4)
    assert h == {
        "kind": "numeric",
        "n_reference": 3,
        "n_current": 3,
        "edges": [0.0, 1.0, 2.0, 3.0, 4.0],
        "reference": [1, 2, 0, 0],
        "current": [0, 0, 1, 2],  # the last bin is closed: 3.0 and 4.0
    }


def test_histogram_of_a_constant_sample_still_has_bins() -> None:
    h = histogram([5.0, 5.0], [5.0], bins=2)
    assert h["edges"] == [4.5, 5.0, 5.5]
    assert (h["reference"], h["current"]) == ([0, 2], [0, 1])


def test_histogram_kind_comes_from_the_reference_or_from_current_when_it_is_empty() -> None:
    assert histogram(np.arange(50) % 3, np.arange(50) % 3)["kind"] == "categorical"
    only_current = histogram(np.array([], dtype=float), [1.0, 2.0], bins=2)
    assert only_current["kind"] == "numeric"
    assert only_current["reference"] == [0, 0] and only_current["current"] == [1, 1]


def test_numeric_histogram_of_two_empty_samples() -> None:
    empty = np.array([], dtype=float)
    assert histogram(empty, empty, bins=3) == {
        "kind": "numeric",
        "n_reference": 0,
        "n_current": 0,
        "edges": [],
        "reference": [],
        "current": [],
    }


def test_categorical_histogram_keeps_the_top_categories_and_counts_the_rest() -> None:
    h = histogram(["a", "b", "c", "c", None], pa.array(["b", "d", "d"]), "categorical", bins=2)
    # c: 2/4 + 0; d: 0 + 2/3 (new in current); b: 1/4 + 1/3; a: 1/4
    assert h["categories"] == ["d", "b"]
    assert h["reference"] == [0, 1] and h["current"] == [2, 1]
    assert (h["other_reference"], h["other_current"]) == (3, 0)
    assert (h["n_reference"], h["n_current"]) == (4, 3)


def test_categorical_histogram_of_numbers_forced_categorical() -> None:
    h = histogram([1.0, 2.0, 2.0], [2.0], "categorical", bins=5)
    assert h["categories"] == [2.0, 1.0]
    assert (h["reference"], h["current"]) == ([2, 1], [1, 0])
    json.dumps(h, allow_nan=False)


def test_histogram_refuses_no_bins() -> None:
    with pytest.raises(DriftInputError, match=r"^bins must be >= 1, got 0$"):
        histogram([1.0], [1.0], bins=0)


def test_histogram_refuses_an_unknown_kind() -> None:
    with pytest.raises(
        DriftInputError, match="kind must be 'numeric' or 'categorical', got 'ordinal'"
    ):
        histogram([1.0], [1.0], "ordinal")  # type: ignore[arg-type]


def test_numeric_histogram_of_strings_names_the_side() -> None:
    with pytest.raises(DriftInputError, match=r"^reference: kind='numeric' needs numeric values"):
        histogram(["a", "b"], [1.0], "numeric")


def test_numeric_histogram_with_an_all_null_object_reference() -> None:
    h = histogram([None, None], [1.0, 2.0], bins=2)
    assert h["kind"] == "numeric" and h["reference"] == [0, 0] and h["current"] == [1, 1]


def test_correlation_change_with_explicit_columns_and_threshold() -> None:
    ref = {"a": [1.0, 2.0, 3.0, None], "b": [2.0, 4.0, 7.0, 1.0]}
    cur = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([3.0, 2.0, 1.0])}
    out = correlation_change(ref, cur, ["a", "b"], threshold=0.5)
    ref_r = float(np.corrcoef([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])[0, 1])
    assert out["columns"] == ["a", "b"]
    assert (out["n_reference"], out["n_current"]) == (3, 3)  # the row with a null is dropped
    assert out["reference"][0] == pytest.approx([1.0, ref_r])
    assert out["current"][0][1] == pytest.approx(-1.0)
    assert out["max_abs_diff"] == pytest.approx(1.0 + ref_r)
    (pair,) = out["pairs"]
    assert pair["columns"] == ["a", "b"] and pair["diff"] == pytest.approx(-1.0 - ref_r)
    assert out["threshold"] == 0.5 and out["changed"] is True


def test_small_changes_are_not_listed() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=300)
    ref = {"a": a, "b": a + rng.normal(size=300)}
    cur = {"a": a, "b": a + rng.normal(size=300)}
    out = correlation_change(ref, cur)
    assert out["pairs"] == [] and out["changed"] is False
    assert 0 < out["max_abs_diff"] < 0.2
    assert correlation_change(ref, cur, threshold=out["max_abs_diff"])["changed"] is True


def test_correlation_threshold_comes_from_the_defaults() -> None:
    out = correlation_change(
        {"a": [1.0, 2.0]}, {"a": [1.0, 2.0]}, defaults=Defaults(correlation_threshold=0.7)
    )
    assert out["threshold"] == 0.7


def test_default_columns_are_the_shared_numeric_ones() -> None:
    n = np.arange(20.0)
    ref = {
        "x": n,
        "y": n**2,
        "few": np.arange(20) % 3,  # a few integers: categorical
        "when": np.array(["2024-01-01"] * 20, dtype="datetime64[D]"),
        "only_ref": n,
    }
    cur = {"y": n, "x": n, "few": ref["few"], "when": ref["when"]}
    assert correlation_change(ref, cur)["columns"] == ["x", "y"]


def test_undefined_correlations_are_none_never_nan() -> None:
    one_row = correlation_change({"a": [1.0], "b": [2.0]}, {"a": [2.0], "b": [1.0]})
    assert one_row["reference"] == [[None, None], [None, None]]
    assert one_row["max_abs_diff"] is None and one_row["pairs"] == []
    json.dumps(one_row, allow_nan=False)


def test_no_columns() -> None:
    out = correlation_change({}, {})
    assert out["columns"] == [] and out["reference"] == [] and out["max_abs_diff"] is None
    assert (out["n_reference"], out["n_current"], out["changed"]) == (0, 0, False)


def test_object_columns_with_nulls_are_read_as_numbers() -> None:
    ref = {"a": np.array([1, 2, None, 4], dtype=object), "b": np.array([1.0, 2.0, 3.0, 4.0])}
    out = correlation_change(ref, ref, ["a", "b"])
    assert out["n_reference"] == 3 and out["reference"][0][1] == pytest.approx(1.0)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(
        DriftInputError, match=r"^current: the columns have different lengths \[1, 2\]$"
    ):
        correlation_change({"a": [1.0], "b": [2.0]}, {"a": [1.0], "b": [2.0, 3.0]}, ["a", "b"])


def test_text_columns_named_explicitly_are_refused() -> None:
    with pytest.raises(DriftInputError, match=r"reference\['s'\]: kind='numeric' needs numeric"):
        correlation_change({"s": np.array(["x", "y"])}, {"s": np.array(["x", "y"])}, ["s"])
