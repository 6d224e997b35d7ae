"""Tests for schema conformance: what may be written into an existing Delta table."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from prodml.tables.errors import SchemaMismatchError
from prodml.tables.schema import conform, normalise

TABLE = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64())])


def rows(**columns: pa.Array) -> pa.Table:
    return pa.table(columns)


def test_normalise_maps_types_delta_cannot_store() -> None:
    schema = pa.schema(
        [
            ("ls", pa.large_string()),
            ("sv", pa.string_view()),
            ("lb", pa.large_binary()),
            ("u8", pa.uint8()),
            ("u32", pa.uint32()),
            ("u64", pa.uint64()),
            ("ns", pa.timestamp("ns", tz="UTC")),
            ("t", pa.time32("s")),
            ("nul", pa.null()),
            ("d64", pa.date64()),
            ("f16", pa.float16()),
            ("dic", pa.dictionary(pa.int8(), pa.large_string())),
            ("lst", pa.large_list(pa.large_string())),
            ("st", pa.struct([("x", pa.uint16()), ("y", pa.timestamp("ms"))])),
            ("ok", pa.int32()),
        ]
    )
    assert normalise(schema) == pa.schema(
        [
            ("ls", pa.string()),
            ("sv", pa.string()),
            ("lb", pa.binary()),
            ("u8", pa.int16()),
            ("u32", pa.int64()),
            ("u64", pa.int64()),
            ("ns", pa.timestamp("us", tz="UTC")),
            ("t", pa.time64("us")),
            ("nul", pa.string()),
            ("d64", pa.date32()),
            ("f16", pa.float32()),
            ("dic", pa.string()),
            ("lst", pa.list_(pa.string())),
            ("st", pa.struct([("x", pa.int32()), ("y", pa.timestamp("us"))])),
            ("ok", pa.int32()),
        ]
    )


def test_new_table_gets_storable_types() -> None:
    data = rows(
        name=pa.array(["a", "b"], pa.large_string()),
        at=pa.array([dt.datetime(2024, 1, 1, 12)] * 2, pa.timestamp("ns")),
        code=pa.array(["x", "x"]).dictionary_encode(),
    )
    out = conform("t", data, None, evolve=False)
    assert out.schema == pa.schema(
        [("name", pa.string()), ("at", pa.timestamp("us")), ("code", pa.string())]
    )
    assert out.column("name").to_pylist() == ["a", "b"]
    assert out.column("code").to_pylist() == ["x", "x"]


def test_matching_data_keeps_the_table_column_order() -> None:
    data = rows(amount=pa.array([1.5]), name=pa.array(["a"]), id=pa.array([1]))
    out = conform("t", data, TABLE, evolve=False)
    assert out.schema == TABLE
    assert out.to_pylist() == [{"id": 1, "name": "a", "amount": 1.5}]


@pytest.mark.parametrize(
    ("src", "dst", "value"),
    [
        (pa.int32(), pa.int64(), 2**31 - 1),
        (pa.int8(), pa.int16(), -128),
        (pa.uint32(), pa.int64(), 2**32 - 1),
        (pa.float32(), pa.float64(), 1.5),
        (pa.int32(), pa.float64(), 7),
        (pa.large_string(), pa.string(), "x"),
    ],
)
def test_widening_is_accepted(src: pa.DataType, dst: pa.DataType, value: object) -> None:
    out = conform("t", rows(c=pa.array([value], src)), pa.schema([("c", dst)]), evolve=False)
    assert out.schema == pa.schema([("c", dst)])
    assert out.column("c").to_pylist() == [value]


def test_timestamp_zones_convert_but_naive_and_aware_do_not_mix() -> None:
    table = pa.schema([("at", pa.timestamp("us", tz="UTC"))])
    berlin = pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("us", tz="Europe/Berlin"))
    assert conform("t", rows(at=berlin), table, evolve=False).schema == table
    naive = pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("us"))
    with pytest.raises(SchemaMismatchError, match="column at is timestamp"):
        conform("t", rows(at=naive), table, evolve=False)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (pa.string(), pa.int64()),
        (pa.int64(), pa.int32()),
        (pa.int64(), pa.float64()),
        (pa.float64(), pa.float32()),
        (pa.bool_(), pa.int64()),
        (pa.date32(), pa.timestamp("us")),
    ],
)
def test_narrowing_or_incompatible_types_are_rejected(src: pa.DataType, dst: pa.DataType) -> None:
    data = pa.table({"c": pa.array([], src)})
    with pytest.raises(SchemaMismatchError) as info:
        conform("dev.silver.t", data, pa.schema([("c", dst)]), evolve=False)
    assert str(info.value).startswith("table dev.silver.t: schema mismatch: column c is")
    assert info.value.table == "dev.silver.t"


def test_missing_column_is_rejected_even_with_evolve() -> None:
    data = rows(id=pa.array([1]), name=pa.array(["a"]))
    with pytest.raises(SchemaMismatchError, match=r"missing column\(s\) amount"):
        conform("t", data, TABLE, evolve=True)


def test_new_column_needs_evolve() -> None:
    data = rows(id=pa.array([1]), name=pa.array(["a"]), amount=pa.array([1.0]), x=pa.array([1]))
    with pytest.raises(SchemaMismatchError) as info:
        conform("t", data, TABLE, evolve=False)
    assert "new column(s) x" in str(info.value)
    assert "schema_evolution=True" in str(info.value)
    out = conform("t", data, TABLE, evolve=True)
    assert out.column_names == ["id", "name", "amount", "x"]


def test_every_problem_is_reported_at_once() -> None:
    data = rows(id=pa.array(["1"]), extra=pa.array([1]))
    with pytest.raises(SchemaMismatchError) as info:
        conform("t", data, TABLE, evolve=False)
    message = str(info.value)
    assert "missing column(s) name, amount" in message
    assert "new column(s) extra" in message
    assert "column id is string, the table has int64" in message


def test_all_null_column_fits_any_type() -> None:
    out = conform("t", rows(c=pa.nulls(2)), pa.schema([("c", pa.int64())]), evolve=False)
    assert out.column("c").to_pylist() == [None, None]


def test_nanosecond_timestamps_do_not_escape_as_arrow_errors() -> None:
    from prodml.errors import ProdmlError

    data = rows(at=pa.array([1_000_000_001], pa.timestamp("ns")))
    try:
        out = conform("t", data, None, evolve=False)
    except ProdmlError:
        return  # a prodml error is fine; so is truncating to microseconds
    assert out.schema.field("at").type == pa.timestamp("us")
