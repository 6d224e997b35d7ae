"""All terminal output: Rich tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

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


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table."""
    from rich.table import Table

    t = Table(title=title, title_justify="left", header_style="bold")
    for i, col in enumerate(columns):
        t.add_column(col, no_wrap=i < 2)
    for row in rows:
        t.add_row(*("" if v is None else _fmt(v) for v in row))
    out().print(t)


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def fields(title: str, items: Sequence[tuple[str, Any]]) -> None:
    """Print key/value pairs."""
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    for key, value in items:
        t.add_row(key, "" if value is None else _fmt(value))
    out().print(t)


def error(message: str) -> None:
    """Print one red error line to stderr."""
    from rich.markup import escape

    err().print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    """Print a line to stderr (progress and notes, never data)."""
    err().print(message, soft_wrap=True)


@contextmanager
def progress(total: int, enabled: bool) -> Iterator[Callable[[str, bool], None]]:
    """A progress bar over ``total`` steps; yields ``update(description, advance)``."""
    if not enabled:
        yield lambda _desc, _adv: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=total)

        def update(description: str, advance: bool) -> None:
            bar.update(task, description=description, advance=1 if advance else 0)

        yield update
