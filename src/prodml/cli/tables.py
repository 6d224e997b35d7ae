"""``prodml tables``: list, show, history and preview catalog tables."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(help="Catalog tables: list, details, history, preview.", no_args_is_help=True)


@app.command("list")
def list_tables(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Every table of the environment's catalog, with versions and row counts."""
    with workspace(project, env) as ws:
        infos = ws.tables()
        if json:
            console.emit_json(infos)
            return
        console.table(
            f"tables in catalog {ws.catalog_name}",
            ["table", "owner", "version", "rows", "partitioned by", "description"],
            [
                [
                    t.name,
                    t.owner_product,
                    t.version,
                    t.rows,
                    ", ".join(t.partition_by),
                    t.description,
                ]
                for t in infos
            ],
        )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="schema.table or catalog.schema.table")],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """A table's catalog entry: owner, layer, columns with docs, partitioning, keys."""
    with workspace(project, env) as ws:
        info = ws.table(name)
        if json:
            console.emit_json(info)
            return
        console.fields(
            info.name,
            [
                ("owner", info.owner_product),
                ("producer", info.producer_step),
                ("layer", info.layer),
                ("description", info.description),
                ("version", info.version),
                ("rows", info.rows),
                ("bytes", info.bytes),
                ("partition by", ", ".join(info.partition_by)),
                ("keys", ", ".join(info.keys)),
                ("location", info.location),
            ],
        )
        console.table(
            None,
            ["column", "type", "doc"],
            [[c["name"], c["type"], c["doc"]] for c in info.columns],
        )


@app.command("history")
def history(
    name: Annotated[str, typer.Argument(help="schema.table or catalog.schema.table")],
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """A table's commits, newest first (with the run and step that made them)."""
    with workspace(project, env) as ws:
        entries = ws.history(name, limit)
        if json:
            console.emit_json(entries)
            return
        console.table(
            f"history of {name}",
            ["version", "time", "operation", "rows added", "run", "step"],
            [
                [
                    e.get("version"),
                    _ts(e.get("timestamp")),
                    e.get("operation"),
                    (e.get("operationMetrics") or {}).get("num_added_rows")
                    or (e.get("operationMetrics") or {}).get("num_target_rows_inserted"),
                    e.get("prodml.run_id"),
                    e.get("prodml.step"),
                ]
                for e in entries
            ],
        )


@app.command("preview")
def preview(
    name: Annotated[str, typer.Argument(help="schema.table or catalog.schema.table")],
    version: Annotated[
        int | None, typer.Option(min=0, help="Read this version (time travel).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 20,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """The first rows of a table (at a version, if given)."""
    with workspace(project, env) as ws:
        data = ws.preview(name, version=version, limit=limit)
        rows = data.to_pylist()
        if json:
            console.emit_json(rows)
            return
        console.table(
            f"{name} (first {len(rows)} rows)", data.column_names, [list(r.values()) for r in rows]
        )


def _ts(ms: object) -> str:
    from datetime import UTC, datetime

    if isinstance(ms, int | float):
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return ""
