"""``prodml drift run`` (``prodml.cli.drift``), in process on a table whose amount and channel
shift in the last week: the per-column table and verdict, the HTML report, ``--json`` (without
histograms), and bad windows and names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import ok
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

PIPELINE = """
import numpy as np
import pyarrow as pa
from datetime import date, timedelta
from prodml import step

@step(stage="ingress", outputs="silver.events", partition_by="day")
def events(ctx):
    rng = np.random.default_rng(11)
    parts = []
    for d in range(21):
        shifted = d >= 14
        n = 200
        parts.append(pa.table({
            "day": pa.array([date(2024, 1, 1) + timedelta(days=d)] * n, pa.date32()),
            "amount": rng.normal(30.0 if shifted else 20.0, 5.0, n),
            "steady": rng.normal(0.0, 1.0, n),
            "channel": rng.choice(["web", "mobile", "store"], n,
                                  p=[0.1, 0.8, 0.1] if shifted else [0.5, 0.3, 0.2]),
        }))
    return pa.concat_tables(parts)
"""

CONFIG = """drift:
  tables:
    silver.events: {columns: [amount, steady, channel]}
  current: last:7d
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_platform(tmp_path_factory.mktemp("drift") / "p", {"shop": PIPELINE})
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + CONFIG)
    ok(prodml_main("run", "shop", cwd=root))
    return root


def _cells(out: str) -> dict[str, list[str]]:
    """Table rows by their first cell."""
    rows = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    return {row[0]: row[1:] for row in rows}


def test_a_product_report_flags_the_shifted_columns(platform: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    r = prodml_main("drift", "run", "shop", "--html", str(html), cwd=platform)
    assert r.code == 1  # drift: a CI job running it fails
    assert r.err.endswith("exit 1: drift (--fail-on fail; --fail-on never exits 0)\n")
    rows = _cells(r.out)
    assert {column: row[4] for column, row in rows.items()} == {
        "amount": "DRIFT",
        "steady": "ok",
        "channel": "DRIFT",
    }
    assert rows["amount"][:2] == ["numeric", "wasserstein"]
    assert rows["channel"][:2] == ["categorical", "jensenshannon"]
    title = " ".join(r.out.split("┏")[0].split())
    assert title == (
        "dev.silver.events: current last:7d: 2024-01-15..2024-01-21 (1400 rows) vs reference "
        "before: up to 2024-01-14 (2800 rows)"
    )
    assert r.err.splitlines()[-2] == (
        f"drift in dev.silver.events.amount, dev.silver.events.channel · report: {html}"
    )
    assert html.read_text().lstrip().lower().startswith("<!doctype html")


def test_json_leaves_the_histograms_out(platform: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    report = json.loads(
        ok(
            prodml_main(
                "drift",
                "run",
                "shop",
                "--html",
                str(html),
                "--json",
                "--fail-on",
                "never",
                cwd=platform,
            )
        ).out
    )
    assert (report["target"], report["product"], report["drift"]) == ("shop", "shop", True)
    assert report["drifted_columns"] == [
        "dev.silver.events.amount",
        "dev.silver.events.channel",
    ]
    (table,) = report["tables"]
    assert "histograms" not in table
    assert (table["table"], table["current_rows"], table["reference_rows"]) == (
        "dev.silver.events",
        1400,
        2800,
    )
    assert [c["column"] for c in table["result"]["columns"]] == ["amount", "steady", "channel"]
    assert report["html"] == str(html) and html.exists()


def test_a_table_between_explicit_windows(platform: Path, tmp_path: Path) -> None:
    html = tmp_path / "same.html"
    r = ok(
        prodml_main(
            "drift",
            "run",
            "silver.events",
            "--reference",
            "v0",
            "--current",
            "v0",
            "--html",
            str(html),
            cwd=platform,
        )
    )
    assert {row[4] for row in _cells(r.out).values()} == {"ok"}
    assert r.err.splitlines()[-1] == f"no drift · report: {html}"


def test_date_windows(platform: Path, tmp_path: Path) -> None:
    r = ok(
        prodml_main(
            "drift",
            "run",
            "silver.events",
            "--reference",
            "2024-01-01..2024-01-07",
            "--current",
            "2024-01-08..2024-01-14",
            "--html",
            str(tmp_path / "r.html"),
            "--json",
            cwd=platform,
        )
    )
    (table,) = json.loads(r.out)["tables"]
    assert (table["reference_rows"], table["current_rows"]) == (1400, 1400)
    assert json.loads(r.out)["drift"] is False  # the shift starts on the 15th


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("shopp",), ("unknown product 'shopp'", "did you mean 'shop'?")),
        (("silver.event",), ("unknown table 'silver.event'", "did you mean 'silver.events'?")),
        (
            ("shop", "--reference", "last:x"),
            ("'last:x' is not a reference window", "last:Nd"),
        ),
        (("shop", "--current", "before"), ("'before' only makes sense as the reference window",)),
        (("shop", "--current", "v9"), ("has no version 9", "'prodml tables history")),
        (
            ("shop", "--reference", "2024-01-07..2024-01-01"),
            ("reference window '2024-01-07..2024-01-01'", "starts after it ends"),
        ),
    ],
)
def test_bad_targets_and_windows(
    platform: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    r = prodml_main("drift", "run", *args, cwd=platform)
    assert_clean_error(r, *needles)
    assert r.out == ""


def test_a_product_that_watches_nothing(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    r = prodml_main("drift", "run", "shop", cwd=root)
    assert_clean_error(r, "watches no tables")


def test_a_watched_table_not_built_yet(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    (root / "products" / "shop" / "product.yaml").write_text(PRODUCT.format(name="shop") + CONFIG)
    r = prodml_main("drift", "run", "shop", cwd=root)
    assert_clean_error(r, "unknown table 'silver.events'")
