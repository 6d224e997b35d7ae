"""Online lookups (``OnlineFeatures``) on a real SQLite online store: entities in; values, a
status per feature and event times out, with keys coerced to the published key types, TTL,
renames, clear errors for bad entities, and the lookups a logged training-set spec describes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from prodml.config.product import FeatureTable
from prodml.errors import NotFoundError, UsageError
from prodml.features.errors import EntityError, NotPublishedError
from prodml.features.lookup import OnlineFeatures, lookups_from_spec
from prodml.features.online import EXPIRED, NOT_FOUND, PRESENT, Record, encode_key
from prodml.features.sqlite_store import SqliteStore
from prodml.features.training import TABLE_TTL, DeclaredTable, FeatureLookup

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)
CUSTOMERS = FeatureTable.model_validate(
    {
        "description": "Per customer.",
        "keys": ["customer_id"],
        "timestamp": "as_of",
        "ttl": "2d",
        "features": {"spend": "Spend.", "visits": "Visits."},
    }
)
SALES = FeatureTable.model_validate(
    {
        "description": "Per store and day.",
        "keys": ["store_id", "day"],
        "timestamp": "ts",
        "features": {"units": "Units sold."},
    }
)
DECLARED = {
    "features.customers": DeclaredTable("features.customers", "core", "core.c", CUSTOMERS),
    "features.sales": DeclaredTable("features.sales", "core", "core.s", SALES),
}


def _us(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """Published: customers (str keys; c3's value is 3 days old) and sales (int, str keys)."""
    backend = SqliteStore(tmp_path / "online.db")
    backend.write(
        "dev.features.customers",
        [
            Record(
                "c1", _us(NOW - timedelta(hours=1)), 0, orjson.dumps({"spend": 9.5, "visits": 3})
            ),
            Record("42", _us(NOW - timedelta(hours=2)), 0, orjson.dumps({"spend": 1.0})),
            Record(
                "c3", _us(NOW - timedelta(days=3)), 0, orjson.dumps({"spend": 7.0, "visits": 1})
            ),
        ],
    )
    backend.set_state("dev.features.customers", {"key_kinds": ["str"]})
    backend.write("dev.features.sales", [Record(encode_key([7, "mon"]), 1, 0, b'{"units": 12}')])
    backend.set_state("dev.features.sales", {"key_kinds": ["int", "str"]})
    yield backend
    backend.close()


@pytest.fixture
def online(store: SqliteStore) -> OnlineFeatures:
    return OnlineFeatures(store, DECLARED, "dev")


def test_values_statuses_and_event_times_in_entity_order(online: OnlineFeatures) -> None:
    found = online.lookup(
        FeatureLookup("features.customers"),
        [{"customer_id": "nobody"}, {"customer_id": "c1", "other": "ignored"}, {"customer_id": 42}],
        now=NOW,
    )
    assert [f.values for f in found] == [
        {"spend": None, "visits": None},
        {"spend": 9.5, "visits": 3},
        {"spend": 1.0, "visits": None},
    ]
    assert [f.statuses for f in found] == [
        {"spend": NOT_FOUND, "visits": NOT_FOUND},
        {"spend": PRESENT, "visits": PRESENT},
        {"spend": PRESENT, "visits": NOT_FOUND},  # the record holds no visits
    ]
    assert [f.event_timestamp for f in found] == [
        None,
        NOW - timedelta(hours=1),
        NOW - timedelta(hours=2),
    ]


def test_the_tables_ttl_applies_unless_the_lookup_sets_another(online: OnlineFeatures) -> None:
    entity = [{"customer_id": "c3"}]
    (stale,) = online.lookup(FeatureLookup("features.customers"), entity, now=NOW)
    assert stale.values == {"spend": None, "visits": None}
    assert stale.statuses == {"spend": EXPIRED, "visits": EXPIRED}
    assert stale.event_timestamp == NOW - timedelta(days=3)
    (any_age,) = online.lookup(FeatureLookup("features.customers", ttl=None), entity, now=NOW)
    assert any_age.values == {"spend": 7.0, "visits": 1}
    (week,) = online.lookup(FeatureLookup("features.customers", ttl="7d"), entity, now=NOW)
    assert week.statuses == {"spend": PRESENT, "visits": PRESENT}


def test_request_fields_other_features_and_renames(online: OnlineFeatures) -> None:
    lookup = FeatureLookup(
        "customers", features=["spend"], keys=["cust"], rename={"spend": "customer_spend"}
    )
    (found,) = online.lookup(lookup, [{"cust": "c1"}], now=NOW)
    assert found.values == {"customer_spend": 9.5}
    assert found.statuses == {"customer_spend": PRESENT}


def test_composite_keys_are_coerced_to_the_published_types(online: OnlineFeatures) -> None:
    lookup = FeatureLookup("features.sales")
    found = online.lookup(
        lookup, [{"store_id": "7", "day": "mon"}, {"store_id": 7, "day": "tue"}], now=NOW
    )
    assert [f.values["units"] for f in found] == [12, None]
    assert [f.statuses["units"] for f in found] == [PRESENT, NOT_FOUND]


def test_a_resolved_lookup_is_used_as_it_is(online: OnlineFeatures) -> None:
    resolved = FeatureLookup("features.customers", features=["visits"]).resolve(DECLARED)
    (found,) = online.lookup(resolved, [{"customer_id": "c1"}], now=NOW)
    assert found.values == {"visits": 3}


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        (
            [{"customer_id": "c1"}, ["c1"]],
            'entity 1 must be an object of key fields, e.g. {"customer_id": ...}',
        ),
        (
            [{"id": "c1"}],
            "entity 0 has no key 'customer_id' (the keys of features.customers are customer_id)",
        ),
        ([{"customer_id": None}], "entity 0: key 'customer_id' is null"),
        ([{"customer_id": 1.5}], "entity 0: key 'customer_id' must be a string (got 1.5)"),
    ],
)
def test_bad_entities_say_which_and_why(
    online: OnlineFeatures, entities: list[object], message: str
) -> None:
    with pytest.raises(EntityError) as err:
        online.lookup(FeatureLookup("features.customers"), entities)  # type: ignore[arg-type]
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("store_id", "shown"), [("seven", "'seven'"), (True, "True"), (7.0, "7.0")]
)
def test_an_integer_key_must_be_an_integer(
    online: OnlineFeatures, store_id: object, shown: str
) -> None:
    with pytest.raises(EntityError) as err:
        online.lookup(FeatureLookup("features.sales"), [{"store_id": store_id, "day": "mon"}])
    assert str(err.value) == f"entity 0: key 'store_id' must be an integer (got {shown})"


def test_a_table_that_was_never_published(store: SqliteStore) -> None:
    online = OnlineFeatures(store, DECLARED, "prod")  # published in dev only
    with pytest.raises(NotPublishedError) as err:
        online.lookup(FeatureLookup("features.customers"), [{"customer_id": "c1"}])
    assert err.value.name == "features.customers"
    assert err.value.message == (
        "features.customers has not been published to the online store (sqlite)"
    )
    assert err.value.hint == "run: prodml features publish features.customers"


def test_an_undeclared_table_or_feature(online: OnlineFeatures) -> None:
    with pytest.raises(NotFoundError, match=r"did you mean 'features\.customers'"):
        online.lookup(FeatureLookup("features.customer"), [{"customer_id": "c1"}])
    with pytest.raises(NotFoundError, match=r"unknown feature 'spent' in features\.customers"):
        online.lookup(FeatureLookup("features.customers", features=["spent"]), [])


def test_key_types_are_cached_until_forgotten(store: SqliteStore) -> None:
    store.set_state("dev.features.customers", {"key_kinds": ["int"]})
    online = OnlineFeatures(store, DECLARED, "dev")
    lookup = FeatureLookup("features.customers")
    with pytest.raises(EntityError, match="must be an integer"):
        online.lookup(lookup, [{"customer_id": "c1"}])
    store.set_state("dev.features.customers", {"key_kinds": ["str"]})  # republished
    with pytest.raises(EntityError, match="must be an integer"):
        online.lookup(lookup, [{"customer_id": "c1"}])
    online.forget()
    (found,) = online.lookup(lookup, [{"customer_id": "c1"}], now=NOW)
    assert found.values["spend"] == 9.5


def test_no_entities_is_no_results(online: OnlineFeatures) -> None:
    assert online.lookup(FeatureLookup("features.customers"), []) == []


def test_lookups_from_a_logged_spec() -> None:
    resolved = FeatureLookup(
        "features.customers", features=["spend"], keys=["cust"], ttl="30d", rename={"spend": "s"}
    ).resolve(DECLARED)
    sales = {"table": "features.sales", "features": ["units"], "keys": ["store", "day"]}
    spec = {"timestamp": "cutoff", "lookups": [resolved.spec(5), sales]}
    first, second = lookups_from_spec(spec)
    assert first == FeatureLookup(
        "features.customers", features=["spend"], keys=["cust"], rename={"spend": "s"}
    )
    # online reads use the table's declared TTL, not the one the training set chose
    assert first.ttl == TABLE_TTL
    assert first.resolve(DECLARED).ttl == timedelta(days=2)
    assert (second.table, list(second.keys or []), dict(second.rename)) == (
        "features.sales",
        ["store", "day"],
        {},
    )


@pytest.mark.parametrize(
    ("spec", "detail"),
    [
        ({}, "'lookups'"),
        ({"lookups": [{"table": "features.sales", "keys": ["s", "d"]}]}, "'features'"),
        ({"lookups": None}, "not iterable"),
    ],
)
def test_a_malformed_spec_is_a_usage_error(spec: dict[str, object], detail: str) -> None:
    with pytest.raises(UsageError) as err:
        lookups_from_spec(spec)
    message = str(err.value)
    assert message.startswith("the training-set spec logged with the model is malformed: ")
    assert detail in message
