"""The one table each script prints (a Markdown pipe table to paste into an issue note), and
the number formats of its cells."""

from __future__ import annotations


def fmt_seconds(x: float | None) -> str:
    """Seconds with 3 decimals (4 significant digits below 10 ms); ``—`` for missing."""
    if x is None:
        return "—"
    return f"{x:.3f}" if abs(x) >= 0.01 else f"{x:.4g}"


def fmt_mb(x: float | None) -> str:
    """Megabytes with one decimal; ``—`` for missing."""
    return "—" if x is None else f"{x:.1f}"


def fmt_ms(x: float | None, *, scale: float = 1.0, digits: int = 3) -> str:
    """Milliseconds (``x * scale``) with ``digits`` decimals; ``—`` for missing."""
    return "—" if x is None else f"{x * scale:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` formatted as e.g. ``3.21x``; ``n/a`` when either side is missing or b is 0."""
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def size_label(n: int) -> str:
    """A row count as ``20k``, ``1M``, ``2.5M`` (exact counts below 1000 or off the k grid)."""
    if n >= 1_000_000:
        return f"{n / 1e6:g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_seconds(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _numeric(values: list[str]) -> bool:
    vals = [v for v in values if v not in ("—", "n/a", "")]
    return bool(vals) and all(
        v.rstrip("x%").replace(".", "", 1).lstrip("-").isdigit() for v in vals
    )


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """Print an aligned Markdown pipe table under a ``### title`` line.

    Floats are formatted as seconds (:func:`fmt_seconds`); pass strings for anything else.
    Numeric-looking columns are right-aligned.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    for row in cells:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} cells, expected {len(columns)}: {row}")
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    right = [_numeric([r[i] for r in cells]) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right, strict=True)
    )
    print()
    print(f"### {title}")
    print()
    print(line(columns))
    print(sep + "|")
    for row in cells:
        print(line(row))
    print(flush=True)
