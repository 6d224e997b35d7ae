"""``prodml.drift.report.render``: the self-contained HTML drift page: summary and verdicts,
a table per watched table, per column an inline-SVG histogram and score bar; user text escaped,
no scripts, no external files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from prodml.drift.report import render
from prodml.drift.stats import dataset_drift
from prodml.drift.summaries import histogram
from prodml.serialize import to_jsonable


def table_section(name: str, ref: dict[str, Any], cur: dict[str, Any]) -> dict[str, Any]:
    """One table's entry, shaped as ``drift run`` builds it, from real statistics."""
    result = dataset_drift(ref, cur)
    return {
        "table": name,
        "reference_window": "before: ..2024-01-14",
        "current_window": "last:7d: 2024-01-15..2024-01-21",
        "reference_rows": len(next(iter(ref.values()))),
        "current_rows": len(next(iter(cur.values()))),
        "result": to_jsonable(result),
        "histograms": {
            c.column: histogram(ref[c.column], cur[c.column], c.kind) for c in result.columns
        },
    }


def make_report(**changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    ref = {
        "amount": rng.normal(0, 1, 400),
        "channel": rng.choice(np.array(["web", "shop", "app"]), 400),
    }
    cur = {
        "amount": rng.normal(2, 1, 300),  # shifted: drift
        "channel": np.concatenate(
            [rng.choice(np.array(["web", "shop", "app"]), 290), ["phone"] * 10]
        ),
    }
    report = {
        "target": "churn",
        "env": "dev",
        "current": "last:7d",
        "reference": "before",
        "checked_at": "2024-01-21T10:00:00+00:00",
        "drift": True,
        "tables": [table_section("dev.silver.events", ref, cur)],
    }
    report.update(changes)
    return report


class Collector(HTMLParser):
    """Tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    return c


def test_page_summary() -> None:
    page = render(make_report())
    assert page.startswith("<!doctype html><html><head><meta charset='utf-8'>")
    assert "<title>drift · churn</title>" in page
    assert "<h1>Drift: churn (dev)</h1>" in page
    assert "current <b>last:7d</b> vs reference <b>before</b>" in page
    assert "run 2024-01-21T10:00:00+00:00" in page
    assert "verdict <b class='drift'>drift</b>" in page


def test_no_drift_verdict() -> None:
    assert "verdict <b class='ok'>no drift</b>" in render(make_report(drift=False))


def test_table_section_and_column_rows() -> None:
    report = make_report()
    result = report["tables"][0]["result"]
    page = render(report)
    assert (
        f"<h2>dev.silver.events — {result['n_drifted']} of {result['n_tested']} columns drifted"
    ) in page
    assert (
        "reference 400 rows (before: ..2024-01-14), current 300 rows (last:7d: 2024-01-15..2024-01-21)"
        in page
    )
    by_column = {c["column"]: c for c in result["columns"]}
    assert by_column["amount"]["drift"] is True
    row = re.search(r"<tr><td>amount</td>.*?</tr>", page)
    assert row is not None
    assert f"<td>{by_column['amount']['method']}</td>" in row.group(0)
    assert "<span class='drift'>drift</span>" in row.group(0)
    channel = re.search(r"<tr><td>channel</td>.*?</tr>", page)
    assert channel is not None and "<td>phone</td>" in channel.group(0)  # the new category


def test_one_card_per_column_with_a_histogram_and_a_score_bar() -> None:
    page = render(make_report())
    tags = parse(page).tags
    cards = [a for t, a in tags if t == "div" and a.get("class") == "col"]
    assert len(cards) == 2
    svgs = [a for t, a in tags if t == "svg"]
    assert len(svgs) == 4  # a histogram and a score bar each
    assert any(a.get("role") == "img" for a in svgs)
    # the numeric histogram shows the range of its edges, the categorical one its categories
    hist = make_report()["tables"][0]["histograms"]
    assert f"{hist['amount']['edges'][0]:.3g}</text>" in page
    assert f'font-size="10">{", ".join(hist["channel"]["categories"])}</text>' in page


def test_the_page_is_self_contained() -> None:
    tags = parse(render(make_report())).tags
    names = {t for t, _ in tags}
    assert "script" not in names and "link" not in names and "img" not in names
    for _, attrs in tags:
        for value in attrs.values():
            assert not (value or "").startswith(("http:", "https:", "//"))


def test_user_text_is_escaped() -> None:
    report = make_report(target="<script>alert(1)</script>", env="d&v")
    report["tables"][0]["table"] = "dev.gold.<b>x</b>"
    report["tables"][0]["reference_window"] = "<i>ref</i>"
    page = render(report)
    assert "<script>" not in page and "<b>x</b>" not in page and "<i>ref</i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "(d&amp;v)" in page and "dev.gold.&lt;b&gt;x&lt;/b&gt;" in page


def test_not_enough_data_shows_the_reason_and_no_score_bar() -> None:
    section = table_section("dev.gold.small", {"x": np.arange(5.0)}, {"x": np.arange(5.0)})
    (column,) = section["result"]["columns"]
    assert column["drift"] is None and column["reason"]
    page = render(make_report(tables=[section], drift=False))
    assert f"<span class=na>{column['reason']}</span>" in page
    svgs = [a for t, a in parse(page).tags if t == "svg"]
    assert len(svgs) == 1  # the histogram only: no score to draw


def column_entry(**values: Any) -> dict[str, Any]:
    base = {
        "column": "c",
        "kind": "categorical",
        "method": "chi2",
        "drift_score": 0.5,
        "threshold": 0.05,
        "drift": False,
        "reason": None,
        "psi": None,
        "p_value": 0.5,
        "new_categories": None,
        "out_of_range_share": None,
    }
    return {**base, **values}


def handmade(column: dict[str, Any], hist: dict[str, Any]) -> str:
    section = {
        "table": "dev.gold.t",
        "reference_window": "v1",
        "current_window": "v2",
        "reference_rows": 10,
        "current_rows": 10,
        "result": {
            "columns": [column],
            "n_drifted": 0,
            "n_tested": 1,
            "drifted_share": 0.0,
            "drift": False,
        },
        "histograms": {column["column"]: hist},
    }
    return render(make_report(tables=[section], drift=False))


def test_other_categories_get_their_own_bar() -> None:
    hist = {
        "kind": "categorical",
        "categories": ["a", "b"],
        "reference": [5, 3],
        "current": [4, 4],
        "other_reference": 2,
        "other_current": 0,
    }
    page = handmade(column_entry(), hist)
    titles = re.findall(r"<title>([^<]*)</title>", page)[1:]  # the page's own title first
    assert titles == [
        "a: 50.00%",
        "a: 50.00%",
        "b: 30.00%",
        "b: 50.00%",
        "other: 20.00%",
        "other: 0.00%",
    ]


def test_a_column_without_data_says_so() -> None:
    page = handmade(
        column_entry(), {"kind": "numeric", "edges": [], "reference": [], "current": []}
    )
    assert ">no data</text>" in page


def test_p_value_score_bars_grow_as_the_p_value_shrinks() -> None:
    def bar_width(p: float) -> float:
        page = handmade(column_entry(drift_score=p, drift=p < 0.05), {})
        widths = re.findall(r'<rect x="0" y="3" width="([\d.]+)"', page)
        return float(widths[0])

    assert bar_width(0.001) > bar_width(0.5) > bar_width(0.99)
    # drifted bars are drawn in the "current" red, the others in grey
    assert 'fill="#d9534f"/>' in handmade(column_entry(drift_score=0.001, drift=True), {})
    assert 'fill="#7f8c9a"/>' in handmade(column_entry(drift_score=0.9), {})


def test_distance_score_bar_against_its_threshold() -> None:
    page = handmade(
        column_entry(method="wasserstein", p_value=None, drift_score=0.3, threshold=0.1), {}
    )
    (width,) = re.findall(r'<rect x="0" y="3" width="([\d.]+)"', page)
    (limit,) = re.findall(r'<line x1="([\d.]+)"', page)
    assert float(width) == pytest.approx(320.0)  # 0.3 on a scale of max(0.3, 0.2)
    assert float(limit) == pytest.approx(320 * 0.1 / 0.3, abs=0.1)


def test_numbers_are_formatted_and_missing_ones_shown_as_a_dash() -> None:
    page = handmade(column_entry(drift_score=0.123456789, psi=None), {})
    row = re.search(r"<tr><td>c</td>.*?</tr>", page)
    assert row is not None
    assert "<td>0.1235</td>" in row.group(0) and "<td>—</td>" in row.group(0)
