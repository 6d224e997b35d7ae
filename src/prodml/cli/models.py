"""``prodml models``: registered models, versions, runs side by side, promotion."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(help="Models: registry, versions, comparison, promotion.", no_args_is_help=True)


@app.command("list")
@console.listing
def list_models(env: Env = None, project: Project = None, json: Json = False) -> None:
    """The registered model of every product, with its champion and challenger."""
    with workspace(project, env) as ws:
        rows = ws.models()
        if json:
            console.emit_json(rows)
            return
        console.table(
            f"models in {ws.env}",
            ["product", "model", "versions", "champion", "challenger", "deployment"],
            [
                [r.product, r.model, r.versions, r.champion, r.challenger, r.deployment]
                for r in rows
            ],
        )


@app.command("versions")
@console.listing
def versions(
    product: Annotated[str, typer.Argument(help="Product whose model to list.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Every version of the product's model: aliases, gate verdict, metrics, lineage."""
    with workspace(project, env) as ws:
        rows = ws.model_versions(product)
        if json:
            console.emit_json(rows)
            return
        console.table(
            f"versions of {ws.registered_model(product)}",
            ["version", "aliases", "gate", "metrics", "prodml run", "copied from"],
            [
                [
                    r["version"],
                    ", ".join(r["aliases"]),
                    r["gate"],
                    ", ".join(f"{k}={v:.4f}" for k, v in sorted(r["metrics"].items())),
                    r["prodml_run_id"],
                    r["source"],
                ]
                for r in rows
            ],
            optional=("copied from",),
        )


@app.command("show")
@console.listing
def show(
    product: Annotated[str, typer.Argument(help="Product whose model to show.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """The product's model: config, gate, champion and challenger."""
    with workspace(project, env) as ws:
        cfg = ws.model_config(product)
        data = ws.model_details(product)
        if json:
            console.emit_json(data)
            return
        console.fields(
            data["model"],
            [
                ("deployment", cfg.deployment),
                ("flavor", cfg.flavor),
                ("versions", data["versions"]),
                ("champion", (data["champion"] or {}).get("version")),
                ("challenger", (data["challenger"] or {}).get("version")),
                (
                    "gate",
                    ", ".join(
                        f"{m} {'>=' + str(b.min) if b.min is not None else ''}"
                        f"{' <=' + str(b.max) if b.max is not None else ''}"
                        for m, b in cfg.gate.metrics.items()
                    ),
                ),
            ],
        )


@app.command("compare")
@console.listing
def compare(
    product: Annotated[str, typer.Argument(help="Product whose runs to compare.")],
    limit: Annotated[int, typer.Option(min=1, max=500)] = 10,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """One row per model version, newest first: its training params beside its evaluation
    metrics (the tracking runs: 'mlflow ui')."""
    with workspace(project, env) as ws:
        found = ws.compare_versions(product, limit)
        if json:
            console.emit_json(found)
            return
        rows = found["versions"]
        params = sorted({k for r in rows for k in r["params"]})
        metrics = sorted({k for r in rows for k in r["metrics"]})
        console.table(
            f"versions of {found['model']}",
            ["version", "aliases", "gate", *params, *metrics],
            [
                [
                    r["version"],
                    ", ".join(r["aliases"]),
                    r["gate"],
                    *(r["params"].get(p) for p in params),
                    *(r["metrics"].get(m) for m in metrics),
                ]
                for r in rows
            ],
        )
        if found["total"] > len(rows):
            console.info(
                f"(the newest {len(rows)} of {found['total']} versions; --limit shows more)"
            )


@app.command("promote")
@console.listing
def promote(
    product: Annotated[str, typer.Argument(help="Product whose challenger becomes champion.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Make the challenger the champion in one environment."""
    with workspace(project, env) as ws:
        result = ws.promote_model(product)
        if json:
            console.emit_json(result)
        else:
            console.info(
                f"{result['model']}: version {result['champion']} is champion "
                f"(was {result['previous_champion'] or 'none'})"
            )
