"""``prodml features list``, ``show``, ``publish`` and ``online`` (``prodml.cli.features``), in
process on one small feature table: tables and ``--json``, publishing, lookups by NAME=VALUE,
and bad names and keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, ok
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

from prodml.cli.features import _online

TABLE = "features.scores"

PIPELINE = """
from prodml import step

@step(stage="features", outputs="features.scores")
def scores(ctx):
    return ctx.sql(
        "SELECT * FROM (VALUES ('a', TIMESTAMPTZ '2024-01-01 00:00:00+00', 1.0::DOUBLE),"
        " ('b', TIMESTAMPTZ '2024-01-02 00:00:00+00', 2.5::DOUBLE)) t(user_id, ts, score)"
    )
"""

FEATURES = """features:
  features.scores:
    description: A score per user.
    keys: [user_id]
    timestamp: ts
    features: {score: The score.}
"""


def _platform(root: Path) -> Path:
    make_platform(root, {"core": PIPELINE})
    (root / "products" / "core" / "product.yaml").write_text(PRODUCT.format(name="core") + FEATURES)
    return root


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """features.scores built (version 0) and published once to the SQLite online store."""
    root = _platform(tmp_path_factory.mktemp("features") / "p")
    ok(prodml_main("run", "core", cwd=root))
    ok(prodml_main("features", "publish", cwd=root))
    return root


def test_list_json(published: Path) -> None:
    (row,) = json.loads(ok(prodml_main("features", "list", "--json", cwd=published)).out)
    assert (row["table"], row["product"], row["step"], row["keys"], row["timestamp"]) == (
        TABLE,
        "core",
        "core.scores",
        ["user_id"],
        "ts",
    )
    assert row["version"] == 0
    assert (row["online"]["store"], row["online"]["version"]) == ("sqlite", 0)
    assert row["features"] == {"score": {"description": "The score.", "type": "double"}}
    assert row["consumers"] == []


def test_list_prints_a_table(published: Path) -> None:
    r = ok(prodml_main("features", "list", cwd=published, env={"COLUMNS": "80"}))
    (row,) = [ln for ln in r.out.splitlines() if ln.startswith("│")]
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        TABLE,
        "core",
        "user_id",
        "1",
        "0",
        "0",
        "sqlite: v0",
    ]


def test_show_json_has_the_feature_types(published: Path) -> None:
    doc = json.loads(ok(prodml_main("features", "show", TABLE, "--json", cwd=published)).out)
    assert doc["features"] == {"score": {"description": "The score.", "type": "double"}}
    assert doc["version"] == 0 and doc["ttl"] is None


def test_show_prints_the_table_its_features_and_consumers(published: Path) -> None:
    r = ok(prodml_main("features", "show", TABLE, cwd=published))
    lines = r.out.splitlines()
    assert lines[0] == f"{TABLE} — A score per user."
    assert lines[1] == (
        "owner core, produced by core.scores; keys user_id; event time ts; TTL none; "
        "version 0; online sqlite: v0"
    )
    assert "│ score   │ double │ The score.  │ —       │" in r.out
    assert "consumers" in r.out


@pytest.mark.parametrize("command", ["show", "publish"])
def test_an_unknown_feature_table_suggests_one(published: Path, command: str) -> None:
    r = prodml_main("features", command, "features.score", cwd=published)
    assert_clean_error(r, "unknown feature table 'features.score'", f"did you mean '{TABLE}'?")
    assert r.code == 2


def test_publish_again_is_up_to_date(published: Path) -> None:
    (result,) = json.loads(
        ok(prodml_main("features", "publish", TABLE, "--json", cwd=published)).out
    )
    assert result["up_to_date"] is True
    assert (result["table"], result["from_version"], result["to_version"], result["written"]) == (
        f"dev.{TABLE}",
        0,
        0,
        0,
    )


def test_publish_full_rereads_every_row_and_writes_nothing_new(published: Path) -> None:
    (result,) = json.loads(
        ok(prodml_main("features", "publish", "--full", "--json", cwd=published)).out
    )
    assert (result["rows_read"], result["keys"], result["written"]) == (2, 2, 0)


def test_publish_prints_a_table(tmp_path: Path) -> None:
    root = _platform(tmp_path / "p")
    ok(prodml_main("run", "core", cwd=root))
    r = ok(prodml_main("features", "publish", cwd=root))
    assert r.out.splitlines()[0].strip() == "published to sqlite"
    (row,) = [ln for ln in r.out.splitlines() if ln.startswith("│")]
    assert [c.strip() for c in row.split("│")[1:4]] == [TABLE, "— → 0", "2"]  # no catalog
    assert "2 of 2" in row


def test_publish_before_any_data_has_nothing_to_do(tmp_path: Path) -> None:
    root = _platform(tmp_path / "p")
    r = ok(prodml_main("features", "publish", cwd=root))
    assert r.out == ""
    assert r.err == "nothing to publish: no feature table with online: true has data yet\n"
    assert json.loads(ok(prodml_main("features", "publish", "--json", cwd=root)).out) == []


def test_online_json_reads_the_latest_values(published: Path) -> None:
    r = ok(prodml_main("features", "online", TABLE, "-k", "user_id=b", "--json", cwd=published))
    assert json.loads(r.out) == {
        "values": {"score": 2.5},
        "statuses": {"score": "present"},
        "event_timestamp": "2024-01-02T00:00:00+00:00",
    }


def test_online_prints_the_event_time_and_each_feature(published: Path) -> None:
    r = ok(prodml_main("features", "online", TABLE, "--key", "user_id=a", cwd=published))
    assert r.out.splitlines()[0] == "event time 2024-01-01T00:00:00+00:00"
    assert "│ score   │     1 │ present │" in r.out


def test_online_of_an_unknown_key_is_not_found(published: Path) -> None:
    r = ok(prodml_main("features", "online", TABLE, "-k", "user_id=zz", cwd=published))
    assert r.out.splitlines()[0] == "event time —"
    assert "not_found" in r.out


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            (TABLE, "-k", "user=a"),
            ("has no key 'user_id'", "the keys of features.scores are user_id"),
        ),
        ((TABLE, "-k", "=a"), ("--key '=a' is not NAME=VALUE", "e.g. --key customer_id=42")),
        ((TABLE, "-k", "user_id"), ("--key 'user_id' is not NAME=VALUE",)),
        (("core", "-k", "user_id=a"), ("unknown feature table or feature service 'core'", TABLE)),
        (("features.score", "-k", "user_id=a"), (f"did you mean '{TABLE}'?",)),
    ],
)
def test_bad_lookups(published: Path, args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    r = prodml_main("features", "online", *args, cwd=published)
    assert_clean_error(r, *needles)
    assert r.out == ""


def test_online_needs_a_key(published: Path) -> None:
    r = prodml_main("features", "online", TABLE, cwd=published)
    assert_usage_error(r, "Missing option '--key' / '-k'.")


def test_online_state_words() -> None:
    assert _online(None) == "off"
    assert _online({"store": "redis", "version": None}) == "redis: not yet"
    assert _online({"store": "sqlite", "version": 3}) == "sqlite: v3"


def test_online_of_a_product_without_a_champion_says_so(trained: Path) -> None:
    """Item 9 of the first-hour issue (it was "unknown feature table or feature service")."""
    r = prodml_main("features", "online", "clf", "--key", "a=1", cwd=trained)
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "Error: clf has no champion yet: its online features are the ones its champion "
        "(dev.ml.clf) was trained on (promote one with 'prodml models promote clf', or run "
        "'prodml run clf --promote')\n"
    )
