"""Reproducing a run: each step re-executed against the table versions it read, its outputs
rebuilt in scratch tables on the version before and compared with what was recorded; what
cannot be reproduced, and why a comparison fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform, write_days

import prodml
from prodml.errors import NotFoundError
from prodml.pipeline.reproduce import ReproduceReport, StepCheck, reproduce
from prodml.pipeline.runner import Runner
from prodml.workspace import Workspace


def replay(ws: Workspace, run_id: str, scratch: Path) -> ReproduceReport:
    return reproduce(Runner(ws._w.run_env()), run_id, scratch)


def by_table(report: ReproduceReport) -> dict[str, StepCheck]:
    return {c.table: c for c in report.checks}


def test_a_past_run_is_rebuilt_from_the_versions_it_read(shop: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    with prodml.connect(shop) as ws:
        first = ws.run("shop")
        write_days(shop, "2024-01-03")
        second = ws.run("shop")  # bronze.sales: only the new day, on top of version 0
        old = replay(ws, first.run_id, scratch)
        new = replay(ws, second.run_id, scratch)
    assert old.run_id == first.run_id and old.match and old.not_reproduced == []
    assert {
        t: (c.version, c.rows_recorded, c.rows_reproduced) for t, c in by_table(old).items()
    } == {
        "dev.bronze.sales": (0, 4, 4),
        "dev.gold.totals": (0, 2, 2),
    }
    assert new.match
    assert {t: (c.version, c.rows_recorded) for t, c in by_table(new).items()} == {
        "dev.bronze.sales": (1, 6),
        "dev.gold.totals": (1, 3),
    }
    assert [c.step for c in new.checks] == ["shop.sales", "shop.totals"]
    assert list(scratch.iterdir()) == []  # scratch tables are removed
    with prodml.connect(shop) as ws:
        assert ws.table("bronze.sales").version == 1  # the real tables are untouched


STAMPS = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.stamps", params=["rows", "label"])
def stamps(ctx):
    n = ctx.params["rows"]
    return pa.table({"i": list(range(n)), "label": [ctx.params["label"]] * n,
                     "run_id": [ctx.run_id] * n, "at": [ctx.now] * n})

@step(stage="features", inputs=["bronze.stamps"], outputs="silver.log", mode="append",
      expectations=[{"rule": "range", "column": "i", "min": 1, "action": "drop"}])
def log(ctx, stamps):
    return ctx.sql("SELECT i, label, run_id FROM stamps")

@step(stage="train", inputs=["bronze.stamps"], outputs="ml.counts", params=[])
def counts(ctx, stamps):
    if ctx.params:
        raise RuntimeError("unreachable: declared no params")
    return ctx.sql("SELECT count(*) AS n FROM stamps")
"""


def stamps(tmp_path: Path, rows: int = 3, label: str = "a") -> Path:
    root = make_platform(tmp_path / "p", {"stamps": STAMPS})
    configure(root, rows, label)
    return root


def configure(root: Path, rows: int, label: str = "a") -> None:
    (root / "products" / "stamps" / "product.yaml").write_text(
        PRODUCT.format(name="stamps") + f"params: {{rows: {rows}, label: {label}}}\n"
    )


def test_the_run_id_time_and_dropped_rows_are_the_originals(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        run = ws.run("stamps")
        report = replay(ws, run.run_id, tmp_path / "scratch")
    checks = by_table(report)
    # the rows carry ctx.run_id and ctx.now: equal only if the replay used the original ones
    assert checks["dev.bronze.stamps"].match
    # the expectation dropped i = 0 from the real write, and again from the rebuilt one
    assert (checks["dev.silver.log"].match, checks["dev.silver.log"].rows_recorded) == (True, 2)
    assert report.match
    assert report.not_reproduced == ["stamps.counts (train steps use the model registry)"]


def test_an_append_is_rebuilt_on_the_version_before(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("stamps")
    configure(root, rows=4)
    with prodml.connect(root) as ws:
        second = ws.run("stamps")
        report = replay(ws, second.run_id, tmp_path / "scratch")
    log = by_table(report)["dev.silver.log"]
    assert (log.version, log.rows_recorded, log.rows_reproduced, log.match) == (1, 5, 5, True)


def test_a_full_refresh_is_reproduced_as_an_overwrite(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("stamps")
        refresh = ws.run("stamps", full_refresh=True)
        report = replay(ws, refresh.run_id, tmp_path / "scratch")
    log = by_table(report)["dev.silver.log"]
    assert (log.version, log.rows_recorded, log.match) == (1, 2, True)


def test_different_contents_are_reported(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        run = ws.run("stamps")
    configure(root, rows=3, label="b")  # the code now writes other values
    with prodml.connect(root) as ws:
        report = replay(ws, run.run_id, tmp_path / "scratch")
    check = by_table(report)["dev.bronze.stamps"]
    assert not check.match and not report.match
    assert check.note == (
        "same row count, different contents (did the landing files or the code change?)"
    )


def test_different_row_counts_are_reported(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        run = ws.run("stamps")
    configure(root, rows=5)
    with prodml.connect(root) as ws:
        report = replay(ws, run.run_id, tmp_path / "scratch")
    check = by_table(report)["dev.bronze.stamps"]
    assert (check.match, check.rows_recorded, check.rows_reproduced) == (False, 3, 5)
    assert check.note == "row counts differ (3 recorded, 5 reproduced)"


def test_a_run_that_skipped_everything_reproduces_nothing(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("stamps")
        idle = ws.run("stamps")
        report = replay(ws, idle.run_id, tmp_path / "scratch")
    assert report.checks == [] and not report.match
    assert report.not_reproduced == [
        "stamps.stamps (skipped)",
        "stamps.log (skipped)",
        "stamps.counts (skipped)",
    ]


def test_failed_and_removed_steps_are_not_reproduced(tmp_path: Path) -> None:
    root = stamps(tmp_path)
    code = root / "products" / "stamps" / "pipeline.py"
    code.write_text(
        STAMPS.replace(
            'return ctx.sql("SELECT i, label',
            'raise ValueError("x")\n    return ctx.sql("SELECT i, label',
        )
    )
    with prodml.connect(root) as ws:
        failed = ws.run("stamps", check=False)
    code.write_text(STAMPS.split('@step(stage="features"', maxsplit=1)[0])  # only stamps is left
    with prodml.connect(root) as ws:
        report = replay(ws, failed.run_id, tmp_path / "scratch")
    assert report.not_reproduced == [
        "stamps.log (failed)",
        "stamps.counts (no longer defined)",
    ]
    assert [c.table for c in report.checks] == ["dev.bronze.stamps"]


def test_an_unknown_run(shop_ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="unknown run 'nope'"):
        replay(shop_ws, "nope", tmp_path / "scratch")


def test_a_report_matches_only_with_checks_that_all_match() -> None:
    ok = StepCheck("p.a", "dev.gold.a", 0, True, 1, 1)
    bad = StepCheck("p.b", "dev.gold.b", 0, False, 1, 2, "row counts differ")
    assert ReproduceReport("r").match is False
    assert ReproduceReport("r", [ok]).match is True
    assert ReproduceReport("r", [ok, bad]).match is False
    assert ReproduceReport.JSON_PROPERTIES == ("match",)
