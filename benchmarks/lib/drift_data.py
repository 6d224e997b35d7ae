"""The drift benchmark's data: 14 numeric and 6 categorical columns per side, deterministic
(NumPy ``default_rng`` from fixed seeds, one stream per column and side, so every process builds
exactly the same arrays). NumPy only: runs in prodml's venv and in the peer's."""

from __future__ import annotations

import math
from typing import Any

SEED = 20241107
WARMUP_ROWS = 2000  # both sides run the workload on this many rows first, untimed

#: column → (kind, the method Evidently's defaults should pick with > 1000 reference rows)
COLUMNS: dict[str, tuple[str, str]] = {
    "n00_normal": ("numeric", "wasserstein"),
    "n01_normal_shift": ("numeric", "wasserstein"),
    "n02_normal_shift": ("numeric", "wasserstein"),
    "n03_normal_loc5_shift": ("numeric", "wasserstein"),
    "n04_lognormal": ("numeric", "wasserstein"),
    "n05_lognormal_shift": ("numeric", "wasserstein"),
    "n06_uniform": ("numeric", "wasserstein"),
    "n07_uniform_shift": ("numeric", "wasserstein"),
    "n08_exponential_scale": ("numeric", "wasserstein"),
    "n09_normal_nan": ("numeric", "wasserstein"),
    "n10_poisson_int": ("numeric", "wasserstein"),
    "n11_levels": ("numeric", "jensenshannon"),
    "n12_student_t": ("numeric", "wasserstein"),
    "n13_normal_scale": ("numeric", "wasserstein"),
    "c0_uniform5": ("categorical", "jensenshannon"),
    "c1_shifted5": ("categorical", "jensenshannon"),
    "c2_slight20": ("categorical", "jensenshannon"),
    "c3_new_category": ("categorical", "jensenshannon"),
    "c4_binary": ("categorical", "jensenshannon"),
    "c5_zipf50_nulls": ("categorical", "jensenshannon"),
}
NUMERIC = [c for c, (k, _) in COLUMNS.items() if k == "numeric"]
CATEGORICAL = [c for c, (k, _) in COLUMNS.items() if k == "categorical"]

#: Evidently's stat-test display names → prodml's method names
EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chi2",
    "Z-test p_value": "z",
}


def make_data(rows: int, side: str) -> dict[str, Any]:
    """The ``side`` ("reference" or "current") sample: column name → 1-D NumPy array."""
    import numpy as np

    cur = side == "current"
    streams = {name: i for i, name in enumerate(COLUMNS)}

    def rng(name: str) -> Any:
        return np.random.default_rng([SEED, streams[name], int(cur)])

    def categories(name: str, labels: list[str], p: list[float]) -> Any:
        probs = np.asarray(p, dtype=np.float64)
        idx = rng(name).choice(len(labels), size=rows, p=probs / probs.sum())
        return np.asarray(labels)[idx]

    d: dict[str, Any] = {}
    # numeric: shifts are in reference standard deviations (Wasserstein / std ≈ the shift)
    d["n00_normal"] = rng("n00_normal").normal(0.0, 1.0, rows)
    d["n01_normal_shift"] = rng("n01_normal_shift").normal(0.2 if cur else 0.0, 1.0, rows)
    d["n02_normal_shift"] = rng("n02_normal_shift").normal(0.5 if cur else 0.0, 1.0, rows)
    d["n03_normal_loc5_shift"] = rng("n03_normal_loc5_shift").normal(5.6 if cur else 5.0, 2.0, rows)
    d["n04_lognormal"] = rng("n04_lognormal").lognormal(0.0, 0.5, rows)
    d["n05_lognormal_shift"] = rng("n05_lognormal_shift").lognormal(0.15 if cur else 0.0, 0.5, rows)
    d["n06_uniform"] = rng("n06_uniform").uniform(0.0, 10.0, rows)
    shift = 0.15 * 10.0 / math.sqrt(12.0) if cur else 0.0  # 0.15 std of U(0, 10)
    d["n07_uniform_shift"] = rng("n07_uniform_shift").uniform(shift, 10.0 + shift, rows)
    d["n08_exponential_scale"] = rng("n08_exponential_scale").exponential(1.3 if cur else 1.0, rows)
    g = rng("n09_normal_nan")
    x = g.normal(0.05 if cur else 0.0, 1.0, rows)
    x[g.random(rows) < 0.01] = np.nan
    d["n09_normal_nan"] = x
    d["n10_poisson_int"] = (
        rng("n10_poisson_int").poisson(21.0 if cur else 20.0, rows).astype(np.int64)
    )
    levels = np.array([0.5, 1.5, 2.5, 3.5])
    p_lv = [0.25, 0.3, 0.25, 0.2] if cur else [0.4, 0.3, 0.2, 0.1]
    d["n11_levels"] = levels[rng("n11_levels").choice(4, size=rows, p=p_lv)]
    d["n12_student_t"] = rng("n12_student_t").standard_t(5.0, rows)
    d["n13_normal_scale"] = rng("n13_normal_scale").normal(0.0, 1.3 if cur else 1.0, rows)

    # categorical (strings)
    five = [f"tier_{c}" for c in "abcde"]
    d["c0_uniform5"] = categories("c0_uniform5", five, [1, 1, 1, 1, 1])
    d["c1_shifted5"] = categories(
        "c1_shifted5", five, [0.45, 0.25, 0.15, 0.1, 0.05] if cur else [0.2] * 5
    )
    twenty = [f"region_{i:02d}" for i in range(20)]
    w20 = [1.0 + i / 10 for i in range(20)]
    if cur:
        w20 = [w * (1.05 if i % 2 else 0.95) for i, w in enumerate(w20)]
    d["c2_slight20"] = categories("c2_slight20", twenty, w20)
    ten = [f"channel_{i}" for i in range(10)]
    if cur:  # 20 % of the current rows in a category the reference never saw
        d["c3_new_category"] = categories(
            "c3_new_category", [*ten, "channel_new"], [0.08] * 10 + [0.2]
        )
    else:
        d["c3_new_category"] = categories("c3_new_category", ten, [0.1] * 10)
    d["c4_binary"] = categories("c4_binary", ["no", "yes"], [0.7, 0.3] if not cur else [0.69, 0.31])
    fifty = [f"city_{i:02d}" for i in range(50)]
    zipf = [1.0 / (i + 1) for i in range(50)]
    if cur:
        zipf = [w * (1.1 if i % 3 == 0 else 1.0) for i, w in enumerate(zipf)]
    g = rng("c5_zipf50_nulls")
    idx = g.choice(50, size=rows, p=np.asarray(zipf) / sum(zipf))
    obj = np.asarray(fifty, dtype=object)[idx]
    obj[g.random(rows) < 0.02] = None
    d["c5_zipf50_nulls"] = obj
    assert list(d) == list(COLUMNS)
    return d
