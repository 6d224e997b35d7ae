"""``prodml quality check`` and ``report`` (``prodml.cli.quality``), in process: verdicts as a
table and ``--json``, exit 1 when a ``fail`` rule fails, the results history, and bad targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, copy_platform, ok
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

from prodml.cli.quality import _verdict

PIPELINE = """
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.orders")
def orders(ctx):
    return pa.table({
        "order_id": ["o1", "o2", "o2", None, "o5"],
        "amount": [10.0, 20.0, 20.0, 5.0, 7.0],
        "status": ["placed", "placed", "placed", "placed", "lost"],
    })

@step(stage="ingress", inputs=["bronze.orders"], outputs="silver.orders")
def clean(ctx, orders):
    return ctx.sql("SELECT * FROM orders")
"""

TABLES = """tables:
  silver.orders:
    expectations:
      - {{rule: not_null, column: order_id, action: quarantine}}
      - {{rule: unique, columns: [order_id], action: drop}}
      - {{rule: allowed_values, column: status, values: [placed, shipped], action: warn}}
      - {{rule: row_count, min: {min_rows}, action: fail}}
"""


def _configure(root: Path, min_rows: int) -> None:
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop") + TABLES.format(min_rows=min_rows)
    )


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shop run once: silver.orders keeps o1, o2 and o5 (one duplicate dropped, one row without
    an id quarantined); o5's status 'lost' fails a warn rule."""
    root = make_platform(tmp_path_factory.mktemp("quality") / "p", {"shop": PIPELINE})
    _configure(root, min_rows=1)
    ok(prodml_main("run", "shop", cwd=root))
    return root


def _rows(out: str) -> dict[str, list[str]]:
    cells = [
        [c.strip() for c in ln.split("│")[1:-1]] for ln in out.splitlines() if ln.startswith("│")
    ]
    return {row[0]: row[1:] for row in cells}


def test_check_prints_a_verdict_per_rule_and_passes_on_warnings(platform: Path) -> None:
    r = ok(prodml_main("quality", "check", "silver.orders", cwd=platform))
    assert r.out.splitlines()[0].strip() == "dev.silver.orders v0 (3 rows)"
    assert {rule: row[:3] for rule, row in _rows(r.out).items()} == {
        "not_null_order_id": ["quarantine", "pass", "0"],
        "unique_order_id": ["drop", "pass", "0"],
        "allowed_values_status": ["warn", "FAIL", "1"],
        "row_count": ["fail", "pass", ""],
    }
    assert _rows(r.out)["allowed_values_status"][-1] == "lost"  # the failing value


def test_check_json(platform: Path) -> None:
    (item,) = json.loads(
        ok(prodml_main("quality", "check", "silver.orders", "--json", cwd=platform)).out
    )
    assert (item["table"], item["version"], item["rows"]) == ("dev.silver.orders", 0, 3)
    by_rule = {r["rule"]: r for r in item["results"]}
    assert by_rule["allowed_values_status"]["samples"] == ["lost"]
    assert by_rule["allowed_values_status"]["message"] == "1 of 3 rows fail"
    assert by_rule["row_count"]["observed"] == 3.0 and by_rule["row_count"]["passed"] is True


def test_check_a_product_checks_its_tables(platform: Path) -> None:
    checked = json.loads(ok(prodml_main("quality", "check", "shop", "--json", cwd=platform)).out)
    assert [item["table"] for item in checked] == ["dev.silver.orders"]


def test_a_failing_fail_rule_exits_1(platform: Path, tmp_path: Path) -> None:
    root = copy_platform(platform, tmp_path / "copy")
    _configure(root, min_rows=100)
    r = prodml_main("quality", "check", "silver.orders", cwd=root)
    assert r.code == 1 and "Traceback" not in r.err
    assert _rows(r.out)["row_count"][:2] == ["fail", "FAIL"]
    assert r.err == (
        "2 rule(s) failed: dev.silver.orders: allowed_values_status (warn), "
        "dev.silver.orders: row_count (fail)\nexit 1: 1 of them at --fail-on fail\n"
    )


@pytest.mark.parametrize(
    ("fail_on", "code", "last"),
    [
        ("warn", 1, "exit 1: 1 of them at --fail-on warn\n"),
        ("fail", 0, "1 rule(s) failed: dev.silver.orders: allowed_values_status (warn)\n"),
        ("never", 0, "1 rule(s) failed: dev.silver.orders: allowed_values_status (warn)\n"),
    ],
)
def test_fail_on_gates_a_ci_job_by_level(
    platform: Path, fail_on: str, code: int, last: str
) -> None:
    """Item 4 of the first-hour issue: a warn rule fails; --fail-on decides the exit code,
    with --json as well."""
    for extra in ((), ("--json",)):
        r = prodml_main(
            "quality", "check", "silver.orders", "--fail-on", fail_on, *extra, cwd=platform
        )
        assert r.code == code, r.err
        assert r.err.endswith(last)


def test_fail_on_a_bad_level(platform: Path) -> None:
    r = prodml_main("quality", "check", "silver.orders", "--fail-on", "error", cwd=platform)
    assert_usage_error(r, "Invalid value for '--fail-on'", "'error' is not one of")


@pytest.mark.parametrize(
    ("target", "needles"),
    [
        ("bronze.orders", ("bronze.orders has no expectations", "dev.silver.orders")),
        ("silver.nope", ("silver.nope has no expectations",)),
        ("gold", ("unknown product 'gold'", "known: shop")),
    ],
)
def test_check_targets_without_expectations(
    platform: Path, target: str, needles: tuple[str, ...]
) -> None:
    r = prodml_main("quality", "check", target, cwd=platform)
    assert_clean_error(r, *needles)
    assert r.code == 2 and r.out == ""


def test_check_a_misspelt_product_suggests_the_product(platform: Path) -> None:
    r = prodml_main("quality", "check", "shopp", cwd=platform)
    assert_clean_error(r, "unknown product 'shopp'", "did you mean 'shop'?")


def test_report_json_is_newest_first_and_limited(platform: Path) -> None:
    rows = json.loads(
        ok(prodml_main("quality", "report", "silver.orders", "--json", cwd=platform)).out
    )
    written = [r for r in rows if r["step"] == "shop.clean"]
    assert {r["rule"]: r["passed"] for r in written} == {
        "not_null_order_id": False,
        "unique_order_id": False,
        "allowed_values_status": False,
        "row_count": True,
        "rows": None,
    }
    assert [r["checked_at"] for r in rows] == sorted((r["checked_at"] for r in rows), reverse=True)
    two = json.loads(
        ok(prodml_main("quality", "report", "--limit", "2", "--json", cwd=platform)).out
    )
    assert len(two) == 2


def test_report_prints_the_results(platform: Path) -> None:
    r = ok(prodml_main("quality", "report", "silver.orders", cwd=platform))
    assert r.out.splitlines()[0].strip() == "data quality results of dev.silver.orders"
    assert "5 in = 3 kept + 1 dropped + 1 quarantined" in r.out
    assert "shop.clean" in r.out and "FAIL" in r.out and "n/a" in r.out


def test_report_keeps_rule_names_whole_at_80_columns(platform: Path) -> None:
    r = ok(prodml_main("quality", "report", "silver.orders", cwd=platform, env={"COLUMNS": "80"}))
    assert max(map(len, r.out.splitlines())) <= 80
    assert "not_null_order_id" in r.out and "allowed_values_status" in r.out
    assert r.err == (
        "(step, action hidden to fit 80 columns; --format plain or --columns shows every column)\n"
    )


def test_report_of_an_unknown_table_is_an_error(platform: Path) -> None:
    """Item 9 of the first-hour issue: a misspelt name is not "no results"."""
    r = prodml_main("quality", "report", "silver.ordrs", cwd=platform)
    assert (r.code, r.out) == (2, "")
    assert r.err == "Error: unknown table 'silver.ordrs' (did you mean 'silver.orders'?)\n"


def test_report_limit_out_of_range(platform: Path) -> None:
    r = prodml_main("quality", "report", "--limit", "0", cwd=platform)
    assert_usage_error(r, "Invalid value for '--limit'")


def test_verdict_words() -> None:
    assert [_verdict(v) for v in (True, False, None)] == ["pass", "FAIL", "n/a"]


def test_a_run_lists_the_expectations_that_failed_without_failing_it(tmp_path: Path) -> None:
    """Item 4 of the first-hour issue: warn-level failures are listed at the end of a run."""
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    _configure(root, min_rows=1)
    r = ok(prodml_main("run", "shop", cwd=root))
    assert r.err.splitlines()[-4:] == [
        "3 expectation(s) failed without failing the run:",
        "  dev.silver.orders: not_null_order_id (quarantine): 1 of 5 rows fail",
        "  dev.silver.orders: unique_order_id (drop): 1 of 5 rows fail",
        "  dev.silver.orders: allowed_values_status (warn): 1 of 5 rows fail",
    ]


def test_a_failed_run_alerts_the_product(tmp_path: Path) -> None:
    """Item 4: a failed run raises an alert through the product's notifier, as DQ does."""
    import threading
    from http.server import HTTPServer

    from tests.drift.test_run import Hook

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = make_platform(tmp_path / "p", {"shop": PIPELINE})
        hook = f"http://127.0.0.1:{server.server_port}/alerts"
        (root / "products" / "shop" / "product.yaml").write_text(
            PRODUCT.format(name="shop")
            + TABLES.format(min_rows=100)
            + f"alerts: {{webhook: '{hook}'}}\n"
        )
        r = prodml_main("run", "shop", cwd=root)
    finally:
        server.shutdown()
    assert r.code == 1
    run = [e for e in Hook.received if e["kind"] == "run"][-1]
    assert run["product"] == "shop" and run["env"] == "dev"
    assert run["summary"].startswith(f"run {run['run_id']} of shop failed: ")
    assert "row_count" in run["summary"]
