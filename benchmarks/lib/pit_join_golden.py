"""Golden cases of the point-in-time join: small hand-written cases (JSON, see ``pit_join.py``'s
docstring for the format) run through Feast-DuckDB (in the peer's venv) and prodml, each answer
compared with the case's expected rows."""

from __future__ import annotations

import json
import math
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lib.children import ChildFailedError, run_child
from lib.env import work_dir
from lib.machine import versions, versions_text
from lib.pit_join_data import FLOAT_TOL
from lib.pit_join_feast import feast_apply, feast_store
from lib.table import print_table

CHILD_ENV = {"FEAST_USAGE": "False"}


def _parse_ts(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: timestamp {value!r} is not an ISO-8601 string")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise ValueError(f"{where}: timestamp {value!r} has no UTC offset")
    return ts.astimezone(UTC)


def _golden_columns(columns: dict[str, list[Any]], timestamps: set[str], where: str) -> Any:
    """A pyarrow table from JSON columns; ``timestamps`` become ``timestamp[us, tz=UTC]``."""
    import pyarrow as pa

    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{where}: columns of different lengths {sorted(lengths)}")
    arrays = {}
    for name, values in columns.items():
        if name in timestamps:
            parsed = [_parse_ts(v, f"{where}.{name}") for v in values]
            arrays[name] = pa.array(parsed, type=pa.timestamp("us", tz="UTC"))
        else:
            arr = pa.array(values)
            arrays[name] = arr.cast(pa.float64()) if pa.types.is_null(arr.type) else arr
    return pa.table(arrays)


def load_golden(path: Path) -> list[dict[str, Any]]:
    """The cases of a golden file, as Arrow tables (see the module docstring for the format)."""
    doc = json.loads(path.read_text())
    cases = []
    for i, case in enumerate(doc["cases"]):
        name = case.get("name") or f"case {i}"
        spine_ts = case["spine"]["timestamp"]
        spine = _golden_columns(case["spine"]["columns"], {spine_ts}, f"{name}.spine")
        tables = []
        for t in case["tables"]:
            ts = {t["timestamp"]} | ({t["created"]} if t.get("created") else set())
            ttl = t.get("ttl_seconds")
            tables.append(
                {
                    "name": t["name"],
                    "keys": list(t["keys"]),
                    "timestamp": t["timestamp"],
                    "created": t.get("created"),
                    "features": list(t["features"]),
                    "ttl": None if ttl is None else timedelta(seconds=ttl),
                    "data": _golden_columns(t["columns"], ts, f"{name}.{t['name']}"),
                }
            )
        # expected timestamps stay strings: compared as instants with the answer's timestamps
        expected = _golden_columns(case["expected"]["columns"], set(), f"{name}.expected")
        cases.append(
            {
                "name": name,
                "spine": spine,
                "spine_keys": list(case["spine"].get("keys", [])),
                "timestamp": spine_ts,
                "tables": tables,
                "expected": expected,
                "feast_differs": case.get("feast_differs"),
            }
        )
    return cases


def _cell_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, datetime) or isinstance(b, datetime):
        if isinstance(a, str):
            a = _parse_ts(a, "expected")
        if isinstance(b, str):
            b = _parse_ts(b, "expected")
        return bool(a == b)
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return abs(fa - fb) <= FLOAT_TOL
    return bool(a == b)


def compare_golden(actual: Any, expected: Any) -> list[str]:
    """Differences between an answer (Arrow table, spine order) and a case's expected rows."""
    problems = []
    if actual.column_names != expected.column_names:
        problems.append(f"columns {actual.column_names} != expected {expected.column_names}")
    if actual.num_rows != expected.num_rows:
        problems.append(f"{actual.num_rows} rows != expected {expected.num_rows}")
    for col in expected.column_names:
        if col not in actual.column_names:
            continue
        got = actual.column(col).to_pylist()
        want = expected.column(col).to_pylist()
        for r, (a, b) in enumerate(zip(got, want, strict=False)):
            if not _cell_equal(a, b):
                problems.append(f"row {r} {col}: got {a!r}, expected {b!r}")
    return problems


def _golden_feast_case(case: dict[str, Any], tmp: Path) -> Any:
    """One golden case through Feast-DuckDB: the answer as an Arrow table in spine order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    row = "_golden_row"
    with tempfile.TemporaryDirectory(prefix="feast-golden-", dir=tmp) as d:
        repo = Path(d)
        tables = []
        for t in case["tables"]:
            path = repo / f"{t['name']}.parquet"
            pq.write_table(t["data"], path)
            tables.append({**t, "path": path, "schema": t["data"].schema})
        store = feast_store(repo, "duckdb")
        refs = feast_apply(store, tables)
        spine = case["spine"]
        spine = spine.append_column(row, pa.array(range(spine.num_rows), type=pa.int64()))
        entity_df = spine.to_pandas(
            types_mapper={pa.int64(): _pd_int64(), pa.bool_(): _pd_bool()}.get
        )
        result = store.get_historical_features(entity_df=entity_df, features=refs).to_arrow()
    result = result.take(pc.sort_indices(result, [(row, "ascending")]))
    return result.drop_columns([row])


def _pd_int64() -> Any:
    import pandas as pd

    return pd.Int64Dtype()


def _pd_bool() -> Any:
    import pandas as pd

    return pd.BooleanDtype()


def child_golden(cfg: dict[str, Any]) -> dict[str, Any]:
    """Every golden case through Feast-DuckDB; per case: equal to expected, and the differences."""
    import pyarrow.parquet as pq

    del pq
    out = []
    for case in load_golden(Path(cfg["path"])):
        try:
            result = _golden_feast_case(case, Path(cfg["tmp"]))
            problems = compare_golden(result, case["expected"])
            rows = [[_json_cell(v) for v in r.values()] for r in result.to_pylist()]
            out.append({"name": case["name"], "problems": problems, "rows": rows, "error": None})
        except Exception as exc:
            out.append(
                {
                    "name": case["name"],
                    "problems": [],
                    "rows": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
    return {"cases": out, "versions": versions("feast", "duckdb", "ibis-framework")}


def _json_cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return v


def _golden_prodml_case(case: dict[str, Any]) -> Any:
    from prodml.features.pit import FeatureSource, point_in_time_join

    sources = [
        FeatureSource(
            name=t["name"],
            data=t["data"],
            keys=t["keys"],
            timestamp=t["timestamp"],
            features=t["features"],
            created=t["created"],
            ttl=t["ttl"],
        )
        for t in case["tables"]
    ]
    return point_in_time_join(case["spine"], timestamp=case["timestamp"], sources=sources)


def run_golden(script: Path, path: Path, peer_python: Path | None, peer_note: str) -> int:
    """Every case through Feast-DuckDB (``script``'s ``golden`` workload in the peer's venv) and
    prodml; prints the table; the exit status (3 when an answer is not the expected one)."""
    cases = load_golden(path)  # fails early (here) on a malformed file
    print(f"golden file {path}: {len(cases)} case(s)")
    feast_answers: dict[str, dict[str, Any]] = {}
    found = ""
    if peer_python is not None:
        try:
            res = run_child(
                script,
                "golden",
                {"path": str(path.resolve()), "tmp": str(work_dir("pit_join"))},
                python=peer_python,
                extra_env=CHILD_ENV,
                timeout=600,
            )
        except ChildFailedError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        feast_answers = {c["name"]: c for c in res["cases"]}
        found = versions_text(res["versions"])
    try:
        import prodml.features.pit  # noqa: F401

        have_prodml = True
    except ImportError as exc:
        have_prodml = False
        print(f"prodml side skipped: {exc}")

    table = []
    failures = 0
    details: list[str] = []
    for case in cases:
        name = case["name"]
        known = case["feast_differs"]
        feast_cell = "—"
        if name in feast_answers:
            fa = feast_answers[name]
            if fa["error"]:
                feast_cell = "error"
                details.append(f"{name}: Feast failed: {fa['error']}")
                failures += 0 if known else 1
            elif fa["problems"]:
                feast_cell = f"differs (known: {known})" if known else "NO"
                failures += 0 if known else 1
                details += [f"{name}: Feast {p}" for p in fa["problems"][:10]]
                details.append(f"{name}: Feast rows {fa['rows']}")
            else:
                feast_cell = "yes" + (" (but marked feast_differs)" if known else "")
        prodml_cell = "—"
        if have_prodml:
            try:
                problems = compare_golden(_golden_prodml_case(case), case["expected"])
                prodml_cell = "yes" if not problems else "NO"
                failures += 1 if problems else 0
                details += [f"{name}: prodml {p}" for p in problems[:10]]
            except Exception as exc:
                prodml_cell = "error"
                failures += 1
                details.append(f"{name}: prodml failed: {type(exc).__name__}: {exc}")
        table.append([name, feast_cell, prodml_cell, known or ""])
    print_table(
        f"point-in-time golden cases ({path.name}): answers equal to the expected rows",
        ["case", "Feast-DuckDB = expected", "prodml = expected", "known Feast difference"],
        table,
    )
    if found:
        print(f"peer venv: {found}")
    elif peer_note:
        print(f"Feast not run: {peer_note}")
    for d in details:
        print(f"  {d}")
    return 3 if failures else 0
