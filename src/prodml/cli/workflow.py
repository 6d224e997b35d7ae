"""``prodml init``, ``prodml plan`` and ``prodml run``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

if TYPE_CHECKING:
    from prodml.workspace import RunResult, Workspace


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
    console.info(f"created {directory} ({len(files)} files):")
    for path in sorted(files):
        console.info(f"  {Path(path).relative_to(directory) if Path(path).is_absolute() else path}")
    if example:
        console.info(
            f"next: cd {directory} && prodml run churn --promote   "
            "(trains churn's model, makes it the champion and scores the customers)"
        )


@console.listing
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


@console.listing
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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every step, even when all skipped.")
    ] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Run a product's pipeline (and the upstream steps it needs)."""
    with workspace(project, env) as ws:
        live = not json and sys.stderr.isatty()
        with console.steps(live) as display:

            def on_event(kind: str, data: Mapping[str, Any]) -> None:
                if kind == "run_started":
                    display.started(len(data["steps"]))
                    console.info(f"run {data['run_id']} ({display.total} steps)")
                elif json:  # stdout is the JSON document; stderr only says which run
                    return
                elif kind == "step_started":
                    display.step(data["step"])
                elif kind == "step_finished":
                    rec = data["record"]
                    display.finished(data["step"], rec["status"], rec.get("reason") or "")

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
                    "log": result.log,
                    "warnings": result.warnings,
                }
            )
            if result.exception is not None:
                raise result.exception
            return
        _summary(result, verbose)
        for line in _next_steps(ws, product, result):
            console.info(line)
        if result.exception is not None:
            raise result.exception


def _summary(result: RunResult, verbose: bool) -> None:
    """The run's table of steps (one line when every step was skipped, unless ``verbose``),
    then the expectations that failed without failing it."""
    if result.log is not None:
        console.info(f"what the steps printed: {result.log}")
    _table(result, verbose)
    if result.warnings:
        console.info(f"{len(result.warnings)} expectation(s) failed without failing the run:")
    for w in result.warnings:
        console.info(f"  {w['table_name']}: {w['rule']} ({w['action']}): {w['message']}")


def _next_steps(ws: Workspace, product: str, result: RunResult) -> list[str]:
    """After a run that wrote its product's predictions: where to look at them next."""
    if result.status != "succeeded":
        return []
    steps = {s["name"]: s for s in ws.describe_product(product)["steps"]}
    scored = [
        out
        for s in result.steps
        if s["status"] == "succeeded"
        and s.get("rows_written")
        and steps.get(s["step"].split(".", 1)[-1], {}).get("stage") == "apply"
        and s["step"].startswith(product + ".")
        for out in steps[s["step"].split(".", 1)[-1]]["outputs"]
    ]
    if not scored:
        return []
    lines = [f"next: prodml tables preview {scored[0]}   (the predictions)"]
    if ws.product(product).config.endpoint is not None:
        lines.append(f"      prodml serve --product {product}   (its real-time endpoint)")
    return lines


def _table(result: RunResult, verbose: bool) -> None:
    skipped = [s for s in result.steps if s["status"] == "skipped"]
    if not verbose and result.status == "succeeded" and len(skipped) == len(result.steps):
        same = sum(1 for s in skipped if str(s.get("reason") or "").startswith("unchanged"))
        why = [f"{same} unchanged"] if same else []
        why += [f"{s['step']}: {s['reason']}" for s in skipped if s["reason"][:9] != "unchanged"]
        sys.stdout.write(
            f"run {result.run_id}: {result.status}; all {len(skipped)} steps skipped "
            f"({'; '.join(why)}); -v lists them\n"
        )
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
                console.seconds(s.get("cpu_seconds")),
                s.get("reason"),
            ]
            for s in result.steps
        ],
        optional=("cpu s", "parts"),
    )


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _parts(parts: list[str] | None) -> str:
    if not parts:
        return ""
    if len(parts) <= 3:
        return ", ".join(parts)
    return f"{len(parts)}: {parts[0]} … {parts[-1]}"


@console.listing
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
