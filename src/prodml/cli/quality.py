"""``prodml quality``: check expectations on demand and show their history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(help="Data quality: expectations, checks, results.", no_args_is_help=True)


def _verdict(passed: Any) -> str:
    return {True: "pass", False: "FAIL", None: "n/a"}[passed]


@app.command("check")
def check(
    target: Annotated[str, typer.Argument(help="A table (schema.table) or a product.")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Evaluate the expectations on whole tables now (results are recorded)."""
    with workspace(project, env) as ws:
        checked = ws.quality_check(target)
    if json:
        console.emit_json(checked)
        return
    failed = False
    for item in checked:
        rows = []
        for r in item["results"]:
            failed |= r["passed"] is False and r["action"] == "fail"
            rows.append(
                [
                    r["rule"],
                    r["action"],
                    _verdict(r["passed"]),
                    r["failed_rows"],
                    r["observed"],
                    ", ".join(map(str, r["samples"][:3])) or r["message"],
                ]
            )
        console.table(
            f"{item['table']} v{item['version']} ({item['rows']} rows)",
            ["rule", "action", "verdict", "failed rows", "observed", "examples / message"],
            rows,
        )
    if failed:
        raise typer.Exit(1)


@app.command("report")
def report(
    table: Annotated[str | None, typer.Argument(help="Only this table.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 50,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Recorded results of writes and checks, newest first."""
    with workspace(project, env) as ws:
        rows = ws.quality_report(table, limit)
    if json:
        console.emit_json(rows)
        return
    console.table(
        "data quality results",
        ["checked", "table", "v", "step", "rule", "action", "verdict", "failed", "message"],
        [
            [
                r["checked_at"],
                r["table_name"],
                r["version"],
                r["step"],
                r["rule"],
                r["action"],
                _verdict(r["passed"]),
                r["failed_rows"],
                r["message"],
            ]
            for r in rows
        ],
    )
