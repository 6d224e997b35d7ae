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
  computed from the two samples sorted once and merged (:class:`_Sorted`), summing the same
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
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    AnyArray = npt.NDArray[Any]
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    _Counts = tuple[AnyArray, IntArray]  # distinct values (any order) and their counts

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
    "correlation_change",
    "dataset_drift",
    "histogram",
    "infer_kind",
    "psi",
    "select_method",
]

ColumnKind = Literal["numeric", "categorical"]
Method = Literal["ks", "wasserstein", "chi2", "z", "jensenshannon"]
Correction = Literal["none", "bonferroni", "holm", "bh"]
Status = Literal["ok", "not_enough_data"]
UniqueBand = Literal["binary", "few", "many"]

METHODS: tuple[Method, ...] = ("ks", "wasserstein", "chi2", "z", "jensenshannon")
#: Methods whose score is a p-value (drift on a small p); the others are distances.
P_VALUE_METHODS: frozenset[str] = frozenset({"ks", "chi2", "z"})
#: Methods that need numeric values (the others treat the values as categories).
_NUMERIC_ONLY: frozenset[str] = frozenset({"ks", "wasserstein"})
#: p-value methods that flag drift on ``p <= threshold`` rather than ``p < threshold``.
_P_INCLUSIVE: frozenset[str] = frozenset({"ks"})
_CORRECTIONS: tuple[Correction, ...] = ("none", "bonferroni", "holm", "bh")
_KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical")


# --------------------------------------------------------------------------------------------
# defaults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """Every tunable number of the drift statistics; the defaults are Evidently 0.7's.

    Attributes:
        small_reference_rows: Reference columns with at most this many non-null rows get the
            p-value tests (ks / chi2 / z), larger ones the distances.
        binary_max_unique: At most this many distinct values (both samples) → z-test when small.
        categorical_max_unique: At most this many distinct values → categorical tests even for a
            numeric column.
        integer_categorical_max_unique: Kind inference: an integer column with at most this many
            distinct reference values is categorical (Evidently 0.7's
            ``INTEGER_CARDINALITY_LIMIT``).
        p_value_threshold: Significance level of ks / chi2 / z.
        wasserstein_threshold: Drift when the normalised Wasserstein distance is at least this.
        jensenshannon_threshold: Drift when the Jensen-Shannon distance is at least this.
        wasserstein_std_floor: Lower bound of the reference std that normalises Wasserstein.
        psi_bins: Number of reference-quantile bins of the numeric PSI.
        psi_epsilon: Share given to empty PSI bins.
        psi_threshold: PSI signal when at least this.
        dataset_share: Dataset drift when at least this share of tested columns drifted.
        min_rows: Fewer non-null values than this on either side → ``not_enough_data``.
        correlation_threshold: :func:`correlation_change` lists the pairs whose Pearson
            correlation changed by at least this much (absolute).
        histogram_bins: Default number of bins (numeric) or categories (categorical) of
            :func:`histogram`.
        max_listed_categories: Cap of the new/missing category lists of a column result.
    """

    small_reference_rows: int = 1000
    binary_max_unique: int = 2
    categorical_max_unique: int = 5
    integer_categorical_max_unique: int = 10
    p_value_threshold: float = 0.05
    wasserstein_threshold: float = 0.1
    jensenshannon_threshold: float = 0.1
    wasserstein_std_floor: float = 0.001
    psi_bins: int = 10
    psi_epsilon: float = 1e-4
    psi_threshold: float = 0.1
    dataset_share: float = 0.5
    min_rows: int = 30
    correlation_threshold: float = 0.2
    histogram_bins: int = 20
    max_listed_categories: int = 20

    def threshold(self, method: Method) -> float:
        """The default threshold of ``method``."""
        if method in P_VALUE_METHODS:
            return self.p_value_threshold
        if method == "wasserstein":
            return self.wasserstein_threshold
        if method == "jensenshannon":
            return self.jensenshannon_threshold
        raise ValueError(f"unknown drift method {method!r}; expected one of {METHODS}")


DEFAULTS = Defaults()


@dataclass(frozen=True)
class SelectionRule:
    """One row of the default-method table.

    ``small_reference`` is ``n_reference <= Defaults.small_reference_rows``; ``unique`` is the band
    of the number of distinct values over both samples: ``"binary"`` (``<= binary_max_unique``),
    ``"few"`` (``<= categorical_max_unique``) or ``"many"``.
    """

    kind: ColumnKind
    small_reference: bool
    unique: UniqueBand
    method: Method


#: Evidently 0.7's default test choice (``_get_default_stattest``), as data.
SELECTION_RULES: tuple[SelectionRule, ...] = (
    SelectionRule("numeric", True, "binary", "z"),
    SelectionRule("numeric", True, "few", "chi2"),
    SelectionRule("numeric", True, "many", "ks"),
    SelectionRule("numeric", False, "binary", "jensenshannon"),
    SelectionRule("numeric", False, "few", "jensenshannon"),
    SelectionRule("numeric", False, "many", "wasserstein"),
    SelectionRule("categorical", True, "binary", "z"),
    SelectionRule("categorical", True, "few", "chi2"),
    SelectionRule("categorical", True, "many", "chi2"),
    SelectionRule("categorical", False, "binary", "jensenshannon"),
    SelectionRule("categorical", False, "few", "jensenshannon"),
    SelectionRule("categorical", False, "many", "jensenshannon"),
)

_RULES: dict[tuple[str, bool, str], Method] = {
    (r.kind, r.small_reference, r.unique): r.method for r in SELECTION_RULES
}


def select_method(
    kind: ColumnKind, n_reference: int, n_unique: int, defaults: Defaults = DEFAULTS
) -> Method:
    """The default drift method (:data:`SELECTION_RULES`).

    Args:
        kind: The column kind.
        n_reference: Non-null reference rows.
        n_unique: Distinct non-null values over reference and current together.
        defaults: The boundaries.
    """
    _check_kind(kind)
    if n_unique <= defaults.binary_max_unique:
        band: UniqueBand = "binary"
    elif n_unique <= defaults.categorical_max_unique:
        band = "few"
    else:
        band = "many"
    return _RULES[(kind, n_reference <= defaults.small_reference_rows, band)]


# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


def _clean(value: float | None) -> float | None:
    """A JSON-safe float: NaN and ±inf become ``None``."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


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

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (NaN/inf become ``None``)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "statistic": _clean(self.statistic),
            "p_value": _clean(self.p_value),
            "p_value_adjusted": _clean(self.p_value_adjusted),
            "drift_score": _clean(self.drift_score),
            "threshold": _clean(self.threshold),
            "drift": self.drift,
            "status": self.status,
            "reason": self.reason,
            "psi": _clean(self.psi),
            "psi_drift": self.psi_drift,
            "n_reference": int(self.n_reference),
            "n_current": int(self.n_current),
            "n_unique": int(self.n_unique),
            "null_share_reference": _clean(self.null_share_reference),
            "null_share_current": _clean(self.null_share_current),
            "new_categories": None if self.new_categories is None else list(self.new_categories),
            "n_new_categories": self.n_new_categories,
            "new_category_share": _clean(self.new_category_share),
            "missing_categories": (
                None if self.missing_categories is None else list(self.missing_categories)
            ),
            "n_missing_categories": self.n_missing_categories,
            "out_of_range_share": _clean(self.out_of_range_share),
        }


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

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (NaN/inf become ``None``)."""
        return {
            "n_columns": int(self.n_columns),
            "n_tested": int(self.n_tested),
            "n_drifted": int(self.n_drifted),
            "drifted_share": _clean(self.drifted_share),
            "drift": self.drift,
            "share_threshold": float(self.share_threshold),
            "correction": self.correction,
            "skipped": list(self.skipped),
            "columns": [c.to_json() for c in self.columns],
        }


# --------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'numeric' or 'categorical', got {kind!r}")


def _check_method(method: str) -> Method:
    if method not in METHODS:
        raise ValueError(f"unknown drift method {method!r}; expected one of {METHODS}")
    return method


def _to_array(values: Any, name: str = "values") -> AnyArray:
    """A 1-D numpy array from a numpy array, list, pandas Series or pyarrow (chunked) array."""
    import numpy as np

    if type(values).__module__.split(".")[0] == "pyarrow" and hasattr(values, "to_numpy"):
        arr = np.asarray(values.to_numpy(zero_copy_only=False))
    elif isinstance(values, (list, tuple)):
        # as objects, so that None/NaN among strings are not turned into "None"/"nan";
        # _drop_nulls re-types the non-null values
        arr = np.asarray(values, dtype=object)
    else:
        arr = np.asarray(values)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be one-dimensional, got a scalar")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _arrow_strings(values: Any) -> Any:
    """``values`` as a pyarrow string (chunked) array when they are strings in Arrow already.

    That is a pyarrow string array, or a pandas string Series/array (pandas 3's default ``str``
    dtype is Arrow-backed: no copy). Anything else gives ``None``.
    """
    module = type(values).__module__.split(".")[0]
    if module == "pandas":
        if getattr(getattr(values, "dtype", None), "name", None) not in ("str", "string"):
            return None
        import pyarrow as pa

        try:
            values = pa.array(values)
        except (pa.ArrowException, TypeError, ValueError):
            return None
    elif module != "pyarrow":
        return None
    import pyarrow as pa

    arrow_type = getattr(values, "type", None)
    if arrow_type is None or not (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return None
    return values


def _to_input(values: Any, name: str) -> Any:
    """A 1-D numpy array (:func:`_to_array`), or a pyarrow string array for Arrow strings."""
    strings = _arrow_strings(values)
    return strings if strings is not None else _to_array(values, name)


def _is_temporal(arr: Any) -> bool:
    kind = getattr(getattr(arr, "dtype", None), "kind", None)
    return kind is not None and kind in "mM"


def _object_nulls(arr: AnyArray) -> AnyArray:
    """Null mask of an object array: ``None``, NaN, ``pd.NA``/``NaT`` (if pandas is loaded)."""
    import numpy as np

    pd = sys.modules.get("pandas")
    if pd is not None:  # pd.NA can only be in the data if pandas was imported
        return np.asarray(pd.isna(arr), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.equal(arr, cast(Any, None)) | np.not_equal(arr, arr), dtype=bool)


class _Clean:
    """The non-null values of one side.

    ``values`` is a numpy array: float64 (numeric), or int/bool/str/object. For string inputs
    (pyarrow, pandas, object arrays of ``str``) the distinct values and their counts are taken
    straight from the input (``counts``) and ``values`` is only built if it is asked for.
    """

    def __init__(
        self,
        values: AnyArray | None,
        n_total: int,
        *,
        counts: _Counts | None = None,
        raw: Any = None,
        name: str = "values",
    ) -> None:
        self._values = values
        self.n_total = n_total
        self.counts = counts
        self._raw = raw
        self._name = name
        if values is not None:
            self.n = int(values.size)
        else:
            assert counts is not None
            self.n = int(counts[1].sum())

    @property
    def values(self) -> AnyArray:
        if self._values is None:
            self._values = _drop_nulls(_to_array(self._raw, self._name), self._name).values
            self._raw = None
        return self._values

    @property
    def dtype_kind(self) -> str:
        """``values.dtype.kind`` (``"U"`` for counted strings, without building ``values``)."""
        if self._values is None and self.n:
            return "U"
        return str(self.values.dtype.kind)

    @property
    def null_share(self) -> float | None:
        return None if self.n_total == 0 else (self.n_total - self.n) / self.n_total


def _drop_nulls(arr: AnyArray, name: str) -> _Clean:
    """Drop ``None``/NaN/±inf; object arrays are re-typed from their non-null values."""
    import numpy as np

    if _is_temporal(arr):
        raise TypeError(f"{name}: datetime/timedelta columns are not supported by drift tests")
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name}: complex values are not supported")
    if kind == "f":
        finite = np.isfinite(arr)
        kept = arr if finite.all() else arr[finite]
        return _Clean(kept.astype(np.float64, copy=False), arr.size)
    if kind == "S":
        return _Clean(arr.astype(str), arr.size)
    if kind != "O":
        return _Clean(arr, arr.size)
    kept = arr[~_object_nulls(arr)]
    retyped = np.asarray(kept.tolist()) if kept.size else kept
    if retyped.ndim != 1 or retyped.dtype.kind in "mMc":
        retyped = kept  # nested sequences, datetimes...: keep as opaque objects
    elif retyped.dtype.kind == "f":
        retyped = retyped[np.isfinite(retyped)]
    return _Clean(retyped, arr.size)


def _arrow_int64(arr: Any) -> IntArray:
    """A pyarrow int64 array without nulls as numpy, read from its buffer.

    (``to_numpy`` would import pandas, which ``pyarrow`` does whenever it is installed.)
    """
    import numpy as np

    return np.frombuffer(
        arr.buffers()[1], dtype=np.int64, count=len(arr), offset=arr.offset * 8
    ).copy()


def _arrow_counts(strings: Any) -> _Counts:
    """Distinct non-null strings of a pyarrow string (chunked) array, counted by Arrow."""
    import numpy as np
    import pyarrow.compute as pc

    values, counts = pc.value_counts(strings).flatten()
    if values.null_count:
        valid = values.is_valid()
        values, counts = values.filter(valid), counts.filter(valid)
    return np.asarray(values.to_pylist(), dtype=str), _arrow_int64(counts)


def _object_counts(arr: AnyArray) -> _Counts | None:
    """Distinct non-null values of an object array of strings and their counts.

    Counted with a dict (``collections.Counter``: hashing, no sorting); the nulls are then
    dropped from the distinct values with :func:`_object_nulls`, as :func:`_drop_nulls` drops
    them from all values. ``None`` unless every non-null value is a ``str`` (numbers, bytes,
    mixes and unhashable objects take the numpy path).
    """
    import numpy as np

    try:
        counter = Counter(arr.tolist())
    except TypeError:  # unhashable values
        return None
    keys = np.fromiter(counter.keys(), dtype=object, count=len(counter))
    counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
    valid = ~_object_nulls(keys)
    keys, counts = keys[valid], counts[valid]
    if not all(isinstance(k, str) for k in keys.tolist()):
        return None
    return np.asarray(keys.tolist(), dtype=str), counts


def _clean_input(values: Any, name: str) -> _Clean:
    """The non-null values of one input (numpy, list, pandas, pyarrow); strings are counted."""
    strings = _arrow_strings(values)
    if strings is not None:
        counts: _Counts | None = _arrow_counts(strings)
        n_total = len(strings)
    else:
        values = _to_array(values, name)
        if values.dtype.kind != "O" or values.size == 0:
            return _drop_nulls(values, name)
        counts = _object_counts(values)
        if counts is None:
            return _drop_nulls(values, name)
        n_total = int(values.size)
    return _Clean(None, n_total, counts=counts, raw=values, name=name)


def _as_float(clean: AnyArray, name: str) -> FloatArray:
    import numpy as np

    if clean.dtype.kind not in "biuf":
        raise ValueError(f"{name}: kind='numeric' needs numeric values, got dtype {clean.dtype}")
    return clean.astype(np.float64, copy=False)


def _infer_kind_clean(clean: _Clean, defaults: Defaults) -> ColumnKind:
    import numpy as np

    k = clean.dtype_kind
    if k == "f":
        return "numeric"
    if k in "iu":
        n_unique = int(np.unique(clean.values).size)
        return "numeric" if n_unique > defaults.integer_categorical_max_unique else "categorical"
    return "categorical"


def infer_kind(values: npt.ArrayLike, defaults: Defaults = DEFAULTS) -> ColumnKind:
    """The kind of a column from its (reference) values, after dropping nulls.

    Floats are numeric; integers are categorical with at most
    ``defaults.integer_categorical_max_unique`` (10) distinct values, else numeric; booleans,
    strings and other objects are categorical (Evidently 0.7's rules, see the module docstring).
    """
    return _infer_kind_clean(_clean_input(values, "values"), defaults)


def _value_counts(clean: _Clean) -> _Counts | None:
    """Distinct non-null values of one side (any order) and their counts.

    Strings come counted (:func:`_clean_input`), or, as a numpy fixed-width unicode array, are
    counted by Arrow's hash kernel over a zero-copy fixed-size-binary view of the array's
    buffer (equal strings have equal bytes). Numbers and booleans use ``np.unique``. ``None``
    for other objects (the caller falls back to ``np.unique`` over both sides).
    """
    import numpy as np

    if clean.n == 0:
        return clean.values, np.zeros(0, dtype=np.int64)
    if clean.counts is not None:
        return clean.counts
    arr = clean.values
    if arr.dtype.kind in "biuf":
        cats, counts = np.unique(arr, return_counts=True)
        return cats, counts.astype(np.int64, copy=False)
    if arr.dtype.kind == "U" and arr.dtype.itemsize > 0:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = np.ascontiguousarray(arr)
        width = arr.dtype.itemsize
        view = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(width), arr.size, [None, pa.py_buffer(arr)]
        )
        values, counts = pc.value_counts(view).flatten()
        cats = np.frombuffer(
            values.buffers()[1], dtype=arr.dtype, count=len(values), offset=values.offset * width
        ).copy()
        return cats, _arrow_int64(counts)
    return None


def _union_counts(
    ref: AnyArray, cur: AnyArray, ref_counts: IntArray | None, cur_counts: IntArray | None
) -> tuple[AnyArray, IntArray, IntArray]:
    """Sorted union of the values of ``ref`` and ``cur`` and the summed counts of each.

    With ``*_counts=None`` every element counts once (raw values); else ``ref``/``cur`` are
    distinct values with their counts. Values that compare (or print) equal are merged.
    """
    import numpy as np

    try:
        both = np.concatenate([ref, cur])
    except (TypeError, ValueError):  # e.g. numbers against strings
        both = np.concatenate([ref.astype(object), cur.astype(object)])
    try:
        cats, inverse = np.unique(both, return_inverse=True)
    except TypeError:  # unorderable mix of types: compare their string forms
        cats, inverse = np.unique(both.astype(str), return_inverse=True)
    k = int(cats.size)
    inverse = inverse.ravel()
    out: list[IntArray] = []
    for idx, counts in ((inverse[: ref.size], ref_counts), (inverse[ref.size :], cur_counts)):
        if counts is None:
            out.append(np.bincount(idx, minlength=k).astype(np.int64))
        else:
            summed = np.zeros(k, dtype=np.int64)
            np.add.at(summed, idx, counts)
            out.append(summed)
    return cats, out[0], out[1]


def _category_counts(ref: _Clean, cur: _Clean) -> tuple[AnyArray, IntArray, IntArray]:
    """Sorted union of categories and the count of each in ``ref`` and ``cur``.

    Each side is counted on its own (:func:`_value_counts`), then the few distinct values are
    merged; equal to ``np.unique`` over the concatenated values, without sorting them.
    """
    ref_vc = _value_counts(ref)
    cur_vc = _value_counts(cur) if ref_vc is not None else None
    if ref_vc is None or cur_vc is None:
        return _union_counts(ref.values, cur.values, None, None)
    return _union_counts(ref_vc[0], cur_vc[0], ref_vc[1], cur_vc[1])


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------


def _ks(ref: FloatArray, cur: FloatArray) -> tuple[float, float]:
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    res = stats.ks_2samp(ref, cur)
    return float(res.statistic), float(res.pvalue)


class _Sorted:
    """Both samples of a numeric column sorted once (``np.sort``), and their merge.

    ``merged`` holds all values in order, reference values before equal current ones (what a
    stable sort of ``[reference, current]`` gives) and ``is_current`` marks the current ones.
    The number of distinct values, the category counts, the Wasserstein distance, the PSI bins
    and the out-of-range share all come from these arrays.
    """

    def __init__(self, ref: FloatArray, cur: FloatArray) -> None:
        import numpy as np

        self.ref = np.sort(ref)
        self.cur = np.sort(cur)
        both = np.concatenate([self.ref, self.cur])
        # a stable sort of two sorted runs is a linear merge (NumPy's timsort finds the runs)
        order = np.argsort(both, kind="stable")
        self.is_current = order >= self.ref.size
        self.merged = both[order]
        self.changes = self.merged[1:] != self.merged[:-1]
        self.n_unique = int(np.count_nonzero(self.changes)) + 1 if both.size else 0

    def counts(self) -> tuple[FloatArray, IntArray, IntArray]:
        """The distinct values (sorted) and their counts in reference and current."""
        import numpy as np

        total = self.merged.size
        starts = np.flatnonzero(np.concatenate([[total > 0], self.changes]))
        bounds = np.append(starts, total)
        cur_before = np.concatenate([[0], np.cumsum(self.is_current)])[bounds]
        cur_counts = np.diff(cur_before).astype(np.int64)
        ref_counts = np.diff(bounds).astype(np.int64) - cur_counts
        return self.merged[starts], ref_counts, cur_counts

    def wasserstein(self) -> float:
        """``scipy.stats.wasserstein_distance(reference, current)``, from the merge.

        SciPy integrates ``|F - G|`` over the gaps of the sorted union, with ``F``/``G`` the
        share of each sample ``<=`` the gap's left end (two ``searchsorted``). Here the counts
        are running counts along the merge: equal at the last of tied values, and within a
        tie the gap is 0, so every product, and the sum, is SciPy's.
        """
        import numpy as np

        n, m = self.ref.size, self.cur.size
        if n == 0 or m == 0:
            raise ValueError("Distribution can't be empty.")  # SciPy's error
        total = n + m
        cur_le = np.cumsum(self.is_current[:-1])
        ref_le = np.arange(1, total) - cur_le
        gaps = np.diff(self.merged)
        cdf_diff = np.abs(ref_le / n - cur_le / m)
        vecdot = getattr(np, "vecdot", None)  # what SciPy uses (NumPy >= 2)
        if vecdot is not None:
            return float(vecdot(cdf_diff, gaps))
        return float(np.sum(cdf_diff * gaps))  # pragma: no cover

    def out_of_range_share(self) -> float:
        """Share of current values outside the reference ``[min, max]`` (both non-empty)."""
        import numpy as np

        lo, hi = self.ref[0], self.ref[-1]
        below = int(np.searchsorted(self.cur, lo, side="left"))
        above = self.cur.size - int(np.searchsorted(self.cur, hi, side="right"))
        return (below + above) / self.cur.size


def _wasserstein(pair: _Sorted, ref: FloatArray, std_floor: float) -> float:
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
        raise ValueError(f"the z-test needs at most 2 categories, got {ref_counts.size}")
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


def _sorted_quantiles(sorted_values: FloatArray, q: FloatArray) -> FloatArray:
    """``np.quantile(values, q)`` (default ``method="linear"``) of sorted, non-empty values.

    Reads the two neighbours of each virtual index ``(n - 1) * q`` directly instead of
    partitioning, with NumPy's own interpolation (``_lerp``: from the lower neighbour when the
    fraction is below 0.5, from the upper one otherwise), so the values are NumPy's.
    """
    import numpy as np

    n = sorted_values.size
    virtual = (n - 1) * q
    lower = np.floor(virtual)
    upper = lower + 1
    top = virtual >= n - 1
    lower[top] = -1
    upper[top] = -1
    lower_i = lower.astype(np.intp)
    upper_i = upper.astype(np.intp)
    gamma = virtual - lower_i
    a = sorted_values[lower_i]
    b = sorted_values[upper_i]
    diff = b - a
    out = a + diff * gamma
    high = gamma >= 0.5
    out[high] = (b - diff * (1 - gamma))[high]
    return out


def _quantile_bin_counts(
    ref_sorted: FloatArray, cur_sorted: FloatArray, bins: int
) -> tuple[FloatArray, IntArray, IntArray]:
    """Counts in ``bins`` bins cut at the reference quantiles (outer bins open, ties merged).

    Both samples sorted; a value ``x`` is in bin ``#(cuts <= x)``, so the bin edges are the
    left insertion points of the cuts.
    """
    import numpy as np

    cuts = np.unique(_sorted_quantiles(ref_sorted, np.linspace(0.0, 1.0, bins + 1)[1:-1]))

    def counts(sorted_values: FloatArray) -> IntArray:
        edges = np.searchsorted(sorted_values, cuts, side="left")
        return np.diff(np.concatenate([[0], edges, [sorted_values.size]])).astype(np.int64)

    return cuts, counts(ref_sorted), counts(cur_sorted)


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
        raise ValueError(f"bins must be >= 1, got {bins}")
    import numpy as np

    ref = _clean_input(reference, "reference")
    cur = _clean_input(current, "current")
    if ref.n == 0 or cur.n == 0:
        raise ValueError("psi needs at least one non-null value on each side")
    if kind is None:
        kind = _infer_kind_clean(ref, DEFAULTS)
    _check_kind(kind)
    if kind == "numeric":
        _, rc, cc = _quantile_bin_counts(
            np.sort(_as_float(ref.values, "reference")),
            np.sort(_as_float(cur.values, "current")),
            bins,
        )
    else:
        _, rc, cc = _category_counts(ref, cur)
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
    ref: _Clean,
    cur: _Clean,
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
    return p_value <= threshold if method in _P_INCLUSIVE else p_value < threshold


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
    import numpy as np

    ref = _clean_input(reference, f"{name}: reference")
    cur = _clean_input(current, f"{name}: current")
    if kind is None:
        kind = _infer_kind_clean(ref if ref.n else cur, defaults)
    _check_kind(kind)
    if method is not None:
        method = _check_method(method)
        if method in _NUMERIC_ONLY and kind != "numeric":
            raise ValueError(f"{name}: method {method!r} needs a numeric column, got {kind}")
    if threshold is not None and not math.isfinite(threshold):
        raise ValueError(f"{name}: threshold must be finite, got {threshold!r}")

    if kind == "categorical":
        cats, ref_counts, cur_counts = _category_counts(ref, cur)
        n_unique = int(cats.size)
    else:  # the counts per value are only needed if a categorical test is chosen
        ref_v = _as_float(ref.values, f"{name}: reference")
        cur_v = _as_float(cur.values, f"{name}: current")
        pair = _Sorted(ref_v, cur_v)
        n_unique = pair.n_unique

    # descriptive signals, whenever both sides have values
    extras: dict[str, Any] = {}
    if ref.n and cur.n:
        if kind == "categorical":
            new = np.flatnonzero((ref_counts == 0) & (cur_counts > 0))
            missing = np.flatnonzero((cur_counts == 0) & (ref_counts > 0))
            cap = defaults.max_listed_categories
            extras = {
                "new_categories": _listed(cats, new, cur_counts, cap),
                "n_new_categories": int(new.size),
                "new_category_share": float(cur_counts[new].sum() / cur.n),
                "missing_categories": _listed(cats, missing, ref_counts, cap),
                "n_missing_categories": int(missing.size),
            }
        else:
            extras = {"out_of_range_share": pair.out_of_range_share()}

    short = [
        f"{side} has {n} non-null value{'s' if n != 1 else ''}"
        for side, n in (("reference", ref.n), ("current", cur.n))
        if n < defaults.min_rows
    ]
    if short:
        reason = " and ".join(short) + f" (min_rows={defaults.min_rows})"
        return _not_enough(name, kind, ref, cur, reason, n_unique, extras)

    if method is None:
        method = select_method(kind, ref.n, n_unique, defaults)
    elif method == "z" and n_unique > 2:
        raise ValueError(f"{name}: the z-test needs at most 2 distinct values, got {n_unique}")
    thr = defaults.threshold(method) if threshold is None else float(threshold)

    if kind == "numeric" and method not in _NUMERIC_ONLY:
        _, ref_counts, cur_counts = pair.counts()
    p_value: float | None = None
    if method == "ks":
        statistic, p_value = _ks(ref_v, cur_v)
    elif method == "wasserstein":
        statistic = _wasserstein(pair, ref_v, defaults.wasserstein_std_floor)
    elif method == "chi2":
        statistic, p_value = _chi2(ref_counts, cur_counts)
    elif method == "z":
        statistic, p_value = _z(ref_counts, cur_counts)
    else:
        statistic = _jensenshannon(ref_counts, cur_counts)
    drift = _p_drift(method, p_value, thr) if p_value is not None else statistic >= thr

    if kind == "numeric":
        _, prc, pcc = _quantile_bin_counts(pair.ref, pair.cur, defaults.psi_bins)
        psi_value = _psi_from_counts(prc, pcc, defaults.psi_epsilon)
    else:
        psi_value = _psi_from_counts(ref_counts, cur_counts, defaults.psi_epsilon)

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
        n_unique=n_unique,
        null_share_reference=ref.null_share,
        null_share_current=cur.null_share,
        **extras,
    )


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

    if method not in _CORRECTIONS:
        raise ValueError(f"correction must be one of {_CORRECTIONS}, got {method!r}")
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("p-values must be in [0, 1]")
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
    if correction not in _CORRECTIONS:
        raise ValueError(f"correction must be one of {_CORRECTIONS}, got {correction!r}")
    kinds = kinds or {}
    methods = methods or {}
    thresholds = thresholds or {}
    if columns is None:
        names = list(reference) + [c for c in current if c not in reference]
    else:
        names = list(columns)
        unknown = [c for c in names if c not in reference and c not in current]
        if unknown:
            raise KeyError(f"columns not in reference nor current: {unknown}")

    results: list[ColumnDrift] = []
    skipped: list[str] = []
    for col in names:
        ref_arr = _to_input(reference[col], col) if col in reference else _empty()
        cur_arr = _to_input(current[col], col) if col in current else _empty()
        if _is_temporal(ref_arr) or _is_temporal(cur_arr):
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

    tested = [i for i, r in enumerate(results) if r.status == "ok" and r.p_value is not None]
    if correction != "none" and tested:
        adjusted = adjust_p_values([cast(float, results[i].p_value) for i in tested], correction)
        for i, p_adj in zip(tested, adjusted, strict=True):
            r = results[i]
            assert r.method is not None and r.threshold is not None
            results[i] = replace(
                r, p_value_adjusted=p_adj, drift=_p_drift(r.method, p_adj, r.threshold)
            )

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


# --------------------------------------------------------------------------------------------
# report helpers
# --------------------------------------------------------------------------------------------


def histogram(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    kind: ColumnKind | None = None,
    bins: int = 20,
) -> dict[str, Any]:
    """Counts of both samples on shared bins, for plotting (nulls dropped).

    Numeric: ``bins`` equal-width bins over the joint range of both samples
    (``np.histogram_bin_edges``); ``edges`` has ``bins + 1`` entries (empty if both samples are
    empty). Categorical: the ``bins`` categories with the largest ``reference share + current
    share`` (so a category new in current shows up), then ``other_reference``/``other_current``
    counts for the rest.

    Returns:
        ``{"kind", "n_reference", "n_current", "reference": [...], "current": [...]}`` plus
        ``"edges"`` (numeric) or ``"categories"``, ``"other_reference"``, ``"other_current"``
        (categorical). Plain JSON.
    """
    import numpy as np

    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    ref = _clean_input(reference, "reference")
    cur = _clean_input(current, "current")
    if kind is None:
        kind = _infer_kind_clean(ref if ref.n else cur, DEFAULTS)
    _check_kind(kind)
    out: dict[str, Any] = {"kind": kind, "n_reference": ref.n, "n_current": cur.n}
    if kind == "numeric":
        rf, cf = _as_float(ref.values, "reference"), _as_float(cur.values, "current")
        both = np.concatenate([rf, cf])
        if both.size == 0:
            out.update(edges=[], reference=[], current=[])
            return out
        edges = np.histogram_bin_edges(both, bins=bins)
        out.update(
            edges=[float(e) for e in edges],
            reference=[int(c) for c in np.histogram(rf, bins=edges)[0]],
            current=[int(c) for c in np.histogram(cf, bins=edges)[0]],
        )
        return out
    cats, rc, cc = _category_counts(ref, cur)
    weight = rc / max(ref.n, 1) + cc / max(cur.n, 1)
    top = np.argsort(-weight, kind="stable")[:bins]
    out.update(
        categories=cats[top].tolist(),
        reference=[int(c) for c in rc[top]],
        current=[int(c) for c in cc[top]],
        other_reference=int(ref.n - rc[top].sum()),
        other_current=int(cur.n - cc[top].sum()),
    )
    return out


def _corr(matrix: FloatArray) -> FloatArray:
    import numpy as np

    if matrix.shape[0] < 2:
        return np.full((matrix.shape[1], matrix.shape[1]), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.atleast_2d(np.corrcoef(matrix, rowvar=False))


def _stack(data: Mapping[str, npt.ArrayLike], columns: Sequence[str], side: str) -> FloatArray:
    """A rows-by-columns float matrix, rows with any null/non-finite value dropped."""
    import numpy as np

    cols = []
    for c in columns:
        arr = _to_array(data[c], f"{side}[{c!r}]")
        if arr.dtype.kind == "O":
            arr = np.asarray(np.where(_object_nulls(arr), np.nan, arr), dtype=np.float64)
        cols.append(_as_float(arr, f"{side}[{c!r}]"))
    lengths = {a.size for a in cols}
    if len(lengths) > 1:
        raise ValueError(f"{side}: the columns have different lengths {sorted(lengths)}")
    matrix = np.column_stack(cols) if cols else np.empty((0, 0))
    return matrix[np.all(np.isfinite(matrix), axis=1)]


def correlation_change(
    reference: Mapping[str, npt.ArrayLike],
    current: Mapping[str, npt.ArrayLike],
    columns: Sequence[str] | None = None,
    *,
    defaults: Defaults = DEFAULTS,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Change of the Pearson correlation matrix of numeric columns.

    Rows with a null or non-finite value in any of the columns are dropped (listwise, per side).
    A pair whose correlation is undefined on either side (a constant column, < 2 rows) is left
    out of the maximum and of the listed pairs.

    Args:
        reference: Column name → reference values.
        current: Column name → current values.
        columns: Numeric columns to correlate; default: the columns present on both sides whose
            reference kind is numeric (:func:`infer_kind`).
        defaults: ``correlation_threshold`` (0.2) is the default of ``threshold``.
        threshold: List the pairs with ``|current - reference| >= threshold``.

    Returns:
        ``{"columns", "reference", "current"`` (matrices, ``None`` where undefined),
        ``"max_abs_diff"`` (``None`` with no defined pair), ``"threshold"``, ``"pairs"``
        (``{"columns": [a, b], "reference", "current", "diff"}``, largest change first),
        ``"changed"`` (any pair listed), ``"n_reference"``, ``"n_current"`` (rows used)``}``.
    """
    import numpy as np

    thr = defaults.correlation_threshold if threshold is None else float(threshold)
    if columns is None:
        cols = [
            c
            for c in reference
            if c in current
            and not _is_temporal(_to_array(reference[c], c))
            and infer_kind(reference[c], defaults) == "numeric"
        ]
    else:
        cols = list(columns)
    ref_m = _stack(reference, cols, "reference")
    cur_m = _stack(current, cols, "current")
    ref_c, cur_c = _corr(ref_m), _corr(cur_m)
    diff = cur_c - ref_c
    iu, ju = np.triu_indices(len(cols), k=1)
    d = diff[iu, ju]
    ok = np.isfinite(d)
    iu, ju, d = iu[ok], ju[ok], d[ok]
    order = np.argsort(-np.abs(d), kind="stable")
    listed = order[np.abs(d[order]) >= thr]
    pairs = [
        {
            "columns": [cols[int(iu[k])], cols[int(ju[k])]],
            "reference": float(ref_c[iu[k], ju[k]]),
            "current": float(cur_c[iu[k], ju[k]]),
            "diff": float(d[k]),
        }
        for k in listed
    ]

    def matrix(m: FloatArray) -> list[list[float | None]]:
        return [[_clean(float(x)) for x in row] for row in m]

    return {
        "columns": cols,
        "reference": matrix(ref_c),
        "current": matrix(cur_c),
        "max_abs_diff": float(np.max(np.abs(d))) if d.size else None,
        "threshold": thr,
        "pairs": pairs,
        "changed": bool(pairs),
        "n_reference": int(ref_m.shape[0]),
        "n_current": int(cur_m.shape[0]),
    }
