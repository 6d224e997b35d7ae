"""``prodml.drift.samples``: column inputs (numpy, lists, pandas, pyarrow) as 1-D arrays, nulls
and non-finite values dropped, strings counted without building arrays, kinds inferred, and the
sorted-pair helpers (counts, Wasserstein, out-of-range share) on small known samples."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from prodml.drift.defaults import Defaults
from prodml.drift.errors import DriftInputError, DriftTypeError
from prodml.drift.samples import (
    Clean,
    SortedPair,
    as_float,
    category_counts,
    clean_input,
    infer_kind,
    infer_kind_clean,
    is_temporal,
    object_nulls,
    quantile_bin_counts,
    sorted_quantiles,
    to_array,
    to_input,
)


def test_to_array_from_each_input_form() -> None:
    assert to_array(np.array([1, 2])).tolist() == [1, 2]
    assert to_array(pa.chunked_array([[1, 2], [3]])).tolist() == [1, 2, 3]
    assert to_array(pd.Series([1.5, 2.5])).dtype == np.float64
    listed = to_array([1, None, "a"])
    assert listed.dtype == object and listed.tolist() == [1, None, "a"]  # None is not "None"
    assert to_array(("x", "y")).dtype == object


@pytest.mark.parametrize("value", [5, np.float64(3.0), "abc"])
def test_to_array_refuses_scalars(value: object) -> None:
    with pytest.raises(DriftInputError, match=r"^reference must be one-dimensional, got a scalar$"):
        to_array(value, "reference")


def test_to_array_refuses_matrices_with_their_shape() -> None:
    with pytest.raises(
        DriftInputError, match=r"current\['x'\] must be one-dimensional, got shape \(2, 3\)"
    ):
        to_array(np.zeros((2, 3)), "current['x']")


def test_to_input_keeps_arrow_strings_in_arrow() -> None:
    strings = pa.array(["a", None, "b"])
    assert to_input(strings, "x") is strings
    assert isinstance(to_input(pa.array(["a"], pa.string_view()), "x"), pa.StringViewArray)
    from_pandas = to_input(pd.Series(["a", "b"], dtype="string"), "x")
    assert isinstance(from_pandas, pa.Array | pa.ChunkedArray)
    assert from_pandas.to_pylist() == ["a", "b"]


@pytest.mark.parametrize(
    "values",
    [pa.array([1, 2]), pd.Series(["a", "b"], dtype=object), ["a", "b"], np.array(["a", "b"])],
)
def test_to_input_gives_numpy_for_everything_else(values: object) -> None:
    assert isinstance(to_input(values, "x"), np.ndarray)


def test_is_temporal() -> None:
    assert is_temporal(np.array(["2024-01-01"], dtype="datetime64[D]"))
    assert is_temporal(np.array([5], dtype="timedelta64[s]"))
    assert not is_temporal(np.array([1.0]))
    assert not is_temporal([1, 2])  # no dtype


def test_object_nulls_with_pandas_loaded() -> None:
    arr = np.array([None, 1.0, float("nan"), "a", pd.NA, pd.NaT, 0], dtype=object)
    assert object_nulls(arr).tolist() == [True, False, True, False, True, True, False]


def test_object_nulls_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pandas")
    arr = np.array([None, 1.0, float("nan"), "a", 0, ""], dtype=object)
    assert object_nulls(arr).tolist() == [True, False, True, False, False, False]


def test_floats_drop_nan_and_infinities_and_count_them_as_nulls() -> None:
    clean = clean_input(np.array([1.0, np.nan, np.inf, -np.inf, 2.0]), "reference")
    assert clean.values.tolist() == [1.0, 2.0] and clean.values.dtype == np.float64
    assert (clean.n, clean.n_total, clean.null_share) == (2, 5, 0.6)
    assert clean.counts is None


def test_float32_becomes_float64() -> None:
    clean = clean_input(np.array([1.5, np.nan], dtype=np.float32), "r")
    assert clean.values.dtype == np.float64 and clean.values.tolist() == [1.5]


def test_an_empty_input_has_no_null_share() -> None:
    clean = clean_input(np.array([], dtype=float), "r")
    assert (clean.n, clean.n_total, clean.null_share) == (0, 0, None)


def test_integers_and_booleans_are_kept_as_they_are() -> None:
    ints = clean_input(np.array([3, 1, 3], dtype=np.int16), "r")
    assert ints.values.dtype == np.int16 and ints.null_share == 0.0
    assert clean_input(np.array([True, False]), "r").values.dtype == np.bool_


def test_lists_with_nulls_are_retyped_from_their_values() -> None:
    numbers = clean_input([1, None, 3], "r")
    assert numbers.values.tolist() == [1, 3] and numbers.values.dtype.kind == "i"
    floats = clean_input([1.5, None, float("inf")], "r")
    assert floats.values.tolist() == [1.5] and (floats.n, floats.n_total) == (1, 3)


def test_nested_values_are_kept_as_opaque_objects() -> None:
    clean = clean_input([[1, 2], [3, 4], None], "r")
    assert clean.values.dtype == object and clean.n == 2
    assert clean.values.tolist() == [[1, 2], [3, 4]]


def test_bytes_become_text() -> None:
    clean = clean_input(np.array([b"a", b"bc"]), "r")
    assert clean.values.dtype.kind == "U" and clean.values.tolist() == ["a", "bc"]


def test_strings_are_counted_and_values_built_only_when_asked() -> None:
    clean = clean_input(["a", None, "b", "a", float("nan")], "reference")
    assert (clean.n, clean.n_total, clean.null_share) == (3, 5, 0.4)
    assert clean.dtype_kind == "U"
    assert clean._values is None  # not built yet
    cats, counts = clean.counts  # type: ignore[misc]
    assert dict(zip(cats.tolist(), counts.tolist(), strict=True)) == {"a": 2, "b": 1}
    assert sorted(clean.values.tolist()) == ["a", "a", "b"]


def test_arrow_strings_are_counted_by_arrow() -> None:
    clean = clean_input(pa.chunked_array([["x", None], ["y", "x"]]), "current")
    assert (clean.n, clean.n_total) == (3, 4)
    cats, counts = clean.counts  # type: ignore[misc]
    assert dict(zip(cats.tolist(), counts.tolist(), strict=True)) == {"x": 2, "y": 1}
    assert sorted(clean.values.tolist()) == ["x", "x", "y"]


def test_clean_of_given_values() -> None:
    clean = Clean(np.array([1.0, 2.0]), 4)
    assert (clean.n, clean.null_share, clean.dtype_kind) == (2, 0.5, "f")


def test_datetimes_are_refused_with_the_side_named() -> None:
    with pytest.raises(
        DriftTypeError, match=r"^reference: datetime/timedelta columns are not supported"
    ):
        clean_input(np.array(["2024-01-01"], dtype="datetime64[ns]"), "reference")
    with pytest.raises(DriftTypeError, match="current: datetime/timedelta"):
        clean_input(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"])), "current")


def test_complex_values_are_refused() -> None:
    with pytest.raises(DriftTypeError, match=r"^current: complex values are not supported$"):
        clean_input(np.array([1 + 2j]), "current")


def test_python_datetimes_in_a_list_are_kept_as_objects() -> None:
    # only numpy/pandas datetime dtypes are recognised as temporal; objects stay objects
    when = datetime(2024, 1, 1, tzinfo=UTC)
    clean = clean_input([when, None], "r")
    assert clean.values.dtype == object and clean.values.tolist() == [when]


def test_as_float() -> None:
    assert as_float(np.array([True, False]), "r").tolist() == [1.0, 0.0]
    assert as_float(np.array([1, 2], dtype=np.uint8), "r").dtype == np.float64
    with pytest.raises(DriftInputError) as info:
        as_float(np.array(["a", "b"]), "reference")
    assert str(info.value) == "reference: kind='numeric' needs numeric values, got dtype <U1"


def test_infer_kind_of_edge_inputs() -> None:
    assert infer_kind([]) == "categorical"  # nothing to go on
    assert infer_kind(np.array([], dtype=float)) == "numeric"
    assert infer_kind([1, 2, 3, None]) == "categorical"  # few integers
    assert infer_kind(pd.Series(["a", "b"], dtype="str")) == "categorical"
    assert infer_kind_clean(clean_input(np.arange(11), "r"), Defaults()) == "numeric"
    strict = Defaults(integer_categorical_max_unique=2)
    assert infer_kind_clean(clean_input(np.array([1, 2, 3]), "r"), strict) == "numeric"


def test_category_counts_of_two_small_samples() -> None:
    cats, ref, cur = category_counts(
        clean_input(["b", "a", "b", None], "r"), clean_input(["c", "b"], "c")
    )
    assert cats.tolist() == ["a", "b", "c"]
    assert ref.tolist() == [1, 2, 0] and cur.tolist() == [0, 1, 1]


def test_category_counts_of_an_empty_side() -> None:
    cats, ref, cur = category_counts(
        clean_input(np.array([1, 2, 2]), "r"), clean_input(np.array([], dtype=int), "c")
    )
    assert cats.tolist() == [1, 2] and ref.tolist() == [1, 2] and cur.tolist() == [0, 0]


def test_sorted_pair_counts_and_signals() -> None:
    pair = SortedPair(np.array([3.0, 1.0, 2.0]), np.array([5.0, 0.0, 2.0, 4.0]))
    assert pair.ref.tolist() == [1.0, 2.0, 3.0] and pair.cur.tolist() == [0.0, 2.0, 4.0, 5.0]
    assert pair.n_unique == 6
    values, ref, cur = pair.counts()
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ref.tolist() == [0, 1, 1, 1, 0, 0] and cur.tolist() == [1, 0, 1, 0, 1, 1]
    assert pair.out_of_range_share() == 0.75  # 0, 4 and 5 are outside [1, 3]
    assert pair.wasserstein() == pytest.approx(stats.wasserstein_distance([3, 1, 2], [5, 0, 2, 4]))


def test_sorted_pair_of_empty_samples() -> None:
    assert SortedPair(np.array([]), np.array([])).n_unique == 0
    with pytest.raises(DriftInputError, match=r"^Distribution can't be empty\.$"):
        SortedPair(np.array([1.0]), np.array([])).wasserstein()


def test_sorted_quantiles_of_a_known_sample() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    assert sorted_quantiles(values, q).tolist() == [1.0, 2.0, 3.0, 4.6, 5.0]


def test_quantile_bins_put_values_on_a_cut_in_the_upper_bin() -> None:
    ref = np.arange(1.0, 11.0)  # 1..10
    cuts, ref_counts, cur_counts = quantile_bin_counts(ref, np.array([0.0, 5.5, 5.5, 100.0]), 2)
    assert cuts.tolist() == [5.5]
    assert ref_counts.tolist() == [5, 5]
    assert cur_counts.tolist() == [1, 3]
