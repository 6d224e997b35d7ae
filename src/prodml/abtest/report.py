"""The A/B report: exposures from the inference log, outcomes per unit, statistics, a decision.

A unit is exposed when the endpoint first scored a record carrying its id (shadow predictions
do not count); its variant is the one that first served it. Outcomes are summed per unit and
metric (a rate counts 1 when any outcome was positive), from the outcomes posted to the
endpoint and, if configured, an outcome table; units without an outcome count 0. The SQL runs
in DuckDB over the Delta tables; the statistics are in ``stats``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prodml.abtest import stats
from prodml.names import quote_ident, quote_literal
from prodml.serialize import to_jsonable

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from prodml.catalog.gate import Catalog
    from prodml.catalog.policies import Access
    from prodml.config.product import Experiment, ProductConfig
    from prodml.engine.base import Engine


@dataclass
class Units:
    """One row per exposed unit: variant, first exposure (epoch seconds), metric values."""

    variant: np.ndarray
    first_seen: np.ndarray
    metrics: dict[str, np.ndarray]


def report(
    catalog: Catalog,
    engine: Engine,
    product: ProductConfig,
    name: str,
    experiment: Experiment,
    access: Access,
    chart_path: Path,
) -> dict[str, Any]:
    """The experiment's report (``analyse``), its chart written to ``chart_path``."""
    from prodml.errors import UsageError

    endpoint = product.endpoint
    assert endpoint is not None  # validated: experiments need an endpoint
    log_name = catalog.name(product.inference_log_table)
    if not catalog.exists(log_name, access):
        raise UsageError(
            f"no exposures yet: {log_name} does not exist",
            hint=f"serve the endpoint ('prodml serve --product {product.name}') and send traffic",
        )
    posted_name = catalog.name(product.outcomes_table)
    posted = catalog.read(posted_name, access)[0] if catalog.exists(posted_name) else None
    extra = None
    if experiment.outcome_table is not None:
        extra = catalog.read(catalog.name(experiment.outcome_table), access)[0]
    data = units(
        engine,
        experiment,
        log=catalog.read(log_name, access)[0],
        outcomes=posted,
        outcome_table=extra,
        unit_key=endpoint.unit_key or "unit_id",
    )
    weights = {n: v.weight for n, v in endpoint.variants.items() if n != endpoint.shadow}
    doc = analyse(name, product.name, experiment, data, weights)
    chart_path.parent.mkdir(parents=True, exist_ok=True)
    chart(doc, chart_path)
    doc["chart"] = str(chart_path)
    return doc


def units(
    engine: Engine,
    experiment: Experiment,
    *,
    log: Any,
    outcomes: Any | None,
    outcome_table: Any | None,
    unit_key: str,
) -> Units:
    """Per-unit data of ``experiment`` from the inference log and outcome sources (Arrow)."""
    import numpy as np

    engine.register_alias("inference_log", log)
    arms = [experiment.control, experiment.treatment]
    params: dict[str, Any] = {"control": arms[0], "treatment": arms[1]}
    since = ""
    if experiment.start is not None:
        since = "AND time >= $start"
        params["start"] = experiment.start
    sources = []
    if outcomes is not None:
        engine.register_alias("posted_outcomes", outcomes)
        sources.append(
            "SELECT o.unit_id, o.metric, o.value FROM posted_outcomes o "
            "JOIN exposures e ON e.unit_id = o.unit_id AND o.time >= e.first_seen"
        )
    if outcome_table is not None:
        engine.register_alias("outcome_table", outcome_table)
        have = set(engine.sql("SELECT * FROM outcome_table LIMIT 0").columns)
        for column in experiment.metrics:
            if column in have:
                sources.append(
                    f"SELECT CAST({quote_ident(unit_key)} AS VARCHAR) AS unit_id, "
                    f"{quote_literal(column)} AS metric, "
                    f"CAST({quote_ident(column)} AS DOUBLE) AS value "
                    f"FROM outcome_table WHERE {quote_ident(column)} IS NOT NULL"
                )
    union = " UNION ALL ".join(sources) or (
        "SELECT NULL::VARCHAR AS unit_id, NULL::VARCHAR AS metric, NULL::DOUBLE AS value "
        "WHERE false"
    )
    columns = []
    for i, (name, metric) in enumerate(experiment.metrics.items()):
        value = "p.total" if metric.kind == "mean" else "CAST(p.peak > 0 AS DOUBLE)"
        columns.append(
            f"coalesce(max(CASE WHEN p.metric = {quote_literal(name)} THEN {value} END), 0.0) "
            f"AS m{i}"
        )
    query = f"""
        WITH exposures AS (
            SELECT unit_id, arg_min(variant, time) AS variant, min(time) AS first_seen
            FROM inference_log
            WHERE NOT shadow AND unit_id IS NOT NULL {since}
            GROUP BY unit_id
        ),
        outcome_rows AS ({union}),
        per_unit AS (
            SELECT unit_id, metric, sum(value) AS total, max(value) AS peak
            FROM outcome_rows GROUP BY unit_id, metric
        )
        SELECT e.variant, epoch(e.first_seen) AS first_seen,
               {", ".join(columns)}
        FROM exposures e LEFT JOIN per_unit p ON p.unit_id = e.unit_id
        WHERE e.variant IN ($control, $treatment)
        GROUP BY e.unit_id, e.variant, e.first_seen
        ORDER BY e.first_seen, e.unit_id
    """
    table = engine.sql(query, **params).to_arrow_table()
    return Units(
        variant=np.asarray(table.column("variant").to_numpy(zero_copy_only=False)),
        first_seen=table.column("first_seen").to_numpy().astype(np.float64),
        metrics={
            name: table.column(f"m{i}").to_numpy().astype(np.float64)
            for i, name in enumerate(experiment.metrics)
        },
    )


def analyse(
    name: str, product: str, experiment: Experiment, data: Units, weights: Mapping[str, float]
) -> dict[str, Any]:
    """The report as plain data (what ``prodml ab report --json`` prints)."""
    control, treatment = experiment.control, experiment.treatment
    is_c, is_t = data.variant == control, data.variant == treatment
    share = [weights.get(control, 0.0), weights.get(treatment, 0.0)]
    srm = (
        stats.srm_check([int(is_c.sum()), int(is_t.sum())], share)
        if all(w > 0 for w in share)
        else None
    )
    metrics: dict[str, Any] = {}
    decision: stats.Recommendation | None = None
    for metric_name, metric in experiment.metrics.items():
        values = data.metrics[metric_name]
        comparison = stats.compare(values[is_c], values[is_t], metric.kind, experiment.alpha)
        sequential = stats.msprt(
            values[is_c], values[is_t], data.first_seen[is_c], data.first_seen[is_t], metric.kind
        )
        metrics[metric_name] = {
            "kind": metric.kind,
            "higher_is_better": metric.higher_is_better,
            "comparison": to_jsonable(comparison),
            "sequential": to_jsonable(sequential),
            "timeline": _timeline(data, metric_name, control, treatment),
        }
        if metric_name == experiment.primary:
            decision = stats.recommend(
                comparison,
                alpha=experiment.alpha,
                minimum_sample=experiment.minimum_sample,
                srm=srm,
                higher_is_better=metric.higher_is_better,
                sequential_p_value=sequential.p_value,
            )
    assert decision is not None
    return {
        "experiment": name,
        "product": product,
        "control": control,
        "treatment": treatment,
        "primary_metric": experiment.primary,
        "alpha": experiment.alpha,
        "minimum_sample": experiment.minimum_sample,
        "units": {control: int(is_c.sum()), treatment: int(is_t.sum())},
        "expected_share": {control: share[0], treatment: share[1]},
        "srm": to_jsonable(srm),
        "metrics": metrics,
        "recommendation": {"decision": decision.decision, "reason": decision.reason},
    }


def _timeline(
    data: Units, metric: str, control: str, treatment: str, points: int = 30
) -> list[dict[str, Any]]:
    """Cumulative mean of ``metric`` per variant at evenly spaced points of the arrival order
    (the chart: how the estimate moved while the test ran)."""
    import numpy as np

    values = data.metrics[metric]
    n = len(values)
    if n == 0:
        return []
    ends = np.unique(np.ceil(np.linspace(1, n, min(points, n))).astype(np.int64))
    out: list[dict[str, Any]] = []
    for arm_values, arm in (
        (data.variant == control, control),
        (data.variant == treatment, treatment),
    ):
        counts = np.cumsum(arm_values)[ends - 1]
        sums = np.cumsum(np.where(arm_values, values, 0.0))[ends - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        for i, (c, m) in enumerate(zip(counts.tolist(), means.tolist(), strict=True)):
            if len(out) <= i:
                when = np.datetime64(int(data.first_seen[ends[i] - 1] * 1e6), "us")
                out.append({"time": str(when) + "Z", "units": int(ends[i])})
            out[i][arm] = {"n": int(c), "mean": None if np.isnan(m) else float(m)}
    return out


def chart(report: Mapping[str, Any], path: Any) -> None:
    """A PNG of each metric's cumulative mean per variant while the test ran."""
    from datetime import datetime

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["metrics"])
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 3 * len(names)), squeeze=False)
    arms = (report["control"], report["treatment"])
    for ax, name in zip(axes[:, 0], names, strict=True):
        timeline = report["metrics"][name]["timeline"]
        times = [datetime.fromisoformat(t["time"]) for t in timeline]
        for arm in arms:
            ax.plot(times, [t[arm]["mean"] for t in timeline], marker=".", label=arm)
        comparison = report["metrics"][name]["comparison"]
        p = comparison.get("p_value")
        ax.set_title(f"{name} (cumulative, p={p:.3g})" if p is not None else name)
        ax.set_ylabel("rate" if report["metrics"][name]["kind"] == "rate" else "mean per unit")
        ax.legend()
        ax.tick_params(axis="x", labelrotation=30)
    fig.suptitle(f"{report['product']} · {report['experiment']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
