"""Declared feature tables, lookups checked against them, and point-in-time training sets read
through a real catalog (Delta tables and a SQLite metadata store in a temp dir): the spec that
goes with a model, and the consumers it records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.config.product import ProductConfig
from prodml.errors import ConfigError, NotFoundError, UsageError
from prodml.features.errors import FeatureJoinError
from prodml.features.training import (
    DeclaredTable,
    FeatureLookup,
    StepTrainingSets,
    TrainingSet,
    check_features,
    consumer_rows,
    declared_tables,
    find_table,
    training_set,
)
from prodml.tables.delta import DeltaTables

UTC_US = pa.timestamp("us", tz="UTC")
CUSTOMERS: dict[str, Any] = {
    "description": "Per customer.",
    "keys": ["customer_id"],
    "timestamp": "as_of",
    "ttl": "3d",
    "features": {"spend": {"description": "Spend.", "type": "double"}, "visits": "Visits."},
}
ACCESS = Access("tester", step="core.train")


def _product(name: str, features: dict[str, Any]) -> ProductConfig:
    return ProductConfig.model_validate(
        {
            "name": name,
            "description": f"{name} product",
            "owners": [{"name": "t", "role": "accountable"}],
            "features": features,
        }
    )


def _day(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=UTC)


@pytest.fixture
def declared() -> dict[str, DeclaredTable]:
    configs = {"core": _product("core", {"features.customers": CUSTOMERS})}
    return declared_tables(configs, {"dev.features.customers": "core.customers"}, "dev")


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A catalog whose features.customers holds three snapshots (version 0)."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'prodml.db'}")
    catalog = Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [])
    rows = pa.table(
        {
            "customer_id": pa.array(["c1", "c1", "c2"]),
            "as_of": pa.array([_day(1), _day(5), _day(2)], UTC_US),
            "spend": pa.array([1.0, 5.0, 2.0]),
            "visits": pa.array([1, 2, 3], pa.int64()),
        }
    )
    catalog.append(catalog.name("features.customers"), rows, ACCESS, description="Customers.")
    yield catalog
    store.close()


SPINE = pa.table(
    {
        "customer_id": pa.array(["c1", "c1", "c2", "c3"]),
        "ts": pa.array([_day(3), _day(6), _day(10), _day(6)], UTC_US),
        "label": pa.array([0, 1, 1, 0]),
    }
)


def test_declared_tables_by_name_with_their_producer(declared: dict[str, DeclaredTable]) -> None:
    table = declared["features.customers"]
    assert (table.name, table.product, table.step) == (
        "features.customers",
        "core",
        "core.customers",
    )
    summary = table.summary()
    assert summary["keys"] == ["customer_id"] and summary["ttl"] == "3d"
    assert summary["features"] == {
        "spend": {"description": "Spend.", "type": "double"},
        "visits": {"description": "Visits.", "type": None},
    }
    assert (summary["product"], summary["step"], summary["online"]) == (
        "core",
        "core.customers",
        True,
    )
    unproduced = declared_tables(
        {"core": _product("core", {"features.customers": CUSTOMERS})}, {}, "dev"
    )
    assert unproduced["features.customers"].step is None


def test_a_table_declared_twice_is_a_config_error() -> None:
    configs = {
        "b": _product("b", {"features.customers": CUSTOMERS}),
        "a": _product("a", {"features.customers": CUSTOMERS}),
    }
    with pytest.raises(ConfigError) as err:
        declared_tables(configs, {}, "dev")
    assert err.value.message == (
        "feature table features.customers is declared by two products: a and b"
    )
    assert err.value.hint is not None and "declare a feature table once" in err.value.hint


@pytest.mark.parametrize("name", ["features.customers", "customers", "dev.features.customers"])
def test_find_a_table_by_any_of_its_names(declared: dict[str, DeclaredTable], name: str) -> None:
    assert find_table(declared, name) is declared["features.customers"]


def test_an_unknown_table_suggests_the_close_one(declared: dict[str, DeclaredTable]) -> None:
    with pytest.raises(NotFoundError) as err:
        find_table(declared, "features.customer")
    assert err.value.message == "unknown feature table 'features.customer'"
    assert err.value.hint == "did you mean 'features.customers'?"
    with pytest.raises(NotFoundError) as none:
        find_table({}, "customers")
    assert none.value.hint == "declare one under features: in a product.yaml"


def test_check_features_names_the_table(declared: dict[str, DeclaredTable]) -> None:
    check_features(declared["features.customers"], ["spend", "visits"])
    with pytest.raises(NotFoundError) as err:
        check_features(declared["features.customers"], ["spend", "vists"])
    assert err.value.message == "unknown feature 'vists' in features.customers"
    assert err.value.hint == "did you mean 'visits'?"


def test_resolve_fills_in_the_declaration(declared: dict[str, DeclaredTable]) -> None:
    resolved = FeatureLookup("customers").resolve(declared)
    assert resolved.table is declared["features.customers"]
    assert (resolved.features, resolved.keys) == (["spend", "visits"], ["customer_id"])
    assert resolved.ttl == timedelta(days=3) and resolved.rename == {}
    custom = FeatureLookup(
        "features.customers", features=["visits"], keys=["cid"], ttl="36h", rename={"visits": "v"}
    ).resolve(declared)
    assert (custom.features, custom.keys, custom.ttl) == (["visits"], ["cid"], timedelta(hours=36))
    assert custom.outputs() == ["v"]
    assert FeatureLookup("customers", ttl=timedelta(minutes=5)).resolve(declared).ttl == timedelta(
        minutes=5
    )
    assert FeatureLookup("customers", ttl=None).resolve(declared).ttl is None


@pytest.mark.parametrize(
    ("lookup", "message", "hint"),
    [
        (
            FeatureLookup("customers", features=[]),
            "lookup of features.customers selects no features",
            None,
        ),
        (
            FeatureLookup("customers", keys=["a", "b"]),
            "lookup of features.customers: 2 key column(s) given for the table's 1 key(s) "
            "(customer_id)",
            "give one spine column per key of the feature table, in the same order",
        ),
        (
            FeatureLookup("customers", ttl="a week"),
            "lookup of features.customers: ttl 'a week' is not a duration: use a number and a "
            "unit, e.g. 90s, 15m, 36h, 7d, 2w",
            None,
        ),
        (
            FeatureLookup("customers", features=["spend"], rename={"visits": "v"}),
            "lookup of features.customers: rename names 'visits', which is not looked up",
            "looked up: spend",
        ),
    ],
)
def test_bad_lookups_say_what_to_change(
    declared: dict[str, DeclaredTable], lookup: FeatureLookup, message: str, hint: str | None
) -> None:
    with pytest.raises(UsageError) as err:
        lookup.resolve(declared)
    assert (err.value.message, err.value.hint) == (message, hint)


def test_the_spec_of_a_resolved_lookup(declared: dict[str, DeclaredTable]) -> None:
    resolved = FeatureLookup("customers", keys=["cid"], rename={"spend": "s"}).resolve(declared)
    assert resolved.spec(4) == {
        "table": "features.customers",
        "version": 4,
        "features": ["spend", "visits"],
        "keys": ["cid"],
        "table_keys": ["customer_id"],
        "ttl_seconds": 259200.0,
        "rename": {"spend": "s"},
    }
    assert FeatureLookup("customers", ttl=None).resolve(declared).spec(None)["ttl_seconds"] is None


def test_a_training_set_is_point_in_time_with_the_tables_ttl(
    catalog: Catalog, declared: dict[str, DeclaredTable]
) -> None:
    reads: list[tuple[str, int]] = []
    ts = training_set(
        catalog,
        ACCESS,
        declared,
        SPINE,
        timestamp="ts",
        lookups=[FeatureLookup("customers", features=["spend"])],
        on_read=lambda table, version: reads.append((table, version)),
    )
    assert reads == [("dev.features.customers", 0)]
    assert ts.data.column_names == ["customer_id", "ts", "label", "spend"]
    # c1 on day 3 → the day-1 snapshot, on day 6 → day 5; c2's day-2 value is past the 3d TTL
    assert ts.data.column("spend").to_pylist() == [1.0, 5.0, None, None]
    assert ts.data.column("label").to_pylist() == [0, 1, 1, 0]  # every spine row, in order
    assert ts.spec == {
        "timestamp": "ts",
        "lookups": [FeatureLookup("customers", features=["spend"]).resolve(declared).spec(0)],
    }
    assert ts.features == ["spend"] and len(ts) == 4
    any_age = training_set(
        catalog,
        ACCESS,
        declared,
        SPINE,
        timestamp="ts",
        lookups=[FeatureLookup("customers", features=["spend"], ttl=None, rename={"spend": "s"})],
    )
    assert any_age.data.column("s").to_pylist() == [1.0, 5.0, 2.0, None]
    assert any_age.features == ["s"]


def test_a_training_set_needs_a_lookup(
    catalog: Catalog, declared: dict[str, DeclaredTable]
) -> None:
    with pytest.raises(UsageError, match="a training set needs at least one FeatureLookup"):
        training_set(catalog, ACCESS, declared, SPINE, timestamp="ts", lookups=[])


def test_a_declared_column_missing_from_the_table(tmp_path: Path, catalog: Catalog) -> None:
    decl = {**CUSTOMERS, "features": {**CUSTOMERS["features"], "tenure": "Days."}}
    declared = declared_tables(
        {"core": _product("core", {"features.customers": decl})},
        {"dev.features.customers": "core.customers"},
        "dev",
    )
    with pytest.raises(FeatureJoinError) as err:
        training_set(
            catalog, ACCESS, declared, SPINE, timestamp="ts", lookups=[FeatureLookup("customers")]
        )
    assert err.value.message == (
        "features.customers (version 0) has no column 'tenure', which its declaration names"
    )
    assert err.value.hint == (
        "columns: customer_id, as_of, spend, visits; fix the features: section of product core "
        "or the step core.customers"
    )


def test_training_set_views() -> None:
    data = pa.table({"k": ["a"], "x": [1.0], "y2": [2.0]})
    spec = {
        "timestamp": "ts",
        "lookups": [
            {"table": "features.a", "features": ["x"]},
            {"table": "features.b", "features": ["y"], "rename": {"y": "y2"}},
        ],
    }
    ts = TrainingSet(data, spec)
    assert ts.features == ["x", "y2"] and ts.to_arrow() is data and len(ts) == 1
    assert ts.df().to_dict("list") == {"k": ["a"], "x": [1.0], "y2": [2.0]}


def test_consumer_rows_are_one_per_feature() -> None:
    spec = {
        "lookups": [
            {"table": "features.a", "version": 3, "features": ["x", "y"]},
            {"table": "features.b", "features": ["z"]},
        ]
    }
    rows = consumer_rows(spec, catalog="dev", model="dev.ml.m", version=2, product="p", run_id="r")
    assert [(r["feature_table"], r["feature"], r["table_version"]) for r in rows] == [
        ("features.a", "x", 3),
        ("features.a", "y", 3),
        ("features.b", "z", None),
    ]
    assert {
        (r["catalog"], r["model"], r["model_version"], r["product"], r["run_id"]) for r in rows
    } == {("dev", "dev.ml.m", 2, "p", "r")}
    assert consumer_rows({}, catalog="dev", model="m", version=1, product="p", run_id="r") == []


def test_step_training_sets_build_and_record_consumers(
    catalog: Catalog, declared: dict[str, DeclaredTable]
) -> None:
    steps = StepTrainingSets(catalog, declared)
    assert steps.table_name("customers") == "dev.features.customers"
    with pytest.raises(NotFoundError, match="unknown feature table 'orders'"):
        steps.table_name("orders")
    ts = steps.build(ACCESS, SPINE, timestamp="ts", lookups=[FeatureLookup("customers")])
    assert ts.data.column_names[-2:] == ["spend", "visits"]
    steps.record_consumers(ts.spec, model="dev.ml.churn", version=1, product="churn", run_id="r1")
    recorded = catalog.store.feature_consumers("dev", "features.customers")
    assert [
        (r["feature"], r["table_version"], r["model"], r["model_version"]) for r in recorded
    ] == [
        ("spend", 0, "dev.ml.churn", 1),
        ("visits", 0, "dev.ml.churn", 1),
    ]
    assert catalog.store.feature_consumers("dev", "features.other") == []
