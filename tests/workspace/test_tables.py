"""The façade's catalog: tables, their entries, history (audited), rows, previews, lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

import prodml
from prodml.errors import NotFoundError


def test_tables_history_rows_and_lineage(shop: Path) -> None:
    with prodml.connect(shop) as ws:
        assert ws.tables() == [] and not ws.table_exists("gold.totals")
        run = ws.run("shop")
        assert ws.catalog_name == "dev" and ws.table_exists("gold.totals")
        assert {t.name for t in ws.tables()} == {"bronze.sales", "gold.totals"}
        assert {e["name"] for e in ws.catalog_entries()} == {"sales", "totals"}
        info = ws.table("gold.totals")
        assert (info.version, info.rows, info.owner_product) == (0, 2, "shop")
        (commit,) = ws.history("gold.totals")
        assert (commit["version"], commit["prodml.run_id"]) == (0, run.run_id)
        assert ws.read("gold.totals").num_rows == 2
        assert ws.preview("bronze.sales", limit=1).num_rows == 1
        edges = ws.lineage("gold.totals")
        assert [(e.source, e.target, e.depth) for e in edges] == [
            ("dev.bronze.sales", "dev.gold.totals", 1),
            ("landing:sales", "dev.bronze.sales", 2),
        ]
        down = ws.lineage("landing:sales", upstream=False, depth=1)
        assert [e.target for e in down] == ["dev.bronze.sales"]
        with pytest.raises(NotFoundError, match="unknown table"):
            ws.history("gold.nope")
        with pytest.raises(NotFoundError, match=r"unknown table 'gold\.nope'"):
            ws.lineage("gold.nope")  # a table's lineage is its metadata: looked up first
        with pytest.raises(NotFoundError, match="lineage node"):
            ws.lineage("landing:nope")


def test_reading_history_is_checked_and_audited(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        ws.run("shop")
    with prodml.connect(governed, principal="ana") as ws:
        assert ws.history("gold.totals")[0]["version"] == 0  # SELECT on dev.gold
        from prodml.governance.errors import PermissionDeniedError

        with pytest.raises(
            PermissionDeniedError, match=r"lacks SELECT on table dev\.bronze\.sales"
        ):
            ws.history("bronze.sales")
        records = ws.audit()
    assert {(r["action"], r["securable"], r["outcome"]) for r in records} >= {
        ("read_history", "dev.gold.totals", "allowed"),
        ("read_history", "dev.bronze.sales", "denied"),
    }
