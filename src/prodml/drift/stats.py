"""Drift statistics: per-column drift tests, PSI, histograms and correlation change.

Pure functions, no I/O. numpy and scipy are imported inside the functions so that importing this
module (from the CLI) stays cheap.

The default test per column follows Evidently 0.7's ``DataDriftPreset`` (its
``_get_default_stattest``), so that verdicts can be compared one to one. The choice depends on
the column kind, the number of non-null reference rows and the number of distinct non-null values
over *both* samples (``n_unique``); it is written down as data in :data:`SELECTION_RULES`::

    kind         reference rows   n_unique    method          drift when
    numeric      <= 1000          <= 2        z               p < 0.05
    numeric      <= 1000          3..5        chi2            p < 0.05
    numeric      <= 1000          > 5         ks              p <= 0.05
    numeric      > 1000           <= 5        jensenshannon   distance >= 0.1
    numeric      > 1000           > 5         wasserstein     distance >= 0.1
    categorical  <= 1000          <= 2        z               p < 0.05
    categorical  <= 1000          > 2         chi2            p < 0.05
    categorical  > 1000           any         jensenshannon   distance >= 0.1

A dataset drifts when the share of drifted columns is ``>= 0.5``. Every number above is a field
of :class:`Defaults`. The methods replicate Evidently's implementations:

* ``ks``: ``scipy.stats.ks_2samp(reference, current)`` (two-sided, ``method="auto"``); the
  statistic is D. Evidently's KS flags drift on ``p <= threshold`` (the other p-value tests use
  ``p < threshold``); kept as is.
* ``wasserstein``: ``scipy.stats.wasserstein_distance(reference, current) / max(std, 0.001)``
  with ``std = np.std(reference)`` (ddof=0). The 0.001 floor (``Defaults.wasserstein_std_floor``)
  is Evidently's: a constant reference gives a large but finite normalised distance, so any real
  change of a constant column is flagged and an unchanged one gives 0. The distance is
  computed from the two samples sorted once and merged (:class:`SortedPair`), summing the same
  terms as SciPy; the merge also gives ``n_unique``, the PSI bins and the out-of-range share.
* ``chi2``: ``scipy.stats.chisquare(f_obs, f_exp)`` over the union of categories, with
  ``f_obs`` the current counts and ``f_exp`` the reference counts scaled by
  ``n_current / n_reference``. A category absent from the reference has ``f_exp = 0``, so the
  statistic is ``inf`` and ``p = 0`` (drift) — exactly what Evidently gets from SciPy.
* ``z``: pooled two-proportion z-test (equal to statsmodels' ``proportions_ztest``). The sorted
  categories are coded 0 (the first) and 1; ``statistic = (p_ref - p_cur) / se`` with ``p`` the
  share of code 1. One distinct value on both sides gives ``z = 0, p = 1``.
* ``jensenshannon``: ``scipy.spatial.distance.jensenshannon`` (natural log) of the two
  category-frequency vectors over the union of categories. Evidently does **not** smooth zero
  frequencies for this test (its ``get_binned_data(..., feel_zeroes=False)``), and neither do we;
  the distance is in ``[0, sqrt(ln 2)]``.

Column kinds (when not given) follow Evidently 0.7's ``infer_column_type``: float → numeric,
integer → categorical with at most 10 distinct values, else numeric; booleans, strings and
anything else → categorical. Unlike Evidently the decision is taken on the **reference** (Evidently
looks at the current data) so that a column's kind does not flip between monitoring runs;
high-cardinality strings stay categorical (Evidently would call them text); datetime columns are
not tested (Evidently skips them too). A float column with few values is still "numeric", but
with ``n_unique <= 5`` it gets the categorical tests through the table above, as in Evidently.

Extra signals, reported next to the verdict and never part of it:

* PSI for every column: numeric columns use 10 bins cut at the reference deciles (the outer bins
  are open, so current values beyond the reference range fall in the extreme bins); categorical
  columns one bin per category of the union. Empty-bin shares are replaced by
  ``epsilon = 1e-4`` (no renormalisation); ``psi = Σ (cur - ref) · ln(cur / ref)``, a signal when
  ``>= 0.1``. (Evidently's optional PSI test uses Sturges bins over the joint range instead.)
* categorical: categories new in current and missing from current (lists capped at 20, most
  frequent first, plus their full numbers) and the share of current rows in new categories;
* numeric: the share of current values outside the reference ``[min, max]``.

Nulls (``None``, NaN, ``pd.NA``, and ±inf — Evidently drops infinities too) are dropped before
anything is computed; their share per side is reported. A column with fewer than ``min_rows``
(30) non-null values on either side gets ``status="not_enough_data"``, a reason and
``drift=None`` (Evidently computes with any non-empty sample and errors on an empty one).

Categories are counted on each side by hashing, without sorting the rows (string data with
pyarrow's ``value_counts``, object arrays of ``str`` with a dict, numbers with ``np.unique``),
then the distinct values of both sides are merged in ``np.unique`` order; the counts are those of
``np.unique`` over both samples. String columns in pyarrow or pandas (``str``/``string`` dtype)
stay in Arrow and are never turned into Python objects.

With several columns, ``dataset_drift`` can correct the p-values of the columns tested by a
p-value method (Bonferroni, Holm, Benjamini-Hochberg, each equal to statsmodels'
``multipletests``); distance methods are unaffected. Evidently applies no correction (the default
``"none"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    AnyArray = npt.NDArray[Any]
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    _Counts = tuple[AnyArray, IntArray]  # distinct values (any order) and their counts

from prodml.drift.defaults import (
    CORRECTIONS,
    DEFAULTS,
    METHODS,
    NUMERIC_ONLY,
    P_INCLUSIVE,
    P_VALUE_METHODS,
    SELECTION_RULES,
    ColumnKind,
    Correction,
    Defaults,
    Method,
    SelectionRule,
    Status,
    check_kind,
    check_method,
    select_method,
)
from prodml.drift.errors import DriftInputError
from prodml.drift.samples import (
    Clean,
    SortedPair,
    as_float,
    category_counts,
    clean_input,
    infer_kind,
    infer_kind_clean,
    is_temporal,
    quantile_bin_counts,
    to_input,
)

__all__ = [
    "DEFAULTS",
    "METHODS",
    "P_VALUE_METHODS",
    "SELECTION_RULES",
    "ColumnDrift",
    "ColumnKind",
    "Correction",
    "DatasetDrift",
    "Defaults",
    "Method",
    "SelectionRule",
    "adjust_p_values",
    "column_drift",
    "dataset_drift",
    "infer_kind",
    "psi",
    "select_method",
]

# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column between the reference and the current sample.

    ``statistic`` is the test statistic or distance (KS D, chi-square, z, normalised Wasserstein,
    Jensen-Shannon distance); ``p_value`` is ``None`` for distances. ``p_value_adjusted`` is the
    p-value the verdict used (after a multiple-testing correction in :func:`dataset_drift`, else
    equal to ``p_value``). With ``status="not_enough_data"`` the method, statistics, PSI and
    verdict are ``None`` and ``reason`` says why. ``n_reference``/``n_current`` count non-null
    values; the null shares are of all values (``None`` for an empty input).
    """

    JSON_PROPERTIES = ("drift_score",)

    column: str
    kind: ColumnKind
    method: Method | None
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    threshold: float | None
    drift: bool | None
    status: Status
    reason: str | None
    psi: float | None
    psi_drift: bool | None
    n_reference: int
    n_current: int
    n_unique: int
    null_share_reference: float | None
    null_share_current: float | None
    new_categories: tuple[Any, ...] | None = None
    n_new_categories: int | None = None
    new_category_share: float | None = None
    missing_categories: tuple[Any, ...] | None = None
    n_missing_categories: int | None = None
    out_of_range_share: float | None = None

    @property
    def drift_score(self) -> float | None:
        """Evidently's ``drift_score``: the p-value for p-value tests, else the distance."""
        return self.p_value_adjusted if self.p_value is not None else self.statistic


@dataclass(frozen=True)
class DatasetDrift:
    """The drift of a set of columns.

    ``drifted_share = n_drifted / n_tested`` over the columns with ``status="ok"``; ``drift`` is
    ``drifted_share >= share_threshold``. Both are ``None`` when no column could be tested.
    ``skipped`` lists the columns that were not tested at all (datetime columns).
    """

    columns: tuple[ColumnDrift, ...]
    n_columns: int
    n_tested: int
    n_drifted: int
    drifted_share: float | None
    drift: bool | None
    share_threshold: float
    correction: Correction
    skipped: tuple[str, ...] = ()

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns whose verdict is drift."""
        return [c.column for c in self.columns if c.drift]

    def column(self, name: str) -> ColumnDrift:
        """The result of one column (``KeyError`` if it was not tested)."""
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------


def _ks(ref: FloatArray, cur: FloatArray) -> tuple[float, float]:
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    res = stats.ks_2samp(ref, cur)
    return float(res.statistic), float(res.pvalue)


def _wasserstein(pair: SortedPair, ref: FloatArray, std_floor: float) -> float:
    import numpy as np

    norm = max(float(np.std(ref)), std_floor)
    return pair.wasserstein() / norm


def _chi2(ref_counts: IntArray, cur_counts: IntArray) -> tuple[float, float]:
    import numpy as np
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    if ref_counts.size < 2:
        return 0.0, 1.0
    f_exp = ref_counts * (cur_counts.sum() / ref_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(cur_counts, f_exp)
    return float(res.statistic), float(res.pvalue)


def _z(ref_counts: IntArray, cur_counts: IntArray) -> tuple[float, float]:
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    if ref_counts.size > 2:
        raise DriftInputError(f"the z-test needs at most 2 categories, got {ref_counts.size}")
    if ref_counts.size < 2:
        return 0.0, 1.0
    n1, n2 = float(ref_counts.sum()), float(cur_counts.sum())
    x1, x2 = float(ref_counts[1]), float(cur_counts[1])
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, float(2.0 * stats.norm.sf(abs(z)))


def _jensenshannon(ref_counts: IntArray, cur_counts: IntArray) -> float:
    from scipy.spatial import distance  # type: ignore[import-untyped, unused-ignore]

    value = float(
        distance.jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    )
    # sqrt of a rounding-negative divergence (identical inputs) is NaN in SciPy: it is 0
    return value if math.isfinite(value) else 0.0


def _psi_from_counts(ref_counts: IntArray, cur_counts: IntArray, epsilon: float) -> float:
    import numpy as np

    p = ref_counts / ref_counts.sum()
    q = cur_counts / cur_counts.sum()
    p = np.where(p == 0.0, epsilon, p)
    q = np.where(q == 0.0, epsilon, q)
    return float(np.sum((q - p) * np.log(q / p)))


def psi(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    kind: ColumnKind | None = None,
    bins: int = 10,
    *,
    epsilon: float = 1e-4,
) -> float:
    """Population stability index of ``current`` against ``reference``.

    Numeric: ``bins`` bins cut at the reference quantiles ``1/bins, ..., (bins-1)/bins`` (equal
    cut points merged; the outer bins are open-ended). Categorical: one bin per category of the
    union. Empty-bin shares become ``epsilon``; ``psi = Σ (cur - ref) · ln(cur / ref)``.

    Raises:
        ValueError: If either side has no non-null value, or ``bins < 1``.
    """
    if bins < 1:
        raise DriftInputError(f"bins must be >= 1, got {bins}")
    import numpy as np

    ref = clean_input(reference, "reference")
    cur = clean_input(current, "current")
    if ref.n == 0 or cur.n == 0:
        raise DriftInputError("psi needs at least one non-null value on each side")
    if kind is None:
        kind = infer_kind_clean(ref, DEFAULTS)
    check_kind(kind)
    if kind == "numeric":
        _, rc, cc = quantile_bin_counts(
            np.sort(as_float(ref.values, "reference")),
            np.sort(as_float(cur.values, "current")),
            bins,
        )
    else:
        _, rc, cc = category_counts(ref, cur)
    return _psi_from_counts(rc, cc, epsilon)


# --------------------------------------------------------------------------------------------
# one column
# --------------------------------------------------------------------------------------------


def _listed(cats: AnyArray, idx: IntArray, order_by: IntArray, cap: int) -> tuple[Any, ...]:
    """``cats[idx]`` as JSON-friendly Python values, most frequent first, at most ``cap``."""
    import numpy as np

    ordered = idx[np.argsort(-order_by[idx], kind="stable")][:cap]
    return tuple(cats[ordered].tolist())


def _not_enough(
    name: str,
    kind: ColumnKind,
    ref: Clean,
    cur: Clean,
    reason: str,
    n_unique: int,
    extras: dict[str, Any],
) -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind=kind,
        method=None,
        statistic=None,
        p_value=None,
        p_value_adjusted=None,
        threshold=None,
        drift=None,
        status="not_enough_data",
        reason=reason,
        psi=None,
        psi_drift=None,
        n_reference=ref.n,
        n_current=cur.n,
        n_unique=n_unique,
        null_share_reference=ref.null_share,
        null_share_current=cur.null_share,
        **extras,
    )


def _p_drift(method: Method, p_value: float, threshold: float) -> bool:
    return p_value <= threshold if method in P_INCLUSIVE else p_value < threshold


def column_drift(
    name: str,
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    kind: ColumnKind | None = None,
    *,
    defaults: Defaults = DEFAULTS,
    method: Method | None = None,
    threshold: float | None = None,
) -> ColumnDrift:
    """Test one column for drift (see the module docstring for the rules).

    Args:
        name: Column name (reported only).
        reference: Reference values: numpy array, list, pandas Series or pyarrow array.
        current: Current values, same forms.
        kind: ``"numeric"`` or ``"categorical"``; ``None`` infers it from the reference
            (:func:`infer_kind`).
        defaults: Thresholds and boundaries.
        method: Force a method instead of :func:`select_method`'s choice (``"ks"`` and
            ``"wasserstein"`` need a numeric column, ``"z"`` at most two distinct values).
        threshold: Override the method's default threshold.

    Returns:
        The column result; never NaN verdicts: too few non-null values give
        ``status="not_enough_data"`` and ``drift=None``.

    Raises:
        TypeError: For datetime/timedelta/complex values.
        ValueError: For an unknown kind or method, a method that does not fit the column, or
            non-numeric values with ``kind="numeric"``.
    """
    ref = clean_input(reference, f"{name}: reference")
    cur = clean_input(current, f"{name}: current")
    if kind is None:
        kind = infer_kind_clean(ref if ref.n else cur, defaults)
    method = _check_choice(name, kind, method, threshold)
    sides = _Sides.of(name, kind, ref, cur)
    extras = sides.extras(defaults) if ref.n and cur.n else {}
    short = [
        f"{side} has {n} non-null value{'s' if n != 1 else ''}"
        for side, n in (("reference", ref.n), ("current", cur.n))
        if n < defaults.min_rows
    ]
    if short:
        reason = " and ".join(short) + f" (min_rows={defaults.min_rows})"
        return _not_enough(name, kind, ref, cur, reason, sides.n_unique, extras)
    if method is None:
        method = select_method(kind, ref.n, sides.n_unique, defaults)
    elif method == "z" and sides.n_unique > 2:
        raise DriftInputError(
            f"{name}: the z-test needs at most 2 distinct values, got {sides.n_unique}"
        )
    thr = defaults.threshold(method) if threshold is None else float(threshold)
    statistic, p_value = sides.test(method, defaults)
    drift = _p_drift(method, p_value, thr) if p_value is not None else statistic >= thr
    psi_value = sides.psi(defaults)
    return ColumnDrift(
        column=name,
        kind=kind,
        method=method,
        statistic=statistic,
        p_value=p_value,
        p_value_adjusted=p_value,
        threshold=thr,
        drift=bool(drift),
        status="ok",
        reason=None,
        psi=psi_value,
        psi_drift=bool(psi_value >= defaults.psi_threshold),
        n_reference=ref.n,
        n_current=cur.n,
        n_unique=sides.n_unique,
        null_share_reference=ref.null_share,
        null_share_current=cur.null_share,
        **extras,
    )


def _names(
    reference: Mapping[str, Any], current: Mapping[str, Any], columns: Sequence[str] | None
) -> list[str]:
    """The columns to test: those given, else the reference's then the current-only ones."""
    if columns is None:
        return list(reference) + [c for c in current if c not in reference]
    unknown = [c for c in columns if c not in reference and c not in current]
    if unknown:
        raise KeyError(f"columns not in reference nor current: {unknown}")
    return list(columns)


def _corrected(results: list[ColumnDrift], correction: Correction) -> list[ColumnDrift]:
    """Verdicts on the multiple-testing-corrected p-values (distances are unaffected)."""
    tested = [i for i, r in enumerate(results) if r.status == "ok" and r.p_value is not None]
    if correction == "none" or not tested:
        return results
    adjusted = adjust_p_values([cast(float, results[i].p_value) for i in tested], correction)
    out = list(results)
    for i, p_adj in zip(tested, adjusted, strict=True):
        r = out[i]
        assert r.method is not None and r.threshold is not None
        out[i] = replace(r, p_value_adjusted=p_adj, drift=_p_drift(r.method, p_adj, r.threshold))
    return out


def _check_choice(
    name: str, kind: ColumnKind, method: Method | None, threshold: float | None
) -> Method | None:
    """A forced method and threshold that fit the column (None: the default method)."""
    check_kind(kind)
    if method is not None:
        method = check_method(method)
        if method in NUMERIC_ONLY and kind != "numeric":
            raise DriftInputError(f"{name}: method {method!r} needs a numeric column, got {kind}")
    if threshold is not None and not math.isfinite(threshold):
        raise DriftInputError(f"{name}: threshold must be finite, got {threshold!r}")
    return method


@dataclass
class _Sides:
    """The two sides of a column, prepared for its kind: category counts, or sorted numbers
    (whose counts per value are made only when a categorical test is chosen)."""

    kind: ColumnKind
    ref: Clean
    cur: Clean
    n_unique: int
    cats: Any = None
    ref_counts: Any = None
    cur_counts: Any = None
    pair: SortedPair | None = None
    ref_v: Any = None  # the numbers as given (statistics are computed on them as before)
    cur_v: Any = None

    @classmethod
    def of(cls, name: str, kind: ColumnKind, ref: Clean, cur: Clean) -> _Sides:
        if kind == "categorical":
            cats, ref_counts, cur_counts = category_counts(ref, cur)
            return cls(kind, ref, cur, int(cats.size), cats, ref_counts, cur_counts)
        ref_v = as_float(ref.values, f"{name}: reference")
        cur_v = as_float(cur.values, f"{name}: current")
        pair = SortedPair(ref_v, cur_v)
        return cls(kind, ref, cur, pair.n_unique, pair=pair, ref_v=ref_v, cur_v=cur_v)

    def extras(self, defaults: Defaults) -> dict[str, Any]:
        """New and missing categories, or the share of current values out of range."""
        import numpy as np

        if self.pair is not None:
            return {"out_of_range_share": self.pair.out_of_range_share()}
        new = np.flatnonzero((self.ref_counts == 0) & (self.cur_counts > 0))
        missing = np.flatnonzero((self.cur_counts == 0) & (self.ref_counts > 0))
        cap = defaults.max_listed_categories
        return {
            "new_categories": _listed(self.cats, new, self.cur_counts, cap),
            "n_new_categories": int(new.size),
            "new_category_share": float(self.cur_counts[new].sum() / self.cur.n),
            "missing_categories": _listed(self.cats, missing, self.ref_counts, cap),
            "n_missing_categories": int(missing.size),
        }

    def test(self, method: Method, defaults: Defaults) -> tuple[float, float | None]:
        """(statistic, p-value or None for a distance) of ``method``."""
        if self.pair is not None and method not in NUMERIC_ONLY:
            _, self.ref_counts, self.cur_counts = self.pair.counts()
        if method == "ks":
            return _ks(self.ref_v, self.cur_v)
        if method == "wasserstein":
            assert self.pair is not None
            return _wasserstein(self.pair, self.ref_v, defaults.wasserstein_std_floor), None
        if method == "chi2":
            return _chi2(self.ref_counts, self.cur_counts)
        if method == "z":
            return _z(self.ref_counts, self.cur_counts)
        return _jensenshannon(self.ref_counts, self.cur_counts), None

    def psi(self, defaults: Defaults) -> float:
        """The population stability index (over quantile bins for numbers)."""
        if self.pair is not None:
            _, prc, pcc = quantile_bin_counts(self.pair.ref, self.pair.cur, defaults.psi_bins)
            return _psi_from_counts(prc, pcc, defaults.psi_epsilon)
        return _psi_from_counts(self.ref_counts, self.cur_counts, defaults.psi_epsilon)


# --------------------------------------------------------------------------------------------
# many columns
# --------------------------------------------------------------------------------------------


def adjust_p_values(p_values: Sequence[float] | npt.ArrayLike, method: Correction) -> list[float]:
    """Multiple-testing adjusted p-values (equal to statsmodels' ``multipletests``).

    ``"bonferroni"``: ``min(1, m·p)``. ``"holm"``: step-down, ``max_{j<=i} (m-j+1)·p_(j)``.
    ``"bh"`` (Benjamini-Hochberg, ``fdr_bh``): step-up, ``min_{j>=i} m·p_(j)/j``. All clipped at
    1; ``"none"`` returns the p-values unchanged. The order of the input is kept.
    """
    import numpy as np

    if method not in CORRECTIONS:
        raise DriftInputError(f"correction must be one of {CORRECTIONS}, got {method!r}")
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise DriftInputError("p-values must be in [0, 1]")
    m = p.size
    if method == "none" or m == 0:
        return [float(x) for x in p]
    if method == "bonferroni":
        return [float(x) for x in np.minimum(p * m, 1.0)]
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ps * np.arange(m, 0, -1))
    else:
        adj = np.minimum.accumulate((ps / (np.arange(1, m + 1) / m))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return [float(x) for x in out]


def _empty() -> AnyArray:
    import numpy as np

    return np.asarray([], dtype=np.float64)


def dataset_drift(
    reference: Mapping[str, npt.ArrayLike],
    current: Mapping[str, npt.ArrayLike],
    kinds: Mapping[str, ColumnKind] | None = None,
    *,
    defaults: Defaults = DEFAULTS,
    correction: Correction = "none",
    methods: Mapping[str, Method] | None = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
) -> DatasetDrift:
    """Test every column and decide on dataset drift.

    Args:
        reference: Column name → reference values (a dict of arrays, a pandas DataFrame, ...).
        current: Column name → current values.
        kinds: Column kinds; missing ones are inferred from the reference.
        defaults: Thresholds and boundaries.
        correction: Multiple-testing correction of the p-values of the columns tested with a
            p-value method (``"none"``, ``"bonferroni"``, ``"holm"``, ``"bh"``); the verdict of
            those columns uses the adjusted p-value. Distance methods are unaffected.
        methods: Per-column method overrides.
        thresholds: Per-column threshold overrides.
        columns: The columns to test, in order; default: the reference's columns followed by the
            current-only ones. A column absent from one side is ``not_enough_data``.

    Returns:
        The per-column results, the share of drifted columns among the tested ones and the
        verdict ``share >= defaults.dataset_share``. Datetime columns are skipped and listed.
    """
    if correction not in CORRECTIONS:
        raise DriftInputError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    kinds, methods, thresholds = kinds or {}, methods or {}, thresholds or {}
    results: list[ColumnDrift] = []
    skipped: list[str] = []
    for col in _names(reference, current, columns):
        ref_arr = to_input(reference[col], col) if col in reference else _empty()
        cur_arr = to_input(current[col], col) if col in current else _empty()
        if is_temporal(ref_arr) or is_temporal(cur_arr):
            skipped.append(col)
            continue
        res = column_drift(
            col,
            ref_arr,
            cur_arr,
            kinds.get(col),
            defaults=defaults,
            method=methods.get(col),
            threshold=thresholds.get(col),
        )
        absent = [
            s for s, data in (("reference", reference), ("current", current)) if col not in data
        ]
        if absent:
            res = replace(res, reason=f"column missing from the {' and '.join(absent)} data")
        results.append(res)
    results = _corrected(results, correction)
    n_tested = sum(1 for r in results if r.status == "ok")
    n_drifted = sum(1 for r in results if r.drift)
    share = n_drifted / n_tested if n_tested else None
    return DatasetDrift(
        columns=tuple(results),
        n_columns=len(results),
        n_tested=n_tested,
        n_drifted=n_drifted,
        drifted_share=share,
        drift=None if share is None else bool(share >= defaults.dataset_share),
        share_threshold=defaults.dataset_share,
        correction=correction,
        skipped=tuple(skipped),
    )
