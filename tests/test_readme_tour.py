"""The README's tour at 80 columns gives the outputs recorded in ``tests/golden/tour``.

Regenerate them (after a deliberate change of output) with ``python -m tests.tour DIR``. The
tour takes minutes in one chain of subprocesses, so the default run leaves it out (marker
``tour``); ``python -m pytest -m tour`` runs it, and ``.ci/run`` does after the suite.
"""

from __future__ import annotations

import difflib

import pytest
from tests.tour import GOLDEN, TOUR, tour_outputs


@pytest.mark.tour
def test_the_tour_prints_what_the_goldens_recorded() -> None:
    outputs = tour_outputs()
    assert list(outputs) == [name for name, _ in TOUR]
    changed = []
    for name, text in outputs.items():
        golden = (GOLDEN / f"{name}.txt").read_text()
        if text != golden:
            diff = difflib.unified_diff(
                golden.splitlines(), text.splitlines(), f"golden/{name}", "now", lineterm=""
            )
            changed.append("\n".join(diff))
    assert not changed, "\n\n".join(changed)
