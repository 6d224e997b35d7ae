"""Tests for table-name parsing, validation and SQL quoting."""

from __future__ import annotations

import duckdb
import pytest

from prodml.errors import InvalidNameError
from prodml.names import (
    SCHEMAS,
    TableName,
    check_column,
    check_identifier,
    quote_ident,
    quote_literal,
)

EVIL = 'x"; DROP TABLE t; --'


def test_two_part_name_takes_the_default_catalog() -> None:
    name = TableName.parse("silver.orders", "dev")
    assert (name.catalog, name.schema, name.table) == ("dev", "silver", "orders")
    assert str(name) == "dev.silver.orders"
    assert name.short == "silver.orders"
    assert name.layer == "silver"


def test_three_part_name_keeps_its_catalog() -> None:
    name = TableName.parse("prod.gold.churn_features_v2", "dev")
    assert str(name) == "prod.gold.churn_features_v2"
    assert name.quoted() == '"prod"."gold"."churn_features_v2"'


def test_platform_areas_have_no_layer() -> None:
    assert TableName.parse("features.customer", "dev").layer is None
    assert TableName.parse("_scratch.raw.x", "dev").catalog == "_scratch"


def test_names_compare_and_sort_by_parts() -> None:
    a = TableName.parse("dev.bronze.b", "x")
    assert a == TableName.parse("bronze.b", "dev")
    assert sorted([TableName.parse("silver.a", "dev"), a])[0] == a


def test_unknown_schema_suggests_the_closest() -> None:
    with pytest.raises(InvalidNameError) as info:
        TableName.parse("silvr.orders", "dev")
    assert "unknown schema 'silvr'" in str(info.value)
    assert "did you mean 'silver'" in str(info.value)


def test_unknown_schema_without_a_close_match_lists_them() -> None:
    with pytest.raises(InvalidNameError) as info:
        TableName.parse("zzz.orders", "dev")
    assert ", ".join(SCHEMAS) in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "orders",
        "a.b.c.d",
        "silver.orders; drop table x",
        "silver.orders;",
        'silver."x"',
        "silver.x'--",
        "../etc.passwd",
        "silver/../../etc.passwd",
        "silver.a/b",
        "silver.a b",
        "gold.Orders",
        "GOLD.orders",
        "silver.",
        ".orders",
        "dev..orders",
        "",
        "silver.ördérs",
        "silver.orders\u200b",
        "silver.\uff11\uff12\uff13",  # full-width digits
        "silver.1orders",
        "silver.or-ders",
        "silver.o" + "x" * 128,
        "silver.orders\x00",
    ],
)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidNameError):
        TableName.parse(name, "dev")


def test_bad_default_catalog_is_rejected() -> None:
    with pytest.raises(InvalidNameError, match="catalog"):
        TableName.parse("silver.orders", "dev; drop")


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidNameError, match="must be a string"):
        TableName.parse(42, "dev")  # type: ignore[arg-type]


def test_longest_valid_identifier() -> None:
    table = "o" + "x" * 127
    assert TableName.parse(f"silver.{table}", "dev").table == table


@pytest.mark.parametrize(
    "check", [lambda v: check_identifier(v, "table"), check_column], ids=["identifier", "column"]
)
def test_trailing_newline_is_rejected(check) -> None:
    with pytest.raises(InvalidNameError):
        check("orders\n")


@pytest.mark.parametrize("column", ["Day", "order_id", "_x", "a1"])
def test_columns_allow_upper_case(column: str) -> None:
    assert check_column(column) == column


@pytest.mark.parametrize("column", ["", "1a", "a-b", "a b", 'a"', "ä", None, 3])
def test_bad_columns_are_rejected(column: object) -> None:
    with pytest.raises(InvalidNameError):
        check_column(column)  # type: ignore[arg-type]


def test_quote_ident_doubles_embedded_quotes() -> None:
    assert quote_ident("orders") == '"orders"'
    assert quote_ident('a"b') == '"a""b"'
    assert quote_ident(EVIL) == '"x""; DROP TABLE t; --"'


def test_quote_literal_doubles_embedded_quotes() -> None:
    assert quote_literal("2024-01-01") == "'2024-01-01'"
    assert quote_literal("O'Brien") == "'O''Brien'"
    assert quote_literal("'); DROP TABLE t; --") == "'''); DROP TABLE t; --'"


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def test_quoted_identifier_cannot_drop_a_table_in_duckdb() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")

    con.execute(f"CREATE TABLE {quote_ident(EVIL)} (b INTEGER)")
    con.execute(f"INSERT INTO {quote_ident(EVIL)} VALUES (2)")
    assert con.execute(f"SELECT b FROM {quote_ident(EVIL)}").fetchall() == [(2,)]
    assert con.execute("SELECT a FROM t").fetchall() == [(1,)]
    assert tables(con) == {"t", EVIL}

    # the same string spliced in without doubling the quote does drop the table
    con.execute(f'SELECT 1 AS "{EVIL}"')
    assert tables(con) == {EVIL}


def test_quoted_literal_round_trips_in_duckdb() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR)")
    value = "x'); DROP TABLE t; --"
    con.execute(f"INSERT INTO t VALUES ({quote_literal(value)})")
    assert con.execute("SELECT a FROM t").fetchall() == [(value,)]
