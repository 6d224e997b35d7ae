"""``prodml lineage``: where a table, model version or landing source comes from or goes."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace


@console.listing
def lineage(
    name: Annotated[
        str,
        typer.Argument(
            help="A table (gold.churn_predictions), landing:SOURCE or model:NAME/VERSION."
        ),
    ],
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream/--upstream", help="Follow what it feeds (default: where it comes from)."
        ),
    ] = False,
    depth: Annotated[int, typer.Option(min=1, max=1000, help="At most this many hops.")] = 50,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """The lineage graph: landing files → steps → tables → model versions → predictions."""
    with workspace(project, env) as ws:
        edges = ws.lineage(name, upstream=not downstream, depth=depth)
    if json:
        console.emit_json(edges)
        return
    console.table(
        f"{'downstream' if downstream else 'upstream'} of {name}",
        ["hop", "source", "target", "step"],
        [
            [
                e.depth,
                _label(e.source, e.source_version),
                _label(e.target, e.target_version),
                e.step,
            ]
            for e in edges
        ],
    )


def _label(name: str, version: int | None) -> str:
    return name if version is None else f"{name} @v{version}"
