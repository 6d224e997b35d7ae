"""Crashes and bad definitions: a killed run leaves no partial data; user mistakes are one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.helpers import (
    PLATFORM,
    Result,
    assert_clean_error,
    make_platform,
    prodml_cli,
    prodml_main,
)

import prodml

SLOW = """
import time
from pathlib import Path
import pyarrow as pa
from prodml import step

@step(stage="ingress", inputs=["landing:events"], outputs="bronze.events",
      partition_by="day", mode="append")
def ingest(ctx, events):
    rows = ctx.read_files(events, format="csv", columns=["id", "day"]).to_arrow_table()
    marker = Path(__file__).parent / "STARTED"
    marker.write_text(ctx.run_id)
    deadline = time.monotonic() + 60
    while (Path(__file__).parent / "SLOW").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows

@step(stage="features", inputs=["bronze.events"], outputs="silver.events")
def clean(ctx, events):
    return ctx.sql("select id, day from events")
"""


def _landing(root: Path, days: int, first: int = 1) -> None:
    for d in range(first, days + 1):
        part = root / "landing" / "events" / f"day=2024-01-{d:02d}"
        part.mkdir(parents=True, exist_ok=True)
        (part / "events.csv").write_text(
            "id,day\n" + "".join(f"{d}-{i},2024-01-{d:02d}\n" for i in range(50))
        )


def _rows(root: Path, table: str) -> list[dict[str, object]]:
    with prodml.connect(root) as ws:
        return ws.read(table).to_pylist()


@pytest.mark.slow
def test_sigkill_mid_step_leaves_no_partial_data_and_resume_completes(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"events": SLOW})
    _landing(root, 3)
    assert prodml_cli("run", "events", cwd=root).code == 0
    assert len(_rows(root, "bronze.events")) == 150
    _landing(root, 5, first=4)  # two new days
    slow = root / "products" / "events" / "SLOW"
    slow.write_text("1")
    started = root / "products" / "events" / "STARTED"
    started.unlink()
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.Popen(
        [str(exe), "run", "events"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        if started.exists():
            break
        time.sleep(0.1)
    assert started.exists(), "the step never started"
    killed_run = started.read_text()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(_rows(root, "bronze.events")) == 150  # nothing half-written

    listed = json.loads(prodml_cli("runs", "list", "--json", cwd=root).out)
    assert listed[0]["run_id"] == killed_run and listed[0]["status"] == "killed"
    slow.unlink()
    resumed = prodml_cli("run", "events", "--resume", killed_run[:15], "--json", cwd=root)
    assert resumed.code == 0, resumed.err
    steps = {s["step"]: s for s in json.loads(resumed.out)["steps"]}
    assert steps["events.ingest"]["partitions"] == ["2024-01-04", "2024-01-05"]
    rows = _rows(root, "bronze.events")
    assert len(rows) == 250 and len({r["id"] for r in rows}) == 250  # no duplicates
    assert len(_rows(root, "silver.events")) == 250
    again = json.loads(prodml_cli("run", "events", "--json", cwd=root).out)
    assert {s["status"] for s in again["steps"]} == {"skipped"}


def test_a_commit_whose_run_died_before_registering_it_is_adopted_and_registered(
    tmp_path: Path,
) -> None:
    """Found by benchmarks/kill_concurrency.py: a kill between a step's commit and its
    catalog entry left a table the catalog did not list (``tables list``, lineage, retention
    missed it) after the resume adopted the commit."""
    root = make_platform(tmp_path / "p", {"events": SLOW})
    _landing(root, 2)
    with prodml.connect(root) as ws:
        ws.run("events")
        with ws._w.store.begin() as conn:  # what a kill right after the commit leaves
            conn.execute(sa.text("DELETE FROM prodml_step_states"))
            conn.execute(sa.text("DELETE FROM prodml_tables WHERE name = 'events'"))
        assert "bronze.events" not in {t.name for t in ws.tables()}
        result = ws.run("events")
        ingest = next(s for s in result.steps if s["step"] == "events.ingest")
        assert ingest["reason"].startswith("adopted")
        info = ws.table("bronze.events")
        assert (info.producer_step, info.partition_by) == ("events.ingest", ["day"])
        assert ws.read("bronze.events").num_rows == 100


def test_commit_without_state_record_is_adopted_not_duplicated(tmp_path: Path) -> None:
    """A process killed after its Delta commit but before recording state: the rerun adopts it."""
    root = make_platform(tmp_path / "p", {"events": SLOW})
    _landing(root, 2)
    with prodml.connect(root) as ws:
        ws.run("events")
        with ws._w.store.begin() as conn:  # what a crash between commit and bookkeeping leaves
            conn.execute(sa.text("DELETE FROM prodml_step_states"))
        result = ws.run("events")
        ingest = next(s for s in result.steps if s["step"] == "events.ingest")
        assert ingest["status"] == "succeeded" and ingest["reason"].startswith("adopted")
        assert ws.read("bronze.events").num_rows == 100  # append mode, still no duplicates


BAD_RETURN = """
from prodml import step

@step(stage="ingress", outputs="bronze.things")
def make(ctx):
    return {"a": [1, 2]}
"""

CYCLE = """
from prodml import step

@step(stage="features", inputs=["gold.b"], outputs="gold.a")
def a(ctx, b):
    return b

@step(stage="features", inputs=["gold.a"], outputs="gold.b")
def b(ctx, a):
    return a
"""

INJECTION = """
from prodml import step

@step(stage="ingress", outputs="bronze.x; drop table y")
def make(ctx):
    return ctx.sql("select 1 as a")
"""

FIRST = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.things")
def make(ctx):
    return pa.table({"a": [1, 2], "b": ["x", "y"]})
"""

MISSING = """
from prodml import step

@step(stage="features", inputs=["silver.nowhere"], outputs="gold.a")
def a(ctx, nowhere):
    return nowhere
"""


def _no_tables(root: Path) -> bool:
    return not (root / "data").exists() or not any((root / "data").rglob("_delta_log"))


def test_step_returning_the_wrong_type(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"things": BAD_RETURN})
    r = prodml_main("run", "things", cwd=root)
    assert_clean_error(r, "returned builtins.dict", "pyarrow Table")
    assert _no_tables(root)


def test_dependency_cycle(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"loop": CYCLE})
    assert_clean_error(prodml_main("run", "loop", cwd=root), "dependency cycle", "loop.a", "loop.b")
    assert _no_tables(root)


def test_input_nobody_produces(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"lost": MISSING})
    assert_clean_error(prodml_main("run", "lost", cwd=root), "silver.nowhere", "no step produces")


def test_injection_in_a_table_name(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"bad": INJECTION})
    assert_clean_error(prodml_main("run", "bad", cwd=root), "invalid table name", "pipeline.py:")
    assert _no_tables(root)


def test_schema_mismatch_writes_nothing(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"things": FIRST})
    assert prodml_main("run", "things", cwd=root).code == 0
    code = root / "products" / "things" / "pipeline.py"
    code.write_text(FIRST.replace('"b": ["x", "y"]', '"b": [1.5, 2.5]'))
    r = prodml_main("run", "things", cwd=root)
    assert_clean_error(r, "schema mismatch", "column b is double", "the table has string")
    with prodml.connect(root) as ws:
        assert ws.table("bronze.things").version == 0
        assert ws.read("bronze.things").column("b").to_pylist() == ["x", "y"]


def test_unknown_names_suggest_the_right_one(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"things": FIRST})
    assert_clean_error(
        prodml_main("run", "thigns", cwd=root), "unknown product 'thigns'", "did you mean 'things'"
    )
    assert_clean_error(
        prodml_main("run", "things", "--env", "stagign", cwd=root), "did you mean 'staging'"
    )
    assert prodml_main("run", "things", cwd=root).code == 0
    assert_clean_error(
        prodml_main("tables", "show", "bronze.thing", cwd=root), "did you mean 'bronze.things'"
    )
    assert_clean_error(
        prodml_main("tables", "show", "bronze.x;drop", cwd=root), "invalid table name"
    )
    assert_clean_error(
        prodml_main("tables", "show", "bronz.things", cwd=root), "did you mean 'bronze'"
    )
    assert_clean_error(prodml_main("runs", "show", "nope", cwd=root), "unknown run 'nope'")
    assert_clean_error(
        prodml_main("run", "things", "--partitions", "2024-02..2024-01", cwd=root),
        "start is after end",
    )


def test_bad_config_files(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"things": FIRST})
    (root / "prodml.yaml").write_text(PLATFORM + "storage: {root: [\n")
    assert_clean_error(prodml_main("run", "things", cwd=root), "prodml.yaml:", "invalid YAML")
    (root / "prodml.yaml").write_text(
        PLATFORM.replace("storage: {root: data}", "storage: {roots: data}")
    )
    assert_clean_error(
        prodml_main("run", "things", cwd=root),
        "prodml.yaml:5",
        "storage.roots",
        "did you mean 'root'",
    )
    (root / "prodml.yaml").write_text(PLATFORM)
    product = root / "products" / "things" / "product.yaml"
    product.write_text(product.read_text() + "stage: shipping\n")
    assert_clean_error(
        prodml_main("run", "things", cwd=root), "products/things/product.yaml:4", "stage"
    )
    assert _no_tables(root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert_clean_error(prodml_main("tables", "list", cwd=outside), "no prodml.yaml")


def test_product_overlay_for_an_unknown_environment(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"things": FIRST})
    product = root / "products" / "things" / "product.yaml"
    product.write_text(product.read_text() + "environments:\n  prd:\n    stage: production\n")
    assert_clean_error(
        prodml_main("products", "list", cwd=root),
        "product.yaml:5",
        "environments.prd",
        "unknown environment",
    )
    assert_clean_error(prodml_main("runs", "show", "", cwd=root), "unknown run")


def test_add_days_on_a_platform_without_example_data(tmp_path: Path) -> None:
    assert prodml_main("init", str(tmp_path / "plain")).code == 0
    assert_clean_error(
        prodml_main("examples", "add-days", cwd=tmp_path / "plain"),
        "no example data",
        "--example retail",
    )


SLOW_TRAIN = """
import time
from pathlib import Path
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="gold.examples")
def examples(ctx):
    return pa.table({"a": [1.0, 2.0], "y": [0, 1]})

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append")
def train(ctx, examples):
    here = Path(__file__).parent
    (here / "STARTED").write_text(ctx.run_id)
    while (here / "SLOW").exists():
        time.sleep(0.05)
    return pa.table({"ok": [1]})
"""


@pytest.mark.slow
def test_item6_killed_train_step_ends_its_mlflow_run_as_killed(tmp_path: Path) -> None:
    """Issue 13 item 6: a SIGKILL during train used to leave its MLflow run RUNNING for ever."""
    root = make_platform(tmp_path / "p", {"clf": SLOW_TRAIN})
    yaml_file = root / "products" / "clf" / "product.yaml"
    yaml_file.write_text(yaml_file.read_text() + "model: {name: clf}\n")
    here = root / "products" / "clf"
    (here / "SLOW").write_text("1")
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.Popen(
        [str(exe), "run", "clf"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(600):
        if (here / "STARTED").exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert (here / "STARTED").exists(), proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = (here / "STARTED").read_text()
    with prodml.connect(root) as ws:
        run = next(r for r in ws.runs() if r["run_id"] == killed)  # listing reaps it
        assert run["status"] == "killed"
        steps = {s["step"]: s for s in ws.run_info(killed)["steps"]}
        assert steps["clf.train"]["status"] == "killed"
        tracking = steps["clf.train"]["links"]["tracking_run_id"]
        status = ws._w.registry.client.get_run(tracking).info.status
    assert status == "KILLED"


def _start_slow_run(root: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """``prodml run events`` in a process held inside its ingest step (until SLOW goes)."""
    here = root / "products" / "events"
    (here / "SLOW").write_text("1")
    (here / "STARTED").unlink(missing_ok=True)
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.Popen(
        [str(exe), "run", "events", *args],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(600):
        if (here / "STARTED").exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert (here / "STARTED").exists(), proc.stderr.read() if proc.stderr else ""
    return proc, (here / "STARTED").read_text()


@pytest.mark.slow
def test_item5_a_second_run_of_a_product_is_refused_or_waits(tmp_path: Path) -> None:
    """Issue 13 item 5: two runs of one product at once both wrote (duplicate rows)."""
    root = make_platform(tmp_path / "p", {"events": SLOW})
    _landing(root, 2)
    first, holder = _start_slow_run(root)
    refused = prodml_main("run", "events", cwd=root)
    assert_clean_error(refused, "product events in dev is held by run " + holder, "--wait")
    assert "since" in refused.err
    # queued behind it: starts once the first has finished, and finds nothing left to do
    exe = Path(sys.executable).with_name("prodml")
    queued = subprocess.Popen(
        [str(exe), "run", "events", "--wait", "--json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)
    assert queued.poll() is None  # still waiting
    (root / "products" / "events" / "SLOW").unlink()
    assert first.wait(timeout=120) == 0
    out, err = queued.communicate(timeout=120)
    assert queued.returncode == 0, err
    assert {s["status"] for s in json.loads(out)["steps"]} == {"skipped"}
    rows = _rows(root, "bronze.events")
    assert len(rows) == 100 and len({r["id"] for r in rows}) == 100


@pytest.mark.slow
def test_item5_a_killed_runs_lease_is_taken_over(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"events": SLOW})
    _landing(root, 2)
    proc, _killed = _start_slow_run(root)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (root / "products" / "events" / "SLOW").unlink()
    again = prodml_main("run", "events", cwd=root)  # no wait needed: its holder is dead
    assert again.code == 0, again.err
    assert len(_rows(root, "bronze.events")) == 100


UNCHANGED = """
from prodml import step

@step(stage="ingress", inputs=["landing:events"], outputs="bronze.events",
      partition_by="day", mode="replace_partitions")
def ingest(ctx, events):
    return ctx.read_files(events, format="csv", columns=["id", "day"])

@step(stage="features", inputs=["bronze.events"], outputs="gold.examples")
def examples(ctx, events):
    return ctx.sql("SELECT id, day, length(id) AS n FROM events")

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append")
def train(ctx, examples):
    from sklearn.dummy import DummyRegressor
    frame = examples.df()
    model = DummyRegressor().fit(frame[["n"]], frame["n"])
    return ctx.log_model(model, input_example=frame[["n"]].head(2))
"""


@pytest.mark.slow
def test_item7_a_backfill_of_unchanged_data_does_not_retrain(tmp_path: Path) -> None:
    """Issue 13 item 7: rewriting partitions with the same rows gave their tables new
    versions, so train ran again and registered an identical model version."""
    root = make_platform(tmp_path / "p", {"events": UNCHANGED})
    yaml_file = root / "products" / "events" / "product.yaml"
    yaml_file.write_text(yaml_file.read_text() + "model: {name: events}\n")
    _landing(root, 3)
    first = prodml_main("run", "events", "--json", cwd=root)
    assert first.code == 0, first.err
    again = prodml_main(
        "run", "events", "--partitions", "2024-01-01..2024-01-03", "--json", cwd=root
    )
    assert again.code == 0, again.err
    steps = {s["step"]: s["status"] for s in json.loads(again.out)["steps"]}
    assert steps["events.ingest"] == "succeeded"  # the backfill rewrote its partitions
    assert steps["events.examples"] == "skipped" and steps["events.train"] == "skipped"
    with prodml.connect(root) as ws:
        assert len(ws.model_versions("events")) == 1
    _landing(root, 4, first=4)  # a real change: a new day
    changed = json.loads(_ok_run(root).out)
    assert {s["step"]: s["status"] for s in changed["steps"]}["events.train"] == "succeeded"


def _ok_run(root: Path) -> Result:
    r = prodml_main("run", "events", "--json", cwd=root)
    assert r.code == 0, r.err
    return r


@pytest.mark.slow
def test_a_model_version_registered_by_a_killed_run_is_reused_not_registered_again(
    tmp_path: Path,
) -> None:
    """Found by benchmarks/kill_concurrency.py: a kill after MLflow registered the model but
    before the train step's commit made the resume register an identical second version."""
    import shutil

    root = make_platform(tmp_path / "p", {"events": UNCHANGED})
    yaml_file = root / "products" / "events" / "product.yaml"
    yaml_file.write_text(yaml_file.read_text() + "model: {name: events}\n")
    _landing(root, 2)
    _ok_run(root)
    # what such a kill leaves: a version, no commit
    with prodml.connect(root) as ws, ws._w.store.begin() as conn:
        conn.execute(sa.text("DELETE FROM prodml_step_states WHERE step = 'events.train'"))
        conn.execute(sa.text("DELETE FROM prodml_tables WHERE name = 'fit'"))
    shutil.rmtree(root / "data" / "dev" / "ml" / "fit")
    again = json.loads(_ok_run(root).out)
    assert {s["step"]: s["status"] for s in again["steps"]}["events.train"] == "succeeded"
    with prodml.connect(root) as ws:
        assert [v["version"] for v in ws.model_versions("events")] == [1]
        assert ws.read("ml.fit").column("version").to_pylist() == [1]
