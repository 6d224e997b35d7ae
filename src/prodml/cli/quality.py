"""``prodml quality``: check expectations on demand and show their history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, FailOn, FailOnOption, Json, Project, workspace

app = typer.Typer(help="Data quality: expectations, checks, results.", no_args_is_help=True)


def _verdict(passed: Any) -> str:
    return {True: "pass", False: "FAIL", None: "n/a"}[passed]


@app.command("check")
@console.listing
def check(
    target: Annotated[str, typer.Argument(help="A table (schema.table) or a product.")],
    fail_on: FailOnOption = FailOn.fail,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Evaluate the expectations on whole tables now (results are recorded); exit 1 when a
    rule fails at the --fail-on level, so that a CI job can gate on it."""
    with workspace(project, env) as ws:
        checked = ws.quality_check(target)
    failing = [
        (item["table"], r) for item in checked for r in item["results"] if r["passed"] is False
    ]
    if json:
        console.emit_json(checked)
    else:
        for item in checked:
            console.table(
                f"{item['table']} v{item['version']} ({item['rows']:,} rows)",
                ["rule", "action", "verdict", "failed rows", "observed", "examples / message"],
                [
                    [
                        r["rule"],
                        r["action"],
                        _verdict(r["passed"]),
                        r["failed_rows"],
                        r["observed"],
                        ", ".join(map(str, r["samples"][:3])) or r["message"],
                    ]
                    for r in item["results"]
                ],
            )
    gating = [
        (t, r)
        for t, r in failing
        if fail_on is FailOn.warn or (fail_on is FailOn.fail and r["action"] == "fail")
    ]
    if failing:
        names = ", ".join(f"{t}: {r['rule']} ({r['action']})" for t, r in failing)
        console.info(f"{len(failing)} rule(s) failed: {names}")
    if gating:
        console.info(f"exit 1: {len(gating)} of them at --fail-on {fail_on.value}")
        raise typer.Exit(1)


@app.command("report")
@console.listing
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
    one = table is not None  # the table is in the title, not in a column of its own
    columns = ["checked", "table", "v", "step", "rule", "action", "verdict", "failed", "message"]
    keys = ["checked_at", "table_name", "version", "step", "rule", "action", "passed"]
    keys += ["failed_rows", "message"]
    picked = [i for i, c in enumerate(columns) if not (one and c == "table")]
    console.table(
        f"data quality results of {rows[0]['table_name']}"
        if one and rows
        else "data quality results",
        [columns[i] for i in picked],
        [
            [_verdict(r[k]) if k == "passed" else r[k] for k in (keys[i] for i in picked)]
            for r in rows
        ],
        optional=("step", "action", "checked"),
    )
