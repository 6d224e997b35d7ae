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
    from prodml.errors import UsageError
    from prodml.examples.retail.generator import MANIFEST_NAME
    from prodml.examples.retail.generator import add_days as generate_more

    with workspace(project, env) as ws:
        if not (ws.landing_dir / MANIFEST_NAME).is_file():
            raise UsageError(
                f"{ws.landing_dir} holds no example data to continue",
                hint="this works on a platform made with 'prodml init DIR --example retail'",
            )
        written = generate_more(ws.landing_dir, days, drift=drift)
    console.info("added batch(es) " + ", ".join(d.isoformat() for d in written))
