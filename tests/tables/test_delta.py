"""Tests for Delta table writes, time travel and change detection, on real tables in a temp dir."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from prodml.errors import InvalidNameError
from prodml.tables.delta import DeltaTables, WriteSpec
from prodml.tables.errors import SchemaMismatchError, TableError

NAME = "dev.silver.orders"


@pytest.fixture
def tables(tmp_path: Path) -> DeltaTables:
    return DeltaTables(str(tmp_path))


@pytest.fixture
def location(tables: DeltaTables) -> str:
    return tables.location("dev", "silver", "orders")


def orders(ids: list[int], days: list[str], amounts: list[float] | None = None) -> pa.Table:
    return pa.table(
        {
            "order_id": pa.array(ids, pa.int64()),
            "day": pa.array(days, pa.string()),
            "amount": pa.array(amounts or [float(i) for i in ids], pa.float64()),
        }
    )


def read(tables: DeltaTables, location: str, version: int | None = None) -> list[dict]:
    table = tables.open(location, version).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda r: (r["order_id"], r["day"]))


def spec(mode: str, **kwargs) -> WriteSpec:
    return WriteSpec(NAME, mode, **kwargs)  # type: ignore[arg-type]


def version(tables: DeltaTables, location: str) -> int:
    return tables.open(location).version()


# -- the four modes --------------------------------------------------------------------------


def test_create_then_append(tables: DeltaTables, location: str, tmp_path: Path) -> None:
    assert location == f"{tmp_path}/dev/silver/orders"
    assert not tables.exists(location)
    created = tables.write(location, orders([1, 2], ["a", "a"]), spec("append"))
    assert (created.version, created.rows, created.operation) == (0, 2, "create")
    assert created.bytes > 0
    assert tables.exists(location)

    appended = tables.write(location, orders([3], ["b"]), spec("append"))
    assert (appended.version, appended.rows, appended.operation) == (1, 1, "append")
    assert [r["order_id"] for r in read(tables, location)] == [1, 2, 3]


def test_overwrite_replaces_everything(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1, 2, 3], ["a", "b", "c"]), spec("append"))
    result = tables.write(location, orders([9], ["z"]), spec("overwrite"))
    assert (result.version, result.operation) == (1, "overwrite")
    assert read(tables, location) == [{"order_id": 9, "day": "z", "amount": 9.0}]


def test_replace_partitions_replaces_exactly_the_named_ones(
    tables: DeltaTables, location: str
) -> None:
    by_day = spec("append", partition_by=["day"])
    tables.write(location, orders([1, 2, 3, 4], ["d1", "d1", "d2", "d3"]), by_day)
    result = tables.write(
        location,
        orders([10, 11], ["d2", "d2"]),
        spec(
            "replace_partitions",
            partition_by=["day"],
            partition_column="day",
            partitions=["d2", "d3"],
        ),
    )
    assert result.operation == "replace_partitions"
    assert result.partitions == ["d2", "d3"]
    rows = read(tables, location)
    # d1 untouched, d2 replaced, d3 named but absent from the data: emptied
    assert [(r["order_id"], r["day"]) for r in rows] == [
        (1, "d1"),
        (2, "d1"),
        (10, "d2"),
        (11, "d2"),
    ]


def test_replace_partitions_with_no_partitions_is_a_no_op(
    tables: DeltaTables, location: str
) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append", partition_by=["day"]))
    result = tables.write(
        location,
        orders([], []),
        spec("replace_partitions", partition_column="day", partitions=[]),
    )
    assert result.operation == "noop"
    assert version(tables, location) == 0
    assert len(read(tables, location)) == 1


def test_replace_partitions_with_empty_data_empties_them(
    tables: DeltaTables, location: str
) -> None:
    tables.write(location, orders([1, 2], ["d1", "d2"]), spec("append", partition_by=["day"]))
    tables.write(
        location,
        orders([], []),
        spec("replace_partitions", partition_column="day", partitions=["d1"]),
    )
    assert [r["day"] for r in read(tables, location)] == ["d2"]


def test_replace_partitions_needs_column_and_values(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append"))
    with pytest.raises(TableError, match="needs the partition column"):
        tables.write(location, orders([1], ["d1"]), spec("replace_partitions", partitions=["d1"]))
    assert version(tables, location) == 0


def test_replace_partitions_of_a_date_column(tables: DeltaTables, location: str) -> None:
    def data(days: list[dt.date], values: list[int]) -> pa.Table:
        return pa.table({"day": pa.array(days, pa.date32()), "v": pa.array(values, pa.int64())})

    d1, d2, d3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
    tables.write(location, data([d1, d2, d3], [1, 2, 3]), spec("append", partition_by=["day"]))
    before = tables.partition_ids(location, "day")
    assert set(before) == {"2024-01-01", "2024-01-02", "2024-01-03"}

    tables.write(
        location,
        data([d2, d2], [20, 21]),
        spec(
            "replace_partitions",
            partition_by=["day"],
            partition_column="day",
            partitions=["2024-01-02", "2024-01-03"],
        ),
    )
    rows = tables.open(location).to_pyarrow_table().sort_by("v").to_pylist()
    assert rows == [{"day": d1, "v": 1}, {"day": d2, "v": 20}, {"day": d2, "v": 21}]
    after = tables.partition_ids(location, "day")
    assert set(after) == {"2024-01-01", "2024-01-02"}
    assert after["2024-01-01"] == before["2024-01-01"]
    assert after["2024-01-02"] != before["2024-01-02"]


def test_replace_partitions_rejects_rows_outside_the_named_partitions(
    tables: DeltaTables, location: str
) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append", partition_by=["day"]))
    with pytest.raises(TableError):
        tables.write(
            location,
            orders([2, 3], ["d1", "d9"]),
            spec("replace_partitions", partition_column="day", partitions=["d1"]),
        )


def test_merge_upserts_on_keys(tables: DeltaTables, location: str) -> None:
    merge = spec("merge", keys=["order_id"])
    tables.write(location, orders([1, 2, 3], ["a", "a", "a"], [1.0, 2.0, 3.0]), merge)
    update = orders([2, 3, 4], ["b", "b", "b"], [20.0, 30.0, 40.0])
    result = tables.write(location, update, merge)
    assert (result.version, result.operation, result.rows) == (1, "merge", 3)
    expected = [
        {"order_id": 1, "day": "a", "amount": 1.0},
        {"order_id": 2, "day": "b", "amount": 20.0},
        {"order_id": 3, "day": "b", "amount": 30.0},
        {"order_id": 4, "day": "b", "amount": 40.0},
    ]
    assert read(tables, location) == expected

    tables.write(location, update, merge)
    assert read(tables, location) == expected


def test_merge_on_a_composite_key(tables: DeltaTables, location: str) -> None:
    merge = spec("merge", keys=["order_id", "day"])
    tables.write(location, orders([1, 1], ["a", "b"], [1.0, 2.0]), merge)
    tables.write(location, orders([1, 1], ["b", "c"], [20.0, 30.0]), merge)
    assert [(r["day"], r["amount"]) for r in read(tables, location)] == [
        ("a", 1.0),
        ("b", 20.0),
        ("c", 30.0),
    ]


def test_merge_of_no_rows_is_a_no_op(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["a"]), spec("merge", keys=["order_id"]))
    result = tables.write(location, orders([], []), spec("merge", keys=["order_id"]))
    assert result.operation == "noop"
    assert version(tables, location) == 0


def test_merge_needs_keys(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["a"]), spec("append"))
    with pytest.raises(TableError, match="merge needs keys"):
        tables.write(location, orders([1], ["a"]), spec("merge"))


def test_keys_and_partition_columns_are_checked(tables: DeltaTables, location: str) -> None:
    with pytest.raises(TableError, match=r"column 'customer_id'.*not in the data"):
        tables.write(location, orders([1], ["a"]), spec("merge", keys=["customer_id"]))
    with pytest.raises(InvalidNameError):
        tables.write(location, orders([1], ["a"]), spec("append", partition_by=['day" OR 1=1']))
    assert not tables.exists(location)


# -- commit metadata, history and time travel ------------------------------------------------


def test_custom_commit_metadata_is_found(tables: DeltaTables, location: str) -> None:
    assert tables.find_commit(location, "prodml.run_id", "r1") is None
    tables.write(location, orders([1], ["a"]), spec("append", metadata={"prodml.run_id": "r1"}))
    tables.write(location, orders([2], ["a"]), spec("append", metadata={"prodml.run_id": "r2"}))
    tables.write(location, orders([3], ["a"]), spec("append"))
    assert tables.find_commit(location, "prodml.run_id", "r1") == 0
    assert tables.find_commit(location, "prodml.run_id", "r2") == 1
    assert tables.find_commit(location, "prodml.run_id", "r3") is None
    history = tables.history(location)
    assert [h["version"] for h in history] == [2, 1, 0]
    assert history[1]["prodml.run_id"] == "r2"
    assert len(tables.history(location, limit=1)) == 1


def test_time_travel(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["a"]), spec("append"))
    tables.write(location, orders([2], ["a"]), spec("append"))
    tables.write(location, orders([9], ["z"]), spec("overwrite"))
    assert [r["order_id"] for r in read(tables, location, 0)] == [1]
    assert [r["order_id"] for r in read(tables, location, 1)] == [1, 2]
    assert [r["order_id"] for r in read(tables, location)] == [9]
    with pytest.raises(TableError, match="has no version 7: versions 0 to 2 exist"):
        tables.open(location, 7, name=NAME)


def test_opening_a_missing_table(tables: DeltaTables, location: str) -> None:
    with pytest.raises(TableError, match=f"table {NAME}: does not exist yet"):
        tables.open(location, name=NAME)


def test_dataset_prunes_to_partitions(tables: DeltaTables, location: str) -> None:
    tables.write(
        location, orders([1, 2, 3], ["d1", "d2", "d3"]), spec("append", partition_by=["day"])
    )
    dataset = tables.dataset(location, partition_column="day", partitions=["d1", "d3"])
    assert sorted(dataset.to_table().column("order_id").to_pylist()) == [1, 3]
    assert tables.dataset(location).count_rows() == 3
    assert tables.dataset(location, version=0).count_rows() == 3


def test_dataset_of_no_partitions_is_empty(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append", partition_by=["day"]))
    dataset = tables.dataset(location, partition_column="day", partitions=[])
    assert dataset.count_rows() == 0
    assert dataset.schema.names == ["order_id", "day", "amount"]


def test_partition_ids_change_only_where_rewritten(tables: DeltaTables, location: str) -> None:
    tables.write(
        location, orders([1, 2, 3], ["d1", "d2", "d3"]), spec("append", partition_by=["day"])
    )
    first = tables.partition_ids(location, "day")
    assert set(first) == {"d1", "d2", "d3"}
    assert len(set(first.values())) == 3

    tables.write(
        location,
        orders([20], ["d2"]),
        spec("replace_partitions", partition_column="day", partitions=["d2"]),
    )
    second = tables.partition_ids(location, "day")
    assert second["d1"] == first["d1"]
    assert second["d3"] == first["d3"]
    assert second["d2"] != first["d2"]

    tables.write(location, orders([4], ["d3"]), spec("append"))
    third = tables.partition_ids(location, "day")
    assert (third["d1"], third["d2"]) == (second["d1"], second["d2"])
    assert third["d3"] != second["d3"]
    # an older version still has its ids
    assert tables.partition_ids(location, "day", version=0) == first
    assert tables.partition_ids(location, "amount") == {}


# -- schema checks before anything is written ------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pa.table({"order_id": pa.array([5], pa.int64()), "day": ["x"]}), "missing column"),
        (
            orders([5], ["x"]).append_column("note", pa.array(["n"])),
            "new column(s) note",
        ),
        (
            orders([5], ["x"]).set_column(0, "order_id", pa.array(["5"])),
            "column order_id is string, the table has int64",
        ),
    ],
    ids=["missing-column", "new-column", "string-into-int"],
)
@pytest.mark.parametrize("mode", ["append", "overwrite", "merge"])
def test_schema_mismatch_writes_nothing(
    tables: DeltaTables, location: str, data: pa.Table, message: str, mode: str
) -> None:
    tables.write(location, orders([1], ["a"]), spec("append"))
    with pytest.raises(SchemaMismatchError) as info:
        tables.write(location, data, spec(mode, keys=["order_id"] if mode == "merge" else []))
    assert message in str(info.value)
    assert info.value.table == NAME
    assert version(tables, location) == 0
    assert read(tables, location) == [{"order_id": 1, "day": "a", "amount": 1.0}]


@pytest.mark.parametrize("mode", ["append", "merge"])
def test_evolve_adds_a_column(tables: DeltaTables, location: str, mode: str) -> None:
    tables.write(location, orders([1], ["a"]), spec("append"))
    data = orders([2], ["b"]).append_column("note", pa.array(["new"]))
    tables.write(location, data, spec(mode, keys=["order_id"], evolve=True))
    rows = read(tables, location)
    assert rows == [
        {"order_id": 1, "day": "a", "amount": 1.0, "note": None},
        {"order_id": 2, "day": "b", "amount": 2.0, "note": "new"},
    ]


def test_widening_int32_into_int64_is_accepted(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["a"]), spec("append"))
    narrow = orders([2], ["b"]).set_column(0, "order_id", pa.array([2], pa.int32()))
    tables.write(location, narrow, spec("append"))
    table = tables.open(location).to_pyarrow_table()
    assert table.schema.field("order_id").type == pa.int64()
    assert sorted(table.column("order_id").to_pylist()) == [1, 2]


# -- concurrent writers ----------------------------------------------------------------------


def test_concurrent_merges_from_two_writers_all_land(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([0], ["seed"]), spec("merge", keys=["order_id"]))
    errors: list[BaseException] = []
    versions: list[int] = []
    start = threading.Barrier(2)

    def writer(base: int) -> None:
        try:
            start.wait()
            for i in range(5):
                data = orders([base + i], [f"w{base}"], [float(i)])
                meta = {"prodml.seq": f"{base}-{i}"}
                result = tables.write(
                    location, data, spec("merge", keys=["order_id"], metadata=meta)
                )
                versions.append(result.version)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(base,)) for base in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [r["order_id"] for r in read(tables, location)]
    assert ids == [0, 100, 101, 102, 103, 104, 200, 201, 202, 203, 204]
    assert version(tables, location) == 10
    # every write became exactly one commit
    found = {
        tables.find_commit(location, "prodml.seq", f"{b}-{i}") for b in (100, 200) for i in range(5)
    }
    assert found == set(range(1, 11))
    assert len(versions) == 10


def _stream(*tables: pa.Table) -> pa.RecordBatchReader:
    batches = [b for t in tables for b in t.to_batches()]
    return pa.RecordBatchReader.from_batches(tables[0].schema, iter(batches))


def test_a_stream_is_written_in_one_commit_with_counts(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append", partition_by=["day"]))
    result = tables.write(
        location,
        _stream(orders([2, 3], ["d2", "d2"]), orders([4], ["d3"])),
        spec("replace_partitions", partitions=["d2", "d3"], partition_column="day"),
    )
    assert (result.version, result.rows) == (1, 3)
    assert sorted(tables.open(location).to_pyarrow_table().column("order_id").to_pylist()) == [
        1,
        2,
        3,
        4,
    ]


def test_a_bad_batch_late_in_a_stream_writes_nothing(tables: DeltaTables, location: str) -> None:
    tables.write(location, orders([1], ["d1"]), spec("append", partition_by=["day"]))
    with pytest.raises(TableError, match=r"partitions that are not being replaced .d9."):
        tables.write(
            location,
            _stream(orders([2], ["d2"]), orders([3], ["d9"])),
            spec("replace_partitions", partitions=["d2"], partition_column="day"),
        )
    assert version(tables, location) == 0
    with pytest.raises(SchemaMismatchError):
        tables.write(
            location, _stream(orders([5], ["d5"]).drop_columns(["amount"])), spec("append")
        )
    assert version(tables, location) == 0
