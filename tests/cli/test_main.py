"""The ``prodml`` entry point (``prodml.cli.main``): the command tree, ``--version``, and the one
error boundary (known errors, unexpected ones, interrupts, ``--debug``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import typer
from tests.cli.conftest import assert_usage_error
from tests.helpers import assert_clean_error, make_platform, prodml_main

import prodml
from prodml.cli.main import app, main
from prodml.errors import NotFoundError

TRIVIAL = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.things")
def things(ctx):
    return pa.table({"a": [1, 2]})
"""

INTERRUPTED = """
from prodml import step

@step(stage="ingress", outputs="bronze.things")
def things(ctx):
    raise KeyboardInterrupt
"""

COMMANDS = {
    "ab",
    "audit",
    "drift",
    "examples",
    "features",
    "grants",
    "init",
    "lineage",
    "models",
    "plan",
    "principals",
    "products",
    "promote",
    "quality",
    "run",
    "runs",
    "serve",
    "server",
    "tables",
    "tokens",
    "whoami",
}


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    return make_platform(tmp_path / "p", {"things": TRIVIAL})


def test_the_command_tree_has_every_group_and_command() -> None:
    group = typer.main.get_group(app)
    assert set(group.commands) == COMMANDS


def test_version_prints_the_package_version() -> None:
    r = prodml_main("--version")
    assert (r.code, r.out, r.err) == (0, f"prodml {prodml.__version__}\n", "")


def test_no_arguments_prints_the_help_and_fails() -> None:
    r = prodml_main()
    assert r.code == 2
    for command in COMMANDS:
        assert f" {command} " in r.out, command


def test_short_and_long_help_are_the_same() -> None:
    short, long = prodml_main("-h"), prodml_main("--help")
    assert short.code == long.code == 0
    assert short.out == long.out and "--debug" in short.out and "--version" in short.out


def test_a_known_error_is_one_line_with_the_errors_exit_code(platform: Path) -> None:
    r = prodml_main("plan", "thigns", cwd=platform)
    assert_clean_error(r, "unknown product 'thigns'", "did you mean 'things'?")
    assert r.code == NotFoundError.exit_code == 2
    assert r.out == ""


def test_a_config_error_exits_1_and_names_the_file(platform: Path) -> None:
    (platform / "prodml.yaml").write_text("name: t\nstorage: [not, a, mapping\n")
    r = prodml_main("plan", "things", cwd=platform)
    assert_clean_error(r, "prodml.yaml")
    assert r.code == 1


def test_markup_in_a_message_is_printed_literally(platform: Path) -> None:
    r = prodml_main("plan", "[bold]x[/bold]", cwd=platform)
    assert_clean_error(r, "unknown product '[bold]x[/bold]'")


def test_debug_raises_the_original_error(platform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(platform)
    monkeypatch.setenv("PRODML_DEBUG", "0")  # restored after the test: --debug sets it
    with pytest.raises(NotFoundError, match="unknown product 'nope'"):
        main(["--debug", "plan", "nope"])
    assert os.environ["PRODML_DEBUG"] == "1"


def test_the_debug_environment_variable_raises_too(
    platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(platform)
    monkeypatch.setenv("PRODML_DEBUG", "1")
    with pytest.raises(NotFoundError):
        main(["plan", "nope"])


def test_debug_through_the_test_helper_shows_the_traceback_and_leaves_no_trace(
    platform: Path,
) -> None:
    r = prodml_main("--debug", "plan", "nope", cwd=platform)
    assert r.code == 1
    assert "Traceback" in r.err and "NotFoundError: unknown product 'nope'" in r.err
    assert "PRODML_DEBUG" not in os.environ and Path.cwd() != platform


def test_without_arguments_main_reads_sys_argv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["prodml", "--version"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert capsys.readouterr().out == f"prodml {prodml.__version__}\n"


def test_an_unexpected_error_names_its_type_and_points_at_debug(platform: Path) -> None:
    state = platform / ".prodml"
    state.mkdir()
    (state / "prodml.db").write_bytes(b"not a database" * 100)
    r = prodml_main("runs", "list", cwd=platform)
    assert_clean_error(r, "unexpected DatabaseError", "file is not a database")
    assert r.code == 1
    assert "(re-run with --debug for the traceback)" in r.err


@pytest.mark.xfail(
    strict=True,
    reason="main() prints str(exc) of an unexpected error as is: SQLAlchemy's message has a "
    "second line ('Background on this error at ...'), so the error and its --debug hint span "
    "two lines",
)
def test_an_unexpected_error_is_one_line(platform: Path) -> None:
    state = platform / ".prodml"
    state.mkdir()
    (state / "prodml.db").write_bytes(b"not a database" * 100)
    r = prodml_main("runs", "list", cwd=platform)
    assert r.err.count("\n") == 1 and r.err.startswith("Error: unexpected DatabaseError")


def test_an_interrupt_exits_130_without_a_traceback(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"stop": INTERRUPTED})
    r = prodml_main("run", "stop", cwd=root)
    assert r.code == 130
    assert "Traceback" not in r.err + r.out


@pytest.mark.xfail(
    strict=True,
    reason="typer turns KeyboardInterrupt into Exit(130) inside app(), so main()'s handler never "
    "runs and Ctrl-C prints no 'Error: interrupted' line",
)
def test_an_interrupt_says_so(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"stop": INTERRUPTED})
    assert_clean_error(prodml_main("run", "stop", cwd=root), "interrupted")


def test_a_bad_option_names_it_and_points_at_the_help() -> None:
    r = prodml_main("runs", "list", "--bogus")
    assert_usage_error(r, "No such option: --bogus", "Try 'prodml runs list -h' for help.")


def test_a_misspelt_command_suggests_the_right_ones() -> None:
    r = prodml_main("rn", "things")
    assert_usage_error(r, "No such command 'rn'.", "Did you mean 'run', 'runs'?")


@pytest.mark.xfail(
    strict=True,
    reason="the parser's errors (unknown option, bad value) bypass main()'s boundary: typer "
    "prints them as a Rich panel under a usage line, not as one 'Error:' line",
)
def test_a_bad_option_is_one_error_line() -> None:
    assert_clean_error(prodml_main("runs", "list", "--bogus"), "--bogus")
