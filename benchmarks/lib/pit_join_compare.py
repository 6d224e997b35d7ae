"""Comparing point-in-time join results: prodml's against Feast-DuckDB's (the reference), and
what Feast's file store did differently (not a reference)."""

from __future__ import annotations

from typing import Any

from lib.pit_join_data import FLOAT_TOL, OUTPUT_COLUMNS, ROW_ID, SPINE_TS


def normalise(table: Any, *, nan_as_null: bool = False) -> Any:
    """Sorted by row_id; ints/floats/strings/timestamps to one type per kind (NaN → NULL too
    with ``nan_as_null``: pandas' missing value, for the file store's answer)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.take(pc.sort_indices(table, [(ROW_ID, "ascending")]))
    cols = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        t = col.type
        if pa.types.is_timestamp(t):
            col = col.cast(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_floating(t):
            col = col.cast(pa.float64())
            if nan_as_null:
                col = pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col)
        elif pa.types.is_integer(t):
            col = col.cast(pa.int64())
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.large_string())
        cols[name] = col
    return pa.table(cols)


def compare_results(mine: Any, ref: Any, label: str) -> tuple[list[str], dict[str, int]]:
    """Differences between two join results (both normalised); per-column mismatch counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    problems: list[str] = []
    counts: dict[str, int] = {}
    if mine.num_rows != ref.num_rows:
        problems.append(f"rows: prodml {mine.num_rows}, {label} {ref.num_rows}")
        return problems, counts
    if not mine.column(ROW_ID).equals(ref.column(ROW_ID)):
        problems.append(f"{ROW_ID}: the two results hold different spine rows")
        return problems, counts
    for col in OUTPUT_COLUMNS:
        if col not in mine.column_names or col not in ref.column_names:
            problems.append(
                f"{col}: missing from {'prodml' if col not in mine.column_names else label}"
            )
            continue
        a, b = mine.column(col), ref.column(col)
        a_null = np.asarray(pc.is_null(a).to_numpy(zero_copy_only=False))
        b_null = np.asarray(pc.is_null(b).to_numpy(zero_copy_only=False))
        bad = a_null != b_null
        both = ~a_null & ~b_null
        if a.type != b.type:
            problems.append(f"{col}: type prodml {a.type}, {label} {b.type}")
            counts[col] = int(bad.sum())
            continue
        if pa.types.is_floating(a.type):
            av = a.fill_null(0.0).to_numpy()
            bv = b.fill_null(0.0).to_numpy()
            bad |= both & ~(np.abs(av - bv) <= FLOAT_TOL)
        else:
            eq = pc.equal(a, b).fill_null(False).to_numpy(zero_copy_only=False)
            bad |= both & ~np.asarray(eq)
        counts[col] = int(bad.sum())
        if bad.any():
            idx = np.flatnonzero(bad)
            rows = mine.column(ROW_ID).to_numpy()[idx[:5]].tolist()
            examples = ", ".join(
                f"row_id {r}: prodml {a[i].as_py()!r} / {label} {b[i].as_py()!r}"
                for r, i in zip(rows, idx[:5], strict=True)
            )
            problems.append(f"{col}: {len(idx)} row(s) differ ({examples})")
    return problems, counts


def file_store_report(file_res: Any, ref: Any, spine: Any) -> str:
    """How the file store's answer differs from Feast-DuckDB's (rows lost/merged, values)."""
    import numpy as np
    import pyarrow.compute as pc

    n_spine = spine.num_rows
    ids = file_res.column(ROW_ID).to_numpy()
    distinct = np.unique(ids)
    missing = np.setdiff1d(spine.column(ROW_ID).to_numpy(), distinct)
    # a missing spine row whose (customer_id, label_ts) the file store returned was "merged"
    key = spine.column("customer_id").to_numpy()
    ts = spine.column(SPINE_TS).cast("int64").to_numpy()
    returned = set(zip(key[distinct].tolist(), ts[distinct].tolist(), strict=True))
    merged = sum(
        1
        for k, t in zip(key[missing].tolist(), ts[missing].tolist(), strict=True)
        if (k, t) in returned
    )
    dropped = len(missing) - merged
    # the rows it did return: same values as Feast-DuckDB?
    # (pandas turned int features with NULLs into floats: back to Feast-DuckDB's types)
    ref_rows = ref.take(pc.index_in(file_res.column(ROW_ID), value_set=ref.column(ROW_ID)))
    file_res = file_res.select(ref.column_names).cast(ref.schema)
    _, counts = compare_results(file_res, ref_rows, "file")
    n_bad = max(counts.values()) if counts else 0
    return (
        f"{file_res.num_rows} rows of {n_spine} ({file_res.num_rows - n_spine:+d}): "
        f"{dropped} spine rows dropped (keys with feature rows but none in the window), "
        f"{merged} merged into an equal (customer_id, {SPINE_TS}) row; of the rows it returned, "
        f"columns differing from Feast-DuckDB's in at most {n_bad} rows"
        + (f" ({', '.join(f'{c} {n}' for c, n in counts.items() if n)})" if n_bad else "")
    )
