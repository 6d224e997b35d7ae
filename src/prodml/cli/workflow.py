"""``prodml init``, ``prodml plan`` and ``prodml run``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace


def register(app: typer.Typer) -> None:
    """Add the workflow commands to ``app``."""
    app.command("init")(init)
    app.command("plan")(plan)
    app.command("run")(run)
    app.command("promote")(promote)


Params = Annotated[
    list[str] | None,
    typer.Option(
        "--params",
        help="Set a product param for this run only: name=value or product.name=value "
        "(repeatable; recorded with the run).",
    ),
]


def init(
    directory: Annotated[Path, typer.Argument(help="New platform directory.")],
    example: Annotated[str | None, typer.Option(help="Example to start from: retail.")] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of example landing data.")] = 60,
) -> None:
    """Create a platform directory (with an example platform and its data)."""
    from prodml.workspace import init_platform

    files = init_platform(directory, example=example, days=days)
    console.info(f"created {directory} ({len(files)} files)")
    if example:
        console.info(f"next: cd {directory} && prodml run churn")


def plan(
    product: Annotated[str, typer.Argument(help="Product to plan.")],
    steps: Annotated[str | None, typer.Option(help="Only these steps (comma-separated).")] = None,
    partitions: Annotated[str | None, typer.Option(help="Backfill START..END.")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Recompute everything.")
    ] = False,
    params: Params = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Show what a run would do, step by step, without running anything."""
    with workspace(project, env) as ws:
        plans = ws.plan(
            product,
            steps=_split(steps),
            partitions=partitions,
            full_refresh=full_refresh,
            params=params,
        )
        if json:
            console.emit_json(plans)
            return
        console.table(
            f"plan for {product} in {ws.env}",
            ["step", "action", "partitions", "reason"],
            [[p.step, p.action, _parts(p.partitions), p.reason] for p in plans],
        )


def run(
    product: Annotated[str, typer.Argument(help="Product to run.")],
    steps: Annotated[str | None, typer.Option(help="Only these steps (comma-separated).")] = None,
    partitions: Annotated[str | None, typer.Option(help="Backfill START..END.")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Recompute everything.")
    ] = False,
    resume: Annotated[
        str | None, typer.Option(help="Re-run what failed or never ran in RUN_ID.")
    ] = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="Make a new challenger the champion.")
    ] = False,
    params: Params = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another run of the product holds it, wait for it to end."),
    ] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Run a product's pipeline (and the upstream steps it needs)."""
    with workspace(project, env) as ws:
        show = not json and sys.stderr.isatty()
        total = {"n": 0}
        with console.progress(1, show) as update:

            def on_event(kind: str, data: Mapping[str, Any]) -> None:
                if kind == "run_started":
                    total["n"] = len(data["steps"])
                    console.info(f"run {data['run_id']} ({total['n']} steps)")
                elif kind == "step_started":
                    update(f"{data['step']}", False)
                elif kind == "step_finished" and not show and not json:
                    rec = data["record"]
                    console.info(f"  {rec['status']:<9} {data['step']}  {rec.get('reason') or ''}")

            result = ws.run(
                product,
                steps=_split(steps),
                partitions=partitions,
                full_refresh=full_refresh,
                resume=resume,
                promote=promote,
                params=params,
                wait=wait,
                on_event=on_event,
                check=False,
            )
        if json:
            console.emit_json(
                {
                    "run_id": result.run_id,
                    "status": result.status,
                    "steps": result.steps,
                }
            )
            if result.exception is not None:
                raise result.exception
            return
        console.table(
            f"run {result.run_id}: {result.status}",
            ["step", "status", "parts", "rows", "cpu s", "reason"],
            [
                [
                    s["step"],
                    s["status"],
                    len(s.get("partitions") or []) or "",
                    s.get("rows_written"),
                    s.get("cpu_seconds"),
                    s.get("reason"),
                ]
                for s in result.steps
            ],
        )
        if result.exception is not None:
            raise result.exception


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _parts(parts: list[str] | None) -> str:
    if not parts:
        return ""
    if len(parts) <= 3:
        return ", ".join(parts)
    return f"{len(parts)}: {parts[0]} … {parts[-1]}"


def promote(
    product: Annotated[str, typer.Argument(help="Product whose champion to promote.")],
    from_env: Annotated[str, typer.Option("--from", help="Source environment (e.g. staging).")],
    to_env: Annotated[str, typer.Option("--to", help="Target environment (e.g. prod).")],
    project: Project = None,
    json: Json = False,
) -> None:
    """Deploy model: re-check the gate and copy the champion into the target environment."""
    with workspace(project, from_env) as ws:
        result = ws.promote(product, to_env=to_env)
    if json:
        console.emit_json(result)
        return
    console.info(
        f"{result['from']} -> {result['to']} (champion in {to_env}, by {result['promoted_by']})"
    )
