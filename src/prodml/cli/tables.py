"""``prodml tables``: list, show, history and preview catalog tables; check, repair,
optimize, vacuum, and forget a subject's rows."""

from __future__ import annotations

from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace

app = typer.Typer(
    help="Catalog tables: list, details, history, preview, and their maintenance.",
    no_args_is_help=True,
)


@app.command("list")
@console.listing
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
            optional=("partitioned by", "description"),
        )


@app.command("show")
@console.listing
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
        controlled = any(c.get("tags") or c.get("mask") for c in info.columns)
        console.table(
            None,
            ["column", "type", "doc", *(["tags", "mask"] if controlled else [])],
            [
                [
                    c["name"],
                    c["type"],
                    c["doc"],
                    *([", ".join(c.get("tags") or []), c.get("mask") or ""] if controlled else []),
                ]
                for c in info.columns
            ],
        )


@app.command("history")
@console.listing
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
            optional=("operation", "step"),
        )


@app.command("preview")
@console.listing
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


OneOrAll = Annotated[
    str | None, typer.Argument(help="schema.table (default: every table of the catalog)")
]


@app.command("check")
@console.listing
def check(
    name: OneOrAll = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Forget lost files (their rows are gone).")
    ] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Verify that every data file a table's log lists is in storage (no data is read)."""
    with workspace(project, env) as ws:
        found = ws.check_tables(name, repair=repair)
        if json:
            console.emit_json(found)
        else:
            for entry in found:
                if not entry["lost_files"]:
                    console.info(f"{entry['table']}: ok")
                    continue
                n = len(entry["lost_files"])
                console.error(
                    f"{entry['table']}: {n} data file(s) lost in {', '.join(entry['partitions'])}"
                )
                done = "repaired; now " if entry.get("repaired") else ""
                console.info(f"  {done}repair: {entry['repair']}")
        if any(e["lost_files"] and not e.get("repaired") for e in found):
            raise typer.Exit(1)


@app.command("optimize")
@console.listing
def optimize(
    name: OneOrAll = None,
    target_size: Annotated[
        int | None, typer.Option(min=1, help="Target file size in bytes (default: delta-rs').")
    ] = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Compact a table's small files into larger ones (same rows, one commit)."""
    with workspace(project, env) as ws:
        done = ws.optimize(name, target_size=target_size)
        if json:
            console.emit_json(done)
            return
        console.table(
            "optimized",
            ["table", "files removed", "files added", "version"],
            [[d["table"], d["files_removed"], d["files_added"], d["version"]] for d in done],
        )


@app.command("vacuum")
@console.listing
def vacuum(
    name: OneOrAll = None,
    retention_hours: Annotated[
        int | None,
        typer.Option(min=0, help="Keep the files of versions younger than this (default 168)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, delete nothing.")] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Delete data files no retained version needs (time travel stays within retention)."""
    with workspace(project, env) as ws:
        done = ws.vacuum(name, retention_hours=retention_hours, dry_run=dry_run)
        if json:
            console.emit_json(done)
            return
        verb = "would delete" if dry_run else "deleted"
        console.table(
            "vacuum", ["table", f"files {verb}"], [[d["table"], d["files_deleted"]] for d in done]
        )


@app.command("forget")
@console.listing
def forget(
    name: Annotated[str, typer.Argument(help="schema.table")],
    key: Annotated[str, typer.Option(help="The subject: column=value (customer_id=C000050).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Delete one subject's rows from a table and its history (time travel before is gone)."""
    if not yes and not typer.confirm(
        f"delete the rows of {key} from {name} and every older version of it?"
    ):
        raise typer.Exit(1)
    with workspace(project, env) as ws:
        done = ws.forget(name, key=key)
        if json:
            console.emit_json(done)
            return
        console.info(
            f"{done['table']}: {done['rows_deleted']} row(s) of {key} deleted, "
            f"{done['files_deleted']} old file(s) and {done['log_entries_deleted']} log "
            f"entries erased (version {done['version']})"
        )


@app.command("retain")
@console.listing
def retain(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Delete log rows past the retention in prodml.yaml (inference logs, DQ results,
    quarantines, audit); 'prodml tables vacuum' then frees their files."""
    with workspace(project, env) as ws:
        done = ws.retain()
        if json:
            console.emit_json(done)
            return
        console.table(
            "retention",
            ["table", "rows deleted", "older than"],
            [[d["table"], d["rows_deleted"], d["before"]] for d in done],
        )


def _ts(ms: object) -> str:
    from datetime import UTC, datetime

    if isinstance(ms, int | float):
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return ""
