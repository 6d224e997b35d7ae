"""``prodml products list`` and ``show`` (``prodml.cli.products``), in process: the landscape and
one product's details as tables and ``--json``, at 80 columns, and unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import SHOP_PIPELINE, ok, write_days
from tests.helpers import assert_clean_error, make_platform, prodml_main

REPORT_PIPELINE = """
from prodml import step

@step(stage="features", inputs=["gold.totals"], outputs="gold.report")
def report(ctx, totals):
    return ctx.sql("SELECT count(*) AS days, sum(total) AS revenue FROM totals")
"""

REPORT = """\
name: report
description: Revenue over every day.
owners:
  - {name: Finance, role: accountable, email: fin@example.com}
  - {name: Data Eng, role: responsible}
classification: {kind: report, delivery: [report, dashboard]}
stage: production
sla: {freshness_hours: 26, schedule: "0 5 * * *"}
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shop (run once) and report, which builds on shop's gold.totals (never run)."""
    root = make_platform(
        tmp_path_factory.mktemp("products") / "p",
        {"shop": SHOP_PIPELINE, "report": REPORT_PIPELINE},
    )
    (root / "products" / "report" / "product.yaml").write_text(REPORT)
    write_days(root, "2024-01-01")
    ok(prodml_main("run", "shop", cwd=root))
    return root


def _shop_run(root: Path) -> str:
    (run,) = json.loads(ok(prodml_main("runs", "list", "--json", cwd=root)).out)
    return str(run["run_id"])


def test_list_json_is_the_landscape(platform: Path) -> None:
    rows = json.loads(ok(prodml_main("products", "list", "--json", cwd=platform)).out)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"report", "shop"}
    report, shop = by_name["report"], by_name["shop"]
    assert (report["stage"], report["kind"], report["accountable"], report["steps"]) == (
        "production",
        "report",
        "Finance",
        1,
    )
    assert report["last_run"] is None and report["last_status"] is None
    assert (shop["last_run"], shop["last_status"], shop["steps"]) == (
        _shop_run(platform),
        "succeeded",
        2,
    )


def test_list_prints_the_landscape(platform: Path) -> None:
    r = ok(prodml_main("products", "list", cwd=platform))
    assert r.out.splitlines()[0].strip() == "products in dev"
    lines = {line.split("│")[1].strip(): line for line in r.out.splitlines() if "│" in line}
    assert "Finance" in lines["report"] and "production" in lines["report"]
    assert _shop_run(platform) in lines["shop"] and "succeeded" in lines["shop"]


def test_list_keeps_product_names_whole_at_80_columns(platform: Path) -> None:
    r = ok(prodml_main("products", "list", cwd=platform, env={"COLUMNS": "80"}))
    assert max(len(line) for line in r.out.splitlines()) <= 80
    assert "│ report " in r.out and "│ shop " in r.out


def test_list_keeps_the_last_run_id_whole_at_80_columns(platform: Path) -> None:
    r = ok(prodml_main("products", "list", cwd=platform, env={"COLUMNS": "80"}))
    assert _shop_run(platform) in r.out


def test_show_json_has_the_steps_and_the_upstream_products(platform: Path) -> None:
    data = json.loads(ok(prodml_main("products", "show", "report", "--json", cwd=platform)).out)
    assert data["inputs_from_products"] == ["shop"]
    assert [
        (s["name"], s["stage"], s["inputs"], s["outputs"], s["mode"]) for s in data["steps"]
    ] == [("report", "features", ["gold.totals"], ["gold.report"], "overwrite")]


def test_show_prints_the_details_owners_and_steps(platform: Path) -> None:
    r = ok(prodml_main("products", "show", "report", cwd=platform))
    fields = {
        key.strip(): value.strip()
        for key, value in (
            line.split("  ", 1) for line in r.out.splitlines()[1:8] if "  " in line.strip()
        )
    }
    assert fields == {
        "description": "Revenue over every day.",
        "stage": "production",
        "kind": "report",
        "delivery": "report, dashboard",
        "freshness SLA": "1d 2h",
        "schedule": "0 5 * * *",
        "builds on": "shop",
    }
    assert "fin@example.com" in r.out and "responsible" in r.out
    assert "gold.totals" in r.out and "gold.report" in r.out


def test_show_a_product_that_builds_on_nothing(platform: Path) -> None:
    r = ok(prodml_main("products", "show", "shop", cwd=platform))
    assert any(line.split() == ["builds", "on", "-"] for line in r.out.splitlines())


@pytest.mark.parametrize("command", [("show", "reprot"), ("show", "Report")])
def test_show_an_unknown_product_suggests_one(platform: Path, command: tuple[str, ...]) -> None:
    r = prodml_main("products", *command, cwd=platform)
    assert_clean_error(r, f"unknown product '{command[1]}'", "did you mean 'report'?")
    assert r.code == 2 and r.out == ""


def test_list_json_in_an_environment_without_runs(platform: Path) -> None:
    rows = json.loads(
        ok(prodml_main("products", "list", "--env", "staging", "--json", cwd=platform)).out
    )
    assert {r["name"]: r["last_run"] for r in rows} == {"report": None, "shop": None}
