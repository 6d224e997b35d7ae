"""``prodml ab``: A/B experiments: list, report, conclude."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(
    help="A/B tests: reports with lift and p-values, and decisions.", no_args_is_help=True
)

Experiment = Annotated[str, typer.Argument(help="Experiment name (from a product's ab: section).")]
ProductOpt = Annotated[
    str | None, typer.Option("--product", help="Product of the experiment (if names clash).")
]


@app.command("list")
@console.listing
def list_experiments(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Every product's experiments and their latest decision."""
    with workspace(project, env) as ws:
        rows = ws.experiments()
    if json:
        console.emit_json(rows)
        return
    columns = ["product", "experiment", "control", "treatment", "primary_metric", "decision"]
    console.table("experiments", columns, [[r[c] for c in columns] for r in rows])


@app.command("report")
@console.listing
def report(
    experiment: Experiment,
    product: ProductOpt = None,
    chart: Annotated[
        Path | None, typer.Option(help="Where to write the PNG chart (default: the state dir).")
    ] = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Per-variant results, lift with confidence intervals, p-values, SRM, a recommendation."""
    with workspace(project, env) as ws:
        doc = ws.ab_report(experiment, product=product, chart=chart)
    if json:
        console.emit_json(doc)
        return
    _render(doc)


@app.command("conclude")
@console.listing
def conclude(
    experiment: Experiment,
    product: ProductOpt = None,
    decision: Annotated[
        str | None,
        typer.Option(help="promote or keep, overriding the report's recommendation."),
    ] = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Act on the report: promote the treatment's model, or keep the control; record it."""
    with workspace(project, env) as ws:
        doc = ws.ab_conclude(experiment, product=product, decision=decision)
    if json:
        console.emit_json(doc)
        return
    console.fields(f"decision on {doc['experiment']}", list(doc.items()))


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:+.2%}"


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}"


def _render(doc: dict[str, Any]) -> None:
    control, treatment = doc["control"], doc["treatment"]
    for name, metric in doc["metrics"].items():
        cmp = metric["comparison"]
        rows = []
        for arm, summary in ((control, cmp["control"]), (treatment, cmp["treatment"])):
            rows.append(
                [
                    arm,
                    summary["n"],
                    _num(summary["mean"]),
                    f"[{_num(summary['ci_low'])}, {_num(summary['ci_high'])}]",
                ]
            )
        primary = " (primary)" if name == doc["primary_metric"] else ""
        console.table(
            f"{name}{primary}: {metric['kind']}",
            ["variant", "units", "rate" if metric["kind"] == "rate" else "mean", "CI"],
            rows,
        )
        console.fields(
            f"{treatment} vs {control} on {name}",
            [
                (
                    "difference",
                    f"{_num(cmp['diff'])} [{_num(cmp['diff_ci_low'])}, "
                    f"{_num(cmp['diff_ci_high'])}]",
                ),
                (
                    "relative lift",
                    f"{_pct(cmp['relative_lift'])} [{_pct(cmp['rel_ci_low'])}, "
                    f"{_pct(cmp['rel_ci_high'])}]",
                ),
                ("p-value", f"{_num(cmp['p_value'])} ({cmp['test']})"),
                ("always-valid p", _num(metric["sequential"]["p_value"])),
            ],
        )
    srm = doc["srm"]
    if srm is not None:
        total = sum(doc["units"].values()) or 1
        split = ", ".join(
            f"{v} {n:,} units ({n / total:.1%}, expected {doc['expected_share'].get(v, 0):.0%})"
            for v, n in doc["units"].items()
        )
        verdict = (
            "a sample ratio MISMATCH: assignment is broken, do not trust the comparison"
            if srm["mismatch"]
            else "no sample ratio mismatch"
        )
        console.info(f"sample ratio: {split}; p={_num(srm['p_value'])}: {verdict}")
    rec = doc["recommendation"]
    console.info(f"recommendation: {rec['decision']} — {rec['reason']}")
    console.info(f"chart: {doc['chart']}")
