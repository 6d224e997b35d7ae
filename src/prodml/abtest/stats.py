"""A/B-test statistics: arm summaries, fixed-horizon tests, SRM, always-valid p-values, decisions.

Pure functions, no I/O. numpy and scipy are imported inside the functions so that importing this
module (from the CLI) stays cheap.

Conventions:
    * ``kind="mean"`` treats the values as a continuous metric (Welch's t-test);
      ``kind="rate"`` treats them as 0/1 outcomes (pooled two-proportion z-test).
    * Differences are always ``treatment - control``.
    * Degenerate inputs (an empty arm, fewer than two observations, zero variance) never raise:
      the undefined quantities are NaN on the result objects and ``None`` in their JSON form
      (``prodml.serialize.to_jsonable``).
      Invalid inputs (non-finite values, a rate outside {0, 1}, bad ``alpha``) raise ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from prodml.abtest.errors import StatisticsInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = [
    "SRM",
    "ArmSummary",
    "Comparison",
    "Decision",
    "Kind",
    "Recommendation",
    "SequentialPoint",
    "SequentialResult",
    "compare",
    "default_tau",
    "msprt",
    "recommend",
    "srm_check",
    "summarize",
]

Kind = Literal["mean", "rate"]
Decision = Literal["promote_treatment", "keep_control", "continue", "investigate"]

#: Default mixing scale of the mSPRT, as a fraction of the pooled standard deviation.
TAU_FRACTION = 0.1

_NAN = float("nan")


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmSummary:
    """Descriptive statistics and the confidence interval of one arm's mean (or rate)."""

    kind: Kind
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    alpha: float


@dataclass(frozen=True)
class Comparison:
    """A fixed-horizon comparison of treatment against control.

    ``relative_lift`` is ``diff / control.mean`` (NaN when the control mean is 0). Its interval
    ``rel_ci_low``/``rel_ci_high`` is a delta-method normal interval on the ratio of the two
    (independent) means, ``lift ± z·se`` with
    ``se² = Var(m_t)/m_c² + m_t²·Var(m_c)/m_c⁴`` — not merely the difference CI divided by the
    control mean, which would ignore the control mean's own uncertainty.
    ``df`` is the Welch-Satterthwaite degrees of freedom (NaN for the z-test).
    """

    kind: Kind
    test: Literal["welch_t", "two_proportion_z"]
    alpha: float
    control: ArmSummary
    treatment: ArmSummary
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    relative_lift: float
    rel_ci_low: float
    rel_ci_high: float
    statistic: float
    p_value: float
    df: float


@dataclass(frozen=True)
class SRM:
    """Sample-ratio-mismatch check: chi-square goodness of fit of the arm counts."""

    counts: list[int]
    expected: list[float]
    statistic: float
    p_value: float
    threshold: float
    mismatch: bool


@dataclass(frozen=True)
class SequentialPoint:
    """The state of the sequential test at one checkpoint."""

    n_control: int
    n_treatment: int
    diff: float
    p_value: float


@dataclass(frozen=True)
class SequentialResult:
    """Always-valid p-values of a normal-mixture SPRT at evenly spaced checkpoints."""

    JSON_PROPERTIES = ("test",)

    kind: Kind
    tau: float
    points: tuple[SequentialPoint, ...]
    p_value: float

    @property
    def test(self) -> str:
        """The test's name."""
        return "msprt_normal_mixture"

    @property
    def p_values(self) -> list[float]:
        """The running always-valid p-values, one per checkpoint (non-increasing)."""
        return [p.p_value for p in self.points]


@dataclass(frozen=True)
class Recommendation:
    """What to do with the experiment, and why."""

    decision: Decision
    reason: str


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise StatisticsInputError(f"alpha must be in (0, 1), got {alpha!r}")


def _check_kind(kind: str) -> None:
    if kind not in ("mean", "rate"):
        raise StatisticsInputError(f"kind must be 'mean' or 'rate', got {kind!r}")


def _as_values(values: npt.ArrayLike, kind: Kind, name: str = "values") -> FloatArray:
    """A 1-D float array of finite observations (0/1 for rates)."""
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise StatisticsInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise StatisticsInputError(f"{name} contains NaN or infinite values")
    if kind == "rate" and not np.all((arr == 0.0) | (arr == 1.0)):
        raise StatisticsInputError(f"{name}: a rate metric takes only the values 0 and 1")
    return arr


def _moments(arr: FloatArray, kind: Kind) -> tuple[int, float, float]:
    """``(n, mean, variance)``; variance is ddof=1 for means, p(1-p) for rates; NaN if undefined."""
    n = int(arr.size)
    if n == 0:
        return 0, _NAN, _NAN
    mean = float(arr.mean())
    if kind == "rate":
        return n, mean, mean * (1.0 - mean)
    var = float(arr.var(ddof=1)) if n >= 2 else _NAN
    return n, mean, var


def _summary(n: int, mean: float, var: float, kind: Kind, alpha: float) -> ArmSummary:
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    std = math.sqrt(var) if math.isfinite(var) else _NAN
    if n == 0:
        lo = hi = _NAN
    elif kind == "rate":
        half = float(stats.norm.ppf(1.0 - alpha / 2.0)) * math.sqrt(var / n)
        lo, hi = max(0.0, mean - half), min(1.0, mean + half)
    elif n >= 2:
        half = float(stats.t.ppf(1.0 - alpha / 2.0, n - 1)) * std / math.sqrt(n)
        lo, hi = mean - half, mean + half
    else:
        lo = hi = _NAN
    return ArmSummary(kind=kind, n=n, mean=mean, std=std, ci_low=lo, ci_high=hi, alpha=alpha)


# --------------------------------------------------------------------------------------------
# fixed horizon
# --------------------------------------------------------------------------------------------


def summarize(values: npt.ArrayLike, kind: Kind, alpha: float) -> ArmSummary:
    """Summarise one arm.

    Args:
        values: One observation per unit (0/1 for ``kind="rate"``).
        kind: ``"mean"`` (t-interval, df ``n-1``) or ``"rate"`` (Wald interval clipped to [0, 1]).
        alpha: Significance level; the interval has coverage ``1 - alpha``.

    Returns:
        n, mean (the proportion for rates), std (ddof=1; ``sqrt(p(1-p))`` for rates) and the
        interval. Undefined statistics (``n == 0``; std and t-interval when ``n == 1``) are NaN.
    """
    _check_alpha(alpha)
    _check_kind(kind)
    arr = _as_values(values, kind)
    n, mean, var = _moments(arr, kind)
    return _summary(n, mean, var, kind, alpha)


def compare(
    control: npt.ArrayLike, treatment: npt.ArrayLike, kind: Kind, alpha: float
) -> Comparison:
    """Fixed-horizon comparison of treatment against control.

    ``kind="mean"``: Welch's t-test (equal to ``scipy.stats.ttest_ind(treatment, control,
    equal_var=False)``), difference CI with Welch-Satterthwaite df. ``kind="rate"``: pooled
    two-proportion z-test (equal to ``statsmodels`` ``proportions_ztest([x_t, x_c], [n_t, n_c])``),
    difference CI with the unpooled Wald standard error. The relative-lift CI is a delta-method
    normal interval (see :class:`Comparison`).

    Args:
        control: Control observations (0/1 for rates).
        treatment: Treatment observations (0/1 for rates).
        kind: ``"mean"`` or ``"rate"``.
        alpha: Two-sided significance level.

    Returns:
        The comparison; degenerate inputs (an empty arm, n < 2 for means, zero standard error)
        give NaN for the undefined fields instead of raising.
    """

    _check_alpha(alpha)
    _check_kind(kind)
    c = _as_values(control, kind, "control")
    t = _as_values(treatment, kind, "treatment")
    n_c, m_c, v_c = _moments(c, kind)
    n_t, m_t, v_t = _moments(t, kind)
    sum_c = _summary(n_c, m_c, v_c, kind, alpha)
    sum_t = _summary(n_t, m_t, v_t, kind, alpha)

    diff = m_t - m_c if n_c > 0 and n_t > 0 else _NAN
    # unpooled sampling variances of the two means (NaN when undefined)
    a = v_t / n_t if n_t > 0 else _NAN
    b = v_c / n_c if n_c > 0 else _NAN
    se_unpooled = math.sqrt(a + b) if math.isfinite(a + b) else _NAN
    test: Literal["welch_t", "two_proportion_z"]
    if kind == "mean":
        test = "welch_t"
        statistic, p_value, df, (lo, hi) = _welch(diff, a, b, n_c, n_t, se_unpooled, alpha)
    else:
        test, df = "two_proportion_z", _NAN
        statistic, p_value, (lo, hi) = _two_proportions(
            (n_c, m_c), (n_t, m_t), diff, se_unpooled, alpha
        )
    rel, rel_lo, rel_hi = _relative_lift(diff, (m_c, b), (m_t, a), alpha)
    return Comparison(
        kind=kind,
        test=test,
        alpha=alpha,
        control=sum_c,
        treatment=sum_t,
        diff=diff,
        diff_ci_low=lo,
        diff_ci_high=hi,
        relative_lift=rel,
        rel_ci_low=rel_lo,
        rel_ci_high=rel_hi,
        statistic=statistic,
        p_value=p_value,
        df=df,
    )


def _welch(
    diff: float, a: float, b: float, n_c: int, n_t: int, se: float, alpha: float
) -> tuple[float, float, float, tuple[float, float]]:
    """Welch's t: (statistic, p-value, Welch-Satterthwaite df, difference CI)."""
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    if not (n_c >= 2 and n_t >= 2 and se > 0.0):
        return _NAN, _NAN, _NAN, (_NAN, _NAN)
    df = (a + b) ** 2 / (a**2 / (n_t - 1) + b**2 / (n_c - 1))
    statistic = diff / se
    p_value = float(2.0 * stats.t.sf(abs(statistic), df))
    half = float(stats.t.ppf(1.0 - alpha / 2.0, df)) * se
    return statistic, p_value, df, (diff - half, diff + half)


def _two_proportions(
    control: tuple[int, float], treatment: tuple[int, float], diff: float, se: float, alpha: float
) -> tuple[float, float, tuple[float, float]]:
    """The pooled two-proportion z-test: (statistic, p-value, unpooled Wald difference CI)."""
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    (n_c, m_c), (n_t, m_t) = control, treatment
    if not (n_c > 0 and n_t > 0):
        return _NAN, _NAN, (_NAN, _NAN)
    statistic = p_value = _NAN
    pooled = (m_t * n_t + m_c * n_c) / (n_t + n_c)
    se_pooled = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c))
    if se_pooled > 0.0:
        statistic = diff / se_pooled
        p_value = float(2.0 * stats.norm.sf(abs(statistic)))
    half = float(stats.norm.isf(alpha / 2.0)) * se
    return statistic, p_value, (diff - half, diff + half)


def _relative_lift(
    diff: float, control: tuple[float, float], treatment: tuple[float, float], alpha: float
) -> tuple[float, float, float]:
    """``diff / m_c`` and its delta-method CI; ``control``/``treatment`` are (mean, sampling
    variance of the mean)."""
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    (m_c, b), (m_t, a) = control, treatment
    if not (math.isfinite(diff) and m_c != 0.0):
        return _NAN, _NAN, _NAN
    rel = diff / m_c
    se_rel = math.sqrt(a / m_c**2 + m_t**2 * b / m_c**4) if math.isfinite(a + b) else _NAN
    if not math.isfinite(se_rel):
        return rel, _NAN, _NAN
    half = float(stats.norm.isf(alpha / 2.0)) * se_rel
    return rel, rel - half, rel + half


def srm_check(counts: Sequence[int], weights: Sequence[float], threshold: float = 0.001) -> SRM:
    """Sample-ratio-mismatch check (chi-square goodness of fit, ``k - 1`` df).

    Equal to ``scipy.stats.chisquare(counts, f_exp=expected)`` with
    ``expected = sum(counts) * weights / sum(weights)``.

    Args:
        counts: Observed units per arm.
        weights: Planned allocation per arm (any positive scale; normalised to sum 1).
        threshold: ``mismatch`` is ``p_value < threshold`` (strict, as SRM checks are run often).

    Returns:
        The statistic, p-value, expected counts and verdict; with no units at all the statistic
        and p-value are NaN and ``mismatch`` is False.
    """
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    if len(counts) != len(weights):
        raise StatisticsInputError(f"{len(counts)} counts but {len(weights)} weights")
    if len(counts) < 2:
        raise StatisticsInputError("an SRM check needs at least two arms")
    if any(c < 0 for c in counts):
        raise StatisticsInputError("counts must be non-negative")
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise StatisticsInputError("weights must be positive and finite")
    total = sum(int(c) for c in counts)
    wsum = math.fsum(weights)
    expected = [total * w / wsum for w in weights]
    if total == 0:
        statistic = p_value = _NAN
    else:
        statistic = math.fsum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))
        p_value = float(stats.chi2.sf(statistic, len(counts) - 1))
    return SRM(
        counts=[int(c) for c in counts],
        expected=expected,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        mismatch=bool(p_value < threshold),
    )


# --------------------------------------------------------------------------------------------
# sequential
# --------------------------------------------------------------------------------------------


def default_tau(control: npt.ArrayLike, treatment: npt.ArrayLike, kind: Kind) -> float:
    """The default mSPRT mixing scale: ``0.1 x`` the pooled standard deviation.

    The pooled sd is that of all observations of both arms (ddof=1; ``sqrt(p(1-p))`` of the pooled
    rate for rates). A ``N(0, τ²)`` mixture with ``τ = 0.1·sd`` puts its mass on standardised
    effects of about 0.1 — a "small" effect (Cohen's d) and the usual order of real product
    effects — so power is concentrated where effects are plausible while large effects still stop
    quickly. It depends on the data only through a scale (not the sign or size of the arm
    difference), which leaves the always-valid guarantee practically intact; pass ``tau``
    explicitly (e.g. from historical data or the minimal detectable effect) to pre-register it.
    """
    import numpy as np

    _check_kind(kind)
    pooled = np.concatenate([_as_values(control, kind), _as_values(treatment, kind)])
    n, _, var = _moments(pooled, kind)
    if n < 2 or not math.isfinite(var):
        return 0.0
    return TAU_FRACTION * math.sqrt(var)


def msprt(
    control: npt.ArrayLike,
    treatment: npt.ArrayLike,
    order_c: npt.ArrayLike,
    order_t: npt.ArrayLike,
    kind: Kind,
    checkpoints: int = 50,
    tau: float | None = None,
) -> SequentialResult:
    """Always-valid p-values by the mixture SPRT (Johari et al. 2017, normal mixture).

    Observations are merged in arrival order (``order_c``/``order_t``, e.g. exposure timestamps;
    ties keep control before treatment, then input order). At ``checkpoints`` evenly spaced
    points of the merged sequence (by count) the data so far give ``θ̂ = mean_t - mean_c`` and
    ``V = var_t/n_t + var_c/n_c`` (ddof=1; ``p(1-p)`` for rates), and with a ``N(0, τ²)`` mixture
    over the effect::

        Λ = sqrt(V / (V + τ²)) · exp(θ̂² τ² / (2 V (V + τ²)))
        p_k = min(1, p_{k-1}, 1/Λ)

    Checkpoints where an arm has fewer than 2 observations or ``V`` is 0 leave ``p`` unchanged
    (it starts at 1), so the sequence is non-increasing by construction.

    Args:
        control: Control observations (0/1 for rates).
        treatment: Treatment observations (0/1 for rates).
        order_c: Arrival key of each control observation (same length as ``control``).
        order_t: Arrival key of each treatment observation (same length as ``treatment``).
        kind: ``"mean"`` or ``"rate"``.
        checkpoints: Number of evenly spaced looks (fewer if there are fewer observations).
        tau: Mixing standard deviation on the difference scale; ``None`` uses
            :func:`default_tau` (0.1 x pooled sd).

    Returns:
        The checkpoints and the final always-valid p-value (1.0 when nothing could be tested).
    """
    import numpy as np

    _check_kind(kind)
    if checkpoints < 1:
        raise StatisticsInputError(f"checkpoints must be >= 1, got {checkpoints}")
    c = _as_values(control, kind, "control")
    t = _as_values(treatment, kind, "treatment")
    oc = np.asarray(order_c, dtype=np.float64).ravel()
    ot = np.asarray(order_t, dtype=np.float64).ravel()
    if oc.shape != c.shape or ot.shape != t.shape:
        raise StatisticsInputError(
            "order_c/order_t must have one entry per observation of their arm"
        )
    if tau is None:
        tau = default_tau(c, t, kind)
    if not (math.isfinite(tau) and tau >= 0.0):
        raise StatisticsInputError(f"tau must be finite and >= 0, got {tau!r}")
    if c.size + t.size == 0:
        return SequentialResult(kind=kind, tau=tau, points=(), p_value=1.0)
    values = np.concatenate([c, t])
    is_t = np.concatenate([np.zeros(c.size, dtype=bool), np.ones(t.size, dtype=bool)])
    order = np.argsort(np.concatenate([oc, ot]), kind="stable")
    n_c, n_t, diff, p_run = _looks(values[order], is_t[order], kind, checkpoints, tau)
    points = tuple(
        SequentialPoint(n_control=int(nc), n_treatment=int(nt), diff=float(d), p_value=float(p))
        for nc, nt, d, p in zip(n_c, n_t, diff, p_run, strict=True)
    )
    return SequentialResult(kind=kind, tau=tau, points=points, p_value=float(p_run[-1]))


def _looks(values: Any, is_t: Any, kind: Kind, checkpoints: int, tau: float) -> tuple[Any, ...]:
    """At evenly spaced looks over the arrivals: (n_c, n_t, diff, running always-valid p)."""
    import numpy as np

    total = int(values.size)
    # shift by the overall mean so the running sums of squares do not cancel catastrophically
    shift = float(values.mean())
    x = values - shift
    # 1-based counts at each look, evenly spaced by arrival count
    looks = np.unique(np.ceil(np.arange(1, checkpoints + 1) * total / checkpoints).astype(np.int64))
    idx = looks - 1
    n_t = np.cumsum(is_t)[idx].astype(np.float64)
    n_c = looks.astype(np.float64) - n_t
    x_t = np.where(is_t, x, 0.0)
    x_c = np.where(is_t, 0.0, x)
    s_t, s_c = np.cumsum(x_t)[idx], np.cumsum(x_c)[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_t, mean_c = s_t / n_t, s_c / n_c
        diff = mean_t - mean_c
        if kind == "rate":
            p_t, p_c = mean_t + shift, mean_c + shift
            var_t, var_c = p_t * (1.0 - p_t), p_c * (1.0 - p_c)
        else:
            q_t, q_c = np.cumsum(x_t * x_t)[idx], np.cumsum(x_c * x_c)[idx]
            var_t = np.maximum(q_t - s_t * mean_t, 0.0) / (n_t - 1.0)
            var_c = np.maximum(q_c - s_c * mean_c, 0.0) / (n_c - 1.0)
        v = var_t / n_t + var_c / n_c
        ok = (n_t >= 2) & (n_c >= 2) & np.isfinite(v) & (v > 0.0)
        tau2 = tau * tau
        log_lam = 0.5 * np.log(v / (v + tau2)) + diff**2 * tau2 / (2.0 * v * (v + tau2))
    # p = min(1, 1/Λ) computed in log space (no overflow), untestable looks contribute 1
    p_step = np.where(ok, np.exp(-np.maximum(np.where(ok, log_lam, 0.0), 0.0)), 1.0)
    return n_c, n_t, diff, np.minimum.accumulate(p_step)


# --------------------------------------------------------------------------------------------
# decision
# --------------------------------------------------------------------------------------------


def recommend(
    comparison: Comparison,
    *,
    alpha: float,
    minimum_sample: int,
    srm: SRM | None = None,
    higher_is_better: bool = True,
    sequential_p_value: float | None = None,
) -> Recommendation:
    """Turn the primary metric's comparison into a decision.

    Rules, in order:
        1. ``srm.mismatch`` → ``investigate`` (the assignment is broken; no result is trusted).
        2. either arm below ``minimum_sample`` → ``continue``.
        3. the decision p-value is ``sequential_p_value`` when given (valid under continuous
           monitoring), else the fixed-horizon ``comparison.p_value``. If it is ``< alpha``:
           better direction → ``promote_treatment``, worse → ``keep_control``.
        4. otherwise (including an undefined p-value) → ``keep_control``, no significant difference.

    Args:
        comparison: Result of :func:`compare` for the primary metric (arm sizes are read from it).
        alpha: Significance level.
        minimum_sample: Minimum units per arm before any verdict.
        srm: Result of :func:`srm_check`, if one was run.
        higher_is_better: Direction of improvement of the primary metric.
        sequential_p_value: Always-valid p-value (e.g. :attr:`SequentialResult.p_value`).

    Returns:
        The decision and a one-line reason.
    """
    _check_alpha(alpha)
    if srm is not None and srm.mismatch:
        return Recommendation(
            "investigate",
            f"sample ratio mismatch (p={srm.p_value:.3g} < {srm.threshold:g}): "
            "the assignment is not trustworthy",
        )
    n_c, n_t = comparison.control.n, comparison.treatment.n
    if min(n_c, n_t) < minimum_sample:
        return Recommendation(
            "continue",
            f"not enough data: control n={n_c}, treatment n={n_t}, "
            f"minimum {minimum_sample} per arm",
        )
    label = "sequential p" if sequential_p_value is not None else "p"
    p = sequential_p_value if sequential_p_value is not None else comparison.p_value
    if p is None or not math.isfinite(p):
        return Recommendation(
            "keep_control", "no significant difference (the test is undefined for this data)"
        )
    lift = (
        f", relative lift {comparison.relative_lift:+.2%}"
        if math.isfinite(comparison.relative_lift)
        else ""
    )
    if p < alpha and comparison.diff != 0.0 and math.isfinite(comparison.diff):
        better = (comparison.diff > 0.0) == higher_is_better
        stats_txt = f"diff {comparison.diff:+.4g}{lift}, {label}={p:.3g} < {alpha:g}"
        if better:
            return Recommendation(
                "promote_treatment", f"treatment significantly better: {stats_txt}"
            )
        return Recommendation("keep_control", f"treatment significantly worse: {stats_txt}")
    return Recommendation(
        "keep_control", f"no significant difference: {label}={p:.3g} >= {alpha:g}{lift}"
    )
