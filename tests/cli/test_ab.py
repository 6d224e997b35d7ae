"""``prodml ab list``, ``report`` and ``conclude`` (``prodml.cli.ab``), in process on a simulated
experiment (an inference log and posted outcomes; no model needs training): the rendered report,
``--json`` shapes, and bad names and decisions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.abtest.test_report import simulate
from tests.cli.conftest import copy_platform, ok
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    PRODUCT,
    assert_clean_error,
    make_platform,
    prodml_main,
)

import prodml
from prodml.cli.ab import _num, _pct

CONFIG = """params: {c: 1.0}
model:
  name: clf
  gate: {metrics: {auc: {min: 0.5}}}
endpoint:
  unit_key: customer
  variants:
    champion: {alias: champion, weight: 0.5}
    challenger: {alias: challenger, weight: 0.5}
ab:
  experiments:
    new_model:
      metrics:
        converted: {kind: rate}
        revenue: {kind: mean}
      minimum_sample: 50
"""

UNITS = 400


def _simulate(root: Path) -> None:
    """Exposures of UNITS units split 50/50 (the A/B tests' simulator); the challenger converts
    30% of the time, the champion 10%; revenue is the same for both."""
    with prodml.connect(root) as ws:
        simulate(
            ws,
            n=UNITS,
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.1, "challenger": 0.3},
            means={"champion": 20.0, "challenger": 20.0},
        )


def _platform(root: Path) -> Path:
    make_platform(root, {"clf": CLASSIFIER_PIPELINE})
    (root / "products" / "clf" / "product.yaml").write_text(PRODUCT.format(name="clf") + CONFIG)
    return root


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf's new_model experiment with traffic and outcomes; no decision yet (tests that decide
    work on a copy)."""
    root = _platform(tmp_path_factory.mktemp("ab") / "p")
    _simulate(root)
    ok(prodml_main("models", "list", cwd=root))  # creates the model registry once, not per copy
    return root


def test_list_json(experiment: Path) -> None:
    rows = json.loads(ok(prodml_main("ab", "list", "--json", cwd=experiment)).out)
    assert rows == [
        {
            "product": "clf",
            "experiment": "new_model",
            "control": "champion",
            "treatment": "challenger",
            "primary_metric": "converted",
            "decision": None,
        }
    ]


def test_list_prints_a_table(experiment: Path) -> None:
    r = ok(prodml_main("ab", "list", cwd=experiment, env={"COLUMNS": "80"}))
    (row,) = [line for line in r.out.splitlines() if line.startswith("│")]
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "clf",
        "new_model",
        "champion",
        "challenger",
        "converted",
        "",
    ]


def test_report_json(experiment: Path, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    doc = json.loads(
        ok(
            prodml_main(
                "ab", "report", "new_model", "--chart", str(chart), "--json", cwd=experiment
            )
        ).out
    )
    assert (doc["experiment"], doc["product"], doc["primary_metric"]) == (
        "new_model",
        "clf",
        "converted",
    )
    assert sum(doc["units"].values()) == UNITS and set(doc["metrics"]) == {"converted", "revenue"}
    assert doc["srm"]["mismatch"] is False
    assert doc["recommendation"]["decision"] == "promote_treatment"
    assert doc["chart"] == str(chart) and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_renders_each_metric_and_the_recommendation(
    experiment: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    r = ok(prodml_main("ab", "report", "new_model", "--chart", str(chart), cwd=experiment))
    doc = json.loads(
        ok(
            prodml_main(
                "ab", "report", "new_model", "--chart", str(chart), "--json", cwd=experiment
            )
        ).out
    )
    converted = doc["metrics"]["converted"]["comparison"]
    assert "converted (primary): rate" in r.out and "revenue: mean" in r.out
    assert re.search(rf"│ champion   │ +{converted['control']['n']} │", r.out), r.out
    assert f"{converted['relative_lift']:+.2%} [" in r.out  # relative lift, as a percentage
    assert f"({converted['test']})" in r.out and "always-valid p" in r.out
    notes = r.err.splitlines()
    units = doc["units"]  # item 13 of the first-hour issue: words and numbers
    assert re.fullmatch(
        rf"sample ratio: champion {units['champion']} units \(\d+\.\d%, expected 50%\), "
        rf"challenger {units['challenger']} units \(\d+\.\d%, expected 50%\); "
        r"p=[\d.]+: no sample ratio mismatch",
        notes[0],
    ), notes[0]
    assert notes[1].startswith("recommendation: promote_treatment — ")
    assert notes[2] == f"chart: {chart}"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("report", "new_modle"), ("unknown experiment 'new_modle'", "did you mean 'new_model'?")),
        (("report", "new_model", "--product", "clff"), ("unknown product 'clff'", "'clf'")),
        (("conclude", "nope"), ("unknown experiment 'nope'", "new_model")),
        (
            ("conclude", "new_model", "--decision", "maybe"),
            ("unknown decision 'maybe'", "promote or keep"),
        ),
    ],
)
def test_bad_names_and_decisions(
    experiment: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    r = prodml_main("ab", *args, cwd=experiment)
    assert_clean_error(r, *needles)
    assert r.code == 2 and r.out == ""


def test_report_without_traffic_says_how_to_get_some(tmp_path: Path) -> None:
    root = _platform(tmp_path / "p")
    r = prodml_main("ab", "report", "new_model", cwd=root)
    assert_clean_error(r, "no exposures yet", "prodml serve --product clf")


def test_conclude_keep_records_the_decision(experiment: Path, tmp_path: Path) -> None:
    root = copy_platform(experiment, tmp_path / "copy")
    decided = json.loads(
        ok(prodml_main("ab", "conclude", "new_model", "--decision", "keep", "--json", cwd=root)).out
    )
    assert (decided["experiment"], decided["decision"], decided["model"]) == (
        "new_model",
        "keep_control",
        "dev.ml.clf",
    )
    assert "against the recommendation" in decided["reason"]
    listed = json.loads(ok(prodml_main("ab", "list", "--json", cwd=root)).out)
    assert listed[0]["decision"] == "keep_control"


def test_conclude_prints_the_decision(experiment: Path, tmp_path: Path) -> None:
    root = copy_platform(experiment, tmp_path / "copy")
    r = ok(prodml_main("ab", "conclude", "new_model", "--decision", "keep", cwd=root))
    lines = r.out.splitlines()
    assert lines[0].strip() == "decision on new_model"
    fields = {f[0]: f[1:] for f in map(str.split, lines[1:]) if f}
    assert fields["decision"] == ["keep_control"] and fields["product"] == ["clf"]


def test_conclude_to_promote_without_a_challenger_is_refused(
    experiment: Path, tmp_path: Path
) -> None:
    root = copy_platform(experiment, tmp_path / "copy")
    r = prodml_main("ab", "conclude", "new_model", cwd=root)  # the report says promote
    assert_clean_error(r, "dev.ml.clf has no 'challenger' alias to promote")
    assert json.loads(ok(prodml_main("ab", "list", "--json", cwd=root)).out)[0]["decision"] is None


def test_pct_and_num() -> None:
    assert _pct(None) == "—" and _num(None) == "—"
    assert _pct(0.12345) == "+12.35%" and _pct(-0.5) == "-50.00%"
    assert _num(0.000310698) == "0.0003107" and _num(1234567.0) == "1.235e+06"
