"""``prodml init``, ``plan``, ``run`` and ``promote`` (``prodml.cli.workflow``), in process: what
they print (tables, notes, ``--json``) and how they refuse bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, copy_platform, new_shop, ok
from tests.helpers import assert_clean_error, make_platform, prodml_main

from prodml.cli.workflow import _parts, _split

DAYS = ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05")

BOOM = """
from prodml import step

@step(stage="ingress", outputs="bronze.y")
def y(ctx):
    raise RuntimeError("kaboom")
"""


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """The shop platform with five days of landing data, not run yet."""
    return new_shop(tmp_path / "p", *DAYS)


def test_init_creates_a_platform_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "plain"
    r = ok(prodml_main("init", str(target)))
    assert (target / "prodml.yaml").is_file() and (target / "products").is_dir()
    head, *made = r.err.splitlines()
    assert head == f"created {target} ({len(made)} files):" and "  prodml.yaml" in made
    assert all((target / m.strip()).exists() for m in made)
    assert r.out == ""


def test_init_an_example_writes_its_landing_data_and_the_next_step(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    r = ok(prodml_main("init", str(target), "--example", "retail", "--days", "1"))
    assert r.err.splitlines()[-1] == (
        f"next: cd {target} && prodml run churn --promote   (trains churn's model, makes it "
        "the champion and scores the customers)"
    )
    batches = sorted(p.name for p in (target / "landing").glob("*/batch_date=*"))
    assert batches == ["batch_date=2024-01-01"] * 3  # customers, orders and order lines


def test_init_a_misspelt_example_suggests_the_right_one(tmp_path: Path) -> None:
    r = prodml_main("init", str(tmp_path / "demo"), "--example", "retal")
    assert_clean_error(r, "unknown example 'retal'", "did you mean 'retail'?")
    assert not (tmp_path / "demo").exists()


def test_init_refuses_a_directory_that_is_not_empty(fresh: Path) -> None:
    r = prodml_main("init", str(fresh))
    assert_clean_error(r, f"{fresh} exists and is not empty", "choose a new directory")


@pytest.mark.parametrize("days", ["0", "3651"])
def test_init_days_out_of_range(tmp_path: Path, days: str) -> None:
    r = prodml_main("init", str(tmp_path / "d"), "--example", "retail", "--days", days)
    assert_usage_error(r, "Invalid value for '--days'")


def test_plan_shows_each_step_and_summarises_many_partitions(fresh: Path) -> None:
    r = ok(prodml_main("plan", "shop", cwd=fresh))
    assert "plan for shop in dev" in r.out
    assert "5: 2024-01-01 … 2024-01-05" in r.out  # five partitions, summarised
    assert "input bronze.sales does not exist yet" in r.out


def test_plan_json_has_one_entry_per_step(fresh: Path) -> None:
    plans = json.loads(ok(prodml_main("plan", "shop", "--json", cwd=fresh)).out)
    assert [(p["step"], p["action"], p["write_mode"]) for p in plans] == [
        ("shop.sales", "run", "replace_partitions"),
        ("shop.totals", "run", "overwrite"),
    ]
    assert plans[0]["partitions"] == list(DAYS) and plans[1]["partitions"] is None
    assert set(plans[0]) == {"step", "action", "reason", "partitions", "write_mode"}


def test_plan_a_backfill_lists_the_partitions_in_the_range(fresh: Path) -> None:
    plans = json.loads(
        ok(
            prodml_main(
                "plan", "shop", "--partitions", "2024-01-02..2024-01-03", "--json", cwd=fresh
            )
        ).out
    )
    assert plans[0]["partitions"] == ["2024-01-02", "2024-01-03"]
    assert plans[0]["reason"] == "backfill of 2 partition(s) in 2024-01-02..2024-01-03"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("plan", "shopp"), ("unknown product 'shopp'", "did you mean 'shop'?")),
        (
            ("plan", "shop", "--steps", "sails"),
            ("unknown step", "'sails'", "did you mean 'sales'?"),
        ),
        (
            ("plan", "shop", "--partitions", "2024-01-03..2024-01-01"),
            ("invalid partition range '2024-01-03..2024-01-01'", "start is after end"),
        ),
        (("plan", "shop", "--partitions", ".."), ("invalid partition range '..'", "START..END")),
        (
            ("run", "shop", "--partitions", "2024-01-01..", "--full-refresh"),
            ("exclude each other", "give one or the other"),
        ),
        (("run", "shop", "--resume", "nope"), ("unknown run 'nope'",)),
        (("run", "shop", "--env", "stagign"), ("did you mean 'staging'?",)),
    ],
)
def test_bad_plan_and_run_arguments_are_clean_errors(
    fresh: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    r = prodml_main(*args, cwd=fresh)
    assert_clean_error(r, *needles)
    assert r.code == 2 and r.out == ""


def test_run_prints_a_table_and_a_line_per_step(fresh: Path) -> None:
    r = ok(prodml_main("run", "shop", cwd=fresh))
    run_id = re.search(r"run (\S+) \(2 steps\)", r.err)
    assert run_id is not None
    assert f"run {run_id[1]}: succeeded" in r.out
    notes = [line.split() for line in r.err.splitlines()[1:]]
    assert [n[:3] for n in notes] == [
        ["succeeded", "1/2", "shop.sales"],
        ["succeeded", "2/2", "shop.totals"],
    ]


def test_run_json_is_the_run_and_its_steps(fresh: Path) -> None:
    r = ok(prodml_main("run", "shop", "--steps", " sales , ", "--json", cwd=fresh))
    result = json.loads(r.out)
    assert set(result) == {"run_id", "status", "steps", "log", "warnings"}
    assert result["status"] == "succeeded"
    (step,) = result["steps"]  # --steps is split on commas and stripped
    assert (step["step"], step["rows_written"], step["partitions"]) == (
        "shop.sales",
        10,
        list(DAYS),
    )
    assert r.err == f"run {result['run_id']} (1 steps)\n"  # no per-step lines with --json


def test_a_failed_step_prints_the_json_then_one_error(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"boom": BOOM})
    r = prodml_main("run", "boom", "--json", cwd=root)
    assert_clean_error(r, "step boom.y failed", "RuntimeError: kaboom", "prodml runs show")
    result = json.loads(r.out)
    assert result["status"] == "failed" and result["steps"][0]["status"] == "failed"


def test_a_failed_step_without_json_prints_the_table_then_one_error(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"boom": BOOM})
    r = prodml_main("run", "boom", cwd=root)
    assert_clean_error(r, "step boom.y failed", "--debug shows the traceback")
    assert ": failed" in r.out and "boom.y" in r.out


def test_promote_copies_the_champion_to_another_environment(trained: Path, tmp_path: Path) -> None:
    root = copy_platform(trained, tmp_path / "copy")
    ok(prodml_main("models", "promote", "clf", cwd=root))
    record = json.loads(
        ok(
            prodml_main("promote", "clf", "--from", "dev", "--to", "staging", "--json", cwd=root)
        ).out
    )
    assert (record["product"], record["from"], record["to"]) == (
        "clf",
        "dev.ml.clf/1",
        "staging.ml.clf/1",
    )
    assert record["previous_champion"] is None and "auc" in record["gate"]
    again = prodml_main("promote", "clf", "--from", "dev", "--to", "staging", cwd=root)
    assert_clean_error(again, "dev.ml.clf/1 is already the champion of staging")


def test_promote_says_what_it_copied(trained: Path, tmp_path: Path) -> None:
    root = copy_platform(trained, tmp_path / "copy")
    ok(prodml_main("models", "promote", "clf", cwd=root))
    r = ok(prodml_main("promote", "clf", "--from", "dev", "--to", "staging", cwd=root))
    assert r.out == ""
    assert re.search(
        r"^dev\.ml\.clf/1 -> staging\.ml\.clf/1 \(champion in staging, by \S+\)$", r.err, re.M
    )


def test_promote_without_a_champion_is_a_clean_error(trained: Path) -> None:
    r = prodml_main("promote", "clf", "--from", "dev", "--to", "staging", cwd=trained)
    assert_clean_error(r, "champion")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--from", "dev", "--to", "stagign"), ("unknown environment 'stagign'", "'staging'")),
        (("--from", "prod", "--to", "staging"), ("unknown environment 'prod'", "dev, staging")),
    ],
)
def test_promote_to_an_unknown_environment(
    trained: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    assert_clean_error(prodml_main("promote", "clf", *args, cwd=trained), *needles)


def test_promote_needs_both_environments(trained: Path) -> None:
    r = prodml_main("promote", "clf", "--from", "dev", cwd=trained)
    assert_usage_error(r, "Missing option '--to'.")


def test_split_and_parts() -> None:
    assert _split(None) is None and _split("") is None and _split(" , ") == []
    assert _split("a, b,,c ") == ["a", "b", "c"]
    assert _parts(None) == "" and _parts([]) == ""
    assert _parts(["x", "y", "z"]) == "x, y, z"
    assert _parts(["a", "b", "c", "d"]) == "4: a … d"


def test_item6_an_environment_named_main_runs(tmp_path: Path) -> None:
    """Trust II item 6: ``main`` is Unity Catalog's default catalog name and a name DuckDB
    reserves; an environment (catalog) of that name runs, and its tables read back."""
    from tests.helpers import PLATFORM, SHOP_PIPELINE, write_days

    platform = PLATFORM.replace("default_env: dev", "default_env: main").replace("dev:", "main:")
    root = make_platform(tmp_path / "p", {"shop": SHOP_PIPELINE}, platform)
    write_days(root, "2024-01-01")
    ok(prodml_main("run", "shop", cwd=root))
    shown = ok(prodml_main("tables", "preview", "gold.totals", "--json", cwd=root))
    assert json.loads(shown.out)[0]["total"] == 4.0


def _in_a_terminal(args: list[str], cwd: Path, columns: int = 80) -> tuple[int, str]:
    """Run ``prodml`` with a pseudo-terminal of ``columns`` as stdin, stdout and stderr (as in
    a terminal window); return its exit code and everything the terminal received."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "PRODML_FORMAT")}
    env |= {"TERM": "xterm-256color", "NO_COLOR": "1"}
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.Popen(
        [str(exe), *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    while select.select([master], [], [], 120)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the process ended and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_run_in_a_terminal_shows_k_of_n_and_keeps_mlflow_lines_off_the_screen(
    tmp_path: Path,
) -> None:
    from tests.cli.conftest import MODEL
    from tests.helpers import CLASSIFIER_PIPELINE, PRODUCT

    root = make_platform(tmp_path / "p", {"clf": CLASSIFIER_PIPELINE})
    (root / "products" / "clf" / "product.yaml").write_text(PRODUCT.format(name="clf") + MODEL)
    code, screen = _in_a_terminal(["run", "clf"], root)
    assert code == 0, screen
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert re.search(r"step [123]/3 clf\.\w+ .*\d:\d\d:\d\d", plain), plain  # name, elapsed
    for k, step_name in enumerate(("examples", "train", "evaluate"), 1):
        assert re.search(rf"succeeded {k}/3 clf\.{step_name} ", plain), plain  # lines stay
    assert "0/1" not in plain
    assert "Successfully registered model" not in plain and "Created version" not in plain
    (log,) = (root / ".prodml" / "logs" / "dev").glob("*.log")
    assert "clf.train | Successfully registered model 'dev.ml.clf'." in log.read_text()
    assert f"what the steps printed: {log}" in plain.replace("\r\n", "\n")


def test_an_all_skipped_run_prints_one_line(fresh: Path) -> None:
    ok(prodml_main("run", "shop", cwd=fresh))
    r = ok(prodml_main("run", "shop", cwd=fresh))
    (line,) = r.out.splitlines()
    assert re.fullmatch(
        r"run \S+: succeeded; all 2 steps skipped \(2 unchanged\); -v lists them",
        line,
    ), line
    verbose = ok(prodml_main("run", "shop", "-v", cwd=fresh))
    assert "│ shop.sales " in verbose.out and "│ shop.totals " in verbose.out


FORMS = (
    "the accepted forms are DAY, START..END, START.. and ..END, where a day is YYYY-MM-DD, "
    "today or yesterday (e.g. 2024-01-10..2024-01-12 or yesterday..today)"
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2024-01-02-2024-01-03",
            "invalid partition range '2024-01-02-2024-01-03': '2024-01-02-2024-01-03' is not a "
            f"day (YYYY-MM-DD) ({FORMS})",
        ),
        (
            "2024-1-2..2024-01-03",
            f"invalid partition range '2024-1-2..2024-01-03': '2024-1-2' is not a day "
            f"(YYYY-MM-DD) ({FORMS})",
        ),
        (
            "2024-02-30",
            "invalid partition range '2024-02-30': '2024-02-30' is not a date in the calendar "
            f"({FORMS})",
        ),
        ("2024-01-02...2024-01-03", f"invalid partition range '2024-01-02...2024-01-03' ({FORMS})"),
        (
            "2024-01-03..2024-01-02",
            "invalid partition range '2024-01-03..2024-01-02': start is after end "
            "(did you mean 2024-01-02..2024-01-03?)",
        ),
        (
            "2024-03-01..2024-03-05",
            "--partitions 2024-03-01..2024-03-05: no partition of shop's steps is in it "
            "(their partitions run from 2024-01-01 to 2024-01-05)",
        ),
    ],
)
def test_partitions_are_validated(fresh: Path, value: str, message: str) -> None:
    """Item 5 of the first-hour issue: bad dates, separators, and a range without data."""
    for command in ("plan", "run"):
        r = prodml_main(command, "shop", "--partitions", value, cwd=fresh)
        assert (r.code, r.out, r.err) == (2, "", f"Error: {message}\n")


def test_partitions_take_today_and_yesterday(fresh: Path) -> None:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    r = prodml_main("plan", "shop", "--partitions", "yesterday..today", cwd=fresh)
    assert r.err == (
        f"Error: --partitions {today - timedelta(days=1)}..{today}: no partition of shop's "
        "steps is in it (their partitions run from 2024-01-01 to 2024-01-05)\n"
    )


SCORE = """

@step(stage="apply", inputs=["gold.examples"], outputs="gold.scores")
def score(ctx, examples):
    return ctx.score(examples, alias="champion", keep=["a"])
"""


def test_plan_agrees_with_run_about_an_apply_step_without_a_champion(
    trained: Path, tmp_path: Path
) -> None:
    """Item 6 of the first-hour issue."""
    root = copy_platform(trained, tmp_path / "copy")
    pipeline = root / "products" / "clf" / "pipeline.py"
    pipeline.write_text(pipeline.read_text() + SCORE)
    reason = (
        "dev.ml.clf has no champion yet: nothing scored (promote one with 'prodml models "
        "promote clf', or run with --promote)"
    )
    (planned,) = [
        p
        for p in json.loads(ok(prodml_main("plan", "clf", "--json", cwd=root)).out)
        if p["step"] == "clf.score"
    ]
    assert (planned["action"], planned["reason"]) == ("skip", reason)
    ran = json.loads(ok(prodml_main("run", "clf", "--json", cwd=root)).out)
    (step,) = [s for s in ran["steps"] if s["step"] == "clf.score"]
    assert (step["status"], step["reason"]) == ("skipped", reason)
    ok(prodml_main("models", "promote", "clf", cwd=root))
    plans = json.loads(ok(prodml_main("plan", "clf", "--json", cwd=root)).out)
    assert [p["action"] for p in plans if p["step"] == "clf.score"] == ["run"]


HEADER = "/* prodml\nstage: features\ninputs: [bronze.sales]\noutputs: gold.bad\n*/\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEADER + "SELECT day,\n       count(*) AS n\nFROM bronze.sales\nHAVING n >\n",
            '{file}:9: Parser Error: syntax error at or near ">"',
        ),
        (
            "/* prodml\nstage: [features\n*/\nSELECT 1\n",
            "{file}:3: invalid YAML in the '/* prodml' header: expected ',' or ']', but got "
            "'<stream end>'",
        ),
        (
            HEADER + "SELECT 1;\nSELECT 2\n",
            "{file}:6: a SQL step is one SELECT; this file holds 2 statements",
        ),
    ],
)
def test_a_bad_sql_step_is_refused_before_anything_runs(
    fresh: Path, text: str, message: str
) -> None:
    """Item 7 of the first-hour issue: one line with the .sql file and its line, at plan time
    (shop.sales upstream has not run)."""
    sql = fresh / "products" / "shop" / "sql" / "bad.sql"
    sql.parent.mkdir()
    sql.write_text(text)
    for command in ("plan", "run"):
        r = prodml_main(command, "shop", cwd=fresh)
        assert (r.code, r.out) == (2, "")
        assert r.err == f"Error: {message.format(file=sql)}\n"
    assert not (fresh / "data").exists() or not any((fresh / "data").rglob("*.parquet"))


def test_a_sql_step_that_fails_names_its_file_and_line(fresh: Path) -> None:
    sql = fresh / "products" / "shop" / "sql" / "bad.sql"
    sql.parent.mkdir()
    sql.write_text(HEADER + "\nSELECT day,\n       nope AS n\nFROM bronze.sales\n")
    r = prodml_main("run", "shop", cwd=fresh)
    assert r.code == 1
    assert re.search(
        r"Binder Error: Referenced column \"nope\" not found in FROM clause!; Candidate "
        rf"bindings: .* \(at {re.escape(str(sql))}:8\)",
        r.err,
    ), r.err
