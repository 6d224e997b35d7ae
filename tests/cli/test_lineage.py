"""``prodml lineage`` (``prodml.cli.lineage``), in process on the shop platform: upstream and
downstream edges as a table and ``--json``, ``--depth``, and unknown nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, ok
from tests.helpers import assert_clean_error, prodml_main

from prodml.cli.lineage import _label


def _edges(shop: Path, *args: str) -> set[tuple[object, ...]]:
    edges = json.loads(ok(prodml_main("lineage", *args, "--json", cwd=shop)).out)
    return {
        (e["depth"], e["source"], e["source_version"], e["target"], e["target_version"], e["step"])
        for e in edges
    }


def test_upstream_goes_back_to_the_landing_files(shop: Path) -> None:
    assert _edges(shop, "gold.totals") == {
        (1, "dev.bronze.sales", 0, "dev.gold.totals", 0, "shop.totals"),
        (2, "landing:sales", None, "dev.bronze.sales", 0, "shop.sales"),
    }


def test_downstream_follows_what_a_source_feeds(shop: Path) -> None:
    assert _edges(shop, "landing:sales", "--downstream") == {
        (1, "landing:sales", None, "dev.bronze.sales", 0, "shop.sales"),
        (2, "dev.bronze.sales", 0, "dev.gold.totals", 0, "shop.totals"),
    }


def test_depth_limits_the_hops(shop: Path) -> None:
    assert _edges(shop, "dev.gold.totals", "--depth", "1") == {
        (1, "dev.bronze.sales", 0, "dev.gold.totals", 0, "shop.totals")
    }


def test_the_table_labels_versions_and_keeps_names_whole_at_80_columns(shop: Path) -> None:
    r = ok(prodml_main("lineage", "gold.totals", "--upstream", cwd=shop, env={"COLUMNS": "80"}))
    assert r.out.splitlines()[0].strip() == "upstream of gold.totals"
    rows = [
        [c.strip() for c in ln.split("│")[1:-1]] for ln in r.out.splitlines() if ln.startswith("│")
    ]
    assert rows == [
        ["1", "dev.bronze.sales @v0", "dev.gold.totals @v0", "shop.totals"],
        ["2", "landing:sales", "dev.bronze.sales @v0", "shop.sales"],
    ]


def test_downstream_title(shop: Path) -> None:
    r = ok(prodml_main("lineage", "landing:sales", "--downstream", cwd=shop))
    assert r.out.splitlines()[0].strip() == "downstream of landing:sales"


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("gold.total", ("unknown table 'gold.total'", "did you mean 'gold.totals'?")),
        ("landing:sale", ("unknown lineage node 'landing:sale'", "did you mean 'landing:sales'?")),
        ("model:clf/1", ("unknown lineage node 'model:clf/1'", "landing:sales")),
    ],
)
def test_unknown_nodes(shop: Path, name: str, needles: tuple[str, ...]) -> None:
    r = prodml_main("lineage", name, cwd=shop)
    assert_clean_error(r, *needles)
    assert r.code == 2 and r.out == ""


@pytest.mark.parametrize("depth", ["0", "1001"])
def test_depth_out_of_range(shop: Path, depth: str) -> None:
    r = prodml_main("lineage", "gold.totals", "--depth", depth, cwd=shop)
    assert_usage_error(r, "Invalid value for '--depth'")


def test_label() -> None:
    assert _label("landing:sales", None) == "landing:sales"
    assert _label("dev.gold.totals", 0) == "dev.gold.totals @v0"
