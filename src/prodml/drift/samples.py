"""Column samples for the drift tests: conversion to arrays, nulls dropped, categories
counted by hashing, numeric samples sorted once and merged.

numpy and pyarrow are imported inside the functions (the CLI imports this module).
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    AnyArray = npt.NDArray[Any]
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    _Counts = tuple[AnyArray, IntArray]  # distinct values (any order) and their counts

from prodml.drift.defaults import (
    DEFAULTS,
    ColumnKind,
    Defaults,
)
from prodml.drift.errors import DriftInputError, DriftTypeError


def to_array(values: Any, name: str = "values") -> AnyArray:
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
        raise DriftInputError(f"{name} must be one-dimensional, got a scalar")
    if arr.ndim != 1:
        raise DriftInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
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


def to_input(values: Any, name: str) -> Any:
    """A 1-D numpy array (:func:`to_array`), or a pyarrow string array for Arrow strings."""
    strings = _arrow_strings(values)
    return strings if strings is not None else to_array(values, name)


def is_temporal(arr: Any) -> bool:
    kind = getattr(getattr(arr, "dtype", None), "kind", None)
    return kind is not None and kind in "mM"


def object_nulls(arr: AnyArray) -> AnyArray:
    """Null mask of an object array: ``None``, NaN, ``pd.NA``/``NaT`` (if pandas is loaded)."""
    import numpy as np

    pd = sys.modules.get("pandas")
    if pd is not None:  # pd.NA can only be in the data if pandas was imported
        return np.asarray(pd.isna(arr), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.equal(arr, cast(Any, None)) | np.not_equal(arr, arr), dtype=bool)


class Clean:
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
            self._values = _drop_nulls(to_array(self._raw, self._name), self._name).values
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


def _drop_nulls(arr: AnyArray, name: str) -> Clean:
    """Drop ``None``/NaN/±inf; object arrays are re-typed from their non-null values."""
    import numpy as np

    if is_temporal(arr):
        raise DriftTypeError(f"{name}: datetime/timedelta columns are not supported by drift tests")
    kind = arr.dtype.kind
    if kind == "c":
        raise DriftTypeError(f"{name}: complex values are not supported")
    if kind == "f":
        finite = np.isfinite(arr)
        kept = arr if finite.all() else arr[finite]
        return Clean(kept.astype(np.float64, copy=False), arr.size)
    if kind == "S":
        return Clean(arr.astype(str), arr.size)
    if kind != "O":
        return Clean(arr, arr.size)
    kept = arr[~object_nulls(arr)]
    retyped = np.asarray(kept.tolist()) if kept.size else kept
    if retyped.ndim != 1 or retyped.dtype.kind in "mMc":
        retyped = kept  # nested sequences, datetimes...: keep as opaque objects
    elif retyped.dtype.kind == "f":
        retyped = retyped[np.isfinite(retyped)]
    return Clean(retyped, arr.size)


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
    dropped from the distinct values with :func:`object_nulls`, as :func:`_drop_nulls` drops
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
    valid = ~object_nulls(keys)
    keys, counts = keys[valid], counts[valid]
    if not all(isinstance(k, str) for k in keys.tolist()):
        return None
    return np.asarray(keys.tolist(), dtype=str), counts


def clean_input(values: Any, name: str) -> Clean:
    """The non-null values of one input (numpy, list, pandas, pyarrow); strings are counted."""
    strings = _arrow_strings(values)
    if strings is not None:
        counts: _Counts | None = _arrow_counts(strings)
        n_total = len(strings)
    else:
        values = to_array(values, name)
        if values.dtype.kind != "O" or values.size == 0:
            return _drop_nulls(values, name)
        counts = _object_counts(values)
        if counts is None:
            return _drop_nulls(values, name)
        n_total = int(values.size)
    return Clean(None, n_total, counts=counts, raw=values, name=name)


def as_float(clean: AnyArray, name: str) -> FloatArray:
    import numpy as np

    if clean.dtype.kind not in "biuf":
        raise DriftInputError(
            f"{name}: kind='numeric' needs numeric values, got dtype {clean.dtype}"
        )
    return clean.astype(np.float64, copy=False)


def infer_kind_clean(clean: Clean, defaults: Defaults) -> ColumnKind:
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
    return infer_kind_clean(clean_input(values, "values"), defaults)


def _value_counts(clean: Clean) -> _Counts | None:
    """Distinct non-null values of one side (any order) and their counts.

    Strings come counted (:func:`clean_input`), or, as a numpy fixed-width unicode array, are
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


def category_counts(ref: Clean, cur: Clean) -> tuple[AnyArray, IntArray, IntArray]:
    """Sorted union of categories and the count of each in ``ref`` and ``cur``.

    Each side is counted on its own (:func:`_value_counts`), then the few distinct values are
    merged; equal to ``np.unique`` over the concatenated values, without sorting them.
    """
    ref_vc = _value_counts(ref)
    cur_vc = _value_counts(cur) if ref_vc is not None else None
    if ref_vc is None or cur_vc is None:
        return _union_counts(ref.values, cur.values, None, None)
    return _union_counts(ref_vc[0], cur_vc[0], ref_vc[1], cur_vc[1])


class SortedPair:
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
            raise DriftInputError("Distribution can't be empty.")  # SciPy's error
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


def sorted_quantiles(sorted_values: FloatArray, q: FloatArray) -> FloatArray:
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


def quantile_bin_counts(
    ref_sorted: FloatArray, cur_sorted: FloatArray, bins: int
) -> tuple[FloatArray, IntArray, IntArray]:
    """Counts in ``bins`` bins cut at the reference quantiles (outer bins open, ties merged).

    Both samples sorted; a value ``x`` is in bin ``#(cuts <= x)``, so the bin edges are the
    left insertion points of the cuts.
    """
    import numpy as np

    cuts = np.unique(sorted_quantiles(ref_sorted, np.linspace(0.0, 1.0, bins + 1)[1:-1]))

    def counts(sorted_values: FloatArray) -> IntArray:
        edges = np.searchsorted(sorted_values, cuts, side="left")
        return np.diff(np.concatenate([[0], edges, [sorted_values.size]])).astype(np.int64)

    return cuts, counts(ref_sorted), counts(cur_sorted)
