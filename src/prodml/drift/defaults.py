"""Which drift test a column gets, and every threshold: Evidently 0.7's defaults, as data.

The table and its reasoning are in :mod:`prodml.drift.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from prodml.drift.errors import DriftInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    AnyArray = npt.NDArray[Any]
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    _Counts = tuple[AnyArray, IntArray]  # distinct values (any order) and their counts


ColumnKind = Literal["numeric", "categorical"]
Method = Literal["ks", "wasserstein", "chi2", "z", "jensenshannon"]
Correction = Literal["none", "bonferroni", "holm", "bh"]
Status = Literal["ok", "not_enough_data"]
UniqueBand = Literal["binary", "few", "many"]

METHODS: tuple[Method, ...] = ("ks", "wasserstein", "chi2", "z", "jensenshannon")
#: Methods whose score is a p-value (drift on a small p); the others are distances.
P_VALUE_METHODS: frozenset[str] = frozenset({"ks", "chi2", "z"})
#: Methods that need numeric values (the others treat the values as categories).
NUMERIC_ONLY: frozenset[str] = frozenset({"ks", "wasserstein"})
#: p-value methods that flag drift on ``p <= threshold`` rather than ``p < threshold``.
P_INCLUSIVE: frozenset[str] = frozenset({"ks"})
CORRECTIONS: tuple[Correction, ...] = ("none", "bonferroni", "holm", "bh")
KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical")


# --------------------------------------------------------------------------------------------
# defaults
# --------------------------------------------------------------------------------------------


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DriftInputError(f"kind must be 'numeric' or 'categorical', got {kind!r}")


def check_method(method: str) -> Method:
    if method not in METHODS:
        raise DriftInputError(f"unknown drift method {method!r}; expected one of {METHODS}")
    return method


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
        raise DriftInputError(f"unknown drift method {method!r}; expected one of {METHODS}")


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
    check_kind(kind)
    if n_unique <= defaults.binary_max_unique:
        band: UniqueBand = "binary"
    elif n_unique <= defaults.categorical_max_unique:
        band = "few"
    else:
        band = "many"
    return _RULES[(kind, n_reference <= defaults.small_reference_rows, band)]
