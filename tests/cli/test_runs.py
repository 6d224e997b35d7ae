"""``prodml runs list``, ``show`` and ``reproduce`` (``prodml.cli.runs``), in process: tables at
200 and 80 columns, ``--json`` shapes, the exit code of a mismatch, and bad ids and values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, ok
from tests.helpers import assert_clean_error, make_platform, prodml_main

CALM = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.calm")
def calm(ctx):
    return pa.table({"v": [1, 2, 3]})
"""

# different rows on every execution: a reproduction never matches
NOISY = """
import random
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.noise")
def noise(ctx):
    return pa.table({"v": [random.random() for _ in range(3)]})
"""


@dataclass(frozen=True)
class Runs:
    root: Path
    calm: str  # wrote bronze.calm
    noisy: str  # wrote bronze.noise
    skipped: str  # calm again: nothing to do


def _run(root: Path, product: str) -> str:
    return str(json.loads(ok(prodml_main("run", product, "--json", cwd=root)).out)["run_id"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = make_platform(tmp_path_factory.mktemp("runs") / "p", {"calm": CALM, "noisy": NOISY})
    calm = _run(root, "calm")
    noisy = _run(root, "noisy")
    return Runs(root, calm, noisy, _run(root, "calm"))


def test_list_json_is_newest_first(runs: Runs) -> None:
    listed = json.loads(ok(prodml_main("runs", "list", "--json", cwd=runs.root)).out)
    assert [(r["run_id"], r["product"], r["status"]) for r in listed] == [
        (runs.skipped, "calm", "succeeded"),
        (runs.noisy, "noisy", "succeeded"),
        (runs.calm, "calm", "succeeded"),
    ]
    assert {"started_at", "ended_at", "git_sha", "principal", "options"} <= set(listed[0])


def test_list_filters_by_product_and_limits(runs: Runs) -> None:
    calm = json.loads(
        ok(prodml_main("runs", "list", "--product", "calm", "--json", cwd=runs.root)).out
    )
    assert [r["run_id"] for r in calm] == [runs.skipped, runs.calm]
    one = json.loads(ok(prodml_main("runs", "list", "--limit", "1", "--json", cwd=runs.root)).out)
    assert [r["run_id"] for r in one] == [runs.skipped]


def test_list_keeps_run_ids_whole_at_80_columns(runs: Runs) -> None:
    r = ok(prodml_main("runs", "list", cwd=runs.root, env={"COLUMNS": "80"}))
    assert max(len(line) for line in r.out.splitlines()) <= 80
    for run_id in (runs.calm, runs.noisy, runs.skipped):
        assert run_id in r.out
    assert "runs in dev" in r.out


def test_list_of_an_unknown_product(runs: Runs) -> None:
    r = prodml_main("runs", "list", "--product", "calmm", cwd=runs.root)
    assert_clean_error(r, "unknown product 'calmm'", "did you mean 'calm'?")


@pytest.mark.parametrize("limit", ["0", "10001", "many"])
def test_list_limit_out_of_range(runs: Runs, limit: str) -> None:
    r = prodml_main("runs", "list", "--limit", limit, cwd=runs.root)
    assert_usage_error(r, "Invalid value for '--limit'")


def test_show_json_has_the_run_and_its_steps(runs: Runs) -> None:
    info = json.loads(ok(prodml_main("runs", "show", runs.calm, "--json", cwd=runs.root)).out)
    assert (info["run_id"], info["product"], info["env"], info["status"]) == (
        runs.calm,
        "calm",
        "dev",
        "succeeded",
    )
    (step,) = info["steps"]
    assert (step["step"], step["status"], step["rows_written"]) == ("calm.calm", "succeeded", 3)
    assert step["outputs"]["dev.bronze.calm"]["version"] == 0


def test_show_takes_a_unique_prefix_and_prints_fields_and_steps(runs: Runs) -> None:
    prefix = runs.noisy[: len(runs.noisy) - 4]
    r = ok(prodml_main("runs", "show", prefix, cwd=runs.root, env={"COLUMNS": "80"}))
    assert r.out.splitlines()[0].strip() == f"run {runs.noisy}"
    assert "noisy.noise" in r.out and "succeeded" in r.out and "first run" in r.out
    fields = {line.split()[0] for line in r.out.splitlines()[1:12] if line.strip()}
    assert {"product", "env", "status", "principal", "config_hash", "error"} <= fields


@pytest.mark.parametrize(
    ("run_id", "needles"),
    [
        ("nope", ("unknown run 'nope'",)),
        ("2", ("unknown run '2'", "ambiguous")),
    ],
)
def test_show_an_unknown_or_ambiguous_run(
    runs: Runs, run_id: str, needles: tuple[str, ...]
) -> None:
    r = prodml_main("runs", "show", run_id, cwd=runs.root)
    assert_clean_error(r, *needles)
    assert r.code == 2


def test_reproduce_a_deterministic_run_matches(runs: Runs) -> None:
    r = ok(prodml_main("runs", "reproduce", runs.calm, "--json", cwd=runs.root))
    report = json.loads(r.out)
    assert report["match"] is True and report["not_reproduced"] == []
    assert [
        (c["step"], c["table"], c["match"], c["rows_reproduced"]) for c in report["checks"]
    ] == [("calm.calm", "dev.bronze.calm", True, 3)]
    text = ok(prodml_main("runs", "reproduce", runs.calm, cwd=runs.root))
    assert f"reproduce {runs.calm}: MATCH" in text.out and "yes" in text.out


def test_reproduce_a_mismatch_exits_1(runs: Runs) -> None:
    r = prodml_main("runs", "reproduce", runs.noisy, cwd=runs.root)
    assert r.code == 1 and "Traceback" not in r.err
    assert f"reproduce {runs.noisy}: MISMATCH" in r.out and "NO" in r.out
    report = prodml_main("runs", "reproduce", runs.noisy, "--json", cwd=runs.root)
    assert report.code == 1
    (check,) = json.loads(report.out)["checks"]
    assert check["match"] is False and "different contents" in check["note"]


def test_reproduce_a_run_that_wrote_nothing_is_no_match(runs: Runs) -> None:
    """Nothing re-executed is not a reproduction: exit 1, saying why."""
    r = prodml_main("runs", "reproduce", runs.skipped, cwd=runs.root)
    assert r.code == 1
    assert r.err == (
        "nothing to compare: no step of this run wrote anything\n"
        "not re-executed: calm.calm (skipped)\n"
    )


def test_reproduce_an_unknown_run(runs: Runs) -> None:
    r = prodml_main("runs", "reproduce", "nope", cwd=runs.root)
    assert_clean_error(r, "unknown run 'nope'")
    assert r.out == ""


def test_show_latest_is_the_newest_run(runs: Runs) -> None:
    """Item 9 of the first-hour issue."""
    shown = json.loads(ok(prodml_main("runs", "show", "latest", "--json", cwd=runs.root)).out)
    assert shown["run_id"] == runs.skipped


def test_an_unknown_run_lists_the_last_few_and_the_command_for_all(runs: Runs) -> None:
    r = prodml_main("runs", "show", "nope", cwd=runs.root)
    last = ", ".join(sorted((runs.calm, runs.noisy, runs.skipped)))
    assert r.err == (
        f"Error: unknown run 'nope' (the last 3: {last}; 'prodml runs list' lists them all)\n"
    )


def test_latest_without_any_run(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"calm": CALM})
    r = prodml_main("runs", "show", "latest", cwd=root)
    assert r.err == (
        "Error: no run yet in this environment (start one with 'prodml run PRODUCT')\n"
    )
