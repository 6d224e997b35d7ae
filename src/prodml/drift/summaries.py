"""Summaries beside the verdicts, for reports: histograms of both samples on shared bins, and
the change of the correlation matrix of numeric columns.

numpy is imported inside the functions (the CLI imports this module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prodml.drift.defaults import DEFAULTS, ColumnKind, Defaults, check_kind
from prodml.drift.errors import DriftInputError
from prodml.drift.samples import (
    as_float,
    category_counts,
    clean_input,
    infer_kind,
    infer_kind_clean,
    is_temporal,
    object_nulls,
    to_array,
)
from prodml.utils.numbers import finite_or_none

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


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
        raise DriftInputError(f"bins must be >= 1, got {bins}")
    ref = clean_input(reference, "reference")
    cur = clean_input(current, "current")
    if kind is None:
        kind = infer_kind_clean(ref if ref.n else cur, DEFAULTS)
    check_kind(kind)
    out: dict[str, Any] = {"kind": kind, "n_reference": ref.n, "n_current": cur.n}
    if kind == "numeric":
        # an empty side (all null) has no dtype worth checking: it counts nothing
        rf = as_float(ref.values, "reference") if ref.n else np.empty(0)
        cf = as_float(cur.values, "current") if cur.n else np.empty(0)
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
    cats, rc, cc = category_counts(ref, cur)
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
        arr = to_array(data[c], f"{side}[{c!r}]")
        if arr.dtype.kind == "O":
            arr = np.asarray(np.where(object_nulls(arr), np.nan, arr), dtype=np.float64)
        cols.append(as_float(arr, f"{side}[{c!r}]"))
    lengths = {a.size for a in cols}
    if len(lengths) > 1:
        raise DriftInputError(f"{side}: the columns have different lengths {sorted(lengths)}")
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
            and not is_temporal(to_array(reference[c], c))
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
        return [[finite_or_none(float(x)) for x in row] for row in m]

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
