"""Every listing of the CLI at 60, 80 and 160 columns and in a pipe (``prodml.cli.console``):
no id, number or name is ever cut, no column is empty, a pipe gets one line per row, and TSV
holds each cell exactly.

The listing commands come from Typer's command tree: every command with ``--json`` must have
``--format`` and ``--columns`` and a case below (a new listing without one fails
``test_every_listing_has_a_case``). Each case runs once, in process, on the retail example (the
A/B commands on a simulated experiment), in an 80-column terminal; the tables and key/value
lists it printed are recorded and rendered again at each width and layout.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.cli.conftest import ok
from tests.cli.test_ab import _platform as ab_platform
from tests.cli.test_ab import _simulate as ab_simulate
from tests.governance.test_every_path import command_paths
from tests.helpers import prodml_cli, prodml_main

from prodml.cli import console

RUN = "RUN"  # replaced by the newest run id of the retail platform

#: (platform, arguments) per listing command, in the order they run (later ones change data)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "plan": ("retail", ("plan", "churn")),
    "models promote": ("retail", ("models", "promote", "churn")),
    "run": ("retail", ("run", "churn")),
    "models list": ("retail", ("models", "list")),
    "models versions": ("retail", ("models", "versions", "churn")),
    "models show": ("retail", ("models", "show", "churn")),
    "models compare": ("retail", ("models", "compare", "churn")),
    "runs list": ("retail", ("runs", "list")),
    "runs show": ("retail", ("runs", "show", RUN)),
    "runs reproduce": ("retail", ("runs", "reproduce", RUN)),
    "products list": ("retail", ("products", "list")),
    "products show": ("retail", ("products", "show", "churn")),
    "tables list": ("retail", ("tables", "list")),
    "tables show": ("retail", ("tables", "show", "silver.orders")),
    "tables history": ("retail", ("tables", "history", "silver.orders")),
    "tables preview": ("retail", ("tables", "preview", "gold.customer_daily", "--limit", "5")),
    "tables check": ("retail", ("tables", "check")),
    "features list": ("retail", ("features", "list")),
    "features show": ("retail", ("features", "show", "features.customer_features")),
    "features publish": ("retail", ("features", "publish")),
    "features online": ("retail", ("features", "online", "churn", "--key", "customer_id=C000050")),
    "lineage": ("retail", ("lineage", "gold.churn_predictions")),
    "quality check": ("retail", ("quality", "check", "retail_core")),
    "quality report": ("retail", ("quality", "report", "silver.orders")),
    "drift run": ("retail", ("drift", "run", "churn")),
    "principals list": ("retail", ("principals", "list")),
    "principals token list": ("retail", ("principals", "token", "list")),
    "grants show": ("retail", ("grants", "show", "table", "dev.silver.orders")),
    "audit": ("retail", ("audit", "--limit", "20")),
    "promote": ("retail", ("promote", "churn", "--from", "dev", "--to", "staging")),
    "tables optimize": ("retail", ("tables", "optimize", "silver.orders")),
    "tables forget": (
        "retail",
        ("tables", "forget", "silver.customers", "--key", "customer_id=C000050"),
    ),
    "tables vacuum": ("retail", ("tables", "vacuum", "--dry-run")),
    "tables retain": ("retail", ("tables", "retain")),
    "ab list": ("ab", ("ab", "list")),
    "ab report": ("ab", ("ab", "report", "new_model")),
    "ab conclude": ("ab", ("ab", "conclude", "new_model", "--decision", "keep")),
}
WIDTHS = (60, 80, 160)
LAYOUTS = [("table", w) for w in WIDTHS] + [("plain", 80), ("tsv", 80)]
BOX = "┏┃┡│└"


@dataclass
class Case:
    """What one command printed in an 80-column terminal, and the listings it printed."""

    args: tuple[str, ...]
    out: str
    err: str
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)


def _listing_paths() -> list[str]:
    import click
    import typer

    from prodml.cli.main import app

    root = typer.main.get_command(app)
    ctx = click.Context(root)
    found = []
    for path in command_paths():
        cmd: Any = root
        for name in path.split():
            cmd = cmd.get_command(ctx, name)
        if "--json" in [o for p in cmd.params for o in getattr(p, "opts", [])]:
            found.append(path)
    return found


def test_every_listing_has_a_case() -> None:
    listings = _listing_paths()
    assert len(listings) > 30  # the tree was read
    assert sorted(set(listings) - set(CASES)) == []
    assert sorted(set(CASES) - set(listings)) == []


def test_every_listing_takes_format_and_columns() -> None:
    for path in _listing_paths():
        r = prodml_main(*path.split(), "--help", env={"COLUMNS": "200"})
        assert "--format" in r.out and "--columns" in r.out, path


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Case]]:
    """Every case run once, in order, with the calls to ``console.table``/``fields`` recorded."""
    base = tmp_path_factory.mktemp("listings")
    retail = base / "retail"
    assert prodml_cli("init", str(retail), "--example", "retail", "--days", "40").code == 0
    ok(prodml_main("run", "churn", cwd=retail))
    ok(prodml_main("examples", "add-days", "--days", "1", cwd=retail))
    ab = ab_platform(base / "ab")
    ab_simulate(ab)
    roots = {"retail": retail, "ab": ab}
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    real = {"table": console.table, "fields": console.fields}

    def recorder(kind: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            calls.append((kind, args, kwargs))
            real[kind](*args, **kwargs)

        return record

    cases: dict[str, Case] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(console, "table", recorder("table"))
        mp.setattr(console, "fields", recorder("fields"))
        for path, (where, args) in CASES.items():
            if RUN in args:
                runs = json.loads(ok(prodml_main("runs", "list", "--json", cwd=retail)).out)
                args = tuple(runs[0]["run_id"] if a == RUN else a for a in args)
            calls.clear()
            r = prodml_main(*args, cwd=roots[where], env={"COLUMNS": "80"})
            assert r.code in (0, 1), (path, r.err)  # 1: a check that found something
            cases[path] = Case(args, r.out, r.err, list(calls))
    yield cases


def _render(
    kind: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    layout: str,
    width: int,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str]:
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("PRODML_FORMAT", layout)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        getattr(console, kind)(*args, **kwargs)
    return out.getvalue(), err.getvalue()


def _token(text: str, word: str) -> bool:
    return re.search(rf"(?<!\S){re.escape(word)}(?!\S)", text) is not None


def _hidden(err: str) -> list[str]:
    m = re.search(r"^\((.+) hidden to fit \d+ columns;", err, re.M)
    return m.group(1).split(", ") if m else []


def _header_cells(text: str) -> list[list[str]]:
    """The header of each boxed table: one joined name per column."""
    heads, current = [], None
    for line in text.splitlines():
        if line.startswith("┏"):
            current = None
        elif line.startswith("┃"):
            cells = [c.strip() for c in line.strip("┃").split("┃")]
            current = (
                cells
                if current is None
                else [f"{a} {b}".strip() for a, b in zip(current, cells, strict=True)]
            )
        elif line.startswith("┡") and current is not None:
            heads.append(current)
    return heads


@pytest.mark.parametrize(("layout", "width"), LAYOUTS, ids=[f"{a}{b}" for a, b in LAYOUTS])
@pytest.mark.parametrize("path", list(CASES))
def test_a_listing_at_any_width(
    printed: dict[str, Case], path: str, layout: str, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = printed[path]
    for kind, args, kwargs in case.calls:
        out, err = _render(kind, args, kwargs, layout, width, monkeypatch)
        if layout == "table" and width == 80:  # what the command printed is this very text
            assert out in case.out, (path, out)
        if kind == "fields":
            title, items = args
            for key, value in items:
                for word in console._cell(value).split():
                    assert _token(out, word), (path, layout, width, key, word)
            continue
        title, columns, rows = args
        cells = [[console._cell(v) for v in row] for row in rows]
        if layout == "tsv":
            parsed = list(csv.reader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE))
            assert parsed == [list(columns), *([" ".join(c.split()) for c in r] for r in cells)]
            continue
        if layout == "plain":
            lines = out.splitlines()
            assert len(lines) == len(rows) + 1 + bool(title), (path, out)
        hidden = _hidden(err) if layout == "table" else []
        assert set(hidden) <= set(kwargs.get("optional", ())), (path, hidden)
        for name, column in zip(
            columns, zip(*cells, strict=True) if cells else [[]] * len(columns), strict=True
        ):
            if name in hidden:
                continue
            for cell in column:
                for word in cell.split():  # an atom is one word: it is whole, or not there
                    assert _token(out, word), (path, layout, width, name, word, out)
        if layout == "table":
            box = [line for line in out.splitlines() if line[:1] in BOX]
            assert all(len(line) <= width for line in box), (path, width, out)
            for head in _header_cells(out):
                assert all(head), (path, width, head)  # no column without a name
                assert len(head) == len(columns) - len(hidden)
