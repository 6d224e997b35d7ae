"""The options every command shares (``prodml.cli.options``): ``--project/-p``, ``--env/-e``,
``--json``, and opening the workspace they point at."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from tests.cli.conftest import new_shop
from tests.helpers import assert_clean_error, prodml_main
from typer.testing import CliRunner

from prodml.cli.options import Env, Json, Project, workspace
from prodml.errors import NotFoundError, ProdmlError


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    return new_shop(tmp_path / "p")


def _parsed(*args: str) -> dict[str, object]:
    """What a command declaring the three shared options receives for ``args``."""
    seen: dict[str, object] = {}
    app = typer.Typer()

    @app.command()
    def cmd(project: Project = None, env: Env = None, json: Json = False) -> None:
        seen.update(project=project, env=env, json=json)

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return seen


def test_the_defaults_are_none_and_false() -> None:
    assert _parsed() == {"project": None, "env": None, "json": False}


@pytest.mark.parametrize(
    "args",
    [
        ("--project", "/srv/p", "--env", "staging", "--json"),
        ("-p", "/srv/p", "-e", "staging", "--json"),
    ],
)
def test_long_and_short_forms(args: tuple[str, ...]) -> None:
    assert _parsed(*args) == {"project": Path("/srv/p"), "env": "staging", "json": True}


def test_workspace_defaults_to_the_current_directory_and_default_env(
    platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(platform)
    with workspace(None, None) as ws:
        assert (ws.root, ws.env) == (platform.resolve(), "dev")


def test_workspace_finds_the_platform_from_a_subdirectory(
    platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(platform / "products" / "shop")
    with workspace(None, None) as ws:
        assert ws.root == platform.resolve()


def test_workspace_opens_the_given_project_and_env(platform: Path) -> None:
    with workspace(platform, "staging") as ws:
        assert (ws.root, ws.env) == (platform.resolve(), "staging")


def test_an_unknown_env_suggests_the_right_one(platform: Path) -> None:
    with pytest.raises(NotFoundError, match=r"unknown environment 'stagign'.*'staging'"):
        workspace(platform, "stagign")


def test_no_platform_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ProdmlError, match=r"no prodml\.yaml") as err:
        workspace(tmp_path, None)
    assert "prodml init DIR --example retail" in str(err.value)


def test_commands_take_the_project_and_env_from_elsewhere(tmp_path: Path, platform: Path) -> None:
    r = prodml_main("products", "list", "-p", str(platform), "-e", "staging", cwd=tmp_path)
    assert r.code == 0, r.err
    assert "products in staging" in r.out and "shop" in r.out


def test_a_command_with_a_misspelt_env_is_a_clean_error(platform: Path) -> None:
    assert_clean_error(
        prodml_main("products", "list", "--env", "stagign", cwd=platform),
        "unknown environment 'stagign'",
        "did you mean 'staging'?",
    )


def test_a_command_outside_a_platform_is_a_clean_error(tmp_path: Path) -> None:
    r = prodml_main("runs", "list", cwd=tmp_path)
    assert_clean_error(r, f"no prodml.yaml in {tmp_path}", "prodml init DIR --example retail")
