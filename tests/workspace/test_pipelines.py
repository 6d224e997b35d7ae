"""The façade's pipelines: landscape, plan (re-planned downstream of a change), run, resume,
runs, reproduce; with governance on, planning and reproduction reads are audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import write_days

import prodml
from prodml.errors import NotFoundError, UsageError


def test_landscape_and_product_details(shop: Path) -> None:
    with prodml.connect(shop) as ws:
        (summary,) = ws.landscape()
        assert (summary.name, summary.steps, summary.last_run) == ("shop", 2, None)
        assert summary.accountable == "tester"
        run = ws.run("shop")
        (summary,) = ws.landscape()
        assert (summary.last_run, summary.last_status) == (run.run_id, "succeeded")
        details = ws.describe_product("shop")
        assert [s["name"] for s in details["steps"]] == ["sales", "totals"]
        assert details["inputs_from_products"] == []
        with pytest.raises(NotFoundError, match="did you mean 'shop'"):
            ws.describe_product("shp")


def test_plan_shows_downstream_steps_as_running_once_an_input_changes(shop: Path) -> None:
    with prodml.connect(shop) as ws:
        assert [p.action for p in ws.plan("shop")] == ["run", "run"]
        ws.run("shop")
        assert [p.action for p in ws.plan("shop")] == ["skip", "skip"]
        write_days(shop, "2024-01-03")
        sales, totals = ws.plan("shop")
        assert (sales.action, sales.partitions) == ("run", ["2024-01-03"])
        assert (totals.action, totals.reason) == (
            "run",
            "upstream shop.sales will change its inputs",
        )
        assert [p.action for p in ws.plan("shop", steps=["totals"])] == ["skip"]
        with pytest.raises(UsageError, match="exclude each other"):
            ws.plan("shop", partitions="2024-01-01..2024-01-02", full_refresh=True)


def test_runs_resume_and_reproduce(shop: Path) -> None:
    with prodml.connect(shop) as ws:
        first = ws.run("shop")
        assert [r["run_id"] for r in ws.runs("shop")] == [first.run_id]
        info = ws.run_info(first.run_id[:12])  # a unique prefix is enough
        assert [s["status"] for s in info["steps"]] == ["succeeded", "succeeded"]
        with pytest.raises(UsageError, match="nothing to resume"):
            ws.run("shop", resume=first.run_id)
        report = ws.reproduce(first.run_id)
        assert report.match and {c.table for c in report.checks} == {
            "dev.bronze.sales",
            "dev.gold.totals",
        }
        with pytest.raises(NotFoundError, match="unknown product"):
            ws.runs("nope")


def test_planning_and_reproducing_are_reads_in_the_audit_log(governed: Path) -> None:
    with prodml.connect(governed) as ws:  # ops, an admin
        run = ws.run("shop")
        ws.plan("shop")
        ws.reproduce(run.run_id)
        records = ws.audit(principal="ops", limit=10_000)
    by_action: dict[str, set[str]] = {}
    for r in records:
        by_action.setdefault(r["action"], set()).add(r["securable"])
    # planning reads each input's state; reproducing reads the recorded versions' rows
    assert "dev.bronze.sales" in by_action["read_state"]
    assert {"dev.bronze.sales", "dev.gold.totals"} <= by_action["read"]
    assert {r["outcome"] for r in records if r["action"] in ("read", "read_state")} == {"allowed"}


def test_a_user_without_select_cannot_plan_over_a_table_she_may_not_read(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        ws.run("shop")
    with prodml.connect(governed, principal="ana") as ws:
        from prodml.governance.errors import PermissionDeniedError

        with pytest.raises(
            PermissionDeniedError, match=r"lacks SELECT on table dev\.bronze\.sales"
        ):
            ws.plan("shop")
        denied = [r for r in ws.audit() if r["outcome"] == "denied"]
    assert {(r["action"], r["securable"]) for r in denied} == {("read_state", "dev.bronze.sales")}
