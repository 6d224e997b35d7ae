"""Publishing on a small platform, over SQLite and Redis: incremental, never older, with the
step's training sets checked against its declared inputs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform

import prodml
from prodml.errors import UsageError
from prodml.pipeline.errors import StepFailedError

# feature rows come from a file the test rewrites between runs
PIPELINE = """
import json
from pathlib import Path
from prodml import step
from prodml.features import FeatureLookup

@step(stage="features", outputs="features.scores")
def scores(ctx):
    rows = json.loads((Path(__file__).parent / "rows.json").read_text())
    values = ", ".join(f"({k!r}, TIMESTAMPTZ '{ts}', {v}::DOUBLE)" for k, ts, v in rows)
    return ctx.sql(f"SELECT * FROM (VALUES {values}) t(user_id, ts, score)")

@step(stage="features", outputs="gold.labels")
def labels(ctx):
    return ctx.sql(
        "SELECT * FROM (VALUES ('a', TIMESTAMPTZ '2024-01-02 00:00:00+00', 1),"
        " ('b', TIMESTAMPTZ '2024-01-02 00:00:00+00', 0)) t(user_id, label_ts, label)"
    )

@step(stage="features", inputs=["gold.labels", "features.scores"], outputs="gold.train")
def train_set(ctx, labels, scores):
    return ctx.training_set(labels, timestamp="label_ts", lookups=[FeatureLookup("features.scores")]).data

@step(stage="features", inputs=["gold.labels"], outputs="gold.sneaky")
def sneaky(ctx, labels):
    return ctx.training_set(labels, timestamp="label_ts", lookups=[FeatureLookup("features.scores")]).data
"""

FEATURES = """features:
  features.scores:
    description: A score per user.
    keys: [user_id]
    timestamp: ts
    features: {score: The score.}
"""

REDIS_URL = os.environ.get("PRODML_TEST_REDIS_URL")


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.services)])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings = ""
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("PRODML_TEST_REDIS_URL is not set (no Redis to test against)")
        settings = f"online_store: {{url: '{REDIS_URL}'}}\n"
    # a catalog per test: Redis is shared between test processes
    catalog = f"t{uuid.uuid4().hex[:10]}"
    root = make_platform(
        tmp_path / "p",
        {"core": PIPELINE},
        platform=f"name: t\nstate_dir: .prodml\nstorage: {{root: data}}\n{settings}"
        f"environments:\n  dev: {{catalog: {catalog}}}\n",
    )
    (root / "products" / "core" / "product.yaml").write_text(PRODUCT.format(name="core") + FEATURES)
    return root


def _rows(root: Path, rows: list[tuple[str, str, float]]) -> None:
    import json

    (root / "products" / "core" / "rows.json").write_text(json.dumps(rows))


def test_incremental_publish_and_the_never_older_rule(platform: Path) -> None:
    _rows(platform, [("a", "2024-01-01 00:00:00+00", 1.0), ("b", "2024-01-01 00:00:00+00", 2.0)])
    with prodml.connect(platform) as ws:
        ws.run("core", steps=["scores"])
        (first,) = ws.publish_features()
        assert (first.keys, first.written, first.to_version) == (2, 2, 0)
        (again,) = ws.publish_features()
        assert again.up_to_date and again.written == 0

        # a newer value for a, an OLDER one for b (a late, stale row): only a changes online
        _rows(
            platform, [("a", "2024-01-03 00:00:00+00", 10.0), ("b", "2023-12-01 00:00:00+00", 0.0)]
        )
        ws.run("core", steps=["scores"], full_refresh=True)  # rows.json is not a tracked input
        (second,) = ws.publish_features()
        assert (second.from_version, second.to_version, second.written) == (0, 1, 1)
        found = ws.online_features("features.scores", [{"user_id": "a"}, {"user_id": "b"}])
        assert [f.values["score"] for f in found] == [10.0, 2.0]
        assert ws.publish_features(full=True)[0].written == 0
        ws._w.features.online_store.drop(f"{ws.settings.catalog}.features.scores")
        # a wiped store is published in full again
        assert ws.publish_features()[0].written == 2


def test_training_sets_need_the_feature_table_as_an_input(platform: Path) -> None:
    _rows(platform, [("a", "2024-01-01 00:00:00+00", 1.0)])
    with prodml.connect(platform) as ws:
        result = ws.run("core", steps=["scores", "labels", "train_set"])
        assert {s["status"] for s in result.steps} == {"succeeded"}
        rows = ws.read("gold.train").to_pylist()
        assert [(r["user_id"], r["score"]) for r in rows] == [("a", 1.0), ("b", None)]
        with pytest.raises(StepFailedError) as err:
            ws.run("core", steps=["sneaky"])
    assert "step core.sneaky looks up features.scores but does not declare it as an input" in str(
        err.value
    )


def test_publishing_an_unknown_or_offline_table(platform: Path) -> None:
    with prodml.connect(platform) as ws:
        with pytest.raises(prodml.errors.NotFoundError, match=r"did you mean 'features\.scores'"):
            ws.publish_features("features.score")
        with pytest.raises(UsageError, match="has no data yet") as err:
            ws.publish_features("features.scores")
        assert "core.scores" in str(err.value)
        assert ws.publish_features() == []  # everything: tables not built yet are left out
    product = platform / "products" / "core" / "product.yaml"
    product.write_text(product.read_text() + "    online: false\n")
    with prodml.connect(platform) as ws, pytest.raises(UsageError, match="online: false"):
        ws.publish_features("features.scores")


def test_a_recreated_table_is_published_in_full(platform: Path) -> None:
    import shutil

    _rows(platform, [("a", "2024-01-01 00:00:00+00", 1.0), ("b", "2024-01-01 00:00:00+00", 2.0)])
    with prodml.connect(platform) as ws:
        ws.run("core", steps=["scores"])
        ws.run("core", steps=["scores"], full_refresh=True)
        (first,) = ws.publish_features()
        assert first.to_version == 1
        location = Path(ws.table("features.scores").location)
    shutil.rmtree(location)  # dropped, then written again up to the same version number
    _rows(platform, [("a", "2024-02-01 00:00:00+00", 5.0), ("b", "2024-02-01 00:00:00+00", 6.0)])
    with prodml.connect(platform) as ws:
        ws.run("core", steps=["scores"], full_refresh=True)
        ws.run("core", steps=["scores"], full_refresh=True)
        (again,) = ws.publish_features()
        assert again.from_version is None and again.rows_read == 2
        found = ws.online_features("features.scores", [{"user_id": "a"}, {"user_id": "b"}])
    assert [f.values["score"] for f in found] == [5.0, 6.0]
