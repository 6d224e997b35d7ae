"""``prodml drift``: compare a product's watched tables (or one table) between two windows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, FailOn, FailOnOption, Json, Project, workspace

app = typer.Typer(help="Drift monitoring: reports and alerts.", no_args_is_help=True)

SPEC_HELP = "vN, YYYY-MM-DD..YYYY-MM-DD, last:Nd, before (reference only) or all"


@app.command("run")
@console.listing
def run(
    target: Annotated[str, typer.Argument(help="A product (its drift.tables) or a table.")],
    reference: Annotated[str | None, typer.Option(help=f"Reference window: {SPEC_HELP}.")] = None,
    current: Annotated[str | None, typer.Option(help=f"Current window: {SPEC_HELP}.")] = None,
    html: Annotated[Path | None, typer.Option(help="Where to write the HTML report.")] = None,
    fail_on: FailOnOption = FailOn.fail,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Per column: the drift test, its score and verdict, PSI, new categories; an HTML report.
    Exits 1 on drift (unless --fail-on never), so that a CI job can gate on it."""
    with workspace(project, env) as ws:
        report = ws.drift_run(target, reference=reference, current=current, html=html)
    if json:
        console.emit_json(
            {k: v for k, v in report.items() if k != "tables"}
            | {
                "tables": [
                    {k: v for k, v in t.items() if k != "histograms"} for t in report["tables"]
                ]
            }
        )
    else:
        _print(report)
    if report["drift"] and fail_on is not FailOn.never:
        console.info(f"exit 1: drift (--fail-on {fail_on.value}; --fail-on never exits 0)")
        raise typer.Exit(1)


def _print(report: dict[str, Any]) -> None:
    for t in report["tables"]:
        result = t["result"]
        console.table(
            f"{t['table']}: current {t['current_window']} ({t['current_rows']} rows) vs "
            f"reference {t['reference_window']} ({t['reference_rows']} rows)",
            ["column", "kind", "method", "score", "threshold", "drift", "PSI", "note"],
            [
                [
                    c["column"],
                    c["kind"],
                    c["method"],
                    c["drift_score"],
                    c["threshold"],
                    {True: "DRIFT", False: "ok", None: "n/a"}[c["drift"]],
                    c["psi"],
                    c["reason"] or ", ".join(map(str, c.get("new_categories") or [])),
                ]
                for c in result["columns"]
            ],
        )
    verdict = "drift in " + ", ".join(report["drifted_columns"]) if report["drift"] else "no drift"
    console.info(f"{verdict} · report: {report['html']}")
