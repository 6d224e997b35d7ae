"""Answers that disagree: the error a check raises and the report a script ends with."""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: the exit status of a script whose answers disagree (with the peer, or with the truth)
EXIT_DISAGREEMENT = 3


class WrongAnswerError(RuntimeError):
    """A tool's answer disagrees with the truth, with the peer's, or with itself; or a run did
    not do what it should have."""


def report_problems(problems: Sequence[str], title: str = "DISAGREEMENT") -> int:
    """Print the disagreements to stderr; the exit status (3 when there are any, else 0)."""
    if not problems:
        return 0
    print(f"\n{title} ({len(problems)}):", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return EXIT_DISAGREEMENT
