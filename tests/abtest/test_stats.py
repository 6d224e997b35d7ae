"""A/B-test statistics, checked against scipy/statsmodels on simulated experiments."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from prodml.abtest.stats import (
    SRM,
    Comparison,
    compare,
    default_tau,
    msprt,
    recommend,
    srm_check,
    summarize,
)
from prodml.serialize import to_jsonable

ALPHA = 0.05
TOL = 1e-9


def _rates(seed: int, p_c: float = 0.10, p_t: float = 0.12, n: int = 20_000):
    rng = np.random.default_rng(seed)
    c = (rng.random(n) < p_c).astype(float)
    t = (rng.random(n) < p_t).astype(float)
    return c, t


def _means(seed: int, mu_c: float = 10.0, mu_t: float = 10.3, sd: float = 2.0, n: int = 5_000):
    rng = np.random.default_rng(seed)
    return rng.normal(mu_c, sd, n), rng.normal(mu_t, sd, n + 137)


def _json_roundtrip(obj: dict) -> dict:
    # strict JSON: NaN would make this raise
    return json.loads(json.dumps(obj, allow_nan=False))


# ------------------------------------------------------------------------------- summarize


def test_summarize_mean_matches_t_interval() -> None:
    c, _ = _means(1)
    s = summarize(c, "mean", ALPHA)
    lo, hi = stats.t.interval(1 - ALPHA, len(c) - 1, loc=c.mean(), scale=stats.sem(c))
    assert s.n == len(c)
    assert s.mean == pytest.approx(c.mean(), abs=TOL)
    assert s.std == pytest.approx(c.std(ddof=1), abs=TOL)
    assert s.ci_low == pytest.approx(lo, abs=TOL)
    assert s.ci_high == pytest.approx(hi, abs=TOL)
    assert s.ci_low < 10.0 < s.ci_high


def test_summarize_rate_wald_interval_clipped() -> None:
    c, _ = _rates(2)
    s = summarize(c, "rate", ALPHA)
    p = c.mean()
    half = stats.norm.ppf(1 - ALPHA / 2) * math.sqrt(p * (1 - p) / len(c))
    assert s.std == pytest.approx(math.sqrt(p * (1 - p)), abs=TOL)
    assert s.ci_low == pytest.approx(p - half, abs=TOL)
    assert s.ci_high == pytest.approx(p + half, abs=TOL)
    # all zeros: interval collapses to [0, 0], never negative
    z = summarize(np.zeros(10), "rate", ALPHA)
    assert (z.ci_low, z.ci_high) == (0.0, 0.0)
    one = summarize([1.0, 1.0, 0.0], "rate", 0.5)
    assert 0.0 <= one.ci_low <= one.ci_high <= 1.0


@pytest.mark.parametrize("kind", ["mean", "rate"])
def test_summarize_empty_is_nan(kind: str) -> None:
    s = summarize([], kind, ALPHA)  # type: ignore[arg-type]
    assert s.n == 0
    assert all(math.isnan(v) for v in (s.mean, s.std, s.ci_low, s.ci_high))
    js = _json_roundtrip(to_jsonable(s))
    assert js["mean"] is None and js["ci_low"] is None and js["n"] == 0


def test_summarize_single_observation() -> None:
    s = summarize([3.0], "mean", ALPHA)
    assert s.mean == 3.0
    assert math.isnan(s.std) and math.isnan(s.ci_low)


def test_summarize_rejects_invalid_input() -> None:
    with pytest.raises(ValueError, match="0 and 1"):
        summarize([0.0, 2.0], "rate", ALPHA)
    with pytest.raises(ValueError, match="NaN"):
        summarize([1.0, float("nan")], "mean", ALPHA)
    with pytest.raises(ValueError, match="alpha"):
        summarize([1.0, 2.0], "mean", 1.5)


# ------------------------------------------------------------------------------- compare


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_compare_mean_matches_welch(seed: int) -> None:
    c, t = _means(seed)
    r = compare(c, t, "mean", ALPHA)
    ref = stats.ttest_ind(t, c, equal_var=False)
    assert r.test == "welch_t"
    assert r.statistic == pytest.approx(ref.statistic, abs=TOL)
    assert r.p_value == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)
    assert r.df == pytest.approx(ref.df, abs=1e-6)
    ci = ref.confidence_interval(confidence_level=1 - ALPHA)
    assert r.diff == pytest.approx(t.mean() - c.mean(), abs=TOL)
    assert r.diff_ci_low == pytest.approx(ci.low, abs=TOL)
    assert r.diff_ci_high == pytest.approx(ci.high, abs=TOL)
    # the true effect is covered and detected
    assert r.diff_ci_low < 0.3 < r.diff_ci_high
    assert r.rel_ci_low < 0.03 < r.rel_ci_high
    assert r.relative_lift == pytest.approx(r.diff / c.mean(), abs=TOL)
    assert r.p_value < ALPHA


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_compare_rate_matches_statsmodels(seed: int) -> None:
    c, t = _rates(seed)
    x_c, x_t, n_c, n_t = int(c.sum()), int(t.sum()), len(c), len(t)
    r = compare(c, t, "rate", ALPHA)
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    assert r.test == "two_proportion_z"
    assert r.statistic == pytest.approx(z, abs=TOL)
    assert r.p_value == pytest.approx(p, abs=TOL, rel=TOL)
    assert r.diff_ci_low == pytest.approx(lo, abs=TOL)
    assert r.diff_ci_high == pytest.approx(hi, abs=TOL)
    assert math.isnan(r.df)
    assert r.diff_ci_low < 0.02 < r.diff_ci_high
    assert r.rel_ci_low < 0.2 < r.rel_ci_high
    assert r.p_value < ALPHA


def test_compare_rel_ci_is_delta_method() -> None:
    c, t = _means(31)
    r = compare(c, t, "mean", ALPHA)
    mc, mt = c.mean(), t.mean()
    vc, vt = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
    z = stats.norm.ppf(1 - ALPHA / 2)
    assert r.rel_ci_low == pytest.approx(r.relative_lift - z * se, abs=TOL)
    assert r.rel_ci_high == pytest.approx(r.relative_lift + z * se, abs=TOL)


@pytest.mark.parametrize(
    ("control", "treatment", "kind"),
    [
        ([], [1.0, 2.0, 3.0], "mean"),
        ([1.0, 2.0], [], "mean"),
        ([], [], "mean"),
        ([], [0.0, 1.0], "rate"),
        ([1.0], [2.0, 3.0], "mean"),  # n < 2
        ([5.0, 5.0, 5.0], [5.0, 5.0], "mean"),  # zero variance
        ([5.0, 5.0, 5.0], [6.0, 6.0], "mean"),  # zero variance, non-zero diff
        ([0.0] * 50, [0.0] * 50, "rate"),  # no conversions at all
        ([1.0] * 50, [1.0] * 50, "rate"),
    ],
)
def test_compare_degenerate_gives_nan(control: list, treatment: list, kind: str) -> None:
    r = compare(control, treatment, kind, ALPHA)  # type: ignore[arg-type]
    assert math.isnan(r.p_value)
    assert math.isnan(r.statistic)
    js = _json_roundtrip(to_jsonable(r))
    assert js["p_value"] is None


def test_compare_zero_control_mean_has_no_relative_lift() -> None:
    r = compare([0.0] * 100, [0.0] * 99 + [1.0], "rate", ALPHA)
    assert math.isnan(r.relative_lift) and math.isnan(r.rel_ci_low)
    assert math.isfinite(r.p_value)
    assert to_jsonable(r)["relative_lift"] is None


def test_compare_json_is_plain() -> None:
    c, t = _rates(41, n=2000)
    js = to_jsonable(compare(c, t, "rate", ALPHA))
    assert _json_roundtrip(js) == js
    assert type(js["p_value"]) is float and type(js["control"]["n"]) is int


# ------------------------------------------------------------------------------- SRM


def test_srm_flags_skewed_split() -> None:
    r = srm_check([10_000, 10_600], [0.5, 0.5])
    ref = stats.chisquare([10_000, 10_600], f_exp=[10_300, 10_300])
    assert r.statistic == pytest.approx(ref.statistic, abs=TOL)
    assert r.p_value == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)
    assert r.expected == [10_300.0, 10_300.0]
    assert r.mismatch


def test_srm_accepts_fair_split_and_unnormalised_weights() -> None:
    rng = np.random.default_rng(5)
    counts = [int(x) for x in rng.multinomial(30_000, [0.2, 0.3, 0.5])]
    r = srm_check(counts, [2, 3, 5])
    ref = stats.chisquare(counts, f_exp=[6_000, 9_000, 15_000])
    assert r.p_value == pytest.approx(ref.pvalue, abs=TOL, rel=TOL)
    assert not r.mismatch
    assert _json_roundtrip(to_jsonable(r))["mismatch"] is False


def test_srm_degenerate_and_invalid() -> None:
    r = srm_check([0, 0], [1, 1])
    assert math.isnan(r.p_value) and not r.mismatch
    assert to_jsonable(r)["p_value"] is None
    with pytest.raises(ValueError):
        srm_check([1, 2], [1.0])
    with pytest.raises(ValueError):
        srm_check([1, 2], [1.0, 0.0])


# ------------------------------------------------------------------------------- mSPRT


def _orders(rng: np.random.Generator, n_c: int, n_t: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.random(n_c), rng.random(n_t)


def test_msprt_formula_and_monotone() -> None:
    c, t = _means(51, n=2000)
    rng = np.random.default_rng(51)
    oc, ot = _orders(rng, len(c), len(t))
    r = msprt(c, t, oc, ot, "mean", checkpoints=20, tau=0.2)
    ps = r.p_values
    assert len(r.points) == 20
    assert all(b <= a for a, b in itertools.pairwise(ps))
    assert r.p_value == ps[-1]
    # the last look uses all the data: recompute Λ by hand
    last = r.points[-1]
    assert (last.n_control, last.n_treatment) == (len(c), len(t))
    v = t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c)
    d = t.mean() - c.mean()
    lam = math.sqrt(v / (v + 0.04)) * math.exp(d * d * 0.04 / (2 * v * (v + 0.04)))
    assert last.diff == pytest.approx(d, abs=1e-9)
    assert r.p_value <= min(1.0, 1 / lam) + 1e-12
    # a middle look: counts follow arrival order
    order = np.argsort(np.concatenate([oc, ot]), kind="stable")
    k = r.points[9].n_control + r.points[9].n_treatment
    first = order[:k]
    assert r.points[9].n_control == int((first < len(c)).sum())


@pytest.mark.parametrize("kind", ["mean", "rate"])
def test_msprt_detects_true_lift(kind: str) -> None:
    c, t = _means(61) if kind == "mean" else _rates(61)
    rng = np.random.default_rng(61)
    r = msprt(c, t, *_orders(rng, len(c), len(t)), kind)  # type: ignore[arg-type]
    assert r.p_value < 0.05
    ps = r.p_values
    assert all(b <= a for a, b in itertools.pairwise(ps))
    assert r.tau == pytest.approx(default_tau(c, t, kind), abs=TOL)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["mean", "rate"])
def test_msprt_type_one_error_under_null(kind: str) -> None:
    rng = np.random.default_rng(71)
    sims, n = 200, 1500
    rejections = 0
    for _ in range(sims):
        if kind == "mean":
            c, t = rng.normal(10, 2, n), rng.normal(10, 2, n)
        else:
            c, t = (rng.random(n) < 0.1).astype(float), (rng.random(n) < 0.1).astype(float)
        r = msprt(c, t, *_orders(rng, n, n), kind, checkpoints=50)  # type: ignore[arg-type]
        ps = np.array(r.p_values)
        assert np.all(np.diff(ps) <= 0)
        rejections += int(r.p_value < ALPHA)
    assert rejections / sims <= 2 * ALPHA


def test_msprt_degenerate() -> None:
    empty = msprt([], [], [], [], "mean")
    assert empty.p_value == 1.0 and empty.points == ()
    one_arm = msprt([], [1.0, 2.0, 3.0], [], [0.0, 1.0, 2.0], "mean", checkpoints=3)
    assert one_arm.p_value == 1.0
    assert all(math.isnan(p.diff) for p in one_arm.points)
    assert _json_roundtrip(to_jsonable(one_arm))["points"][0]["diff"] is None
    const = msprt([4.0] * 30, [4.0] * 30, np.arange(30.0), np.arange(30.0), "mean")
    assert const.p_value == 1.0 and const.tau == 0.0
    few = msprt([1.0, 2.0], [3.0, 5.0], [0.0, 1.0], [0.5, 1.5], "mean", checkpoints=50)
    assert len(few.points) == 4 and few.points[-1].n_control == 2
    with pytest.raises(ValueError):
        msprt([1.0, 2.0], [3.0], [0.0], [0.0], "mean")


# ------------------------------------------------------------------------------- recommend


def _cmp(seed: int, mu_t: float, n: int = 5_000) -> Comparison:
    c, t = _means(seed, mu_t=mu_t, n=n)
    return compare(c, t, "mean", ALPHA)


FAIR = srm_check([5000, 5000], [1, 1])
SKEWED = srm_check([10_000, 10_600], [1, 1])


def test_recommend_investigate_on_srm_first() -> None:
    rec = recommend(_cmp(81, 10.3), alpha=ALPHA, minimum_sample=100, srm=SKEWED)
    assert rec.decision == "investigate"
    assert "sample ratio mismatch" in rec.reason


def test_recommend_continue_below_minimum_sample() -> None:
    rec = recommend(_cmp(82, 10.3), alpha=ALPHA, minimum_sample=10_000, srm=FAIR)
    assert rec.decision == "continue"


def test_recommend_promote_and_worse() -> None:
    better = recommend(_cmp(83, 10.3), alpha=ALPHA, minimum_sample=1000, srm=FAIR)
    assert better.decision == "promote_treatment"
    worse = recommend(_cmp(84, 9.7), alpha=ALPHA, minimum_sample=1000, srm=FAIR)
    assert worse.decision == "keep_control" and "significantly worse" in worse.reason
    # lower is better (e.g. latency): an increase is worse, a decrease is promoted
    up = recommend(_cmp(83, 10.3), alpha=ALPHA, minimum_sample=1000, higher_is_better=False)
    assert up.decision == "keep_control" and "significantly worse" in up.reason
    down = recommend(_cmp(84, 9.7), alpha=ALPHA, minimum_sample=1000, higher_is_better=False)
    assert down.decision == "promote_treatment"


def test_recommend_no_difference() -> None:
    rec = recommend(_cmp(85, 10.0), alpha=ALPHA, minimum_sample=1000, srm=FAIR)
    assert rec.decision == "keep_control"
    assert "no significant difference" in rec.reason


def test_recommend_sequential_p_overrides_fixed() -> None:
    cmp = _cmp(86, 10.3)
    assert cmp.p_value < ALPHA
    held = recommend(cmp, alpha=ALPHA, minimum_sample=1000, sequential_p_value=0.2)
    assert held.decision == "keep_control" and "no significant difference" in held.reason
    go = recommend(cmp, alpha=ALPHA, minimum_sample=1000, sequential_p_value=0.001)
    assert go.decision == "promote_treatment" and "sequential" in go.reason


def test_recommend_undefined_p_value() -> None:
    cmp = compare([5.0] * 200, [5.0] * 200, "mean", ALPHA)
    rec = recommend(
        cmp,
        alpha=ALPHA,
        minimum_sample=100,
        srm=SRM([200, 200], [200.0, 200.0], 0.0, 1.0, 0.001, False),
    )
    assert rec.decision == "keep_control"
    assert to_jsonable(rec) == {"decision": rec.decision, "reason": rec.reason}
