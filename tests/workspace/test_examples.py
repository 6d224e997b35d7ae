"""The façade's example platforms: a new platform (empty or the retail example) and more
landing days for the example, with drift when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

import prodml
from prodml.errors import UsageError
from prodml.workspace import init_platform


def test_an_empty_platform_opens(tmp_path: Path) -> None:
    written = init_platform(tmp_path / "empty")
    assert "prodml.yaml" in {Path(f).name for f in written}
    with prodml.connect(tmp_path / "empty") as ws:
        assert ws.env == "dev" and not ws.products


def test_the_example_gets_its_next_days(tmp_path: Path) -> None:
    init_platform(tmp_path / "demo", example="retail", days=3)
    landing = tmp_path / "demo" / "landing"
    before = {p.name for p in (landing / "orders").iterdir()}
    with prodml.connect(tmp_path / "demo") as ws:
        added = ws.add_example_days(2)
        drifted = ws.add_example_days(1, drift=True)
    after = {p.name for p in (landing / "orders").iterdir()}
    assert len(before) == 3 and len(added) == 2 and len(drifted) == 1
    assert (added[1] - added[0]).days == 1 and (drifted[0] - added[1]).days == 1
    assert after - before == {f"batch_date={d.isoformat()}" for d in [*added, *drifted]}


def test_days_on_a_platform_that_is_not_the_example(shop: Path) -> None:
    with prodml.connect(shop) as ws, pytest.raises(UsageError, match="--example retail"):
        ws.add_example_days(1)
