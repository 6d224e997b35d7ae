"""``prodml runs``: list, show and reproduce runs."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(help="Runs: history, details, reproduction.", no_args_is_help=True)


@app.command("list")
@console.listing
def list_runs(
    product: Annotated[str | None, typer.Option(help="Only this product's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 20,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Recent runs, newest first."""
    with workspace(project, env) as ws:
        rows = ws.runs(product, limit)
        if json:
            console.emit_json(rows)
            return
        console.table(
            f"runs in {ws.env}",
            ["run", "product", "status", "started", "git", "principal"],
            [
                [
                    r["run_id"],
                    r["product"],
                    r["status"],
                    r["started_at"],
                    (r["git_sha"] or "")[:8] + ("*" if r["git_dirty"] else ""),
                    r["principal"],
                ]
                for r in rows
            ],
            optional=("git", "principal"),
        )


@app.command("show")
@console.listing
def show(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or latest.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """One run: what ran, why, what it read and wrote."""
    with workspace(project, env) as ws:
        info = ws.run_info(run_id)
        if json:
            console.emit_json(info)
            return
        console.fields(
            f"run {info['run_id']}",
            [
                (k, info[k])
                for k in (
                    "product",
                    "env",
                    "status",
                    "started_at",
                    "ended_at",
                    "principal",
                    "git_sha",
                    "git_dirty",
                    "config_hash",
                    "resumed_from",
                    "error",
                )
            ],
        )
        console.table(
            None,
            ["step", "status", "rows", "cpu s", "peak MB", "tracking run", "reason"],
            [
                [
                    s["step"],
                    s["status"],
                    s["rows_written"],
                    console.seconds(s["cpu_seconds"]),
                    round(s["peak_rss_bytes"] / 2**20, 1) if s["peak_rss_bytes"] else None,
                    (s.get("links") or {}).get("tracking_run_id"),
                    s["error"] or s["reason"],
                ]
                for s in info["steps"]
            ],
            optional=("tracking run", "peak MB"),
        )


@app.command("reproduce")
@console.listing
def reproduce(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or latest.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Re-execute a run against the table versions it read; report whether outputs match."""
    with workspace(project, env) as ws:
        report = ws.reproduce(run_id)
        if json:
            console.emit_json(report)
        else:
            console.table(
                f"reproduce {report.run_id}: {'MATCH' if report.match else 'MISMATCH'}",
                ["step", "table", "version", "match", "rows", "note"],
                [
                    [
                        c.step,
                        c.table,
                        c.version,
                        "yes" if c.match else "NO",
                        c.rows_recorded,
                        c.note,
                    ]
                    for c in report.checks
                ],
                optional=("step",),
            )
            if not report.checks:
                console.info("nothing to compare: no step of this run wrote anything")
            if report.not_reproduced:
                console.info("not re-executed: " + ", ".join(report.not_reproduced))
        if not report.match:
            raise typer.Exit(1)
