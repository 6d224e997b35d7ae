"""All terminal output: tables and key/value lists for people (boxed in a terminal, plain in
a pipe, TSV for tools), JSON for scripts, one-line errors.

A listing never cuts an id, a number or a name. In a terminal a table gets the width it needs:
free-text columns wrap at word boundaries down to their longest word; when even that does not
fit, the rows print one record per block. ``--columns`` picks columns, ``--format`` picks the
layout (``PRODML_FORMAT`` sets its default).
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console


def emit_json(data: Any) -> None:
    """Write ``data`` (any result, see ``prodml.serialize``) as JSON to stdout."""
    from prodml.serialize import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(data), indent=2) + "\n")


def out() -> Console:
    """The stdout console."""
    from rich.console import Console

    return Console(highlight=False)


def err() -> Console:
    """The stderr console."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class Format(StrEnum):
    """How listings print: ``table`` (boxed, fitted to the terminal), ``plain`` (aligned
    columns, nothing wrapped: the default in a pipe), ``tsv`` (tab-separated, a header line) and
    ``json``."""

    table = "table"
    plain = "plain"
    tsv = "tsv"
    json = "json"


@dataclass(frozen=True)
class Output:
    """The layout chosen for this command's listings (``None``: from the terminal)."""

    format: Format | None = None
    columns: tuple[str, ...] = ()


_output: ContextVar[Output | None] = ContextVar("prodml_output", default=None)


def _current() -> Output:
    return _output.get() or Output()


FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        case_sensitive=False,
        help="table | plain | tsv | json (default: $PRODML_FORMAT, else table in a terminal, "
        "plain in a pipe). --json is --format json.",
    ),
]
ColumnsOption = Annotated[
    str | None,
    typer.Option("--columns", help="Only these columns of the listing, in this order: a,b,c."),
]

F = TypeVar("F", bound=Callable[..., Any])


def listing(func: F) -> F:
    """Give a command that prints listings the ``--format`` and ``--columns`` options.

    ``--format json`` reaches the command as its ``json`` flag; every table and key/value list
    it prints follows the chosen layout.
    """
    signature = inspect.signature(func, eval_str=True)
    extra = [
        inspect.Parameter(
            "format", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=FormatOption
        ),
        inspect.Parameter(
            "columns", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ColumnsOption
        ),
    ]

    @functools.wraps(func)
    def command(
        *args: Any, format: Format | None = None, columns: str | None = None, **kwargs: Any
    ) -> Any:
        chosen = choose(format, bool(kwargs.get("json")))
        if "json" in kwargs:
            kwargs["json"] = chosen is Format.json
        picked = tuple(c.strip() for c in (columns or "").split(",") if c.strip())
        token = _output.set(Output(chosen, picked))
        try:
            return func(*args, **kwargs)
        finally:
            _output.reset(token)

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    command.__dict__["prodml_listing"] = True
    return command  # type: ignore[return-value]


def choose(explicit: Format | None, json_flag: bool) -> Format:
    """The layout: ``--format``, else ``--json``, else ``$PRODML_FORMAT``, else by terminal."""
    from prodml.errors import UsageError

    if json_flag and explicit not in (None, Format.json):
        raise UsageError(f"--json and --format {explicit.value} disagree", hint="give one of them")
    if explicit is not None:
        return explicit
    if json_flag:
        return Format.json
    env = os.environ.get("PRODML_FORMAT", "").strip().lower()
    if env:
        try:
            return Format(env)
        except ValueError:
            raise UsageError(
                f"PRODML_FORMAT={env!r} is not a format",
                hint="set it to one of table, plain, tsv, json (or unset it)",
            ) from None
    return Format.table if _isatty() else Format.plain


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _layout() -> Format:
    chosen = _current().format
    return chosen if chosen is not None else choose(None, False)


def width() -> int:
    """The terminal's width (``$COLUMNS`` wins, 80 when unknown)."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    optional: Sequence[str] = (),
) -> None:
    """Print a table in the chosen layout; no id, number or name is ever cut.

    ``optional`` names low-value columns a terminal too narrow for them hides first (in that
    order, with a note on stderr), before the table falls back to one record per block.
    """
    columns, rows = _pick(list(columns), rows)
    if _layout() is Format.table and not _current().columns:
        columns, rows = _fit(title, columns, rows, optional)
    cells = [[_cell(v) for v in row] for row in rows]
    kinds = [_is_atom(rows, i) for i in range(len(columns))]
    numeric = [
        bool(rows) and all(_is_number(r[i]) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]
    layout = _layout()
    if layout is Format.json:  # a command without a JSON form of its own
        emit_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif layout is Format.tsv:
        sys.stdout.write("".join(_tsv(r) + "\n" for r in [columns, *cells]))
    elif layout is Format.plain:
        _write(([title] if title else []) + _plain(columns, cells, numeric))
    else:
        _write(_boxed(title, columns, cells, kinds, numeric, width()))


def _fit(
    title: str | None, columns: list[str], rows: list[list[Any]], optional: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    """Hide optional columns, in order, until the table's least width fits the terminal (none
    if it does not fit even without them: one record per block has room for every column)."""
    room, hidden, full = width(), [], (columns, rows)
    for name in optional:
        if name not in columns or _least_width(columns, rows) <= room:
            break
        i = columns.index(name)
        columns = columns[:i] + columns[i + 1 :]
        rows = [r[:i] + r[i + 1 :] for r in rows]
        hidden.append(name)
    if hidden and _least_width(columns, rows) > room:
        return full
    if hidden:
        info(
            f"({', '.join(hidden)} hidden to fit {room} columns; --format plain or --columns "
            "shows every column)"
        )
    return columns, rows


def _least_width(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    cells = [[_cell(v) for v in row] for row in rows]
    atoms = [_is_atom(rows, i) for i in range(len(columns))]
    return sum(_widths(columns, cells, atoms)[1]) + 3 * len(columns) + 1


def _pick(columns: list[str], rows: Sequence[Sequence[Any]]) -> tuple[list[str], list[list[Any]]]:
    wanted = _current().columns
    if not wanted:
        return columns, [list(r) for r in rows]
    from prodml.errors import UsageError

    def key(name: str) -> str:
        return name.lower().replace(" ", "_").replace("-", "_")

    index = {key(c): i for i, c in enumerate(columns)}
    unknown = [w for w in wanted if key(w) not in index]
    if unknown:
        raise UsageError(
            f"--columns: no column {', '.join(map(repr, unknown))} in this listing",
            hint="its columns are " + ", ".join(columns),
        )
    picked = [index[key(w)] for w in wanted]
    return [columns[i] for i in picked], [[r[i] for i in picked] for r in rows]


def fields(title: str, items: Sequence[tuple[str, Any]]) -> None:
    """Print key/value pairs (a value wraps at word boundaries, never inside a word)."""
    layout = _layout()
    pairs = [(k, _cell(v)) for k, v in items]
    if layout is Format.json:
        emit_json(dict(pairs))
        return
    if layout is Format.tsv:
        sys.stdout.write("".join(_tsv([k, v]) + "\n" for k, v in pairs))
        return
    pad = max((len(k) for k, _ in pairs), default=0)
    lines = [title]
    room = width() - pad - 3
    for k, v in pairs:
        wrapped = [" ".join(v.split())] if layout is Format.plain else _wrap(v, room)
        lines.append(f" {k.ljust(pad)}  {wrapped[0]}".rstrip())
        lines.extend(f" {'':{pad}}  {more}" for more in wrapped[1:])
    _write(lines)


def _write(lines: Sequence[str]) -> None:
    sys.stdout.write("".join(line.rstrip() + "\n" for line in lines))


def _cell(value: Any) -> str:
    return "" if value is None else _fmt(value)


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text} {value.tzname() or ''}".rstrip() if value.tzinfo else text
    if isinstance(value, timedelta):
        return duration(value.total_seconds())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def number(value: float) -> str:
    """A float to a sensible precision: 3 decimals from 1 up (thousands separated, trailing
    zeros dropped), 3 significant digits below 1."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def seconds(value: float | None) -> str | None:
    """A measured time in seconds, to the hundredth (a column of them keeps one width)."""
    return None if value is None else f"{value:,.2f}"


def duration(total: float) -> str:
    """``90`` → ``1m 30s``; ``86400`` → ``1d``; under a minute as seconds."""
    if total < 60:
        return number(total) + "s"
    parts: list[str] = []
    rest = round(total)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_atom(rows: Sequence[Sequence[Any]], i: int) -> bool:
    """A column whose cells are single words (ids, numbers, names, dates): never wrapped (a
    timestamp may break between its date and its time)."""
    for row in rows:
        value = row[i]
        if value is None or isinstance(value, int | float | timedelta):
            continue
        if isinstance(value, date) and not isinstance(value, datetime):
            continue
        if any(ch.isspace() for ch in str(value)):
            return False
    return True


def _tsv(cells: Sequence[str]) -> str:
    return "\t".join(" ".join(c.split()) if ("\t" in c or "\n" in c) else c for c in cells)


def _plain(
    columns: Sequence[str], cells: Sequence[Sequence[str]], numeric: list[bool]
) -> list[str]:
    flat = [[" ".join(c.split()) if "\n" in c else c for c in row] for row in cells]
    widths = [max([len(c), *(len(r[i]) for r in flat)]) for i, c in enumerate(columns)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(row, widths, numeric, strict=True)
        )

    return [line(columns), *(line(r) for r in flat)]


def _wrap(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` characters, broken only between words (a longer
    word gets a line of its own, whole)."""
    out: list[str] = []
    for paragraph in text.split("\n") or [""]:
        out.extend(
            textwrap.wrap(paragraph, max(1, room), break_long_words=False, break_on_hyphens=False)
            or [""]
        )
    return out or [""]


def _boxed(
    title: str | None,
    columns: Sequence[str],
    cells: Sequence[Sequence[str]],
    atoms: Sequence[bool],
    numeric: Sequence[bool],
    room: int,
) -> list[str]:
    """A box table fitted to ``room`` columns, or one record per block if it cannot fit."""
    n = len(columns)
    natural, least = _widths(columns, cells, atoms)
    frame = 3 * n + 1
    if sum(natural) + frame <= room:
        widths = natural
    elif sum(least) + frame <= room:
        widths = _fill(least, natural, room - frame)
    else:
        return _vertical(title, columns, cells, room)
    head = [_wrap(c, w) for c, w in zip(columns, widths, strict=True)]
    lines = [title] if title else []
    lines.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    lines.extend(_row(head, widths, "┃", [False] * n))
    lines.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    for r in cells:
        lines.extend(
            _row([_wrap(c, w) for c, w in zip(r, widths, strict=True)], widths, "│", numeric)
        )
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return lines


def _widths(
    columns: Sequence[str], cells: Sequence[Sequence[str]], atoms: Sequence[bool]
) -> tuple[list[int], list[int]]:
    """Each column's natural width (its longest line) and least width (its longest word, or
    its longest cell and its header for a column that never wraps)."""
    natural, least = [], []
    for i, name in enumerate(columns):
        lines = [line for r in cells for line in r[i].split("\n")]
        natural.append(max([len(name), *map(len, lines)]))
        if atoms[i]:  # neither its cells nor its header wrap
            least.append(max([1, len(name), *map(len, lines)]))
        else:
            words = [w for line in lines for w in line.split()]
            least.append(max([1, *(len(w) for w in name.split()), *map(len, words)]))
    return natural, least


def _fill(least: list[int], natural: list[int], room: int) -> list[int]:
    """Share ``room`` out: every column its least width, the rest to columns that want more,
    one character at a time to the one furthest from its natural width."""
    widths = list(least)
    spare = room - sum(widths)
    while spare > 0:
        wanting = [i for i in range(len(widths)) if widths[i] < natural[i]]
        if not wanting:
            break
        i = max(wanting, key=lambda j: natural[j] - widths[j])
        widths[i] += 1
        spare -= 1
    return widths


def _row(
    wrapped: list[list[str]], widths: Sequence[int], bar: str, numeric: Sequence[bool]
) -> list[str]:
    height = max(len(w) for w in wrapped)
    out = []
    for k in range(height):
        parts = []
        for lines, w, num in zip(wrapped, widths, numeric, strict=True):
            text = lines[k] if k < len(lines) else ""
            parts.append(" " + (text.rjust(w) if num else text.ljust(w)) + " ")
        out.append(bar + bar.join(parts) + bar)
    return out


def _vertical(
    title: str | None, columns: Sequence[str], cells: Sequence[Sequence[str]], room: int
) -> list[str]:
    """One record per block: ``name  value`` lines, values wrapped between words."""
    pad = max(len(c) for c in columns)
    lines = [
        f"{title} (one record per block: too wide for {room} columns)"
        if title
        else f"(one record per block: too wide for {room} columns)"
    ]
    if not cells:
        lines.append("(no rows)")
    for k, r in enumerate(cells, 1):
        lines.append(f"── {k}/{len(cells)} " + "─" * max(0, min(room, 40) - 6 - len(str(k)) * 2))
        for c, v in zip(columns, r, strict=True):
            wrapped = _wrap(v, room - pad - 3)
            lines.append(f" {c.ljust(pad)}  {wrapped[0]}")
            lines.extend(f" {'':{pad}}  {more}" for more in wrapped[1:])
    return lines


def error(message: str) -> None:
    """Print one red error line to stderr."""
    from rich.markup import escape

    err().print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    """Print a line to stderr (progress and notes, never data)."""
    err().print(message, soft_wrap=True)


class StepDisplay:
    """A run's steps as they go: ``step k/N name`` and its elapsed time while a step runs (in a
    terminal, redrawn in place), and one line per finished step that stays."""

    def __init__(self, bar: Any = None) -> None:
        self._bar, self._task = bar, None
        self.total, self.done, self._current = 0, 0, ""

    def started(self, total: int) -> None:
        self.total = total

    def step(self, name: str) -> None:
        self._current = name
        if self._bar is not None:
            label = f"step {self.done + 1}/{self.total} {name}"
            if self._task is None:
                self._task = self._bar.add_task(label, total=None)
            else:
                self._bar.reset(self._task, description=label)

    def finished(self, name: str, status: str, note: str) -> None:
        self.done += 1
        line = f"  {status:<9} {self.done}/{self.total} {name}  {note}".rstrip()
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            info(line)


@contextmanager
def steps(live: bool) -> Iterator[StepDisplay]:
    """A ``StepDisplay``: redrawn in place when ``live`` (stderr is a terminal), else lines."""
    if not live:
        yield StepDisplay()
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    ) as bar:
        yield StepDisplay(bar)
