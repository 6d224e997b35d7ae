"""The façade's models: summaries, versions, details, runs, aliases, loading (checked by
governance), promotion within and across environments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import prodml
from prodml.errors import NotFoundError, UsageError
from prodml.governance.errors import PermissionDeniedError
from prodml.models.errors import ModelError


def test_summaries_versions_and_details(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        (summary,) = ws.models()  # shop declares no model
        assert (summary.product, summary.model, summary.versions) == ("clf", "dev.ml.clf", 2)
        assert (summary.champion, summary.challenger) == (1, 2)
        versions = ws.model_versions("clf")
        details = ws.model_details("clf")
        assert ws.registered_model("clf") == "dev.ml.clf"
        assert ws.model_config("clf").name == "clf"
    assert [(v["version"], v["aliases"]) for v in versions] == [
        (2, ["challenger"]),
        (1, ["champion"]),
    ]
    assert all(v["gate"] == "passed" for v in versions), versions
    assert details["model"] == "dev.ml.clf" and details["versions"] == 2
    assert details["champion"]["version"] == 1 and details["challenger"]["version"] == 2
    assert details["config"]["gate"]["metrics"]["auc"]["min"] == 0.6


def test_tracking_runs_side_by_side(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        runs = ws.compare_runs("clf")
        assert len(ws.compare_runs("clf", limit=1)) == 1
    trains = [r["prodml_run_id"] for r in runs if r["step"] == "train"]
    # newest first (two runs can start in the same second: their ids then order by chance)
    assert len(set(trains)) == 2 and trains[0][:15] >= trains[1][:15]
    with prodml.connect(clf) as ws:
        started = {r["run_id"]: r["started_at"] for r in ws.runs("clf")}
    assert started[trains[0]] >= started[trains[1]]
    assert {r["step"] for r in runs} == {"train", "evaluate"}
    assert all(r["status"] == "FINISHED" for r in runs)


def test_load_by_version_and_alias(clf: Path) -> None:
    x = np.array([[1.5, -0.3], [-2.0, 0.7]])
    with prodml.connect(clf) as ws:
        champion = ws.load_model("clf", alias="champion")
        first = ws.load_model("clf", version=1)
        newest = ws.load_model("clf")  # no version, no alias: the newest
        pyfunc = ws.load_model("clf", version=2, flavor="pyfunc")
        assert ws.alias_version("clf", "champion") == 1
        assert ws.alias_version("clf", "nobody") is None
        assert ws.model_training_set("clf", 1) is None  # trained without the feature store
    np.testing.assert_allclose(champion.predict_proba(x), first.predict_proba(x))
    assert newest.get_params()["C"] == 0.05 and first.get_params()["C"] == 1.0
    assert hasattr(pyfunc, "metadata") and not hasattr(pyfunc, "predict_proba")


def test_tracking_and_registry_uris_point_below_the_state_directory(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        assert ws.tracking_uri.startswith("sqlite:///") and ".prodml" in ws.tracking_uri
        assert ws.registry_uri == ws.tracking_uri


def test_a_product_without_a_model_or_an_unknown_one(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        with pytest.raises(ModelError, match="product shop declares no model") as err:
            ws.model_versions("shop")
        assert err.value.hint == "products with a model: clf"
        with pytest.raises(NotFoundError, match=r"unknown product 'clff'.*clf"):
            ws.model_details("clff")
        with pytest.raises(UsageError, match="both dev"):
            ws.promote("clf", to_env="dev")


def test_loading_needs_execute_and_moving_an_alias_needs_modify(clf: Path) -> None:
    with prodml.connect(clf, principal="ana") as ws:
        with pytest.raises(
            PermissionDeniedError, match=r"ana may not execute model dev\.ml\.clf.*--to ana"
        ):
            ws.load_model("clf", version=1)
        with pytest.raises(PermissionDeniedError, match="MODIFY"):
            ws.set_alias("clf", "champion", 2)
        with pytest.raises(PermissionDeniedError, match="MODIFY"):
            ws.promote_model("clf")
    with prodml.connect(clf) as ws:
        assert ws.alias_version("clf", "champion") == 1  # nothing moved
        denied = {
            (r["action"], r["securable"])
            for r in ws.audit(principal="ana")
            if r["outcome"] == "denied"
        }
    assert ("execute", "dev.ml.clf") in denied


def test_promotion_here_and_into_staging(clf: Path) -> None:
    with prodml.connect(clf) as ws:
        try:
            promoted = ws.promote_model("clf")  # the challenger becomes the champion
            assert (promoted["champion"], promoted["previous_champion"]) == (2, 1)
            assert ws.alias_version("clf", "champion") == 2
            copied = ws.promote("clf", to_env="staging")
        finally:
            ws.set_alias("clf", "champion", 1)
            ws.set_alias("clf", "challenger", 2)
    assert (copied["from"], copied["to"]) == ("dev.ml.clf/2", "staging.ml.clf/1")
    with prodml.connect(clf, env="staging") as staging:
        assert [(v["version"], v["aliases"]) for v in staging.model_versions("clf")] == [
            (1, ["champion"])
        ]
