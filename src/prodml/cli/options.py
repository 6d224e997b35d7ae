"""Options every command shares, and opening the workspace from them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from prodml.workspace import Workspace

Project = Annotated[
    Path | None,
    typer.Option("--project", "-p", help="Platform directory (default: here or a parent)."),
]
Env = Annotated[
    str | None,
    typer.Option("--env", "-e", help="Environment (default: the platform's default_env)."),
]


class FailOn(StrEnum):
    """When a check command exits non-zero (1), for a CI job to gate on."""

    warn = "warn"
    fail = "fail"
    never = "never"


FailOnOption = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        case_sensitive=False,
        help="Exit 1 when a rule of this level (or worse) fails: warn, fail (default) or never.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (the same as --format json).")]


def workspace(project: Path | None, env: str | None) -> Workspace:
    """Open the workspace the options point at."""
    from prodml.workspace import connect

    return connect(project or Path.cwd(), env)
