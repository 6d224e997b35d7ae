"""``prodml products``: the landscape of products and one product's details."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(help="Products: the landscape and each product's details.", no_args_is_help=True)


@app.command("list")
@console.listing
def list_products(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Every product with its owner, stage, kind and last run."""
    with workspace(project, env) as ws:
        rows = ws.landscape()
        if json:
            console.emit_json(rows)
            return
        console.table(
            f"products in {ws.env}",
            ["product", "stage", "kind", "accountable", "steps", "last run", "status"],
            [
                [r.name, r.stage, r.kind, r.accountable, r.steps, r.last_run, r.last_status]
                for r in rows
            ],
            optional=("kind", "accountable"),
        )


@app.command("show")
@console.listing
def show(
    product: Annotated[str, typer.Argument(help="Product name.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """A product: owners (RACI), classification, SLA, steps and the tables it produces."""
    with workspace(project, env) as ws:
        data = ws.describe_product(product)
        cfg = ws.product(product).config
        upstream = data["inputs_from_products"]
        if json:
            console.emit_json(data)
            return
        console.fields(
            f"product {cfg.name}",
            [
                ("description", cfg.description.strip()),
                ("stage", cfg.stage),
                ("kind", cfg.classification.kind),
                ("delivery", ", ".join(cfg.classification.delivery)),
                (
                    "freshness SLA",
                    None
                    if cfg.sla.freshness_hours is None
                    else timedelta(hours=cfg.sla.freshness_hours),
                ),
                ("schedule", cfg.sla.schedule),
                ("builds on", ", ".join(upstream) or "-"),
            ],
        )
        console.table(
            "owners", ["name", "role", "email"], [[o.name, o.role, o.email] for o in cfg.owners]
        )
        console.table(
            "steps",
            ["step", "stage", "inputs", "outputs", "mode"],
            [
                [s["name"], s["stage"], ", ".join(s["inputs"]), ", ".join(s["outputs"]), s["mode"]]
                for s in data["steps"]
            ],
        )
