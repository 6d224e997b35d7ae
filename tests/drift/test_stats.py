"""Drift statistics, checked against SciPy/statsmodels and Evidently's default test choice."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial import distance
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from prodml.drift.samples import (
    SortedPair,
    category_counts,
    clean_input,
    quantile_bin_counts,
    sorted_quantiles,
)
from prodml.drift.stats import (
    DEFAULTS,
    SELECTION_RULES,
    ColumnDrift,
    Defaults,
    adjust_p_values,
    column_drift,
    dataset_drift,
    infer_kind,
    psi,
    select_method,
)
from prodml.drift.summaries import correlation_change, histogram
from prodml.serialize import to_jsonable

TOL = 1e-12


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _cats(seed: int, n: int, probs: list[float], labels: str = "abcdef") -> np.ndarray:
    return _rng(seed).choice(np.array(list(labels[: len(probs)])), size=n, p=probs)


def _json_ok(result: ColumnDrift) -> None:
    """Plain JSON, no NaN anywhere."""
    json.dumps(to_jsonable(result), allow_nan=False)


# --------------------------------------------------------------------------------------------
# statistics equal SciPy / statsmodels
# --------------------------------------------------------------------------------------------


def test_ks_equals_scipy() -> None:
    ref, cur = _rng(1).normal(0, 1, 800), _rng(2).normal(0.15, 1, 1200)
    r = column_drift("x", ref, cur)
    expected = stats.ks_2samp(ref, cur)
    assert r.method == "ks" and r.kind == "numeric"
    assert r.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert r.p_value == pytest.approx(expected.pvalue, abs=TOL)
    assert r.p_value_adjusted == r.p_value == r.drift_score
    assert r.drift is bool(expected.pvalue <= 0.05)
    _json_ok(r)


def test_wasserstein_equals_scipy_normalised_by_population_std() -> None:
    ref, cur = _rng(3).normal(5, 2, 3000), _rng(4).normal(5.1, 2, 2500)
    r = column_drift("x", ref, cur)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)  # ddof=0, as Evidently
    assert r.method == "wasserstein" and r.p_value is None and r.threshold == 0.1
    assert r.statistic == pytest.approx(expected, abs=TOL)
    assert r.drift_score == r.statistic
    assert r.drift is bool(expected >= 0.1)


def test_chi2_equals_scipy_with_expected_from_reference_proportions() -> None:
    ref = _cats(5, 600, [0.4, 0.3, 0.2, 0.1])
    cur = _cats(6, 700, [0.35, 0.3, 0.25, 0.1])
    r = column_drift("c", ref, cur)
    keys = np.unique(np.concatenate([ref, cur]))
    obs = np.array([(cur == k).sum() for k in keys])
    exp = np.array([(ref == k).sum() for k in keys]) * (cur.size / ref.size)
    expected = stats.chisquare(obs, exp)
    assert r.method == "chi2" and r.kind == "categorical"
    assert r.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert r.p_value == pytest.approx(expected.pvalue, abs=TOL)
    assert r.drift is bool(expected.pvalue < 0.05)


def test_chi2_new_category_is_infinite_statistic_and_drift() -> None:
    ref = _cats(7, 300, [0.5, 0.3, 0.2])
    cur = np.concatenate([_cats(8, 290, [0.5, 0.3, 0.2]), np.array(["zz"] * 10)])
    r = column_drift("c", ref, cur)
    assert r.method == "chi2"
    assert r.statistic == math.inf and r.p_value == 0.0 and r.drift is True
    assert r.new_categories == ("zz",) and r.n_new_categories == 1
    assert r.new_category_share == pytest.approx(10 / 300)
    assert to_jsonable(r)["statistic"] is None  # inf is not JSON
    _json_ok(r)


def test_z_equals_statsmodels_proportions_ztest() -> None:
    ref = _rng(9).random(900) < 0.30
    cur = _rng(10).random(700) < 0.36
    r = column_drift("flag", ref, cur)
    # sorted categories [False, True]: the share of True is compared, reference minus current
    z, p = proportions_ztest([ref.sum(), cur.sum()], [ref.size, cur.size])
    assert r.method == "z" and r.kind == "categorical"
    assert r.statistic == pytest.approx(z, abs=TOL)
    assert r.p_value == pytest.approx(p, abs=TOL)
    assert r.drift is bool(p < 0.05)


def test_z_on_string_categories_and_single_value() -> None:
    ref = np.where(_rng(11).random(500) < 0.5, "no", "yes")
    cur = np.where(_rng(12).random(400) < 0.6, "no", "yes")
    r = column_drift("s", ref, cur)
    z, p = proportions_ztest([(ref == "yes").sum(), (cur == "yes").sum()], [500, 400])
    assert r.statistic == pytest.approx(z, abs=TOL) and r.p_value == pytest.approx(p, abs=TOL)
    # one distinct value on both sides: Evidently's special case p = 1
    same = column_drift("s", ["a"] * 50, ["a"] * 60)
    assert (same.method, same.statistic, same.p_value, same.drift) == ("z", 0.0, 1.0, False)


def test_jensenshannon_equals_scipy_without_smoothing() -> None:
    ref = _cats(13, 5000, [0.5, 0.3, 0.2])
    cur = _cats(14, 4000, [0.3, 0.3, 0.3, 0.1])  # "d" is new, so p has a zero
    r = column_drift("c", ref, cur)
    keys = np.unique(np.concatenate([ref, cur]))
    p = np.array([(ref == k).mean() for k in keys])
    q = np.array([(cur == k).mean() for k in keys])
    assert r.method == "jensenshannon" and r.p_value is None
    assert r.statistic == pytest.approx(distance.jensenshannon(p, q), abs=TOL)
    assert r.drift is True


def test_jensenshannon_identical_distributions_is_zero_not_nan() -> None:
    ref = np.array(list("abc") * 700)
    r = column_drift("c", ref, ref.copy())
    assert r.method == "jensenshannon" and r.statistic == 0.0 and r.drift is False


def test_ks_threshold_is_inclusive_the_others_strict() -> None:
    ref, cur = _rng(15).normal(size=300), _rng(16).normal(0.2, 1, 300)
    p = stats.ks_2samp(ref, cur).pvalue
    assert column_drift("x", ref, cur, threshold=p).drift is True  # Evidently: p <= threshold
    rc, cc = _cats(17, 300, [0.5, 0.3, 0.2]), _cats(18, 300, [0.4, 0.3, 0.3])
    p2 = column_drift("c", rc, cc).p_value
    assert p2 is not None
    assert column_drift("c", rc, cc, threshold=p2).drift is False  # chi2: p < threshold


# --------------------------------------------------------------------------------------------
# method selection (Evidently's _get_default_stattest)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "n_ref", "n_unique", "expected"),
    [
        ("numeric", 1000, 6, "ks"),
        ("numeric", 1001, 6, "wasserstein"),
        ("numeric", 1000, 5, "chi2"),
        ("numeric", 1000, 3, "chi2"),
        ("numeric", 1000, 2, "z"),
        ("numeric", 1000, 1, "z"),
        ("numeric", 1001, 5, "jensenshannon"),
        ("numeric", 1001, 2, "jensenshannon"),
        ("categorical", 1000, 2, "z"),
        ("categorical", 1000, 3, "chi2"),
        ("categorical", 1000, 50, "chi2"),
        ("categorical", 1001, 2, "jensenshannon"),
        ("categorical", 1001, 50, "jensenshannon"),
    ],
)
def test_select_method_boundaries(kind: str, n_ref: int, n_unique: int, expected: str) -> None:
    assert select_method(kind, n_ref, n_unique) == expected  # type: ignore[arg-type]


def test_selection_table_is_complete() -> None:
    keys = {(r.kind, r.small_reference, r.unique) for r in SELECTION_RULES}
    assert len(keys) == len(SELECTION_RULES) == 12


@pytest.mark.parametrize(("n_ref", "expected"), [(1000, "ks"), (1001, "wasserstein")])
def test_numeric_row_boundary_through_column_drift(n_ref: int, expected: str) -> None:
    ref = _rng(19).normal(size=n_ref)
    r = column_drift("x", np.concatenate([ref, [np.nan] * 5]), _rng(20).normal(size=500))
    assert r.n_reference == n_ref  # nulls do not count towards the 1000-row boundary
    assert r.method == expected


@pytest.mark.parametrize(
    ("n_ref", "labels", "expected"),
    [
        (1000, "ab", "z"),
        (1000, "abc", "chi2"),
        (1001, "ab", "jensenshannon"),
        (1001, "abc", "jensenshannon"),
    ],
)
def test_categorical_row_boundary(n_ref: int, labels: str, expected: str) -> None:
    probs = [1 / len(labels)] * len(labels)
    r = column_drift("c", _cats(21, n_ref, probs, labels), _cats(22, 400, probs, labels))
    assert r.method == expected


@pytest.mark.parametrize(("n_ref", "expected"), [(1000, "chi2"), (1001, "jensenshannon")])
def test_numeric_with_five_values_gets_categorical_tests(n_ref: int, expected: str) -> None:
    values = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    ref, cur = _rng(23).choice(values, n_ref), _rng(24).choice(values, 600)
    r = column_drift("x", ref, cur)
    assert r.kind == "numeric" and r.n_unique == 5 and r.method == expected
    assert r.out_of_range_share == 0.0  # still a numeric column for the extra signals


def test_unique_values_are_counted_over_both_samples() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    ref = _rng(25).choice(values, 500)
    assert column_drift("x", ref, _rng(26).choice(values, 500)).method == "chi2"
    cur = np.concatenate([_rng(26).choice(values, 499), [6.0]])  # a sixth value in current
    assert column_drift("x", ref, cur).method == "ks"


def test_kind_inference() -> None:
    assert infer_kind(_rng(27).normal(size=50)) == "numeric"
    assert infer_kind(np.array([0.0, 1.0, 1.0])) == "numeric"  # floats are numeric (Evidently)
    assert infer_kind(np.arange(50) % 10) == "categorical"  # integer, <= 10 distinct
    assert infer_kind(np.arange(50) % 11) == "numeric"
    assert infer_kind(np.array([True, False])) == "categorical"
    assert infer_kind(["a", "b", None]) == "categorical"
    assert infer_kind([1.5, None, 2.5]) == "numeric"
    assert infer_kind(pa.array([1.5, None, 2.5])) == "numeric"
    assert infer_kind(pa.chunked_array([["x", None], ["y"]])) == "categorical"
    assert infer_kind(np.arange(50) % 11, Defaults(integer_categorical_max_unique=20)) == (
        "categorical"
    )


def test_pyarrow_and_pandas_inputs_match_numpy() -> None:
    pd = pytest.importorskip("pandas")
    ref, cur = _rng(28).normal(size=400), _rng(29).normal(0.3, 1, 400)
    base = column_drift("x", ref, cur)
    assert column_drift("x", pa.array(ref), pa.chunked_array([cur[:100], cur[100:]])) == base
    assert column_drift("x", pd.Series(ref), pd.Series(cur)) == base
    nullable = pd.Series([1, None, 3] * 20, dtype="Int64")
    r = column_drift("i", nullable, nullable)
    assert r.n_reference == 40 and r.null_share_reference == pytest.approx(1 / 3)


# --------------------------------------------------------------------------------------------
# verdicts and extra signals
# --------------------------------------------------------------------------------------------


def test_shifted_numeric_is_flagged_unshifted_is_not() -> None:
    ref = _rng(30).normal(10, 2, 5000)
    shifted = column_drift("x", ref, _rng(31).normal(11, 2, 5000))  # +0.5 std
    same = column_drift("x", ref, _rng(32).normal(10, 2, 5000))
    assert shifted.method == same.method == "wasserstein"
    assert shifted.drift is True and shifted.psi_drift is True
    assert same.drift is False and same.psi_drift is False


def test_shifted_small_sample_is_flagged_by_ks() -> None:
    ref = _rng(33).normal(0, 1, 500)
    assert column_drift("x", ref, _rng(34).normal(0.5, 1, 500)).drift is True
    assert column_drift("x", ref, _rng(35).normal(0, 1, 500)).drift is False


def test_categorical_new_and_missing_categories() -> None:
    ref = _cats(36, 3000, [0.4, 0.3, 0.2, 0.1])  # a b c d
    cur = np.concatenate([_cats(37, 2400, [0.5, 0.3, 0.2]), np.array(["e"] * 500 + ["f"] * 100)])
    r = column_drift("c", ref, cur)
    assert r.method == "jensenshannon" and r.drift is True
    assert r.new_categories == ("e", "f") and r.n_new_categories == 2  # most frequent first
    assert r.new_category_share == pytest.approx(600 / 3000)
    assert r.missing_categories == ("d",) and r.n_missing_categories == 1
    assert r.out_of_range_share is None
    same = column_drift("c", ref, _cats(38, 3000, [0.4, 0.3, 0.2, 0.1]))
    assert same.drift is False and same.new_categories == () and same.missing_categories == ()


def test_psi_known_values() -> None:
    # categorical, by hand: (0.4-0.5)ln(0.8) + (0.4-0.3)ln(4/3) + 0
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 40 + ["c"] * 20
    expected = -0.1 * math.log(0.8) + 0.1 * math.log(4 / 3)
    assert psi(ref, cur, "categorical") == pytest.approx(expected, abs=TOL)
    assert expected == pytest.approx(0.0510826, abs=1e-7)
    # numeric: quartile cuts of 0..99 are 24.75, 49.5, 74.25 → 25 per bin; the current sample
    # fills the two outer bins only, the empty ones get epsilon = 1e-4
    cur_num = np.concatenate([np.arange(0, 25), np.arange(75, 100)]).astype(float)
    e = 1e-4
    expected_num = 2 * (0.5 - 0.25) * math.log(0.5 / 0.25) + 2 * (e - 0.25) * math.log(e / 0.25)
    assert psi(np.arange(100.0), cur_num, "numeric", bins=4) == pytest.approx(expected_num, abs=TOL)
    # the column result carries the same PSI (10 decile bins by default)
    ref_n, cur_n = _rng(39).normal(size=2000), _rng(40).normal(0.2, 1, 2000)
    assert column_drift("x", ref_n, cur_n).psi == pytest.approx(psi(ref_n, cur_n), abs=TOL)
    assert psi(ref, ref, "categorical") == 0.0


def test_psi_rejects_empty_sides() -> None:
    with pytest.raises(ValueError, match="non-null"):
        psi([1.0, 2.0], [np.nan])


def test_out_of_range_share() -> None:
    ref = np.linspace(0.0, 10.0, 200)
    cur = np.concatenate([np.linspace(0.0, 10.0, 150), [-1.0] * 20, [10.5] * 30])
    r = column_drift("x", ref, cur)
    assert r.out_of_range_share == pytest.approx(50 / 200)
    assert r.new_categories is None


# --------------------------------------------------------------------------------------------
# nulls, small samples, degenerate columns
# --------------------------------------------------------------------------------------------


def test_nulls_are_dropped_and_reported() -> None:
    ref, cur = _rng(41).normal(size=600), _rng(42).normal(0.1, 1, 400)
    ref_nulls = np.concatenate([ref, [np.nan] * 150, [np.inf, -np.inf]])
    cur_nulls = np.concatenate([[np.nan] * 100, cur])
    r = column_drift("x", ref_nulls, cur_nulls)
    clean = column_drift("x", ref, cur)
    assert (r.statistic, r.p_value, r.psi, r.drift) == (
        clean.statistic,
        clean.p_value,
        clean.psi,
        clean.drift,
    )
    assert (r.n_reference, r.n_current) == (600, 400)
    assert r.null_share_reference == pytest.approx(152 / 752)
    assert r.null_share_current == pytest.approx(100 / 500)
    cat = column_drift("c", ["a", None, "b", float("nan")] * 20, ["a", "b", "b", None] * 20)
    assert cat.n_reference == 40 and cat.n_current == 60
    assert cat.null_share_reference == 0.5 and cat.null_share_current == 0.25
    assert cat.new_categories == ()  # NaN/None are not categories


def test_not_enough_data_has_a_reason_and_no_verdict() -> None:
    r = column_drift("x", _rng(43).normal(size=100), _rng(44).normal(size=29))
    assert r.status == "not_enough_data" and r.drift is None and r.method is None
    assert r.statistic is None and r.p_value is None and r.psi is None and r.psi_drift is None
    assert r.reason == "current has 29 non-null values (min_rows=30)"
    assert r.out_of_range_share is not None  # descriptive signals still there
    _json_ok(r)
    ok = column_drift("x", _rng(43).normal(size=100), _rng(44).normal(size=30))
    assert ok.status == "ok" and ok.reason is None
    loose = column_drift("x", [1.0, 2.0], [3.0], defaults=Defaults(min_rows=1))
    assert loose.status == "ok" and loose.drift is not None


def test_empty_and_all_null_current() -> None:
    empty = column_drift("x", _rng(45).normal(size=100), np.array([], dtype=float))
    assert empty.status == "not_enough_data" and empty.drift is None
    assert empty.reason == "current has 0 non-null values (min_rows=30)"
    assert empty.null_share_current is None and empty.out_of_range_share is None
    _json_ok(empty)
    nulls = column_drift("c", ["a"] * 10, [None] * 40, "categorical")
    assert nulls.reason == (
        "reference has 10 non-null values and current has 0 non-null values (min_rows=30)"
    )
    assert nulls.null_share_current == 1.0 and nulls.n_current == 0
    _json_ok(nulls)


def test_constant_reference_never_gives_nan() -> None:
    const = np.full(2000, 3.0)
    # default choice: one or two distinct values → JS on the category frequencies
    same = column_drift("x", const, np.full(1500, 3.0))
    assert same.method == "jensenshannon" and same.statistic == 0.0 and same.drift is False
    moved = column_drift("x", const, np.full(1500, 3.5))
    assert moved.drift is True and math.isfinite(cast_float(moved.statistic))
    # Wasserstein with std 0 is normalised by Evidently's floor 0.001
    cur = _rng(46).normal(3.0, 1.0, 1500)
    w = column_drift("x", const, cur, method="wasserstein")
    assert w.statistic == pytest.approx(stats.wasserstein_distance(const, cur) / 0.001, abs=1e-6)
    assert w.drift is True
    w0 = column_drift("x", const, np.full(1500, 3.0), method="wasserstein")
    assert w0.statistic == 0.0 and w0.drift is False
    ks = column_drift("x", const[:500], np.full(500, 3.0), method="ks")
    assert ks.p_value == 1.0 and ks.drift is False
    for r in (same, moved, w, w0, ks):
        assert r.psi is not None and math.isfinite(r.psi)
        _json_ok(r)


def cast_float(value: float | None) -> float:
    assert value is not None
    return value


def test_forced_methods_are_validated() -> None:
    with pytest.raises(ValueError, match="numeric column"):
        column_drift("c", ["a", "b"] * 20, ["a", "b"] * 20, method="ks")
    with pytest.raises(ValueError, match="at most 2"):
        column_drift("c", list("abc") * 20, list("abc") * 20, method="z")
    with pytest.raises(ValueError, match="unknown drift method"):
        column_drift("c", list("abc") * 20, list("abc") * 20, method="psi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numeric values"):
        column_drift("c", list("abc") * 20, list("abc") * 20, "numeric")
    with pytest.raises(TypeError, match="datetime"):
        column_drift(
            "t", np.arange(40).astype("datetime64[s]"), np.arange(40).astype("datetime64[s]")
        )
    # categorical tests on a numeric column are allowed
    r = column_drift("x", _rng(47).normal(size=2000), _rng(48).normal(size=2000), method="chi2")
    assert r.method == "chi2" and r.drift is True  # every float is its own category


# --------------------------------------------------------------------------------------------
# corrections and the dataset verdict
# --------------------------------------------------------------------------------------------

KNOWN_P = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.5, 0.008, 1.0]


@pytest.mark.parametrize(
    ("ours", "theirs"), [("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")]
)
def test_corrections_equal_statsmodels(ours: str, theirs: str) -> None:
    expected = multipletests(KNOWN_P, method=theirs)[1]
    assert adjust_p_values(KNOWN_P, ours) == pytest.approx(list(expected), abs=TOL)  # type: ignore[arg-type]
    assert adjust_p_values(KNOWN_P, "none") == KNOWN_P
    assert adjust_p_values([], ours) == []  # type: ignore[arg-type]


def test_correction_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([0.1, 1.5], "holm")
    with pytest.raises(ValueError, match="correction"):
        adjust_p_values([0.1], "sidak")  # type: ignore[arg-type]


def _columns(seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = _rng(seed)
    ref = {
        "ks_strong": rng.normal(0, 1, 400),
        "ks_weak": rng.normal(0, 1, 400),
        "chi": rng.choice(np.array(list("abc")), 400, p=[0.5, 0.3, 0.2]),
        "z": rng.random(400) < 0.3,
        "w": rng.normal(0, 1, 3000),
    }
    cur = {
        "ks_strong": rng.normal(0.6, 1, 400),
        "ks_weak": rng.normal(0.17, 1, 400),
        "chi": rng.choice(np.array(list("abc")), 400, p=[0.45, 0.33, 0.22]),
        "z": rng.random(400) < 0.35,
        "w": rng.normal(0.3, 1, 3000),
    }
    return ref, cur


@pytest.mark.parametrize(
    ("ours", "theirs"), [("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")]
)
def test_dataset_correction_applies_to_p_value_columns_only(ours: str, theirs: str) -> None:
    ref, cur = _columns(56)  # raw p: ks_weak 0.016, z 0.042 — significant before correcting
    plain = dataset_drift(ref, cur)
    corrected = dataset_drift(ref, cur, correction=ours)  # type: ignore[arg-type]
    p_cols = [c for c in plain.columns if c.p_value is not None]
    assert [c.column for c in p_cols] == ["ks_strong", "ks_weak", "chi", "z"]
    expected = multipletests([c.p_value for c in p_cols], method=theirs)[1]
    for col, p_adj in zip(p_cols, expected, strict=True):
        got = corrected.column(col.column)
        assert got.p_value == col.p_value
        assert got.p_value_adjusted == pytest.approx(p_adj, abs=TOL)
        assert got.drift is bool(p_adj <= 0.05 if got.method == "ks" else p_adj < 0.05)
    assert corrected.column("w") == plain.column("w")  # a distance: untouched
    assert corrected.correction == ours
    if ours == "bonferroni":  # the correction turns two verdicts and the dataset verdict
        assert plain.drifted_columns == ["ks_strong", "ks_weak", "z", "w"] and plain.drift
        assert corrected.drifted_columns == ["ks_strong", "w"] and corrected.drift is False


def test_dataset_share_and_verdict() -> None:
    ref, cur = _columns(50)
    res = dataset_drift(ref, cur)
    verdicts = {c.column: c.drift for c in res.columns}
    assert res.n_columns == res.n_tested == 5
    assert res.n_drifted == sum(bool(v) for v in verdicts.values())
    assert res.drifted_share == res.n_drifted / 5
    assert res.drift is (res.drifted_share >= 0.5)
    assert res.drifted_columns == [k for k, v in verdicts.items() if v]
    json.dumps(to_jsonable(res), allow_nan=False)
    # exactly half drifted → dataset drift (share >= 0.5)
    rng = _rng(51)
    half_ref = {f"c{i}": rng.normal(size=2000) for i in range(4)}
    half_cur = {f"c{i}": rng.normal(1.0 if i < 2 else 0.0, 1, 2000) for i in range(4)}
    half = dataset_drift(half_ref, half_cur)
    assert (half.n_drifted, half.drifted_share, half.drift) == (2, 0.5, True)
    quarter_cur = {f"c{i}": rng.normal(1.0 if i < 1 else 0.0, 1, 2000) for i in range(4)}
    quarter = dataset_drift(half_ref, quarter_cur)
    assert (quarter.drifted_share, quarter.drift) == (0.25, False)
    stricter = dataset_drift(half_ref, quarter_cur, defaults=Defaults(dataset_share=0.25))
    assert stricter.drift is True


def test_dataset_missing_small_and_datetime_columns() -> None:
    rng = _rng(52)
    ref = {
        "x": rng.normal(size=500),
        "gone": rng.normal(size=500),
        "tiny": np.array([1.0, np.nan] * 250),
        "ts": np.arange(500).astype("datetime64[s]"),
    }
    cur = {
        "x": rng.normal(size=500),
        "tiny": np.concatenate([[1.0] * 10, [np.nan] * 490]),
        "ts": np.arange(500).astype("datetime64[s]"),
        "new": rng.normal(size=500),
    }
    res = dataset_drift(ref, cur, kinds={"tiny": "numeric"}, methods={"x": "wasserstein"})
    assert [c.column for c in res.columns] == ["x", "gone", "tiny", "new"]
    assert res.skipped == ("ts",)
    assert res.column("x").method == "wasserstein"
    assert res.column("gone").status == "not_enough_data"
    assert res.column("gone").reason == "column missing from the current data"
    assert res.column("new").reason == "column missing from the reference data"
    assert res.column("tiny").reason == "current has 10 non-null values (min_rows=30)"
    assert res.n_tested == 1 and res.n_columns == 4
    nothing = dataset_drift({"a": [1.0]}, {"a": [2.0]})
    assert nothing.drifted_share is None and nothing.drift is None
    with pytest.raises(ValueError, match="correction"):
        dataset_drift(ref, cur, correction="sidak")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# report helpers
# --------------------------------------------------------------------------------------------


def test_histogram_numeric_and_categorical() -> None:
    ref, cur = _rng(53).normal(size=300), _rng(54).normal(1, 1, 200)
    h = histogram(np.concatenate([ref, [np.nan]]), cur, bins=8)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=8)
    assert h["kind"] == "numeric" and h["edges"] == pytest.approx(list(edges))
    assert h["reference"] == list(np.histogram(ref, bins=edges)[0])
    assert h["current"] == list(np.histogram(cur, bins=edges)[0])
    assert (h["n_reference"], h["n_current"]) == (300, 200)
    c = histogram(list("aaaabbbcd"), list("aaeeeeee"), bins=2)
    assert c["categories"] == ["e", "a"]  # e: 0 + 6/8, a: 4/9 + 2/8
    assert c["reference"] == [0, 4] and c["current"] == [6, 2]
    assert (c["other_reference"], c["other_current"]) == (5, 0)
    json.dumps([h, c], allow_nan=False)


def test_correlation_change() -> None:
    rng = _rng(55)
    a, noise = rng.normal(size=1000), rng.normal(size=1000)
    ref = {"a": a, "b": a + noise, "c": rng.normal(size=1000), "s": np.array(["x"] * 1000)}
    a2 = rng.normal(size=1000)
    cur = {"a": a2, "b": rng.normal(size=1000), "c": rng.normal(size=1000), "s": ref["s"]}
    out = correlation_change(ref, cur)
    assert out["columns"] == ["a", "b", "c"]  # the string column is not numeric
    ref_c = np.corrcoef(np.column_stack([ref["a"], ref["b"], ref["c"]]), rowvar=False)
    cur_c = np.corrcoef(np.column_stack([cur["a"], cur["b"], cur["c"]]), rowvar=False)
    diff = np.abs(cur_c - ref_c)[np.triu_indices(3, k=1)]
    assert out["max_abs_diff"] == pytest.approx(diff.max(), abs=TOL)
    assert [p["columns"] for p in out["pairs"]] == [["a", "b"]]
    assert out["changed"] is True and out["threshold"] == DEFAULTS.correlation_threshold
    assert out["pairs"][0]["diff"] == pytest.approx(cur_c[0, 1] - ref_c[0, 1], abs=TOL)
    # a constant column has no correlation: None in the matrix, never NaN
    const = correlation_change({"a": a, "k": np.ones(1000)}, {"a": a2, "k": np.ones(1000)})
    assert const["max_abs_diff"] is None and const["pairs"] == []
    json.dumps([out, const], allow_nan=False)


def test_import_is_light() -> None:
    code = (
        "import sys, prodml.drift.stats; "
        "print(any(m in sys.modules for m in ('numpy', 'scipy', 'pandas', 'pyarrow')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# fast paths: equal to the plain NumPy / SciPy computations they replace
# --------------------------------------------------------------------------------------------


def _tied_samples(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = _rng(seed)
    n, m = (int(x) for x in rng.integers(1, 3000, size=2))
    rounded = np.round(rng.normal(0.0, 1.0, n), 1), np.round(rng.normal(0.3, 1.3, m), 1)
    zeros = rng.choice(np.array([0.0, -0.0, 1.0, 2.5]), n), rng.choice(np.array([-0.0, 2.5]), m)
    return [
        rounded,  # many ties, within and across the samples
        zeros,  # 0.0 and -0.0 are one value
        (rng.poisson(4.0, n).astype(float), rng.poisson(4.5, m).astype(float)),
        (rng.normal(size=n), rng.normal(0.1, 1.0, m)),  # no ties
        (np.full(n, 3.0), np.full(m, 3.0)),
        (np.full(n, 3.0), rng.normal(3.0, 1.0, m)),
        (np.array([1.0]), np.array([2.0])),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_merge_based_wasserstein_equals_scipy_with_ties(seed: int) -> None:
    for ref, cur in _tied_samples(60 + seed):
        pair = SortedPair(ref, cur)
        expected = stats.wasserstein_distance(ref, cur)
        assert pair.wasserstein() == pytest.approx(expected, rel=1e-12, abs=1e-300)
        both = np.concatenate([ref, cur])
        assert pair.n_unique == np.unique(both).size
        cats, ref_counts, cur_counts = pair.counts()
        keys, inverse = np.unique(both, return_inverse=True)
        np.testing.assert_array_equal(cats, keys)
        np.testing.assert_array_equal(
            ref_counts, np.bincount(inverse[: ref.size], minlength=keys.size)
        )
        np.testing.assert_array_equal(
            cur_counts, np.bincount(inverse[ref.size :], minlength=keys.size)
        )
        r = column_drift(
            "x", ref, cur, "numeric", method="wasserstein", defaults=Defaults(min_rows=1)
        )
        norm = max(float(np.std(ref)), 0.001)
        assert r.statistic == pytest.approx(expected / norm, rel=1e-12, abs=1e-300)
        assert r.n_unique == pair.n_unique
        oor = float(np.mean((cur < ref.min()) | (cur > ref.max())))
        assert r.out_of_range_share == oor


def test_sorted_quantiles_and_psi_bins_equal_numpy() -> None:
    rng = _rng(70)
    for n in (1, 2, 3, 7, 10, 11, 99, 1000, 1001):
        for x in (rng.normal(size=n), np.round(rng.normal(size=n), 1), rng.poisson(2.0, n) * 1.0):
            s = np.sort(x)
            cur = rng.normal(0.2, 1.0, 500)
            for bins in (1, 2, 3, 4, 10, 12):
                q = np.linspace(0.0, 1.0, bins + 1)[1:-1]
                np.testing.assert_array_equal(sorted_quantiles(s, q), np.quantile(x, q))
                cuts, rc, cc = quantile_bin_counts(s, np.sort(cur), bins)
                k = cuts.size + 1
                np.testing.assert_array_equal(
                    rc, np.bincount(np.searchsorted(cuts, x, side="right"), minlength=k)
                )
                np.testing.assert_array_equal(
                    cc, np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=k)
                )


def _category_forms(values: np.ndarray) -> dict[str, object]:
    """One categorical sample (object array with None/NaN) in every supported input form."""
    pd = pytest.importorskip("pandas")
    strings = pa.array(values, from_pandas=True)
    half = len(values) // 2
    return {
        "object": values,
        "list": list(values),
        "pyarrow": strings,
        "pyarrow_chunked": pa.chunked_array([strings[:half], strings[half:]]),
        "pyarrow_large": strings.cast(pa.large_string()),
        "pandas_str": pd.Series(values, dtype="str"),
        "pandas_object": pd.Series(values, dtype=object),
    }


@pytest.mark.parametrize(
    "form",
    [
        "numpy_str",
        "object",
        "list",
        "pyarrow",
        "pyarrow_chunked",
        "pyarrow_large",
        "pandas_str",
        "pandas_object",
    ],
)
def test_category_counts_equal_np_unique_with_nulls(form: str) -> None:
    rng = _rng(71)
    labels = np.array(["a", "b", "ccc", "", "é", "zz"], dtype=object)
    ref = rng.choice(labels[:5], 2000, p=[0.4, 0.3, 0.1, 0.1, 0.1])
    cur = rng.choice(labels, 1500)  # "zz" is new
    if form != "numpy_str":  # nulls: None and NaN (dropped, not categories)
        ref[rng.random(ref.size) < 0.1] = None
        cur[rng.random(cur.size) < 0.05] = float("nan")
        cur[rng.random(cur.size) < 0.05] = None
    kept_ref = np.asarray([v for v in ref if isinstance(v, str)])
    kept_cur = np.asarray([v for v in cur if isinstance(v, str)])
    keys, inverse = np.unique(np.concatenate([kept_ref, kept_cur]), return_inverse=True)
    exp_ref = np.bincount(inverse[: kept_ref.size], minlength=keys.size)
    exp_cur = np.bincount(inverse[kept_ref.size :], minlength=keys.size)

    if form == "numpy_str":
        ref_in, cur_in = ref.astype(str), cur.astype(str)
    else:
        ref_in, cur_in = _category_forms(ref)[form], _category_forms(cur)[form]
    cats, ref_counts, cur_counts = category_counts(
        clean_input(ref_in, "reference"), clean_input(cur_in, "current")
    )
    assert cats.tolist() == keys.tolist()
    np.testing.assert_array_equal(ref_counts, exp_ref)
    np.testing.assert_array_equal(cur_counts, exp_cur)

    r = column_drift("c", ref_in, cur_in)  # type: ignore[arg-type]
    assert r.kind == "categorical" and r.method == "jensenshannon"
    assert (r.n_reference, r.n_current, r.n_unique) == (kept_ref.size, kept_cur.size, keys.size)
    assert r.null_share_reference == pytest.approx(1 - kept_ref.size / ref.size, abs=TOL)
    assert r.null_share_current == pytest.approx(1 - kept_cur.size / cur.size, abs=TOL)
    assert r.new_categories == ("zz",) and r.missing_categories == ()
    expected = distance.jensenshannon(exp_ref / exp_ref.sum(), exp_cur / exp_cur.sum())
    assert r.statistic == pytest.approx(expected, abs=TOL)
    h = histogram(ref_in, cur_in, "categorical", bins=100)  # type: ignore[arg-type]
    assert dict(zip(h["categories"], h["reference"], strict=True)) == dict(
        zip(keys.tolist(), exp_ref.tolist(), strict=True)
    )


def test_category_counts_of_numbers_and_mixed_objects_equal_np_unique() -> None:
    rng = _rng(72)
    ints_ref, ints_cur = rng.integers(0, 5, 3000), rng.integers(1, 7, 2000)
    bools_ref, bools_cur = rng.random(3000) < 0.3, rng.random(2000) < 0.4
    mixed_ref = np.array(["a", 1, None, "b", 2.5] * 40, dtype=object)  # numpy path
    mixed_cur = np.array(["a", 1, "c", float("nan")] * 40, dtype=object)
    for ref, cur in ((ints_ref, ints_cur), (bools_ref, bools_cur), (mixed_ref, mixed_cur)):
        r_clean, c_clean = clean_input(ref, "reference"), clean_input(cur, "current")
        cats, ref_counts, cur_counts = category_counts(r_clean, c_clean)
        both = np.concatenate([r_clean.values, c_clean.values])
        keys, inverse = np.unique(both, return_inverse=True)
        assert cats.tolist() == keys.tolist()
        n = r_clean.values.size
        np.testing.assert_array_equal(ref_counts, np.bincount(inverse[:n], minlength=keys.size))
        np.testing.assert_array_equal(cur_counts, np.bincount(inverse[n:], minlength=keys.size))


def test_counting_strings_does_not_import_pandas() -> None:
    code = (
        "import sys, numpy as np; from prodml.drift.stats import column_drift; "
        "ref = np.array(['a', 'b', None] * 400, dtype=object); "
        "column_drift('c', ref, ref); column_drift('c', ref.astype(str), ref.astype(str)); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
