"""``prodml examples add-days`` (``prodml.cli.examples``), in process on a one-day retail example:
the next daily batches, deterministic data, ``--drift``, and bad values."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, ok
from tests.helpers import prodml_main

SOURCES = ("customers/customers.json", "orders/orders.csv", "order_lines/order_lines.csv")


def _retail(root: Path) -> Path:
    ok(prodml_main("init", str(root), "--example", "retail", "--days", "1"))
    return root


def _batch(root: Path, source: str, day: str) -> Path:
    folder, name = source.split("/")
    return root / "landing" / folder / f"batch_date={day}" / name


def test_add_days_writes_the_next_batches_of_every_source(tmp_path: Path) -> None:
    root = _retail(tmp_path / "demo")
    r = ok(prodml_main("examples", "add-days", "--days", "2", cwd=root))
    assert (r.out, r.err) == ("", "added batch(es) 2024-01-02, 2024-01-03\n")
    for source in SOURCES:
        for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
            assert _batch(root, source, day).stat().st_size > 0, (source, day)
    again = ok(prodml_main("examples", "add-days", cwd=root))  # one day by default
    assert again.err == "added batch(es) 2024-01-04\n"


def test_batches_are_the_same_on_every_platform_and_drift_changes_them(tmp_path: Path) -> None:
    plain, twin, drifted = (_retail(tmp_path / n) for n in ("plain", "twin", "drifted"))
    ok(prodml_main("examples", "add-days", cwd=plain))
    ok(prodml_main("examples", "add-days", cwd=twin))
    ok(prodml_main("examples", "add-days", "--drift", cwd=drifted))
    for source in SOURCES:
        same = _batch(plain, source, "2024-01-02"), _batch(twin, source, "2024-01-02")
        assert filecmp.cmp(*same, shallow=False), source
    for source in ("orders/orders.csv", "order_lines/order_lines.csv"):  # prices, channels
        other = _batch(plain, source, "2024-01-02"), _batch(drifted, source, "2024-01-02")
        assert not filecmp.cmp(*other, shallow=False), source


@pytest.mark.parametrize("days", ["0", "3651", "two"])
def test_days_out_of_range(tmp_path: Path, days: str) -> None:
    root = _retail(tmp_path / "demo")
    r = prodml_main("examples", "add-days", "--days", days, cwd=root)
    assert_usage_error(r, "Invalid value for '--days'")
    assert not (root / "landing" / "orders" / "batch_date=2024-01-02").exists()
