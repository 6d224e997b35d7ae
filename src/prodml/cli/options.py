"""Options every command shares, and opening the workspace from them."""

from __future__ import annotations

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
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def workspace(project: Path | None, env: str | None) -> Workspace:
    """Open the workspace the options point at."""
    from prodml.workspace import connect

    return connect(project or Path.cwd(), env)
