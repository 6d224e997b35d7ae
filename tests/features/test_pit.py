"""Point-in-time joins: the golden cases (shared with the Feast comparison) and bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from prodml.features.errors import FeatureJoinError
from prodml.features.pit import FeatureSource, point_in_time_join

GOLDEN = json.loads((Path(__file__).parent / "pit_golden.json").read_text())["cases"]
UTC = "UTC"


def _column(name: str, values: list[Any]) -> pa.Array:
    if name.endswith("ts") and values and isinstance(values[0], str):
        return pa.array([datetime.fromisoformat(v) for v in values], pa.timestamp("us", UTC))
    return pa.array(values)


def _table(columns: dict[str, list[Any]]) -> pa.Table:
    return pa.table({name: _column(name, values) for name, values in columns.items()})


@pytest.mark.parametrize("case", GOLDEN, ids=[c["name"] for c in GOLDEN])
def test_golden_case(case: dict[str, Any]) -> None:
    spine = _table(case["spine"]["columns"])
    sources = [
        FeatureSource(
            name=t["name"],
            data=_table(t["columns"]),
            keys=t["keys"],
            timestamp=t["timestamp"],
            features=t["features"],
            created=t["created"],
            ttl=None if t["ttl_seconds"] is None else timedelta(seconds=t["ttl_seconds"]),
        )
        for t in case["tables"]
    ]
    result = point_in_time_join(spine, timestamp=case["spine"]["timestamp"], sources=sources)
    expected = _table(case["expected"]["columns"])
    assert result.column_names == expected.column_names
    assert result.to_pylist() == expected.to_pylist()


def _t(hour: int, tz: str = UTC) -> Any:
    return pa.array([datetime(2024, 3, 10, hour)], pa.timestamp("us")).cast(pa.timestamp("us", tz))


def test_zones_are_instants_and_the_result_is_utc() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    spine = pa.table(
        {
            "k": [1],
            "ts": pa.array(
                [datetime(2024, 3, 10, 13, tzinfo=berlin)], pa.timestamp("us", "Europe/Berlin")
            ),
        }
    )
    features = pa.table(
        {
            "k": [1, 1],
            # 12:00Z is exactly the spine's instant (13:00 in Berlin); 12:00:01Z is after it
            "event_ts": pa.array(
                [datetime(2024, 3, 10, 12), datetime(2024, 3, 10, 12, 0, 1)], pa.timestamp("ns")
            ).cast(pa.timestamp("ns", "UTC")),
            "f": [1.0, 2.0],
        }
    )
    out = point_in_time_join(
        spine, timestamp="ts", sources=[FeatureSource("t", features, ["k"], "event_ts", ["f"])]
    )
    assert out.column("f").to_pylist() == [1.0]
    assert out.schema.field("ts").type == pa.timestamp("us", "UTC")


def test_spine_from_pandas_duckdb_and_dataset(tmp_path: Path) -> None:
    import duckdb
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    case = GOLDEN[2]  # duplicates and unmatched
    spine = _table(case["spine"]["columns"])
    source = FeatureSource(
        "t", _table(case["tables"][0]["columns"]), ["customer_id"], "event_ts", ["f"]
    )
    expected = point_in_time_join(spine, timestamp="ts", sources=[source]).to_pylist()
    pq.write_table(spine, tmp_path / "spine.parquet")
    con = duckdb.connect()
    for form in (
        spine.to_pandas(),
        con.sql("SELECT * FROM read_parquet(?)", params=[str(tmp_path / "spine.parquet")]),
        pads.dataset(tmp_path / "spine.parquet"),
    ):
        got = point_in_time_join(form, timestamp="ts", sources=[source]).to_pylist()
        assert [r["f"] for r in got] == [r["f"] for r in expected]


# -- bad input ----------------------------------------------------------------------------


def _spine(**overrides: Any) -> pa.Table:
    columns = {
        "customer_id": pa.array([1, 2]),
        "ts": pa.array([datetime(2024, 3, 10)] * 2, pa.timestamp("us")).cast(
            pa.timestamp("us", UTC)
        ),
    }
    columns.update(overrides)
    return pa.table(columns)


def _features(**overrides: Any) -> pa.Table:
    columns = {
        "customer_id": pa.array([1]),
        "event_ts": pa.array([datetime(2024, 3, 9)], pa.timestamp("us")).cast(
            pa.timestamp("us", UTC)
        ),
        "f": pa.array([1.0]),
    }
    columns.update(overrides)
    return pa.table(columns)


def _join(spine: pa.Table, rows: pa.Table, **kw: Any) -> pa.Table:
    source = FeatureSource(
        kw.pop("name", "features.t"),
        rows,
        kw.pop("keys", ["customer_id"]),
        "event_ts",
        kw.pop("features", ["f"]),
        **kw,
    )
    return point_in_time_join(spine, timestamp="ts", sources=[source])


def test_naive_spine_timestamp_is_refused_with_a_fix() -> None:
    naive = pa.array([datetime(2024, 3, 10)] * 2, pa.timestamp("us"))
    with pytest.raises(FeatureJoinError, match="has no time zone") as err:
        _join(_spine(ts=naive), _features())
    assert "AT TIME ZONE 'UTC'" in (err.value.hint or "")


def test_naive_feature_timestamp_names_the_table() -> None:
    naive = pa.array([datetime(2024, 3, 9)], pa.timestamp("us"))
    with pytest.raises(FeatureJoinError, match=r"features\.t: timestamp column 'event_ts'"):
        _join(_spine(), _features(event_ts=naive))


def test_a_date_is_not_a_timestamp() -> None:
    from datetime import date

    with pytest.raises(FeatureJoinError, match=r"is date32.*not a timestamp"):
        _join(_spine(ts=pa.array([date(2024, 3, 10)] * 2)), _features())


def test_null_keys_in_the_spine_are_refused_with_the_row() -> None:
    with pytest.raises(
        FeatureJoinError, match=r"1 row\(s\) with a NULL 'customer_id' \(first at row 1\)"
    ):
        _join(_spine(customer_id=pa.array([1, None])), _features())


def test_missing_key_column_says_which_and_suggests() -> None:
    with pytest.raises(
        FeatureJoinError,
        match=r"the spine \(looking up features.t\) has no key column 'customer_id'",
    ) as err:
        _join(_spine().rename_columns(["customer", "ts"]), _features())
    assert "customer" in (err.value.hint or "")
    with pytest.raises(FeatureJoinError, match=r"features\.t has no key column 'store_id'"):
        _join(_spine(), _features(), keys=["store_id"], spine_keys=["customer_id"])


def test_unknown_feature_column_suggests_the_close_one() -> None:
    with pytest.raises(FeatureJoinError, match="no feature column 'ff'") as err:
        _join(_spine(), _features(), features=["ff"])
    assert "'f'" in (err.value.hint or "")


def test_clashing_output_names_must_be_renamed() -> None:
    with pytest.raises(FeatureJoinError, match="would be column 'customer_id'"):
        _join(_spine(), _features(), features=["customer_id"])


def test_key_count_mismatch_and_negative_ttl() -> None:
    with pytest.raises(FeatureJoinError, match="2 spine key"):
        _join(_spine(), _features(), spine_keys=["customer_id", "ts"])
    with pytest.raises(FeatureJoinError, match="must not be negative"):
        _join(_spine(), _features(), ttl=timedelta(days=-1))


def test_not_a_frame() -> None:
    with pytest.raises(FeatureJoinError, match="the spine must be an Arrow table"):
        point_in_time_join(42, timestamp="ts", sources=[])


def test_random_data_matches_a_brute_force_reading_of_the_rules() -> None:
    """Thousands of rows with many ties, duplicates, NULL created times and TTL edges."""
    import numpy as np

    rng = np.random.default_rng(11)
    base = 1_710_000_000_000_000
    n_spine, n_rows = 2000, 6000
    spine_keys = rng.integers(0, 60, n_spine)
    spine_ts = base + rng.integers(0, 50, n_spine) * 1_000_000  # coarse: many exact hits
    keys = rng.integers(0, 50, n_rows)
    event = base + rng.integers(0, 50, n_rows) * 1_000_000
    created = base + rng.integers(0, 5, n_rows) * 1_000_000
    created_null = rng.random(n_rows) < 0.1
    values = np.arange(n_rows, dtype=np.float64)
    ttl = timedelta(seconds=10)
    ts_type = pa.timestamp("us", "UTC")
    spine = pa.table({"k": spine_keys, "t": pa.array(spine_ts).cast(ts_type)})
    rows = pa.table(
        {
            "k": keys,
            "e": pa.array(event).cast(ts_type),
            "c": pa.array(created, mask=created_null).cast(ts_type),
            "v": values,
        }
    )
    got = point_in_time_join(
        spine,
        timestamp="t",
        sources=[FeatureSource("t", rows, ["k"], "e", ["v"], created="c", ttl=ttl)],
    ).column("v")

    oldest = np.iinfo(np.int64).min
    for i in range(n_spine):
        t, k = spine_ts[i], spine_keys[i]
        hit = (keys == k) & (event <= t) & (event >= t - 10_000_000)
        if not hit.any():
            assert got[i].as_py() is None, i
            continue
        latest = event[hit].max()
        tied = hit & (event == latest)
        best_created = np.where(created_null, oldest, created)[tied].max()
        winners = set(values[tied & (np.where(created_null, oldest, created) == best_created)])
        assert got[i].as_py() in winners, i  # a full tie may pick any of its rows


def test_keys_of_different_kinds_are_refused() -> None:
    with pytest.raises(FeatureJoinError, match="the spine's key 'customer_id' is string but"):
        _join(_spine(customer_id=pa.array(["1", "2"])), _features())
