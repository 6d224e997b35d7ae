"""``prodml.drift.windows``: the window SPECs (vN, START..END, last:Nd, before, all) parsed or
refused with the forms listed, and the dates both windows cover."""

from __future__ import annotations

from datetime import date

import pytest

from prodml.drift.windows import FORMS, Window, bounds, parse
from prodml.errors import UsageError

NEWEST = date(2024, 1, 21)


def refused(spec: str, what: str = "current") -> UsageError:
    with pytest.raises(UsageError) as info:
        parse(spec, what)
    return info.value


@pytest.mark.parametrize(
    ("spec", "window"),
    [
        ("all", Window("all", "all")),
        (" all ", Window("all", "all")),
        ("v0", Window("v0", "version", version=0)),
        ("v17", Window("v17", "version", version=17)),
        ("last:7d", Window("last:7d", "last", days=7)),
        ("last:1d", Window("last:1d", "last", days=1)),
        (
            "2024-01-01..2024-01-31",
            Window(
                "2024-01-01..2024-01-31", "range", start=date(2024, 1, 1), end=date(2024, 1, 31)
            ),
        ),
        ("..2024-01-10", Window("..2024-01-10", "range", end=date(2024, 1, 10))),
        ("2024-01-11..", Window("2024-01-11..", "range", start=date(2024, 1, 11))),
        (
            "2024-02-29..2024-02-29",
            Window(
                "2024-02-29..2024-02-29", "range", start=date(2024, 2, 29), end=date(2024, 2, 29)
            ),
        ),
    ],
)
def test_parse_forms(spec: str, window: Window) -> None:
    assert parse(spec, "current") == window


def test_before_is_for_the_reference_only() -> None:
    assert parse("before", "reference") == Window("before", "before")
    err = refused("before", "current")
    assert err.message == "'before' only makes sense as the reference window"
    assert err.hint == f"forms: {FORMS}"


@pytest.mark.parametrize(
    ("kind", "timed"),
    [("version", False), ("all", False), ("range", True), ("last", True), ("before", True)],
)
def test_timed_windows_cut_on_the_time_column(kind: str, timed: bool) -> None:
    assert Window("x", kind).timed is timed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "what", "message"),
    [
        ("last:0d", "current", "current window 'last:0d': the window needs at least one day"),
        (
            "2024-02-01..2024-01-01",
            "current",
            "current window '2024-02-01..2024-01-01': the range starts after it ends",
        ),
        ("..", "reference", "reference window '..': give at least one end of the range"),
    ],
)
def test_impossible_windows_say_why(spec: str, what: str, message: str) -> None:
    assert refused(spec, what).message == message


def test_an_invalid_date_says_which_and_lists_the_forms() -> None:
    err = refused("2024-02-30..2024-03-01", "reference")
    assert err.message.startswith("reference window '2024-02-30..2024-03-01': ")
    assert "day is out of range for month" in err.message
    assert err.hint == f"forms: {FORMS}"


@pytest.mark.parametrize(
    "spec",
    ["", "7d", "last:7", "last:7w", "v", "v-1", "V3", "2024-01-01", "2024-1-1..2024-1-2", "latest"],
)
def test_anything_else_is_not_a_window(spec: str) -> None:
    err = refused(spec)
    assert err.message == f"{spec!r} is not a current window"
    assert err.hint == f"forms: {FORMS}"


def test_forms_name_every_spec() -> None:
    for form in ("vN", "YYYY-MM-DD..YYYY-MM-DD", "last:Nd", "before", "all"):
        assert form in FORMS


def test_bounds_of_last_days_count_back_from_the_newest_date() -> None:
    cur, ref = bounds(parse("last:7d", "current"), parse("before", "reference"), NEWEST)
    assert cur == (date(2024, 1, 15), date(2024, 1, 21))
    assert ref == (None, date(2024, 1, 14))  # every day before the current window


def test_bounds_of_one_day() -> None:
    cur, _ = bounds(parse("last:1d", "current"), parse("all", "reference"), NEWEST)
    assert cur == (NEWEST, NEWEST)


def test_bounds_of_ranges_are_their_ends() -> None:
    cur, ref = bounds(parse("2024-01-11..", "current"), parse("..2024-01-10", "reference"), None)
    assert cur == (date(2024, 1, 11), None) and ref == (None, date(2024, 1, 10))


def test_bounds_of_versions_and_all_are_open() -> None:
    cur, ref = bounds(parse("all", "current"), parse("v3", "reference"), NEWEST)
    assert cur == (None, None) and ref == (None, None)


def test_before_a_range_ends_the_day_before_it_starts() -> None:
    _, ref = bounds(parse("2024-03-01..2024-03-07", "current"), parse("before", "reference"), None)
    assert ref == (None, date(2024, 2, 29))


@pytest.mark.parametrize("current", ["all", "v2", "..2024-01-10"])
def test_before_needs_a_current_window_with_a_start(current: str) -> None:
    with pytest.raises(UsageError) as info:
        bounds(parse(current, "current"), parse("before", "reference"), NEWEST)
    assert "the reference window 'before' needs a current window with a start" in info.value.message
    assert "(last:Nd or START..END)" in info.value.message
    assert info.value.hint == f"forms: {FORMS}"


def test_last_days_of_a_table_without_dates() -> None:
    with pytest.raises(UsageError, match="last:7d: the table has no dates to count back from"):
        bounds(parse("last:7d", "current"), parse("all", "reference"), None)
    with pytest.raises(UsageError, match="last:3d: the table has no dates"):
        bounds(parse("all", "current"), parse("last:3d", "reference"), None)
