"""``prodml.engine.frames``: what a step returns (Arrow, DuckDB, pandas, Polars) as Arrow, and
None for anything else; ``describe`` names a type for error messages."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from prodml.engine.frames import ACCEPTED, describe, to_arrow

EXPECTED = pa.table({"id": [1, 2, 3], "name": ["a", "b", None]})


def test_arrow_table_is_returned_as_is() -> None:
    assert to_arrow(EXPECTED) is EXPECTED


def test_record_batch_reader_stays_a_stream() -> None:
    reader = pa.RecordBatchReader.from_batches(EXPECTED.schema, EXPECTED.to_batches())
    out = to_arrow(reader)
    assert out is reader
    assert out.read_all().equals(EXPECTED)


def test_record_batch_becomes_a_table() -> None:
    (batch,) = EXPECTED.combine_chunks().to_batches()
    out = to_arrow(batch)
    assert isinstance(out, pa.Table) and out.equals(EXPECTED)


def test_duckdb_relation() -> None:
    con = duckdb.connect()
    try:
        rel = con.sql("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) t(id, name)")
        out = to_arrow(rel)
    finally:
        con.close()
    assert isinstance(out, pa.Table)
    assert out.to_pydict() == {"id": [1, 2, 3], "name": ["a", "b", None]}


def test_pandas_frame_drops_its_index() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None]}, index=[10, 20, 30])
    out = to_arrow(frame)
    assert isinstance(out, pa.Table)
    assert out.column_names == ["id", "name"]  # no __index_level_0__
    assert out.to_pydict() == EXPECTED.to_pydict()


def test_polars_frame_and_lazy_frame() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None]})
    eager = to_arrow(frame)
    lazy = to_arrow(frame.lazy().filter(pl.col("id") > 1))
    assert isinstance(eager, pa.Table) and eager.to_pydict() == EXPECTED.to_pydict()
    assert isinstance(lazy, pa.Table) and lazy.to_pydict() == {"id": [2, 3], "name": ["b", None]}


@pytest.mark.parametrize(
    "obj",
    [None, {"id": [1]}, [1, 2], "silver.orders", pd.Series([1, 2]), pl.Series([1]), 3.5],
)
def test_anything_else_is_none(obj: object) -> None:
    assert to_arrow(obj) is None


def test_a_look_alike_class_is_not_taken_for_a_frame() -> None:
    class DataFrame:  # same name as pandas', defined here
        def to_arrow(self) -> pa.Table:
            return EXPECTED

    assert to_arrow(DataFrame()) is None


def test_describe_names_module_and_qualified_type() -> None:
    assert describe({}) == "builtins.dict"
    assert describe(pd.Series([1])) == "pandas.Series"

    class Outer:
        class Inner:
            pass

    name = describe(Outer.Inner())
    assert name.endswith("test_describe_names_module_and_qualified_type.<locals>.Outer.Inner")


def test_accepted_lists_every_supported_kind() -> None:
    for kind in ("pyarrow Table", "RecordBatchReader", "DuckDB relation", "pandas", "Polars"):
        assert kind in ACCEPTED


def test_a_sum_of_integers_stays_an_integer() -> None:
    """Item 3 of the first-hour issue: DuckDB's HUGEINT sum arrived as decimal(38, 0)."""
    con = duckdb.connect()
    rel = con.sql('SELECT sum(x) AS "a ""b""", count(*) AS n, 1.5 AS d FROM range(3) t(x)')
    table = to_arrow(rel)
    assert table is not None
    assert [str(t) for t in table.schema.types] == ["int64", "int64", "decimal128(2, 1)"]
    assert table.column(0).to_pylist() == [3]
    too_big = con.sql("SELECT sum(x) AS s FROM (VALUES (9223372036854775807::BIGINT), (1)) t(x)")
    with pytest.raises(duckdb.ConversionException):
        to_arrow(too_big)
