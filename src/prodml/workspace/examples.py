"""The façade's example platforms: new platforms, and more landing data for the example."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prodml.workspace.wiring import Wiring


def init_platform(directory: Path, *, example: str | None = None, days: int = 60) -> list[str]:
    """Create a platform directory (optionally the retail example with ``days`` of landing
    data); returns the files written."""
    from prodml.examples.scaffold import create

    return create(directory, example=example, days=days)


class ExampleMethods:
    """The example platform's data generator."""

    _w: Wiring

    def add_example_days(self, days: int = 1, *, drift: bool = False) -> list[date]:
        """Write the next daily batches of the retail example into the landing directory
        (``drift`` shifts prices, quantities and channels)."""
        from prodml.examples.scaffold import add_days

        return add_days(self._w.landing_dir, days, drift=drift)
