"""Which rows are compared: a table version, a date range, or a window of the newest days.

SPEC forms (``--reference`` / ``--current``):

* ``v7`` — version 7 of the table, all rows;
* ``2024-01-01..2024-01-31`` — rows whose time column is in the range (inclusive; either end may
  be left open: ``..2024-01-31``);
* ``last:7d`` — the newest 7 days of the time column;
* ``before`` (reference only) — every day before the current window;
* ``all`` — every row of the current version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from prodml.errors import UsageError

FORMS = "vN, YYYY-MM-DD..YYYY-MM-DD, last:Nd, before (reference only), all"
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})?\.\.(\d{4}-\d{2}-\d{2})?$")


@dataclass(frozen=True)
class Window:
    """A parsed SPEC."""

    spec: str
    kind: Literal["version", "range", "last", "before", "all"]
    version: int | None = None
    start: date | None = None
    end: date | None = None
    days: int | None = None

    @property
    def timed(self) -> bool:
        """Whether the window cuts on the time column."""
        return self.kind in ("range", "last", "before")


def parse(spec: str, what: str) -> Window:
    """Parse a SPEC; a ``UsageError`` naming the forms when it is not one."""
    text = spec.strip()
    if text == "all":
        return Window(text, "all")
    if text == "before":
        if what != "reference":
            raise UsageError(
                "'before' only makes sense as the reference window", hint=f"forms: {FORMS}"
            )
        return Window(text, "before")
    if m := re.fullmatch(r"v(\d+)", text):
        return Window(text, "version", version=int(m.group(1)))
    if m := re.fullmatch(r"last:(\d+)d", text):
        days = int(m.group(1))
        if days < 1:
            raise UsageError(f"{what} window {spec!r}: the window needs at least one day")
        return Window(text, "last", days=days)
    if m := _RANGE.fullmatch(text):
        try:
            start = date.fromisoformat(m.group(1)) if m.group(1) else None
            end = date.fromisoformat(m.group(2)) if m.group(2) else None
        except ValueError as exc:
            raise UsageError(f"{what} window {spec!r}: {exc}", hint=f"forms: {FORMS}") from None
        if start and end and start > end:
            raise UsageError(f"{what} window {spec!r}: the range starts after it ends")
        if not start and not end:
            raise UsageError(f"{what} window {spec!r}: give at least one end of the range")
        return Window(text, "range", start=start, end=end)
    raise UsageError(f"{spec!r} is not a {what} window", hint=f"forms: {FORMS}")


def bounds(
    current: Window, reference: Window, newest: date | None
) -> tuple[tuple[date | None, date | None], tuple[date | None, date | None]]:
    """The (start, end) dates of both windows (None: open); ``newest`` is the newest date of
    the time column in the current version."""

    def of(
        w: Window, cur: tuple[date | None, date | None] | None
    ) -> tuple[date | None, date | None]:
        if w.kind == "range":
            return w.start, w.end
        if w.kind == "last":
            if newest is None:
                raise UsageError(f"{w.spec}: the table has no dates to count back from")
            assert w.days is not None
            return newest - timedelta(days=w.days - 1), newest
        if w.kind == "before":
            if cur is None or cur[0] is None:
                raise UsageError(
                    "the reference window 'before' needs a current window with a start "
                    "(last:Nd or START..END)",
                    hint=f"forms: {FORMS}",
                )
            return None, cur[0] - timedelta(days=1)
        return None, None

    cur = of(current, None)
    return cur, of(reference, cur)
