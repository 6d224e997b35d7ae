"""The façade's feature store: declared tables, point-in-time training sets, publishing to the
(SQLite) online store and online lookups, with their errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.errors import NotFoundError, UsageError
from prodml.features import FeatureLookup
from prodml.features.errors import NotPublishedError

PIPELINE = """
from prodml import step

@step(stage="features", outputs="features.scores")
def scores(ctx):
    return ctx.sql(
        "SELECT * FROM (VALUES ('a', TIMESTAMPTZ '2024-01-01 00:00:00+00', 1.0::DOUBLE),"
        " ('a', TIMESTAMPTZ '2024-01-03 00:00:00+00', 3.0::DOUBLE),"
        " ('b', TIMESTAMPTZ '2024-01-01 00:00:00+00', 5.0::DOUBLE)) t(user_id, ts, score)"
    )
"""

FEATURES = """features:
  features.scores:
    description: A score per user.
    keys: [user_id]
    timestamp: ts
    online: true
    features: {score: The score.}
"""


@pytest.fixture
def scored(tmp_path: Path) -> Path:
    root = make_platform(tmp_path / "p", {"core": PIPELINE})
    (root / "products" / "core" / "product.yaml").write_text(PRODUCT.format(name="core") + FEATURES)
    with prodml.connect(root) as ws:
        ws.run("core")
    return root


def _at(day: int, month: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_declared_tables_with_their_features_and_owner(scored: Path) -> None:
    with prodml.connect(scored) as ws:
        (listed,) = ws.feature_tables()
        shown = ws.feature_table("features.scores")
        with pytest.raises(NotFoundError, match=r"features\.scores"):
            ws.feature_table("features.score")  # did you mean
    assert listed == shown
    assert (shown["product"], shown["step"], shown["keys"]) == ("core", "core.scores", ["user_id"])
    assert shown["features"] == {"score": {"description": "The score.", "type": "double"}}
    assert shown["online"] == {"store": "sqlite", "version": None}  # not published yet
    assert shown["consumers"] == []


def test_a_training_set_takes_each_row_as_of_its_time(scored: Path) -> None:
    spine = pa.table(
        {
            "user_id": ["a", "a", "b"],
            "t": pa.array([_at(2), _at(4), _at(1, 12, 2023)], pa.timestamp("us", "UTC")),
        }
    )
    with prodml.connect(scored) as ws:
        result = ws.training_set(spine, timestamp="t", lookups=[FeatureLookup("features.scores")])
    assert result.data.column("score").to_pylist() == [1.0, 3.0, None]  # b: before any score
    (lookup,) = result.spec["lookups"]
    assert (lookup["table"], lookup["version"], lookup["features"]) == (
        "features.scores",
        0,
        ["score"],
    )


def test_publish_then_look_up_online(scored: Path) -> None:
    with prodml.connect(scored) as ws:
        (first,) = ws.publish_features()
        (again,) = ws.publish_features("features.scores")
        found, missing = ws.online_features("features.scores", [{"user_id": "a"}, {"user_id": "z"}])
        (full,) = ws.publish_features(full=True)
        shown = ws.feature_table("features.scores")
    assert (first.rows_read, first.keys, first.written, first.up_to_date) == (3, 2, 2, False)
    assert (again.rows_read, again.up_to_date) == (0, True)
    assert (full.rows_read, full.written) == (3, 0)  # the same values are not rewritten
    assert found.values == {"score": 3.0} and found.statuses == {"score": "present"}
    assert found.event_timestamp == _at(3)
    assert missing.values == {"score": None} and missing.statuses == {"score": "not_found"}
    assert shown["online"]["version"] == 0


def test_online_lookups_that_cannot_be_answered(scored: Path) -> None:
    with prodml.connect(scored) as ws:
        with pytest.raises(NotPublishedError, match="has not been published"):
            ws.online_features("features.scores", [{"user_id": "a"}])  # never published
        ws.publish_features()
        with pytest.raises(UsageError, match="user_id"):
            ws.online_features("features.scores", [{"customer": "a"}])
        with pytest.raises(
            NotFoundError, match=r"unknown feature 'nope' in features.scores \(known: score\)"
        ):
            ws.online_features("features.scores", [{"user_id": "a"}], features=["nope"])
        with pytest.raises(NotFoundError):
            ws.publish_features("features.nope")
