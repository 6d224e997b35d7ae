"""Table maintenance on real Delta tables: checkpoints every few commits, lost files found from
the log and forgotten by repair, optimize + vacuum leaving exactly the retained versions'
files, and forgetting one subject's rows from a table and its history (issue 13 items 8, 11)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa
import pytest

from prodml.tables.delta import DeltaTables, WriteSpec, add_actions
from prodml.tables.errors import TableError
from prodml.tables.maintenance import CHECKPOINT_INTERVAL, LostFilesError, key_predicate

NAME = "dev.bronze.orders"
SPEC = WriteSpec(NAME, "append", partition_by=["day"])


@pytest.fixture
def tables(tmp_path: Path) -> DeltaTables:
    return DeltaTables(str(tmp_path))


def _commit(tables: DeltaTables, location: str, i: int) -> None:
    row = {"customer_id": [f"C{i % 7:06d}"], "day": [f"2024-01-0{i % 3 + 1}"], "n": [i]}
    tables.write(location, pa.table(row), SPEC)


def _data_files(location: str) -> set[str]:
    root = Path(location)
    return {
        str(p.relative_to(root)) for p in root.rglob("*.parquet") if "_delta_log" not in p.parts
    }


def _seconds(location: str, *, rows: bool, rounds: int = 5) -> float:
    """The best of a few cold opens (and reads of the rows): a new reader each time, as a
    new process is."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        handle = DeltaTables(str(Path(location).parents[2])).open(location)
        if rows:
            handle.to_pyarrow_table()
        best = min(best, time.perf_counter() - began)
    return best


def test_item11_checkpoints_keep_reads_flat_after_500_commits(tables: DeltaTables) -> None:
    small, large = (
        tables.location("dev", "bronze", "small"),
        tables.location("dev", "bronze", "large"),
    )
    for i in range(5):
        _commit(tables, small, i)
    for i in range(500):
        _commit(tables, large, i)
    log = os.listdir(Path(large) / "_delta_log")
    checkpoints = sorted(int(f.split(".")[0]) for f in log if f.endswith(".checkpoint.parquet"))
    assert set(range(10, 500, CHECKPOINT_INTERVAL)) <= set(checkpoints)  # ours, every 10
    assert 499 - checkpoints[-1] < CHECKPOINT_INTERVAL
    # opening replays the last checkpoint and at most CHECKPOINT_INTERVAL - 1 commits: the
    # work of the 5-commit table, within noise (not 500 JSON commits)
    assert _seconds(large, rows=False) < 3 * _seconds(small, rows=False) + 0.02
    # and once its 500 one-row files are compacted, reading the rows costs the same too
    tables.maintain(large, "optimize", name=NAME)
    assert _seconds(large, rows=True) < 3 * _seconds(small, rows=True) + 0.02


def test_item11_vacuum_after_optimize_leaves_exactly_the_retained_versions_files(
    tables: DeltaTables,
) -> None:
    location = tables.location("dev", "bronze", "orders")
    for i in range(12):
        _commit(tables, location, i)
    before = tables.open(location).to_pyarrow_table().sort_by("n")
    done = tables.maintain(location, "optimize", name=NAME)
    assert done["files_removed"] == 12 and done["files_added"] == 3  # one per day
    kept = tables.maintain(location, "vacuum", name=NAME, retention_hours=168)
    assert kept["files_deleted"] == 0  # every version is younger than a week: all kept
    listed = tables.maintain(location, "vacuum", name=NAME, retention_hours=0, dry_run=True)
    assert listed["files_deleted"] == 12 and _data_files(location) != set()
    assert len(_data_files(location)) == 15  # a dry run deletes nothing
    tables.maintain(location, "vacuum", name=NAME, retention_hours=0)
    live = set(add_actions(tables.open(location)).column("path").to_pylist())
    assert _data_files(location) == live and len(live) == 3
    assert tables.open(location).to_pyarrow_table().sort_by("n").equals(before)


def test_item11_vacuum_refuses_a_negative_retention(tables: DeltaTables) -> None:
    location = tables.location("dev", "bronze", "orders")
    _commit(tables, location, 0)
    with pytest.raises(TableError, match="cannot be negative"):
        tables.maintain(location, "vacuum", name=NAME, retention_hours=-1)


def test_item11_forget_deletes_a_subject_from_the_table_and_its_history(
    tables: DeltaTables,
) -> None:
    location = tables.location("dev", "bronze", "orders")
    for i in range(14):
        _commit(tables, location, i)
    schema = pa.schema(tables.open(location).schema().to_arrow())
    predicate = key_predicate(NAME, schema, "customer_id=C000003")
    done = tables.maintain(location, "forget", name=NAME, predicate=predicate)
    assert done["rows_deleted"] == 2  # n = 3 and 10
    now = tables.open(location).to_pyarrow_table()
    assert now.num_rows == 12 and "C000003" not in now.column("customer_id").to_pylist()
    # no older version, data file or log entry holds the subject any more
    with pytest.raises(TableError):
        tables.open(location, version=0, name=NAME)
    for path in Path(location).rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".json"):
            assert b"C000003" not in path.read_bytes(), path
    _commit(tables, location, 100)  # the table goes on
    assert tables.open(location).to_pyarrow_table().num_rows == 13


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("customer_id", "is not column=value"),
        ("=C1", "is not column=value"),
        ("customer=C1", "did you mean 'customer_id'?"),
        ("n=abc", "holds integers; 'abc' is not one"),
        ('n"; DROP=1', "invalid column name"),
    ],
)
def test_forget_keys_are_checked(tables: DeltaTables, key: str, message: str) -> None:
    location = tables.location("dev", "bronze", "orders")
    _commit(tables, location, 0)
    schema = pa.schema(tables.open(location).schema().to_arrow())
    with pytest.raises(Exception, match="") as info:
        key_predicate(NAME, schema, key)
    assert message in str(info.value)


def test_a_quote_in_a_forget_value_stays_a_value(tables: DeltaTables) -> None:
    location = tables.location("dev", "bronze", "orders")
    _commit(tables, location, 0)
    schema = pa.schema(tables.open(location).schema().to_arrow())
    predicate = key_predicate(NAME, schema, "customer_id=x' OR '1'='1")
    assert tables.maintain(location, "forget", name=NAME, predicate=predicate)["rows_deleted"] == 0
    assert tables.open(location).to_pyarrow_table().num_rows == 1


def test_item8_a_deleted_data_file_is_found_named_and_repaired(tables: DeltaTables) -> None:
    location = tables.location("dev", "bronze", "orders")
    for i in range(6):
        _commit(tables, location, i)
    assert tables.lost_files(location) == []
    victim = next(f for f in _data_files(location) if f.startswith("day=2024-01-02"))
    os.remove(Path(location) / victim)
    lost = tables.lost_files(location)
    assert [(f.path, f.where()) for f in lost] == [(victim, "day=2024-01-02")]
    for read in (
        lambda: tables.dataset(location, name=NAME),
        lambda: tables.state(location, "day"),
    ):
        with pytest.raises(LostFilesError) as info:
            read()
        assert "1 data file is gone from storage (day=2024-01-02; e.g. " in str(info.value)
        assert "prodml tables check" in str(info.value)
    done = tables.maintain(location, "repair", name=NAME)
    assert done["files_removed"] == 1
    assert tables.lost_files(location) == []
    assert tables.dataset(location, name=NAME).to_table().num_rows == 5
