"""The quality benchmark's data, its 19 expectations (each as a prodml rule and a Great
Expectations 1.x expectation) and the true result of every rule, computed with NumPy.

NumPy + pyarrow only (both venvs have them): the data is generated once per row count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20240601
DATA_VERSION = 1  # bump when the generator changes (the cached Parquet file is keyed by it)
NOW = datetime(2024, 6, 1, tzinfo=UTC)
N_CUSTOMERS = 20_000
MISSING_EVERY = 997  # reference keys k with k % 997 == 0 are absent from the reference table
CATEGORIES = ["beauty", "books", "electronics", "food", "garden", "home", "sports", "toys"]
CODE_REGEX = r"^[A-Z]{3}-[0-9]{4}$"
FRESH_HOURS = 24.0
WARMUP_ROWS = 10_000
REFERENCE = "<reference keys>"  # placeholder in a GE value_set, replaced by the keys

COLUMNS = {
    "id": "integer",
    "customer_id": "integer",
    "category": "string",
    "code": "string",
    "amount": "float",
    "cost": "float",
    "quantity": "integer",
    "discount": "float",
    "score": "float",
    "event_ts": "timestamp",
}

# counting conventions: "rows" = both count failing rows; "all_duplicates" = GE counts every
# row of a duplicated key, prodml the rows after the first; "table" = table rule (verdict, and
# the observed value where given)
ROWS, ALL_DUPLICATES, TABLE = "rows", "all_duplicates", "table"


def expectation_specs(rows: int) -> list[dict[str, Any]]:
    """The 19 expectations: name, prodml rule (dict), GE class and kwargs, counting rule."""
    specs: list[dict[str, Any]] = []

    def add(name: str, prodml: dict[str, Any], ge: str, kw: dict[str, Any], count: str) -> None:
        specs.append(
            {"name": name, "prodml": {**prodml, "name": name}, "ge": ge, "kw": kw, "count": count}
        )

    for col in ("id", "customer_id", "category", "code", "discount"):
        add(
            f"not_null_{col}",
            {"rule": "not_null", "column": col},
            "ExpectColumnValuesToNotBeNull",
            {"column": col},
            ROWS,
        )
    add(
        "unique_id",
        {"rule": "unique", "columns": ["id"]},
        "ExpectColumnValuesToBeUnique",
        {"column": "id"},
        ALL_DUPLICATES,
    )
    for col, lo, hi in (
        ("amount", 0, 5000),
        ("cost", 0, 5000),
        ("quantity", 1, 100),
        ("discount", 0, 0.5),
        ("score", 0, 1),
    ):
        add(
            f"range_{col}",
            {"rule": "range", "column": col, "min": lo, "max": hi},
            "ExpectColumnValuesToBeBetween",
            {"column": col, "min_value": lo, "max_value": hi},
            ROWS,
        )
    add(
        "allowed_values_category",
        {"rule": "allowed_values", "column": "category", "values": CATEGORIES},
        "ExpectColumnValuesToBeInSet",
        {"column": "category", "value_set": CATEGORIES},
        ROWS,
    )
    add(
        "pattern_code",
        {"rule": "pattern", "column": "code", "regex": CODE_REGEX},
        "ExpectColumnValuesToMatchRegex",
        {"column": "code", "regex": CODE_REGEX},
        ROWS,
    )
    add(
        "referential_customer_id",
        {
            "rule": "referential",
            "column": "customer_id",
            "table": "ref.customers",
            "key": "customer_id",
        },
        "ExpectColumnValuesToBeInSet",
        {"column": "customer_id", "value_set": REFERENCE},
        ROWS,
    )
    add(
        "expression_cost_le_amount",
        {"rule": "expression", "sql": "cost <= amount"},
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {"column_A": "amount", "column_B": "cost", "or_equal": True},
        ROWS,
    )
    add(
        "row_count",
        {"rule": "row_count", "min": rows, "max": rows},
        "ExpectTableRowCountToBeBetween",
        {"min_value": rows, "max_value": rows},
        TABLE,
    )
    add(
        "schema_all",
        {"rule": "schema", "columns": COLUMNS},
        "ExpectTableColumnsToMatchSet",
        {"column_set": list(COLUMNS), "exact_match": False},
        TABLE,
    )
    add(
        "schema_score_integer",
        {"rule": "schema", "columns": {"score": "integer"}},
        "ExpectColumnValuesToBeOfType",
        {"column": "score", "type_": "int64"},
        TABLE,
    )
    add(
        "freshness_event_ts",
        {"rule": "freshness", "column": "event_ts", "max_age_hours": FRESH_HOURS},
        "ExpectColumnMaxToBeBetween",
        {
            "column": "event_ts",
            "min_value": (NOW - timedelta(hours=FRESH_HOURS)).replace(tzinfo=None),
        },
        TABLE,
    )
    return specs


# --------------------------------------------------------------------------------------------
# deterministic data (NumPy + pyarrow: both venvs have them) and its true results
# --------------------------------------------------------------------------------------------


def reference_keys() -> Any:
    """The reference table's keys: 0..N_CUSTOMERS-1 except every MISSING_EVERY-th."""
    import numpy as np

    keys = np.arange(N_CUSTOMERS, dtype=np.int64)
    return keys[keys % MISSING_EVERY != 0]


def make_data(n: int) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The table (pyarrow) and, per rule name, the true verdict and counts."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    few = max(1, n // 100_000)

    ids = np.arange(n, dtype=np.int64)
    pos = rng.choice(n, size=2 * few, replace=False)
    ids[pos[:few]] = ids[pos[few:]]  # `few` pairs: each copied id now appears exactly twice

    customer = rng.integers(0, N_CUSTOMERS, n, dtype=np.int64)

    cat_idx = rng.integers(0, len(CATEGORIES), n, dtype=np.int32)
    pos = rng.choice(n, size=2 * few, replace=False)
    cat_idx[pos[:few]] = len(CATEGORIES)  # "Toys": not an allowed value
    cat_null = np.zeros(n, dtype=bool)
    cat_null[pos[few:]] = True
    category = pa.array([*CATEGORIES, "Toys"]).take(pa.array(cat_idx, mask=cat_null))

    chars = np.empty((n, 8), dtype=np.uint8)
    chars[:, :3] = rng.integers(ord("A"), ord("Z") + 1, (n, 3), dtype=np.uint8)
    chars[:, 3] = ord("-")
    chars[:, 4:] = rng.integers(ord("0"), ord("9") + 1, (n, 4), dtype=np.uint8)
    pos = rng.choice(n, size=10 * few, replace=False)
    chars[pos[: 5 * few], 0] += 32  # a lower-case first letter
    chars[pos[5 * few :], 3] = ord("_")
    offsets = np.arange(0, 8 * n + 1, 8, dtype=np.int32)
    code = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1))]
    )

    amount = np.minimum(0.01 + rng.gamma(2.0, 50.0, n), 4999.99)
    cost = amount * rng.uniform(0.2, 0.95, n)
    pos = rng.choice(n, size=2 * few, replace=False)
    cost[pos] = amount[pos] * 1.1

    quantity = rng.integers(1, 100, n, dtype=np.int64)
    quantity[rng.choice(n, size=few, replace=False)] = 0

    discount = rng.uniform(0.0, 0.5, n)
    n_null = n // 100
    pos = rng.choice(n, size=n_null + 5 * few, replace=False)
    disc_null = np.zeros(n, dtype=bool)
    disc_null[pos[:n_null]] = True
    discount[pos[n_null:]] = rng.uniform(0.51, 0.9, 5 * few)

    score = rng.random(n)

    now_us = int(NOW.timestamp()) * 1_000_000
    ts_us = now_us - rng.integers(0, 30 * 86_400 * 1_000_000, n, dtype=np.int64)
    ts_us[0] = now_us - 30 * 60 * 1_000_000

    table = pa.table(
        {
            "id": ids,
            "customer_id": customer,
            "category": category,
            "code": code,
            "amount": amount,
            "cost": cost,
            "quantity": quantity,
            "discount": pa.array(discount, mask=disc_null),
            "score": score,
            "event_ts": pa.array(ts_us.astype("datetime64[us]")),
        }
    )

    # ---- the truth, computed directly with NumPy ----
    def row(failed: int, unexpected: int | None = None) -> dict[str, Any]:
        return {
            "passed": failed == 0,
            "failed_rows": failed,
            "unexpected": failed if unexpected is None else unexpected,
        }

    truth: dict[str, dict[str, Any]] = {}
    for col in ("id", "customer_id", "code"):
        truth[f"not_null_{col}"] = row(table.column(col).null_count)
    truth["not_null_category"] = row(int(cat_null.sum()))
    truth["not_null_discount"] = row(int(disc_null.sum()))
    _, counts = np.unique(ids, return_counts=True)
    truth["unique_id"] = row(int(n - counts.size), int(counts[counts > 1].sum()))
    disc_valid = ~disc_null
    for col, values, valid, lo, hi in (
        ("amount", amount, None, 0, 5000),
        ("cost", cost, None, 0, 5000),
        ("quantity", quantity, None, 1, 100),
        ("discount", discount, disc_valid, 0, 0.5),
        ("score", score, None, 0, 1),
    ):
        bad = (values < lo) | (values > hi)
        if valid is not None:
            bad &= valid
        truth[f"range_{col}"] = row(int(bad.sum()))
    truth["allowed_values_category"] = row(int(((cat_idx >= len(CATEGORIES)) & ~cat_null).sum()))
    upper = (chars[:, :3] >= ord("A")) & (chars[:, :3] <= ord("Z"))
    digits = (chars[:, 4:] >= ord("0")) & (chars[:, 4:] <= ord("9"))
    ok = upper.all(axis=1) & (chars[:, 3] == ord("-")) & digits.all(axis=1)
    truth["pattern_code"] = row(int((~ok).sum()))
    truth["referential_customer_id"] = row(int((~np.isin(customer, reference_keys())).sum()))
    truth["expression_cost_le_amount"] = row(int((cost > amount).sum()))
    age_hours = (now_us - int(ts_us.max())) / 3.6e9
    for name, passed, observed in (
        ("row_count", True, float(n)),
        ("schema_all", True, None),
        ("schema_score_integer", False, None),
        ("freshness_event_ts", age_hours <= FRESH_HOURS, age_hours),
    ):
        truth[name] = {
            "passed": passed,
            "failed_rows": None,
            "unexpected": None,
            "observed": observed,
        }
    return table, truth


def release_load_memory() -> None:
    """Hand the Parquet reader's freed buffers back to the OS (both sides, before measuring).

    pyarrow's allocator (mimalloc) keeps freed pages: after ``read_table`` of the 10M-row file
    ~570 MB of decompression buffers stay resident although no array uses them. That is a cost
    of the untimed load, not of the validation, so both children release it.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
