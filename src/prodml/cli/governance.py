"""``prodml principals``, ``prodml grants``, ``prodml audit``, ``prodml whoami``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from prodml.cli import console
from prodml.cli.options import Env, Json, Project, workspace
from prodml.errors import UsageError

principals = typer.Typer(
    help="Users, groups and service principals; tokens (shown once, only a hash is kept).",
    no_args_is_help=True,
)
tokens = typer.Typer(help="Tokens of a principal.", no_args_is_help=True)
principals.add_typer(tokens, name="token")
grants = typer.Typer(
    help="Privileges on catalogs, schemas, tables, models and endpoints.", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="Principal name.")]
Kind = Annotated[str, typer.Argument(help="catalog, schema, table, model or endpoint.")]
Securable = Annotated[str, typer.Argument(help="Full name, e.g. prod.gold.churn_predictions.")]
Privileges = Annotated[list[str], typer.Argument(help="Privileges, e.g. SELECT USE_SCHEMA.")]
To = Annotated[str, typer.Option("--to", help="The principal (user, group or service principal).")]
From = Annotated[str, typer.Option("--from", help="The principal.")]


@principals.command("list")
@console.listing
def list_principals(env: Env = None, project: Project = None, json: Json = False) -> None:
    """Every principal, its kind and groups."""
    with workspace(project, env) as ws:
        rows = ws.principals()
    if json:
        console.emit_json(rows)
        return
    console.table(
        "principals",
        ["name", "kind", "groups", "source"],
        [[r["name"], r["kind"], ", ".join(r["groups"]) or "—", r["source"]] for r in rows],
    )


@principals.command("add")
def add_principal(
    name: Name,
    kind: Annotated[str, typer.Option(help="user, group or service_principal.")] = "user",
    email: Annotated[str | None, typer.Option(help="A user's e-mail.")] = None,
    env: Env = None,
    project: Project = None,
) -> None:
    """Create a principal (admins)."""
    with workspace(project, env) as ws:
        ws.add_principal(name, kind, email=email)
    console.info(f"{kind} {name} created")


@principals.command("add-member")
def add_member(
    group: Annotated[str, typer.Argument(help="The group.")],
    member: Annotated[str, typer.Argument(help="A user, service principal or group.")],
    env: Env = None,
    project: Project = None,
) -> None:
    """Put a principal in a group (admins); a cycle of groups is refused."""
    with workspace(project, env) as ws:
        ws.add_member(group, member)
    console.info(f"{member} is now in {group}")


@principals.command("remove-member")
def remove_member(
    group: Annotated[str, typer.Argument(help="The group.")],
    member: Annotated[str, typer.Argument(help="The member to take out.")],
    env: Env = None,
    project: Project = None,
) -> None:
    """Take a principal out of a group (admins)."""
    with workspace(project, env) as ws:
        ws.remove_member(group, member)
    console.info(f"{member} is no longer in {group}")


@principals.command("remove")
def remove_principal(name: Name, env: Env = None, project: Project = None) -> None:
    """Delete a principal with its memberships and grants; its tokens are revoked (admins)."""
    with workspace(project, env) as ws:
        ws.remove_principal(name)
    console.info(f"{name} removed (its tokens are revoked)")


@tokens.command("new")
def new_token(
    principal: Name,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "token",
    days: Annotated[int | None, typer.Option("--days", min=1, help="Expires after N days.")] = 90,
    env: Env = None,
    project: Project = None,
) -> None:
    """A new token for PRINCIPAL: printed once, on stdout; only its hash is stored."""
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    with workspace(project, env) as ws:
        token = ws.new_token(principal, name=name, expires_at=expires)
    console.info(
        f"token for {principal}{f', expires {expires:%Y-%m-%d}' if expires else ''}: it is "
        "shown once; store it as a secret (PRODML_TOKEN, or an HTTP bearer token)"
    )
    console.out().print(token, soft_wrap=True, markup=False, highlight=False)


@tokens.command("list")
@console.listing
def list_tokens(
    principal: Annotated[str | None, typer.Argument(help="Only this principal's.")] = None,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """Tokens: id, principal, name, created, expiry, revocation (never the token)."""
    with workspace(project, env) as ws:
        rows = ws.tokens(principal)
    if json:
        console.emit_json(rows)
        return
    columns = ["id", "principal", "name", "created_at", "expires_at", "revoked_at"]
    console.table(
        "tokens",
        columns,
        [[r[c] for c in columns] for r in rows],
        optional=("revoked_at", "created_at"),
    )


@tokens.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (from 'token list').")],
    env: Env = None,
    project: Project = None,
) -> None:
    """Revoke a token: it stops working at once."""
    with workspace(project, env) as ws:
        ws.revoke_token(token_id)
    console.info(f"token {token_id} revoked")


@grants.command("grant")
def grant(
    kind: Kind,
    name: Securable,
    privileges: Privileges,
    to: To,
    env: Env = None,
    project: Project = None,
) -> None:
    """Grant privileges (owners, MANAGE holders and admins)."""
    with workspace(project, env) as ws:
        new = ws.grant(kind, name, to, privileges)
    console.info(f"granted {', '.join(new) or 'nothing new'} on {kind} {name} to {to}")


@grants.command("revoke")
def revoke(
    kind: Kind,
    name: Securable,
    privileges: Privileges,
    from_: From,
    env: Env = None,
    project: Project = None,
) -> None:
    """Revoke privileges (owners, MANAGE holders and admins)."""
    with workspace(project, env) as ws:
        gone = ws.revoke(kind, name, from_, privileges)
    console.info(
        f"revoked {', '.join(gone) or 'nothing (not granted)'} on {kind} {name} from {from_}"
    )


@grants.command("show")
@console.listing
def show(
    kind: Kind, name: Securable, env: Env = None, project: Project = None, json: Json = False
) -> None:
    """Grants that apply to a securable: its own and those inherited from its containers."""
    with workspace(project, env) as ws:
        rows = ws.effective_grants(kind, name)
    if json:
        console.emit_json(rows)
        return
    console.table(
        f"grants on {kind} {name}",
        ["principal", "privilege", "inherited from", "granted by"],
        [
            [r["principal"], r["privilege"], r["inherited_from"] or "—", r["granted_by"]]
            for r in rows
        ],
    )


@console.listing
def audit(
    principal: Annotated[
        str | None, typer.Option("--principal", help="Acting (or run-as) principal.")
    ] = None,
    securable: Annotated[
        str | None, typer.Option("--securable", help="A securable name or its prefix.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO date/time, or a duration like 24h or 7d.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    env: Env = None,
    project: Project = None,
    json: Json = False,
) -> None:
    """The audit log: every access decision and change, denied attempts included (admins see
    everything; others their own records)."""
    start = _since(since) if since else None
    with workspace(project, env) as ws:
        rows = ws.audit(principal=principal, securable=securable, since=start, limit=limit)
    if json:
        console.emit_json(rows)
        return
    columns = ["at", "principal", "run_as", "action", "securable", "outcome", "privilege", "client"]
    console.table(
        "audit",
        columns,
        [[r[c] for c in columns] for r in rows],
        optional=("client", "run_as", "privilege"),
    )


def _since(text: str) -> datetime:
    from prodml.config.product import parse_duration

    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r} is neither a date/time nor a duration",
            hint="e.g. --since 2026-11-01, --since 2026-11-01T12:00 or --since 24h",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def whoami(env: Env = None, project: Project = None) -> None:
    """The principal this command acts as, and its groups."""
    with workspace(project, env) as ws:
        me = ws.whoami()
    console.out().print(me.name, soft_wrap=True, markup=False, highlight=False)
    console.info(f"groups: {', '.join(me.groups) or 'none'}{'; admin' if me.admin else ''}")
