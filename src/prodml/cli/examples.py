"""``prodml examples``: feed an example platform more landing data."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Project, workspace

app = typer.Typer(help="Example platforms: add landing data.", no_args_is_help=True)


@app.command("add-days")
def add_days(
    days: Annotated[int, typer.Option(min=1, max=3650, help="How many daily batches to add.")] = 1,
    drift: Annotated[
        bool, typer.Option("--drift", help="Shift prices, quantities and channels.")
    ] = False,
    env: Env = None,
    project: Project = None,
) -> None:
    """Write the next daily batches of the retail example into the landing directory."""
    with workspace(project, env) as ws:
        written = ws.add_example_days(days, drift=drift)
    console.info("added batch(es) " + ", ".join(d.isoformat() for d in written))
