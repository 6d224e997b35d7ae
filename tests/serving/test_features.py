"""Online features for requests (``FeatureEnricher``) on a real SQLite online store: a record's
missing inputs fetched by its entity keys, values the request gives winning, a status per
feature and record, the lookups of each served model's training-set spec, and clear 400s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from prodml.config.product import FeatureLookupConfig, FeatureTable
from prodml.errors import NotFoundError, UsageError
from prodml.features.errors import EntityError, NotPublishedError
from prodml.features.lookup import OnlineFeatures
from prodml.features.online import Record
from prodml.features.sqlite_store import SqliteStore
from prodml.features.training import DeclaredTable, FeatureLookup
from prodml.serving.errors import PayloadError
from prodml.serving.features import FeatureEnricher
from prodml.serving.payload import Records

RECENT = int(datetime.now(UTC).timestamp() * 1_000_000)


def _decl(keys: list[str], features: list[str], ttl: str | None = None) -> FeatureTable:
    return FeatureTable.model_validate(
        {
            "description": "d",
            "keys": keys,
            "timestamp": "ts",
            "ttl": ttl,
            "features": {f: f"The {f}." for f in features},
        }
    )


DECLARED = {
    "features.customers": DeclaredTable(
        "features.customers", "core", None, _decl(["customer_id"], ["spend", "visits"], "1d")
    ),
    "features.stores": DeclaredTable(
        "features.stores", "core", None, _decl(["store_id"], ["size"])
    ),
    "features.unpublished": DeclaredTable(
        "features.unpublished", "core", None, _decl(["customer_id"], ["x"])
    ),
}


@pytest.fixture
def online(tmp_path: Path) -> Iterator[OnlineFeatures]:
    store = SqliteStore(tmp_path / "online.db")
    store.write(
        "dev.features.customers",
        [
            Record("c1", RECENT, 0, orjson.dumps({"spend": 10.0, "visits": 4})),
            Record("c2", 1, 0, orjson.dumps({"spend": 99.0, "visits": 9})),  # 1970: expired
        ],
    )
    store.set_state("dev.features.customers", {"key_kinds": ["str"]})
    store.write("dev.features.stores", [Record("7", RECENT, 0, b'{"size": 120}')])
    store.set_state("dev.features.stores", {"key_kinds": ["int"]})
    yield OnlineFeatures(store, DECLARED, "dev")
    store.close()


def _records(**columns: list[object]) -> Records:
    n = len(next(iter(columns.values())))
    return Records({k: list(v) for k, v in columns.items()}, n, {"threshold": 0.5})


def test_configured_lookups_are_resolved_up_front(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(
        online,
        [
            FeatureLookupConfig(table="features.customers", features=["spend"]),
            FeatureLookupConfig(table="stores", keys=["shop"]),
        ],
    )
    assert not enricher.from_model
    lookups = enricher.lookups([{"lookups": []}])  # specs do not matter then
    assert [(lk.table.name, lk.features, lk.keys) for lk in lookups] == [
        ("features.customers", ["spend"], ["customer_id"]),
        ("features.stores", ["size"], ["shop"]),
    ]


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (FeatureLookupConfig(table="features.customer"), "did you mean 'features.customers'"),
        (FeatureLookupConfig(table="customers", features=["spent"]), "unknown feature 'spent'"),
    ],
)
def test_a_bad_configured_lookup_stops_the_server_from_starting(
    online: OnlineFeatures, config: FeatureLookupConfig, error: str
) -> None:
    with pytest.raises(NotFoundError, match=error):
        FeatureEnricher(online, [config])


def test_model_lookups_come_from_the_loaded_versions_specs(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, "model")
    spend = {"table": "features.customers", "features": ["spend"], "keys": ["customer_id"]}
    spending = {"lookups": [spend]}
    both = {
        "lookups": [
            {"table": "features.customers", "features": ["spend"], "keys": ["cid"]},
            {"table": "features.stores", "features": ["size"], "keys": ["store_id"]},
        ]
    }
    lookups = enricher.lookups([spending, None, {}, both])
    # one lookup per (table, features): the first spec's keys win
    assert [(lk.table.name, lk.features, lk.keys) for lk in lookups] == [
        ("features.customers", ["spend"], ["customer_id"]),
        ("features.stores", ["size"], ["store_id"]),
    ]
    assert enricher.lookups([None]) == []
    assert enricher.lookups([spending])[0] is lookups[0]  # resolved once per spec
    with pytest.raises(
        UsageError, match="the training-set spec logged with the model is malformed"
    ):
        enricher.lookups([{"lookups": [{"table": "features.customers"}]}])


def test_missing_inputs_are_looked_up_with_a_status_each(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="features.customers")])
    records = _records(customer_id=["c1", "c2", "c9", None], a=[1, 2, 3, 4])
    out, statuses = enricher.apply(records, enricher.lookups([]))
    assert out.n == 4 and out.params == {"threshold": 0.5} and out.columns["a"] == [1, 2, 3, 4]
    assert out.columns["spend"] == [10.0, None, None, None]
    assert out.columns["visits"] == [4, None, None, None]
    assert statuses == [
        {"spend": "present", "visits": "present"},
        {"spend": "expired", "visits": "expired"},  # older than the table's 1d TTL
        {"spend": "not_found", "visits": "not_found"},
        {"spend": "not_found", "visits": "not_found"},  # no key: nothing to look up
    ]
    assert records.columns.keys() == {"customer_id", "a"}  # the request's records are not changed


def test_values_the_request_gives_win(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="features.customers")])
    records = _records(customer_id=["c1", "c1"], spend=[1.5, None])
    out, statuses = enricher.apply(records, enricher.lookups([]))
    assert out.columns["spend"] == [1.5, 10.0] and out.columns["visits"] == [4, 4]
    assert statuses == [
        {"spend": "request", "visits": "present"},
        {"spend": "present", "visits": "present"},
    ]


def test_nothing_is_looked_up_when_the_request_gives_every_value(
    online: OnlineFeatures,
) -> None:
    # the table was never published: a lookup would fail, so none is made
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="features.unpublished")])
    records = _records(x=[1.0, 2.0])
    out, statuses = enricher.apply(records, enricher.lookups([]))
    assert out.columns == {"x": [1.0, 2.0]} and statuses == [{"x": "request"}, {"x": "request"}]
    with pytest.raises(NotPublishedError):
        enricher.apply(_records(customer_id=["c1"], x=[None]), enricher.lookups([]))


def test_renamed_features_and_request_field_keys(online: OnlineFeatures) -> None:
    resolved = FeatureLookup(
        "features.stores", keys=["shop"], rename={"size": "store_size"}
    ).resolve(DECLARED)
    enricher = FeatureEnricher(online, [])
    out, statuses = enricher.apply(_records(shop=[7, "8"]), [resolved])
    assert out.columns["store_size"] == [120, None]
    assert statuses == [{"store_size": "present"}, {"store_size": "not_found"}]


def test_no_lookups_leave_the_records_as_they_are(online: OnlineFeatures) -> None:
    records = _records(a=[1])
    out, statuses = FeatureEnricher(online, []).apply(records, [])
    assert out is records and statuses == []


def test_a_record_without_the_key_field_is_a_400(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="stores", keys=["shop"])])
    with pytest.raises(PayloadError) as err:
        enricher.apply(_records(a=[1.0]), enricher.lookups([]))
    assert str(err.value) == (
        "records need the field 'shop' to look up features of features.stores (keys: shop)"
    )


def test_a_key_of_the_wrong_type_is_the_requests_error(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="stores")])
    with pytest.raises(
        EntityError, match=r"entity 0: key 'store_id' must be an integer \(got 'x'\)"
    ):
        enricher.apply(_records(store_id=["x"]), enricher.lookups([]))


def test_a_bad_key_names_the_record_it_is_in(online: OnlineFeatures) -> None:
    enricher = FeatureEnricher(online, [FeatureLookupConfig(table="stores")])
    with pytest.raises(EntityError) as err:
        enricher.apply(_records(store_id=[None, "x"]), enricher.lookups([]))  # record 1 is bad
    assert "1" in str(err.value).split(":")[0], str(err.value)
