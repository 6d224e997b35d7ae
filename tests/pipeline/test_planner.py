"""The planner: which steps (and partitions) must run and why, what is skipped, backfills and
full refreshes, reference inputs, partition ranges, run options and landing files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import make_platform

import prodml
from prodml.catalog.policies import Access
from prodml.errors import UsageError
from prodml.pipeline.invoke import step_code
from prodml.pipeline.landing import LandingSourceMissingError, landing_files
from prodml.pipeline.planner import (
    RANGE_FORMS,
    InputState,
    PartitionRange,
    Planner,
    RunOptions,
    StepPlan,
)
from prodml.workspace import Workspace

# landing events by day → bronze.events (replace_partitions) → a partitioned step with a
# reference input, the same without it, an append step, and a whole-table step
PIPELINE = """
from prodml import step

@step(stage="ingress", inputs=["landing:events"], outputs="bronze.events",
      partition_by="day", mode="replace_partitions", params=[])
def events(ctx, files):
    return ctx.read_files(files, format="csv", columns=["day", "user"])

@step(stage="ingress", outputs="silver.users", params=["tier"])
def users(ctx):
    return ctx.sql("SELECT * FROM (VALUES ('u1', $tier), ('u2', 'basic')) t(user, tier)",
                   tier=ctx.params["tier"])

@step(stage="features", inputs=["bronze.events", "silver.users"], outputs="gold.by_tier",
      partition_by="day", mode="replace_partitions", references=["silver.users"], params=[])
def by_tier(ctx, events, users):
    return ctx.sql("SELECT day, tier, count(*) AS n FROM events JOIN users USING (user) GROUP BY ALL")

@step(stage="features", inputs=["bronze.events", "silver.users"], outputs="gold.by_tier_now",
      partition_by="day", mode="replace_partitions", params=[])
def by_tier_now(ctx, events, users):
    return ctx.sql("SELECT day, tier, count(*) AS n FROM events JOIN users USING (user) GROUP BY ALL")

@step(stage="features", inputs=["bronze.events"], outputs="gold.log", partition_by="day",
      mode="append", params=[])
def log(ctx, events):
    return ctx.sql("SELECT day, count(*) AS n FROM events GROUP BY day")

@step(stage="features", inputs=["bronze.events"], outputs="gold.totals")
def totals(ctx, events):
    return ctx.sql("SELECT count(*) AS n FROM events")
"""

DAYS = ("2024-01-01", "2024-01-02")


def write_day(root: Path, day: str, users: str = "u1,u2") -> None:
    folder = root / "landing" / "events" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{day},{u}\n" for u in users.split(","))
    (folder / "part.csv").write_text("day,user\n" + rows)


def set_params(root: Path, **params: str) -> None:
    product = root / "products" / "p" / "product.yaml"
    text = product.read_text().split("params:")[0]
    body = ", ".join(f"{k}: {v}" for k, v in params.items())
    product.write_text(text + f"params: {{{body}}}\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The platform with two landing days, not run yet."""
    root = make_platform(tmp_path / "p", {"p": PIPELINE})
    set_params(root, tier="gold", other="1")
    for day in DAYS:
        write_day(root, day)
    return root


@pytest.fixture
def ran(root: Path) -> Path:
    """The platform after one run of everything."""
    with prodml.connect(root) as ws:
        ws.run("p")
    return root


@pytest.fixture
def ws(root: Path) -> Iterator[Workspace]:
    with prodml.connect(root) as ws:
        yield ws


@pytest.fixture(scope="module")
def ran_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace after one run, shared by the tests that only plan (planning writes nothing)."""
    root = make_platform(tmp_path_factory.mktemp("planner") / "p", {"p": PIPELINE})
    set_params(root, tier="gold", other="1")
    for day in DAYS:
        write_day(root, day)
    with prodml.connect(root) as ws:
        ws.run("p")
        yield ws


def plan(
    ws: Workspace, step: str, options: RunOptions | None = None, engine_version: str | None = None
) -> StepPlan:
    """Plan one step of product p now, with the planner alone (no re-planning downstream)."""
    w = ws._w
    spec = w.dag.steps[f"p.{step}"]
    owner = w.products["p"]
    engine = w.engine()
    try:
        version = engine_version or engine.version
    finally:
        engine.close()
    planner = Planner(w.catalog, w.landing_dir, version, w.store, Access(principal="user:t"))
    return planner.plan(spec, step_code(spec, owner), owner.config.params, options or RunOptions())


def test_first_plan_runs_everything_and_says_why(ws: Workspace) -> None:
    events = plan(ws, "events")
    assert (events.action, events.reason) == ("run", "2 new, 0 changed partition(s)")
    assert events.partitions == list(DAYS)
    assert sorted(events.fingerprints) == list(DAYS)
    assert (events.write_mode, events.forced, events.replace_state) == (
        "replace_partitions",
        False,
        False,
    )
    users = plan(ws, "users")
    assert (users.action, users.reason, users.partitions) == ("run", "first run", None)
    assert list(users.fingerprints) == [""] and users.replace_state
    # its input does not exist yet: planned whole, so replace_partitions becomes an overwrite
    by_tier = plan(ws, "by_tier")
    assert (by_tier.action, by_tier.reason) == ("run", "input bronze.events does not exist yet")
    assert (by_tier.partitions, by_tier.write_mode) == (None, "overwrite")
    assert by_tier.inputs["bronze.events"].version is None


def test_nothing_changed_everything_is_skipped(ran_ws: Workspace) -> None:
    plans = {s: plan(ran_ws, s) for s in ("events", "users", "by_tier", "log", "totals")}
    assert {s: p.action for s, p in plans.items()} == dict.fromkeys(plans, "skip")
    assert plans["events"].reason == "unchanged: all 2 partition(s) up to date"
    assert plans["events"].partitions == [] and plans["events"].fingerprints == {}
    assert plans["totals"].reason == "unchanged: code, params and input versions are the same"
    assert plans["totals"].inputs["bronze.events"].version == 0


def test_new_and_changed_landing_partitions_run_alone(ran: Path) -> None:
    write_day(ran, "2024-01-02", users="u1,u2,u2")  # one more row: a new file size
    write_day(ran, "2024-01-03")
    with prodml.connect(ran) as ws:
        events = plan(ws, "events")
        assert (events.action, events.reason) == ("run", "1 new, 1 changed partition(s)")
        assert events.partitions == ["2024-01-02", "2024-01-03"]
        # the planner alone sees bronze.events as it is now: its readers are not planned yet
        assert plan(ws, "totals").action == "skip"


def test_a_vanished_partition_is_replaced_too(ran: Path) -> None:
    (ran / "landing" / "events" / "day=2024-01-01" / "part.csv").unlink()
    (ran / "landing" / "events" / "day=2024-01-01").rmdir()
    with prodml.connect(ran) as ws:
        events = plan(ws, "events")
    assert (events.action, events.reason, events.partitions) == (
        "run",
        "0 new, 1 changed partition(s)",
        ["2024-01-01"],
    )


def test_backfill_runs_the_range_even_when_unchanged(ran_ws: Workspace) -> None:
    backfill = plan(ran_ws, "log", RunOptions.of(partitions="2024-01-02.."))
    assert (backfill.action, backfill.partitions) == ("run", ["2024-01-02"])
    assert backfill.reason == "backfill of 1 partition(s) in 2024-01-02.."
    assert backfill.forced and backfill.write_mode == "append"
    outside = plan(ran_ws, "log", RunOptions.of(partitions="2023-01-01..2023-12-31"))
    assert (outside.action, outside.partitions, outside.forced) == ("skip", [], False)


def test_full_refresh_rewrites_everything(ran_ws: Workspace) -> None:
    log = plan(ran_ws, "log", RunOptions.of(full_refresh=True))
    assert (log.action, log.reason, log.partitions) == ("run", "full refresh", list(DAYS))
    # an append output is overwritten, and the stored states are replaced wholesale
    assert (log.write_mode, log.replace_state, log.forced) == ("overwrite", True, True)
    users = plan(ran_ws, "users", RunOptions.of(full_refresh=True))
    assert (users.action, users.reason, users.forced) == ("run", "full refresh", True)


def test_params_the_step_uses_change_its_fingerprint(ran: Path) -> None:
    set_params(ran, tier="gold", other="2")  # users declared params=["tier"] only
    with prodml.connect(ran) as ws:
        assert plan(ws, "users").action == "skip"
        totals = plan(ws, "totals")  # declared no params: depends on all of them
        assert (totals.action, totals.reason) == ("run", "inputs, code or params changed")
    set_params(ran, tier="silver", other="2")
    with prodml.connect(ran) as ws:
        assert plan(ws, "users").reason == "inputs, code or params changed"


def test_a_new_engine_version_reruns(ran_ws: Workspace) -> None:
    assert plan(ran_ws, "totals").action == "skip"
    totals = plan(ran_ws, "totals", engine_version="duckdb 99.0")
    assert (totals.action, totals.reason) == ("run", "inputs, code or params changed")


def test_a_new_version_of_reference_data_does_not_rerun_processed_partitions(ran: Path) -> None:
    set_params(ran, tier="silver", other="1")
    with prodml.connect(ran) as ws:
        ws.run("p", steps=["users"])  # silver.users: version 1
        with_reference = plan(ws, "by_tier")
        without = plan(ws, "by_tier_now")
    assert with_reference.action == "skip"
    assert with_reference.inputs["silver.users"].version == 1
    assert (without.action, without.reason) == ("run", "0 new, 2 changed partition(s)")


def test_batch_identifies_the_step_and_its_fingerprints() -> None:
    one = StepPlan("p.a", "run", "", None, {"": "f1"})
    assert one.batch == StepPlan("p.a", "skip", "other", ["x"], {"": "f1"}).batch
    assert one.batch != StepPlan("p.a", "run", "", None, {"": "f2"}).batch
    assert one.batch != StepPlan("p.b", "run", "", None, {"": "f1"}).batch
    assert len(one.batch) == 24


def test_an_input_records_its_partitions_only_when_partitioned() -> None:
    partitioned = InputState("bronze.events", version=3, partition_ids={"d1": "x"})
    assert partitioned.record(["d1"]) == {"version": 3, "partitions": ["d1"]}
    assert partitioned.record(None) == {"version": 3}
    assert InputState("silver.users", version=1).record(["d1"]) == {"version": 1}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-01-01..2024-01-31", "2024-01-01", "2024-01-31"),
        ("2024-01-05..", "2024-01-05", None),
        ("..2024-01-05", None, "2024-01-05"),
        ("2024-01-05", "2024-01-05", "2024-01-05"),
    ],
)
def test_partition_ranges(text: str, start: str | None, end: str | None) -> None:
    parsed = PartitionRange.parse(text)
    assert (parsed.start, parsed.end) == (start, end)
    assert "2024-01-05" in parsed
    assert PartitionRange.parse(str(parsed)) == parsed


def test_range_bounds_are_inclusive_and_compared_as_text() -> None:
    january = PartitionRange.parse("2024-01-01..2024-01-31")
    assert "2024-01-01" in january and "2024-01-31" in january
    assert "2024-02-01" not in january and "2023-12-31" not in january
    assert 5 in PartitionRange.parse("3..7")  # values are compared as strings


def test_bad_partition_ranges_say_how_to_write_one() -> None:
    with pytest.raises(UsageError, match=r"invalid partition range '\.\.'") as empty:
        PartitionRange.parse("..")
    assert empty.value.hint == RANGE_FORMS
    with pytest.raises(UsageError, match="start is after end"):
        PartitionRange.parse("2024-02-01..2024-01-01")


def test_run_options_from_what_a_user_gives_and_back() -> None:
    options = RunOptions.of(["a", "p.b"], "2024-01-01..", promote=True)
    assert options.steps == ("a", "p.b")
    assert options.partitions == PartitionRange("2024-01-01", None)
    record = options.to_record()
    assert record == {
        "steps": ["a", "p.b"],
        "partitions": "2024-01-01..",
        "full_refresh": False,
        "promote": True,
        "params": {},
    }
    assert RunOptions.from_record(record) == options
    with_params = RunOptions.of(None, None, params={"p.c": 0.5})
    assert with_params.to_record()["params"] == {"p.c": 0.5}
    assert RunOptions.from_record(with_params.to_record()) == with_params
    assert RunOptions.from_record({}) == RunOptions()
    assert RunOptions.of([], None) == RunOptions()  # nothing given: everything, once


def test_a_backfill_and_a_full_refresh_exclude_each_other() -> None:
    with pytest.raises(UsageError, match="exclude each other") as both:
        RunOptions.of(partitions="2024-01-01..", full_refresh=True)
    assert "give one or the other" in str(both.value)


def test_landing_files_of_the_partitions_asked_for(tmp_path: Path) -> None:
    base = tmp_path / "sales"
    for day in ("2024-01-01", "2024-01-02"):
        (base / f"day={day}" / "sub").mkdir(parents=True)
        (base / f"day={day}" / "a.csv").write_text("x")
        (base / f"day={day}" / "sub" / "b.csv").write_text("x")
        (base / f"day={day}" / ".hidden").write_text("x")
        (base / f"day={day}" / "_SUCCESS").write_text("")
    (base / "README").write_text("not a partition")
    (base / "region=eu").mkdir()
    (base / "region=eu" / "c.csv").write_text("x")

    one = landing_files(tmp_path, "sales", "day", ["2024-01-02"])
    assert one == [str(base / "day=2024-01-02" / "a.csv"), str(base / "day=2024-01-02/sub/b.csv")]
    assert len(landing_files(tmp_path, "sales", "day", None)) == 4  # every day, not region=eu
    # unpartitioned: every file of the source, the README at its top too
    assert len(landing_files(tmp_path, "sales", None, None)) == 6
    with pytest.raises(LandingSourceMissingError, match="no folder"):
        landing_files(tmp_path, "nowhere", "day", None)
