"""``prodml.engine.local``: the DuckDB engine: settings from the compute profile, no extension
downloads, tables under their schema.table names and aliases, SQL with parameters, and the
order-independent content hash."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyarrow.dataset as pds
import pytest

from prodml.config.platform import ComputeProfile
from prodml.engine.local import LocalEngine
from prodml.names import TableName

ORDERS = pa.table({"id": [1, 2, 3], "amount": [10.0, 20.5, 30.0], "who": ["a", "b", "a"]})


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    eng = LocalEngine("dev")
    yield eng
    eng.close()


def one(rel: duckdb.DuckDBPyRelation) -> tuple[object, ...]:
    """The only row of a relation."""
    (row,) = rel.fetchall()
    return tuple(row)


def setting(eng: LocalEngine, name: str) -> object:
    return one(eng.con.sql(f"SELECT current_setting('{name}')"))[0]


def test_connection_is_opened_on_first_use_only() -> None:
    eng = LocalEngine("dev")
    assert "con" not in eng.__dict__
    eng.close()  # closing an engine that never connected is fine
    assert "con" not in eng.__dict__


def test_connection_settings(engine: LocalEngine) -> None:
    assert setting(engine, "autoinstall_known_extensions") is False
    assert setting(engine, "autoload_known_extensions") is False
    assert setting(engine, "TimeZone") == "UTC"
    # the catalog is the current database: unqualified schema.table names resolve in it
    assert one(engine.con.sql("SELECT current_database()")) == ("dev",)


def test_profile_sets_threads_and_memory_limit() -> None:
    eng = LocalEngine("dev", ComputeProfile(threads=2, memory_limit="1GiB"))
    try:
        assert setting(eng, "threads") == 2
        assert setting(eng, "memory_limit") == "1.0 GiB"
    finally:
        eng.close()


def test_profile_without_limits_keeps_duckdb_defaults() -> None:
    default = duckdb.connect()
    try:
        threads = one(default.sql("SELECT current_setting('threads')"))
    finally:
        default.close()
    eng = LocalEngine("dev", ComputeProfile())
    try:
        assert (setting(eng, "threads"),) == threads
    finally:
        eng.close()


def test_catalog_may_be_a_name_duckdb_would_misread() -> None:
    eng = LocalEngine("select")  # quoted, not a keyword in the ATTACH statement
    try:
        eng.register(TableName("select", "gold", "t"), ORDERS)
        assert one(eng.sql("SELECT count(*) FROM gold.t")) == (3,)
    finally:
        eng.close()


def test_version_names_the_engine() -> None:
    assert LocalEngine("dev").version == f"duckdb-{duckdb.__version__}"
    assert LocalEngine.name == "duckdb"


def test_register_makes_schema_table_and_alias_queryable(engine: LocalEngine) -> None:
    engine.register(TableName("dev", "silver", "orders"), ORDERS, alias="orders")
    assert one(engine.sql("SELECT sum(amount) FROM silver.orders")) == (60.5,)
    assert one(engine.sql("SELECT sum(amount) FROM dev.silver.orders")) == (60.5,)
    assert one(engine.sql("SELECT count(*) FROM orders")) == (3,)


def test_register_reads_arrow_datasets(engine: LocalEngine) -> None:
    engine.register(TableName("dev", "bronze", "orders"), pds.dataset(ORDERS))
    rows = engine.sql("SELECT id FROM bronze.orders WHERE who = 'a' ORDER BY id").fetchall()
    assert rows == [(1,), (3,)]


def test_register_again_replaces_the_data(engine: LocalEngine) -> None:
    name = TableName("dev", "silver", "orders")
    engine.register(name, ORDERS)
    engine.register(name, ORDERS.slice(0, 1))
    assert one(engine.sql("SELECT count(*) FROM silver.orders")) == (1,)


def test_two_tables_in_one_schema(engine: LocalEngine) -> None:
    engine.register(TableName("dev", "gold", "a"), ORDERS)
    engine.register(TableName("dev", "gold", "b"), ORDERS.slice(1))
    rows = one(engine.sql("SELECT count(*) FROM gold.a JOIN gold.b USING (id)"))
    assert rows == (2,)


def test_table_of_another_catalog_is_only_reachable_by_alias(engine: LocalEngine) -> None:
    engine.register(TableName("prod", "gold", "orders"), ORDERS, alias="prod_orders")
    assert one(engine.sql("SELECT count(*) FROM prod_orders")) == (3,)
    with pytest.raises(duckdb.CatalogException, match="gold"):
        engine.sql("SELECT * FROM gold.orders").fetchall()


def test_register_alias_only(engine: LocalEngine) -> None:
    engine.register_alias("__cur", ORDERS)
    assert one(engine.sql("SELECT max(id) FROM __cur")) == (3,)
    with pytest.raises(duckdb.CatalogException):
        engine.sql("SELECT * FROM silver.orders").fetchall()


def test_sql_binds_named_parameters(engine: LocalEngine) -> None:
    engine.register_alias("orders", ORDERS)
    rel = engine.sql("SELECT id FROM orders WHERE amount > $low AND who = $who", low=15, who="a")
    assert rel.fetchall() == [(3,)]
    assert one(engine.sql("SELECT 41 + 1")) == (42,)


def test_relation_over_arrow(engine: LocalEngine) -> None:
    rel = engine.relation(ORDERS)
    assert one(rel.filter("who = 'a'").aggregate("sum(amount)")) == (40.0,)
    assert rel.to_arrow_table().equals(ORDERS)


def test_content_hash_ignores_row_order_and_counts_duplicates(engine: LocalEngine) -> None:
    rows, digest = engine.content_hash(ORDERS)
    assert rows == 3 and digest.isdigit()
    assert engine.content_hash(ORDERS.take([2, 0, 1])) == (3, digest)
    doubled = engine.content_hash(pa.concat_tables([ORDERS, ORDERS]))
    assert doubled[0] == 6 and doubled[1] != digest


def test_content_hash_sees_a_changed_value(engine: LocalEngine) -> None:
    changed = ORDERS.set_column(2, "who", pa.array(["a", "b", "c"]))
    assert engine.content_hash(changed) != engine.content_hash(ORDERS)


def test_content_hash_of_an_empty_table(engine: LocalEngine) -> None:
    assert engine.content_hash(ORDERS.slice(0, 0)) == (0, "0")


def test_content_hash_rounds_floats_to_significant_digits(engine: LocalEngine) -> None:
    # summation order changes the last bits: 0.1 + 0.2 != 0.3, but equal at 10 digits
    a = pa.table({"x": [0.1 + 0.2, 1e300, -2.5e-12]})
    b = pa.table({"x": [0.3, 1e300, -2.5e-12]})
    assert engine.content_hash(a) == engine.content_hash(b)
    assert engine.content_hash(a, float_digits=17) != engine.content_hash(b, float_digits=17)
    # a real difference in the 7th digit is seen
    assert engine.content_hash(pa.table({"x": [1.0]})) != engine.content_hash(
        pa.table({"x": [1.000001]})
    )


def test_content_hash_handles_zero_nan_and_infinities(engine: LocalEngine) -> None:
    special = pa.table({"x": [0.0, float("nan"), float("inf"), float("-inf"), None]})
    rows, digest = engine.content_hash(special)
    assert rows == 5
    assert engine.content_hash(special.take([4, 3, 2, 1, 0])) == (5, digest)
    other = pa.table({"x": [0.0, float("nan"), float("inf"), float("inf"), None]})
    assert engine.content_hash(other)[1] != digest


def test_content_hash_leaves_nothing_registered(engine: LocalEngine) -> None:
    engine.content_hash(ORDERS)
    engine.register_alias("kept", ORDERS)
    names = {r[2] for r in engine.con.sql("SHOW ALL TABLES").fetchall()}
    assert "kept" in names
    assert not [n for n in names if n.startswith("__prodml_hash")]


def test_content_hash_of_a_table_without_columns() -> None:
    eng = LocalEngine("dev")
    try:
        assert eng.content_hash(pa.table({})) == (0, "0")
    finally:
        eng.close()


def test_close_closes_the_connection() -> None:
    eng = LocalEngine("dev")
    eng.sql("SELECT 1").fetchall()
    eng.close()
    with pytest.raises(duckdb.ConnectionException, match="closed"):
        eng.con.sql("SELECT 1")


def test_content_ids_are_order_independent_and_cover_empty_tables() -> None:
    import pyarrow as pa

    from prodml.engine.local import content_ids

    a = pa.table({"day": ["d1", "d1", "d2"], "x": [1.0, 2.0, 3.0]})
    b = a.take([2, 1, 0])
    assert content_ids(a) == content_ids(b) and content_ids(a, "day") == content_ids(b, "day")
    assert set(content_ids(a, "day")) == {"d1", "d2"}
    assert content_ids(a.slice(0, 2))[""] != content_ids(a)[""]
    empty = a.schema.empty_table()
    assert content_ids(empty) == {"": "0:0"}  # an empty step output has an id too
    assert content_ids(empty, "day") == {}


@pytest.mark.parametrize("catalog", ["main", "temp", "system", "memory"])
def test_item6_catalog_named_main_works(catalog: str) -> None:
    """Trust II item 6: DuckDB reserves ``main`` (Unity Catalog's default catalog name) and
    others as database names; a catalog of that name still runs its SQL."""
    eng = LocalEngine(catalog)
    try:
        eng.register(TableName(catalog, "gold", "orders"), ORDERS, alias="orders")
        assert one(eng.sql("SELECT count(*) FROM gold.orders")) == (3,)
        assert one(eng.sql("SELECT sum(amount) FROM orders")) == (60.5,)
    finally:
        eng.close()
