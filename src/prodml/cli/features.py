"""``prodml features``: feature tables, their consumers, publishing and online lookups."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace
from prodml.errors import UsageError
from prodml.serialize import to_jsonable

app = typer.Typer(
    help="Feature store: feature tables, which models use them, the online store.",
    no_args_is_help=True,
)

Table = Annotated[str, typer.Argument(help="Feature table, e.g. features.customer_features.")]


@app.command("list")
@console.listing
def list_tables(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Every declared feature table: owner, keys, features, consumers, online state."""
    with workspace(project, env) as ws:
        rows = ws.feature_tables()
    if json:
        console.emit_json(rows)
        return
    console.table(
        "feature tables",
        ["table", "owner", "keys", "features", "version", "models", "online"],
        [
            [
                r["table"],
                r["product"],
                ", ".join(r["keys"]),
                len(r["features"]),
                "—" if r["version"] is None else r["version"],
                len({c["model"] for c in r["consumers"]}),
                _online(r["online"]),
            ]
            for r in rows
        ],
    )


def _online(state: dict[str, Any] | None) -> str:
    if state is None:
        return "off"
    if state["version"] is None:
        return f"{state['store']}: not yet"
    return f"{state['store']}: v{state['version']}"


@app.command("show")
@console.listing
def show(table: Table, env: Env = None, project: Project = None, json: Json = False) -> None:
    """One feature table: its features with types and descriptions, and the models using them."""
    with workspace(project, env) as ws:
        doc = ws.feature_table(table)
    if json:
        console.emit_json(doc)
        return
    console.out().print(f"[bold]{doc['table']}[/] — {doc['description']}")
    console.out().print(
        f"owner {doc['product']}, produced by {doc['step'] or '(no step yet)'}; keys "
        f"{', '.join(doc['keys'])}; event time {doc['timestamp']}"
        + (f"; created {doc['created']}" if doc["created"] else "")
        + f"; TTL {doc['ttl'] or 'none'}; version {doc['version']}; online "
        + _online(doc["online"])
    )
    console.table(
        "features",
        ["feature", "type", "description", "used by"],
        [
            [name, f["type"] or "?", f["description"], ", ".join(f.get("used_by", [])) or "—"]
            for name, f in doc["features"].items()
        ],
    )
    console.table(
        "consumers",
        ["model", "version", "product", "features", "table version"],
        [
            [c["model"], c["version"], c["product"], len(c["features"]), c["table_version"]]
            for c in doc["consumers"]
        ],
    )


@app.command("publish")
@console.listing
def publish(
    table: Annotated[
        str | None, typer.Argument(help="Feature table (default: every table with online: true).")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read every row, not just what changed.")
    ] = False,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Publish the latest value per key to the online store (only keys changed since the last
    published version)."""
    with workspace(project, env) as ws:
        results = [to_jsonable(r) for r in ws.publish_features(table, full=full)]
    if json:
        console.emit_json(results)
        return
    if not results:
        console.info("nothing to publish: no feature table with online: true has data yet")
        return
    console.table(
        f"published to {results[0]['store']}",
        ["table", "versions", "rows read", "written", "seconds"],
        [
            [
                r["table"].split(".", 1)[1],
                f"{'—' if r['from_version'] is None else r['from_version']} → {r['to_version']}",
                r["rows_read"],
                f"{r['written']} of {r['keys']}",
                r["seconds"],
            ]
            for r in results
        ],
    )


@app.command("online")
@console.listing
def online(
    target: Annotated[
        str, typer.Argument(help="Feature table, or a product (its champion's lookups).")
    ],
    key: Annotated[
        list[str],
        typer.Option("--key", "-k", help="Entity key as NAME=VALUE (repeat for composite keys)."),
    ],
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Look up one entity's online features."""
    entity: dict[str, Any] = {}
    for item in key:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--key {item!r} is not NAME=VALUE", hint="e.g. --key customer_id=42")
        entity[name] = value
    with workspace(project, env) as ws:
        found = to_jsonable(ws.online_features(target, [entity])[0])
    if json:
        console.emit_json(found)
        return
    console.out().print(f"event time {found['event_timestamp'] or '—'}")
    console.table(
        "features",
        ["feature", "value", "status"],
        [[n, v, found["statuses"][n]] for n, v in found["values"].items()],
    )
