"""The Pipelines service: plans (re-planned downstream of a change, nothing written), runs that
fail without raising, resumes of failed and killed runs with their options, the run history,
reproductions in its scratch directory, the landscape and a product's details."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import PRODUCT, make_platform, write_days
from tests.helpers import SHOP_PIPELINE as SHOP

import prodml
from prodml.errors import NotFoundError, UsageError
from prodml.pipeline.errors import StepFailedError
from prodml.pipeline.planner import RunOptions
from prodml.pipeline.runner import RunEnv
from prodml.pipeline.service import Pipelines, ProductSummary
from prodml.workspace import Workspace

# the shop, plus a partitioned step downstream of bronze.sales
DAILY = (
    SHOP
    + """
@step(stage="features", inputs=["bronze.sales"], outputs="silver.daily",
      partition_by="day", mode="replace_partitions")
def daily(ctx, sales):
    return ctx.sql("SELECT day, count(*) AS n FROM sales GROUP BY day")
"""
)

# a → b (fails while products/p/FAIL exists) → c; d reads a too
FLAKY = """
from pathlib import Path
from prodml import step

@step(stage="ingress", inputs=["landing:sales"], outputs="bronze.a", partition_by="day",
      mode="replace_partitions")
def a(ctx, files):
    return ctx.read_files(files, format="csv", columns=["day", "amount"])

@step(stage="features", inputs=["bronze.a"], outputs="silver.b")
def b(ctx, a):
    if (Path(__file__).parent / "FAIL").exists():
        raise RuntimeError("b is broken")
    return ctx.sql("SELECT count(*) AS n FROM a")

@step(stage="features", inputs=["silver.b"], outputs="gold.c")
def c(ctx, b):
    return b

@step(stage="features", inputs=["bronze.a"], outputs="gold.d")
def d(ctx, a):
    return ctx.sql("SELECT count(*) AS n FROM a")
"""


def pipelines(ws: Workspace, scratch: Path) -> Pipelines:
    w = ws._w
    return Pipelines(w.run_env, w.store, w.settings.catalog, scratch)


@pytest.fixture
def daily(tmp_path: Path) -> Iterator[Workspace]:
    root = make_platform(tmp_path / "p", {"shop": DAILY})
    write_days(root, "2024-01-01", "2024-01-02")
    with prodml.connect(root) as ws:
        yield ws


@pytest.fixture
def flaky(tmp_path: Path) -> Iterator[Workspace]:
    root = make_platform(tmp_path / "p", {"p": FLAKY})
    write_days(root, "2024-01-01", "2024-01-02")
    (root / "products" / "p" / "FAIL").write_text("")
    with prodml.connect(root) as ws:
        yield ws


def test_the_history_is_read_without_loading_the_products(daily: Workspace, tmp_path: Path) -> None:
    daily.run("shop")
    made: list[RunEnv] = []
    w = daily._w

    def make_renv() -> RunEnv:
        made.append(w.run_env())
        return made[-1]

    service = Pipelines(make_renv, w.store, "dev", tmp_path)
    (run,) = service.runs()
    assert service.run_info(run["run_id"])["steps"][0]["status"] == "succeeded"
    assert made == []
    service.plan(daily.product("shop"), RunOptions())
    service.plan(daily.product("shop"), RunOptions())
    assert len(made) == 1 and service.renv is made[0]


def test_a_partitioned_step_downstream_of_a_change_is_replanned(
    daily: Workspace, tmp_path: Path
) -> None:
    service = pipelines(daily, tmp_path)
    daily.run("shop")
    write_days(daily.root, "2024-01-03")
    plans = {p.step: p for p in service.plan(daily.product("shop"), RunOptions())}
    assert (plans["shop.sales"].action, plans["shop.sales"].partitions) == ("run", ["2024-01-03"])
    assert (plans["shop.daily"].action, plans["shop.daily"].reason) == (
        "run",
        "upstream shop.sales will change its inputs",
    )
    assert plans["shop.daily"].partitions == ["(re-planned after upstream)"]
    assert plans["shop.totals"].partitions is None
    # planning wrote nothing and recorded no run
    assert len(service.runs()) == 1
    assert daily.table("bronze.sales").version == 0
    # the run then processes the new day downstream as well
    steps = {s["step"]: s for s in service.run(daily.product("shop"), RunOptions()).steps}
    assert steps["shop.daily"]["partitions"] == ["2024-01-03"]


def test_planning_only_some_steps_and_an_unknown_one(daily: Workspace, tmp_path: Path) -> None:
    service = pipelines(daily, tmp_path)
    only = service.plan(daily.product("shop"), RunOptions.of(steps=["daily"]))
    assert [p.step for p in only] == ["shop.daily"]
    with pytest.raises(NotFoundError, match="unknown step of product shop 'daliy'") as info:
        service.plan(daily.product("shop"), RunOptions.of(steps=["daliy"]))
    assert info.value.hint == "did you mean 'daily'?"


def test_a_run_without_check_returns_its_failure(flaky: Workspace, tmp_path: Path) -> None:
    service = pipelines(flaky, tmp_path)
    events: list[str] = []
    result = service.run(
        flaky.product("p"), RunOptions(), on_event=lambda kind, _: events.append(kind), check=False
    )
    assert result.status == "failed" and isinstance(result.exception, StepFailedError)
    assert "RuntimeError: b is broken" in str(result.error)
    statuses = {s["step"]: (s["status"], s["reason"]) for s in result.steps}
    assert statuses["p.b"][0] == "failed" and "b is broken" in statuses["p.b"][1]
    assert statuses["p.c"] == ("blocked", "upstream step p.b failed")
    assert statuses["p.d"][0] == "succeeded"  # it does not need b
    assert events[0] == "run_started" and events[-1] == "run_finished"
    assert service.runs()[0]["status"] == "failed"
    with pytest.raises(StepFailedError, match="b is broken"):
        service.run(flaky.product("p"), RunOptions())


def test_resume_reruns_what_did_not_succeed_with_the_runs_options(
    flaky: Workspace, tmp_path: Path
) -> None:
    service = pipelines(flaky, tmp_path)
    options = RunOptions.of(partitions="2024-01-02..2024-01-02")
    failed = service.run(flaky.product("p"), options, check=False)
    (flaky.root / "products" / "p" / "FAIL").unlink()
    resumed = service.resume(failed.run_id[:12])
    assert resumed.status == "succeeded"
    assert [(s["step"], s["status"]) for s in resumed.steps] == [
        ("p.b", "succeeded"),
        ("p.c", "succeeded"),
    ]
    record = service.run_info(resumed.run_id)
    assert record["resumed_from"] == failed.run_id
    assert record["options"]["partitions"] == "2024-01-02..2024-01-02"
    assert record["options"]["steps"] == ["p.b", "p.c"]
    with pytest.raises(UsageError, match="succeeded: nothing to resume") as info:
        service.resume(resumed.run_id)
    assert info.value.hint == "run 'prodml run p' instead"


def test_a_killed_run_is_noticed_and_resumed(flaky: Workspace, tmp_path: Path) -> None:
    (flaky.root / "products" / "p" / "FAIL").unlink()
    service = pipelines(flaky, tmp_path)
    run = service.run(flaky.product("p"), RunOptions())
    # what a process killed while running step c leaves behind
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    flaky._w.store.update_run(run.run_id, status="running", pid=dead, ended_at=None)
    flaky._w.store.upsert_step_run(run.run_id, "p.c", status="running")
    (listed,) = service.runs()
    assert listed["status"] == "killed"
    assert listed["error"] == "the process running it disappeared (killed?)"
    steps = {s["step"]: s["status"] for s in service.run_info(run.run_id)["steps"]}
    assert steps["p.c"] == "killed" and steps["p.b"] == "succeeded"
    resumed = service.resume(run.run_id)
    assert [s["step"] for s in resumed.steps] == ["p.c"]


def test_runs_of_a_product_newest_first(flaky: Workspace, tmp_path: Path) -> None:
    (flaky.root / "products" / "p" / "FAIL").unlink()
    service = pipelines(flaky, tmp_path)
    first = service.run(flaky.product("p"), RunOptions())
    second = service.run(flaky.product("p"), RunOptions())
    assert [r["run_id"] for r in service.runs("p")] == [second.run_id, first.run_id]
    assert [r["run_id"] for r in service.runs("p", limit=1)] == [second.run_id]
    assert service.runs("other") == []


def test_reproduce_uses_the_scratch_directory(daily: Workspace, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    service = pipelines(daily, scratch)
    run = service.run(daily.product("shop"), RunOptions())
    report = service.reproduce(run.run_id)
    assert report.match and len(report.checks) == 3
    assert scratch.is_dir() and list(scratch.iterdir()) == []


CONSUMER = """
from prodml import step

@step(stage="features", inputs=["gold.totals"], outputs="gold.report")
def report(ctx, totals):
    '''The report.

    More words.'''
    return totals
"""


@pytest.fixture
def landscape(tmp_path: Path) -> Iterator[Workspace]:
    root = make_platform(tmp_path / "p", {"shop": SHOP, "reports": CONSUMER})
    yaml = root / "products" / "reports" / "product.yaml"
    yaml.write_text(
        PRODUCT.format(name="reports").replace(
            "description: test product reports", "description: |\n  Reports.\n"
        )
        + "stage: production\nclassification: {kind: report}\n"
    )
    write_days(root, "2024-01-01")
    with prodml.connect(root) as ws:
        yield ws


def test_the_landscape_and_a_products_details(landscape: Workspace, tmp_path: Path) -> None:
    service = pipelines(landscape, tmp_path)
    summaries = {s.name: s for s in service.landscape()}
    assert summaries["reports"] == ProductSummary(
        name="reports",
        description="Reports.",
        stage="production",
        kind="report",
        accountable="tester",
        steps=1,
        last_run=None,
        last_status=None,
    )
    run = service.run(landscape.product("reports"), RunOptions())
    # a run of reports runs shop's steps too, but it is a run of reports
    last = {s.name: (s.last_run, s.last_status) for s in service.landscape()}
    assert last == {"reports": (run.run_id, "succeeded"), "shop": (None, None)}
    details = service.describe(landscape.product("reports"))
    assert details["inputs_from_products"] == ["shop"]
    assert details["steps"] == [
        {
            "name": "report",
            "stage": "features",
            "inputs": ["gold.totals"],
            "outputs": ["gold.report"],
            "mode": "overwrite",
            "partition_by": None,
            "description": "The report.\n\nMore words.",
        }
    ]
    assert details["stage"] == "production" and details["name"] == "reports"
