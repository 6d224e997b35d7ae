"""``prodml models list``, ``versions``, ``show``, ``compare`` and ``promote``
(``prodml.cli.models``), in process on a trained clf: ``--json`` shapes, tables (at 80 columns
too), and products without a model or a challenger."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, copy_platform, ok
from tests.helpers import assert_clean_error, prodml_main


def _versions(root: Path) -> list[dict[str, object]]:
    return list(json.loads(ok(prodml_main("models", "versions", "clf", "--json", cwd=root)).out))


def test_list_json(trained: Path) -> None:
    rows = json.loads(ok(prodml_main("models", "list", "--json", cwd=trained)).out)
    assert rows == [
        {
            "product": "clf",
            "model": "dev.ml.clf",
            "versions": 1,
            "champion": None,
            "challenger": 1,
            "deployment": "model",
        }
    ]


def test_list_prints_a_table(trained: Path) -> None:
    r = ok(prodml_main("models", "list", cwd=trained, env={"COLUMNS": "80"}))
    assert r.out.splitlines()[0].strip() == "models in dev"
    (row,) = [line.split("│")[1:-1] for line in r.out.splitlines() if line.startswith("│")]
    assert [c.strip() for c in row] == ["clf", "dev.ml.clf", "1", "", "1", "model"]


def test_versions_json(trained: Path) -> None:
    (version,) = _versions(trained)
    runs = json.loads(
        ok(prodml_main("runs", "list", "--product", "clf", "--json", cwd=trained)).out
    )
    assert (version["version"], version["aliases"], version["gate"]) == (
        1,
        ["challenger"],
        "passed",
    )
    assert version["prodml_run_id"] == runs[0]["run_id"] and version["source"] is None
    metrics = version["metrics"]
    assert isinstance(metrics, dict) and 0.5 <= metrics["auc"] <= 1.0


def test_versions_prints_metrics_with_four_decimals(trained: Path) -> None:
    r = ok(prodml_main("models", "versions", "clf", cwd=trained))
    assert "versions of dev.ml.clf" in r.out
    assert re.search(r"│ +1 │ challenger +│ passed +│ auc=0\.\d{4} +│", r.out), r.out


def test_versions_keep_the_run_id_whole_at_80_columns(trained: Path) -> None:
    (version,) = _versions(trained)
    r = ok(prodml_main("models", "versions", "clf", cwd=trained, env={"COLUMNS": "80"}))
    assert str(version["prodml_run_id"]) in r.out


def test_versions_in_an_environment_without_any(trained: Path) -> None:
    r = ok(prodml_main("models", "versions", "clf", "--env", "staging", "--json", cwd=trained))
    assert json.loads(r.out) == []


def test_show_json(trained: Path) -> None:
    data = json.loads(ok(prodml_main("models", "show", "clf", "--json", cwd=trained)).out)
    assert (data["model"], data["versions"], data["champion"]) == ("dev.ml.clf", 1, None)
    assert data["challenger"]["version"] == 1
    assert data["config"]["gate"]["metrics"] == {"auc": {"min": 0.5, "max": None}}


def test_show_prints_the_config_and_aliases(trained: Path) -> None:
    r = ok(prodml_main("models", "show", "clf", cwd=trained))
    fields = {f[0]: f[1:] for f in map(str.split, r.out.splitlines()[1:])}
    assert fields == {
        "deployment": ["model"],
        "flavor": ["sklearn"],
        "versions": ["1"],
        "champion": [],
        "challenger": ["1"],
        "gate": ["auc", ">=0.5"],
    }


def test_compare_json_is_one_row_per_version(trained: Path) -> None:
    """Item 13 of the first-hour issue: training params and evaluation metrics together."""
    found = json.loads(ok(prodml_main("models", "compare", "clf", "--json", cwd=trained)).out)
    assert (found["model"], found["total"]) == ("dev.ml.clf", 1)
    (row,) = found["versions"]
    assert (row["version"], row["aliases"], row["gate"]) == (1, ["challenger"], "passed")
    assert row["params"]["c"] == "1.0" and set(row["metrics"]) == {"auc"}


def test_compare_prints_params_beside_metrics_and_says_when_it_limits(
    trained: Path, tmp_path: Path
) -> None:
    root = copy_platform(trained, tmp_path / "copy")
    ok(prodml_main("run", "clf", "--params", "c=0.5", cwd=root))
    r = ok(prodml_main("models", "compare", "clf", cwd=root))
    assert re.search(r"│ +2 │ challenger │ passed │ 0\.5 .*│ 0\.\d+ │", r.out), r.out
    assert re.search(r"│ +1 │ +│ passed │ 1\.0 ", r.out), r.out
    limited = ok(prodml_main("models", "compare", "clf", "--limit", "1", cwd=root))
    assert "│ +1 │" not in limited.out
    assert limited.err == "(the newest 1 of 2 versions; --limit shows more)\n"


@pytest.mark.parametrize("command", ["versions", "show", "compare", "promote"])
def test_a_product_without_a_model(trained: Path, command: str) -> None:
    r = prodml_main("models", command, "shop", cwd=trained)
    assert_clean_error(r, "product shop declares no model", "products with a model: clf")


@pytest.mark.parametrize("command", ["versions", "show", "compare", "promote"])
def test_an_unknown_product(trained: Path, command: str) -> None:
    r = prodml_main("models", command, "clff", cwd=trained)
    assert_clean_error(r, "unknown product 'clff'", "did you mean 'clf'?")
    assert r.code == 2


@pytest.mark.parametrize("limit", ["0", "501"])
def test_compare_limit_out_of_range(trained: Path, limit: str) -> None:
    r = prodml_main("models", "compare", "clf", "--limit", limit, cwd=trained)
    assert_usage_error(r, "Invalid value for '--limit'")


def test_promote_makes_the_challenger_champion_once(trained: Path, tmp_path: Path) -> None:
    root = copy_platform(trained, tmp_path / "copy")
    r = ok(prodml_main("models", "promote", "clf", cwd=root))
    assert r.err == "dev.ml.clf: version 1 is champion (was none)\n" and r.out == ""
    (version,) = _versions(root)
    assert version["aliases"] == ["champion"]
    again = prodml_main("models", "promote", "clf", cwd=root)
    assert_clean_error(again, "dev.ml.clf has no challenger to promote", "passes the gate")


def test_promote_json(trained: Path, tmp_path: Path) -> None:
    root = copy_platform(trained, tmp_path / "copy")
    r = ok(prodml_main("models", "promote", "clf", "--json", cwd=root))
    assert json.loads(r.out) == {"model": "dev.ml.clf", "champion": 1, "previous_champion": None}
    assert r.err == ""


def test_item9_a_copied_platform_uses_its_own_artifacts(trained: Path, tmp_path: Path) -> None:
    """Issue 13 item 9: MLflow's stored artifact locations were absolute, so a copy of a
    platform read and wrote the original's mlartifacts."""
    import shutil
    import sqlite3

    import prodml

    first = copy_platform(trained, tmp_path / "first")
    ok(prodml_main("models", "versions", "clf", cwd=first))  # opened where it now is
    moved = copy_platform(first, tmp_path / "moved")
    shutil.rmtree(first)  # the platform it was copied from is gone
    with prodml.connect(moved) as ws:
        assert ws.load_model("clf", version=1) is not None  # read from the copy's files
    ok(prodml_main("run", "clf", "--params", "c=0.25", cwd=moved))  # version 2, in the copy
    db = sqlite3.connect(moved / ".prodml" / "mlflow.db")
    try:
        stored = [
            v
            for table, column in (("runs", "artifact_uri"), ("model_versions", "storage_location"))
            for (v,) in db.execute(f"SELECT {column} FROM {table}")
        ]
    finally:
        db.close()
    assert len(stored) >= 4 and all(str(moved) in v for v in stored), stored
    assert not first.exists() and not any(str(trained) in v for v in stored)
