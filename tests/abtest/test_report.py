"""``ab report`` / ``ab conclude`` over real Delta tables: exposures from the inference log,
outcomes posted and from a table, statistics equal to SciPy/statsmodels, decisions recorded."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportions_ztest
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    PRODUCT,
    assert_clean_error,
    make_platform,
    prodml_cli,
    prodml_main,
)

import prodml
from prodml.abtest.assign import Assigner
from prodml.catalog.policies import Access
from prodml.errors import NotFoundError, UsageError
from prodml.serving.inference_log import Block, to_table
from prodml.tables.delta import WriteSpec

PIPELINE = CLASSIFIER_PIPELINE

CONFIG = """params: {{c: {c}}}
model:
  name: clf
  gate: {{metrics: {{auc: {{min: 0.5}}}}, improvement: {{metric: auc, min_delta: -0.5}}}}
endpoint:
  unit_key: customer
  variants:
    champion: {{alias: champion, weight: 0.5}}
    challenger: {{alias: challenger, weight: 0.5}}
ab:
  experiments:
    new_model:
      metrics:
        converted: {{kind: rate}}
        revenue: {{kind: mean}}
      minimum_sample: 500
{extra}
"""

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def write_config(root: Path, c: float = 1.0, extra: str = "") -> None:
    (root / "products" / "clf" / "product.yaml").write_text(
        PRODUCT.format(name="clf") + CONFIG.format(c=c, extra=extra)
    )


def platform(tmp_path: Path, extra: str = "") -> Path:
    root = make_platform(tmp_path / "p", {"clf": PIPELINE})
    write_config(root, extra=extra)
    return root


def simulate(
    ws: prodml.Workspace,
    *,
    n: int,
    weights: dict[str, float],
    rates: dict[str, float],
    means: dict[str, float],
    seed: int = 3,
) -> dict[str, dict[str, np.ndarray]]:
    """Write an inference log and posted outcomes for ``n`` units; return the per-unit truth."""
    rng = np.random.default_rng(seed)
    assigner = Assigner(weights, salt="sim")
    blocks, truth = [], {v: {"converted": [], "revenue": []} for v in weights}
    ids, metrics, values, times = [], [], [], []
    for i in range(n):
        unit = f"u{i}"
        variant = assigner.assign(unit)
        when = T0 + timedelta(seconds=30 * i)
        for shadow in (False, True):  # shadow rows never count as exposures
            blocks.append(
                Block(
                    request_id=f"r{i}",
                    time=when,
                    product="clf",
                    route="predict",
                    variant="challenger" if shadow else variant,
                    shadow=shadow,
                    model="dev.ml.clf",
                    model_version=1,
                    rows=np.array([0]),
                    unit_ids=[unit],
                    inputs={"a": np.array([0.1]), "b": np.array([0.2])},
                    outputs=np.array([0.5]),
                    latency_ms=1.0,
                )
            )
        converted = float(rng.random() < rates[variant])
        revenue = float(rng.normal(means[variant], 4.0))
        truth[variant]["converted"].append(converted)
        truth[variant]["revenue"].append(revenue)
        if converted:  # rate: a unit converts when any outcome is positive
            ids += [unit, unit]
            metrics += ["converted", "converted"]
            values += [1.0, 1.0]
            times += [when + timedelta(hours=1), when + timedelta(hours=2)]
        # revenue arrives in two parts; it is summed per unit
        ids += [unit, unit]
        metrics += ["revenue", "revenue"]
        values += [revenue - 1.0, 1.0]
        times += [when + timedelta(hours=1), when + timedelta(hours=3)]
    # an outcome before the unit's exposure does not count
    ids.append("u0")
    metrics.append("revenue")
    values.append(1000.0)
    times.append(T0 - timedelta(days=1))
    access = Access(principal="test")
    log = ws._w.catalog.name("ml.clf_inference_log")
    ws._w.catalog.write(
        log, to_table(blocks), WriteSpec(str(log), "append", partition_by=["date"]), access
    )
    posted = ws._w.catalog.name("ml.clf_outcomes")
    table = pa.table(
        {
            "unit_id": ids,
            "metric": metrics,
            "value": values,
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
            "date": pa.array([t.date() for t in times], pa.date32()),
            "received": pa.array(times, pa.timestamp("us", tz="UTC")),
        }
    )
    ws._w.catalog.write(posted, table, WriteSpec(str(posted), "append"), access)
    return {v: {k: np.array(x) for k, x in m.items()} for v, m in truth.items()}


def test_report_matches_scipy_and_statsmodels_on_a_known_lift(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        truth = simulate(
            ws,
            n=6000,
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.10, "challenger": 0.14},
            means={"champion": 20.0, "challenger": 20.6},
        )
        report = ws.ab_report("new_model", chart=tmp_path / "chart.png")
    c, t = truth["champion"], truth["challenger"]
    assert report["units"] == {"champion": len(c["revenue"]), "challenger": len(t["revenue"])}

    rate = report["metrics"]["converted"]["comparison"]
    z, p = proportions_ztest(
        [t["converted"].sum(), c["converted"].sum()], [len(t["converted"]), len(c["converted"])]
    )
    assert rate["test"] == "two_proportion_z"
    assert rate["statistic"] == pytest.approx(z, rel=1e-9)
    assert rate["p_value"] == pytest.approx(p, rel=1e-9)
    assert rate["treatment"]["mean"] == pytest.approx(t["converted"].mean())
    assert rate["diff_ci_low"] < 0.04 < rate["diff_ci_high"]  # the true lift is inside

    mean = report["metrics"]["revenue"]["comparison"]
    welch = sps.ttest_ind(t["revenue"], c["revenue"], equal_var=False)
    assert mean["test"] == "welch_t"
    assert mean["statistic"] == pytest.approx(welch.statistic, rel=1e-9)
    assert mean["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    ci = welch.confidence_interval(0.95)
    assert (mean["diff_ci_low"], mean["diff_ci_high"]) == (
        pytest.approx(ci.low, rel=1e-9),
        pytest.approx(ci.high, rel=1e-9),
    )
    assert mean["control"]["mean"] == pytest.approx(c["revenue"].mean())  # the early outcome is out

    seq = [pt["p_value"] for pt in report["metrics"]["converted"]["sequential"]["points"]]
    assert len(seq) > 10 and all(b <= a for a, b in itertools.pairwise(seq))
    assert report["srm"]["mismatch"] is False
    assert report["recommendation"]["decision"] == "promote_treatment"
    png = Path(report["chart"])
    assert png == tmp_path / "chart.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["metrics"]["revenue"]["timeline"][-1]["units"] == 6000


def test_a_skewed_split_is_flagged_as_sample_ratio_mismatch(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        simulate(
            ws,
            n=4000,
            weights={"champion": 0.56, "challenger": 0.44},  # the config says 50/50
            rates={"champion": 0.1, "challenger": 0.1},
            means={"champion": 20.0, "challenger": 20.0},
        )
        report = ws.ab_report("new_model")
        assert report["srm"]["mismatch"] is True and report["srm"]["p_value"] < 0.001
        assert report["recommendation"]["decision"] == "investigate"
        with pytest.raises(UsageError, match="investigate"):
            ws.ab_conclude("new_model")


def test_outcome_table_and_minimum_sample(tmp_path: Path) -> None:
    extra = "      outcome_table: gold.outcomes\n      primary_metric: revenue"
    root = platform(tmp_path, extra)
    with prodml.connect(root) as ws:
        truth = simulate(
            ws,
            n=300,  # below minimum_sample (500 per arm)
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.1, "challenger": 0.1},
            means={"champion": 20.0, "challenger": 20.0},
        )
        # a wide outcome table adds 5 revenue to every unit of the treatment
        units = [f"u{i}" for i in range(300)]
        table = ws._w.catalog.name("gold.outcomes")
        extra_rows = pa.table({"customer": units, "revenue": [5.0] * 300, "other": [1] * 300})
        ws._w.catalog.write(table, extra_rows, WriteSpec(str(table), "overwrite"), Access("t"))
        report = ws.ab_report("new_model")
    revenue = report["metrics"]["revenue"]["comparison"]
    assert revenue["treatment"]["mean"] == pytest.approx(truth["challenger"]["revenue"].mean() + 5)
    assert report["primary_metric"] == "revenue"
    assert report["recommendation"]["decision"] == "continue"


def test_unknown_experiment_and_no_traffic_are_clear_errors(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        with pytest.raises(NotFoundError, match="new_model"):
            ws.ab_report("new_modle")
        with pytest.raises(UsageError, match="no exposures yet"):
            ws.ab_report("new_model")
    assert_clean_error(prodml_main("ab", "report", "nope", cwd=root), "nope")
    assert_clean_error(
        prodml_main("ab", "conclude", "new_model", "--decision", "maybe", cwd=root), "maybe"
    )


@pytest.mark.slow
def test_conclude_promotes_the_winner_and_records_the_decision(tmp_path: Path) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("clf")
        ws.promote_model("clf")  # v1 champion
    write_config(root, c=0.05)
    with prodml.connect(root) as ws:
        ws.run("clf")  # v2 challenger
        assert ws.alias_version("clf", "challenger") == 2
        simulate(
            ws,
            n=4000,
            weights={"champion": 0.5, "challenger": 0.5},
            rates={"champion": 0.10, "challenger": 0.15},
            means={"champion": 20.0, "challenger": 21.0},
        )
    done = prodml_cli("ab", "conclude", "new_model", "--json", cwd=root)
    assert done.code == 0, done.err
    decision = json.loads(done.out)
    assert decision["decision"] == "promote_treatment"
    assert (decision["champion_before"], decision["champion_after"]) == (1, 2)
    with prodml.connect(root) as ws:
        assert ws.alias_version("clf", "champion") == 2
        assert ws.alias_version("clf", "challenger") is None
        listed = ws.experiments()
        assert listed[0]["decision"] == "promote_treatment"
        (recorded,) = (d for d in ws.ab_decisions() if d["experiment"] == "new_model")
        assert recorded["champion_after"] == 2 and recorded["report"]["units"]
    report = prodml_cli("ab", "report", "new_model", cwd=root)
    assert report.code == 0 and "promote_treatment" in report.out + report.err
