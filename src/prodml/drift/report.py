"""A self-contained HTML drift report: a summary, a table per watched table, and per column a
histogram of reference vs current and the drift score against its threshold, as inline SVG
(a few kB per column, no scripts, no external files)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

_REF, _CUR = "#7f8c9a", "#d9534f"
_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0}
table{border-collapse:collapse;font-size:.85rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.drift{color:#b52b27;font-weight:600}.ok{color:#2d7a3a}.na{color:#888}
.cols{display:flex;flex-wrap:wrap;gap:1rem}.col{border:1px solid #e3e3e3;border-radius:6px;padding:.5rem}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _histogram_svg(hist: Mapping[str, Any], width: int = 320, height: int = 120) -> str:
    ref = [float(x) for x in hist.get("reference", [])]
    cur = [float(x) for x in hist.get("current", [])]
    labels = [str(x) for x in hist.get("categories", [])]
    if hist.get("kind") == "categorical" and (
        hist.get("other_reference") or hist.get("other_current")
    ):
        ref.append(float(hist.get("other_reference", 0)))
        cur.append(float(hist.get("other_current", 0)))
        labels.append("other")
    n = max(len(ref), len(cur))
    if n == 0:
        return '<svg width="320" height="20"><text x="0" y="14" font-size="11">no data</text></svg>'
    total_r, total_c = sum(ref) or 1.0, sum(cur) or 1.0
    shares_r = [x / total_r for x in ref]
    shares_c = [x / total_c for x in cur]
    top = max([*shares_r, *shares_c, 1e-9])
    slot = width / n
    bar = max(slot / 2 - 1, 0.5)
    parts = [f'<svg width="{width}" height="{height + 14}" role="img">']
    for i in range(n):
        for j, (shares, color) in enumerate(((shares_r, _REF), (shares_c, _CUR))):
            h = (shares[i] if i < len(shares) else 0.0) / top * height
            x = i * slot + j * bar
            title = labels[i] if i < len(labels) else f"bin {i + 1}"
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{html.escape(title)}: '
                f"{shares[i] if i < len(shares) else 0:.2%}</title></rect>"
            )
    edges = hist.get("edges") or []
    if edges:
        parts.append(
            f'<text x="0" y="{height + 12}" font-size="10">{float(edges[0]):.3g}</text>'
            f'<text x="{width}" y="{height + 12}" font-size="10" text-anchor="end">'
            f"{float(edges[-1]):.3g}</text>"
        )
    elif labels:
        shown = ", ".join(labels[:6]) + (" …" if len(labels) > 6 else "")
        parts.append(f'<text x="0" y="{height + 12}" font-size="10">{html.escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _score_svg(score: float | None, threshold: float | None, p_value: bool) -> str:
    width, height = 320, 16
    if score is None or threshold is None:
        return ""
    # p-values drift when small: show 1 - p against 1 - threshold so longer is always worse
    value, limit = (1 - score, 1 - threshold) if p_value else (score, threshold)
    scale = max(value, limit * 2, 1e-9)
    w = max(min(value / scale, 1.0), 0.0) * width
    x_limit = limit / scale * width
    color = _CUR if (value >= limit) else _REF
    return (
        f'<svg width="{width}" height="{height}"><rect x="0" y="3" width="{w:.1f}" height="10" '
        f'fill="{color}"/><line x1="{x_limit:.1f}" x2="{x_limit:.1f}" y1="0" y2="{height}" '
        f'stroke="#222" stroke-dasharray="2,2"/></svg>'
    )


def render(report: Mapping[str, Any]) -> str:
    """The HTML page of a drift run (``report`` as ``prodml drift run --json`` prints it)."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>drift · {html.escape(str(report['target']))}</title><style>{_CSS}</style>",
        "</head><body>",
        f"<h1>Drift: {html.escape(str(report['target']))} ({html.escape(report['env'])})</h1>",
        f"<p>current <b>{html.escape(report['current'])}</b> vs reference "
        f"<b>{html.escape(report['reference'])}</b> · run {html.escape(report['checked_at'])} · "
        f"verdict <b class='{'drift' if report['drift'] else 'ok'}'>"
        f"{'drift' if report['drift'] else 'no drift'}</b></p>",
        "<p class='legend'><span style='background:" + _REF + "'></span>reference"
        "<span style='background:" + _CUR + "'></span>current</p>",
    ]
    for table in report["tables"]:
        out.append(_table_section(table))
    out.append("</body></html>")
    return "\n".join(out)


def _table_section(table: Mapping[str, Any]) -> str:
    result = table["result"]
    rows: Sequence[Mapping[str, Any]] = result["columns"]
    head = (
        f"<h2>{html.escape(table['table'])} — {result['n_drifted']} of {result['n_tested']} "
        f"columns drifted ({_fmt(result['drifted_share'])}; dataset "
        f"{'drift' if result['drift'] else 'no drift'})</h2>"
        f"<p>reference {table['reference_rows']} rows ({html.escape(table['reference_window'])}),"
        f" current {table['current_rows']} rows ({html.escape(table['current_window'])})</p>"
    )
    lines = [
        "<table><tr><th>column</th><th>kind</th><th>method</th><th>score</th><th>threshold</th>"
        "<th>verdict</th><th>PSI</th><th>new categories</th><th>out of range</th></tr>"
    ]
    for c in rows:
        verdict = {True: "<span class='drift'>drift</span>", False: "<span class='ok'>ok</span>"}
        lines.append(
            f"<tr><td>{html.escape(c['column'])}</td><td>{_fmt(c['kind'])}</td>"
            f"<td>{_fmt(c['method'])}</td><td>{_fmt(c['drift_score'])}</td>"
            f"<td>{_fmt(c['threshold'])}</td>"
            f"<td>{verdict.get(c['drift'], '<span class=na>' + _fmt(c['reason']) + '</span>')}</td>"
            f"<td>{_fmt(c['psi'])}</td><td>{_fmt(', '.join(map(str, c.get('new_categories') or [])))}</td>"
            f"<td>{_fmt(c.get('out_of_range_share'))}</td></tr>"
        )
    lines.append("</table>")
    cards = ["<div class='cols'>"]
    for c in rows:
        hist = table["histograms"].get(c["column"], {})
        cards.append(
            f"<div class='col'><h3>{html.escape(c['column'])} "
            f"<small>{_fmt(c['method'])} {_fmt(c['drift_score'])}</small></h3>"
            f"{_histogram_svg(hist)}<br>"
            f"{_score_svg(c['drift_score'], c['threshold'], c['p_value'] is not None)}</div>"
        )
    cards.append("</div>")
    return head + "".join(lines) + "".join(cards)
