"""Principals, groups, tokens, grants, owners and the audit log in the metadata store.

The audit log has an insert method and read methods only: no update or delete path exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from prodml.catalog import schema as s
from prodml.catalog.store import MetadataStore
from prodml.governance.errors import GovernanceError
from prodml.governance.privileges import Privilege, Securable
from prodml.governance.tokens import declared_id, new_token, token_hash

KINDS = ("user", "group", "service_principal")
_NAME = r"^[a-z][a-z0-9_.@-]{0,127}$"


def _now() -> datetime:
    return datetime.now(UTC)


def _rows(result: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]


def check_principal_name(name: str) -> str:
    """A principal's name: lower-case letters, digits and ``_ . @ -``."""
    import re

    if not re.fullmatch(_NAME, name):
        raise GovernanceError(
            f"principal name {name!r} is not valid",
            hint="lower-case letters, digits and _ . @ -, starting with a letter (max 128)",
        )
    return name


class GovernanceStore:
    """Governance records in the metadata store's database."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    # -- principals ------------------------------------------------------------------------

    def principals(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every principal (with its groups), by name."""
        t = s.principals
        query = sa.select(t).order_by(t.c.name)
        if kind:
            query = query.where(t.c.kind == kind)
        with self.store.engine.connect() as conn:
            rows = _rows(conn.execute(query))
            members = _rows(conn.execute(sa.select(s.group_members)))
        groups: dict[str, list[str]] = {}
        for m in members:
            groups.setdefault(m["member"], []).append(m["group_name"])
        for row in rows:
            row["groups"] = sorted(groups.get(row["name"], []))
        return rows

    def principal(self, name: str) -> dict[str, Any] | None:
        """One principal, or None."""
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(s.principals).where(s.principals.c.name == name)).first()
        return dict(row._mapping) if row else None

    def require_principal(self, name: str, *, disclose: bool = True) -> dict[str, Any]:
        """One principal, or a NotFoundError listing the known ones (``disclose``; else
        naming only the one asked for: only admins may see who the others are)."""
        found = self.principal(name)
        if found is None:
            from prodml.errors import NotFoundError

            known = [p["name"] for p in self.principals()] if disclose else []
            hint = None if disclose else "an admin can list the principals (prodml principals list)"
            raise NotFoundError("principal", name, known, hint=hint)
        return found

    def add_principal(
        self,
        name: str,
        kind: str,
        *,
        display_name: str = "",
        email: str | None = None,
        source: str = "cli",
    ) -> None:
        """Create a principal (an existing one of the same kind is updated)."""
        check_principal_name(name)
        if kind not in KINDS:
            raise GovernanceError(f"unknown principal kind {kind!r}", hint=", ".join(KINDS))
        existing = self.principal(name)
        if existing and existing["kind"] != kind:
            raise GovernanceError(
                f"{name} already exists as a {existing['kind']}",
                hint="principal names are unique across users, groups and service principals",
            )
        values = {"kind": kind, "display_name": display_name or name, "email": email}
        with self.store.begin() as conn:
            if existing:
                conn.execute(
                    sa.update(s.principals).where(s.principals.c.name == name).values(**values)
                )
            else:
                conn.execute(
                    sa.insert(s.principals).values(
                        name=name, source=source, created_at=_now(), **values
                    )
                )

    def remove_principal(self, name: str) -> None:
        """Delete a principal, its memberships, grants and tokens."""
        with self.store.begin() as conn:
            conn.execute(sa.delete(s.principals).where(s.principals.c.name == name))
            conn.execute(
                sa.delete(s.group_members).where(
                    (s.group_members.c.member == name) | (s.group_members.c.group_name == name)
                )
            )
            conn.execute(sa.delete(s.grants).where(s.grants.c.principal == name))
            conn.execute(
                sa.update(s.tokens)
                .where(s.tokens.c.principal == name, s.tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )

    def memberships(self) -> dict[str, set[str]]:
        """member → the groups it is directly in."""
        with self.store.engine.connect() as conn:
            rows = _rows(conn.execute(sa.select(s.group_members)))
        out: dict[str, set[str]] = {}
        for r in rows:
            out.setdefault(r["member"], set()).add(r["group_name"])
        return out

    def add_member(self, group: str, member: str, *, source: str = "cli") -> None:
        """Put ``member`` (a user, service principal or group) in ``group``; a cycle is refused."""
        g = self.require_principal(group)
        if g["kind"] != "group":
            raise GovernanceError(f"{group} is a {g['kind']}, not a group")
        self.require_principal(member)
        if member == group or member in expand(group, self.memberships()):
            raise GovernanceError(
                f"putting {member} in {group} would make a cycle of groups",
                hint=f"{group} is already (indirectly) a member of {member}",
            )
        with self.store.begin() as conn:
            exists = conn.execute(
                sa.select(s.group_members).where(
                    s.group_members.c.group_name == group, s.group_members.c.member == member
                )
            ).first()
            if not exists:
                conn.execute(
                    sa.insert(s.group_members).values(
                        group_name=group, member=member, source=source
                    )
                )

    def remove_member(self, group: str, member: str) -> None:
        """Take ``member`` out of ``group``."""
        with self.store.begin() as conn:
            conn.execute(
                sa.delete(s.group_members).where(
                    s.group_members.c.group_name == group, s.group_members.c.member == member
                )
            )

    # -- tokens ----------------------------------------------------------------------------

    def new_token(
        self, principal: str, *, name: str, created_by: str, expires_at: datetime | None
    ) -> str:
        """A new token for ``principal``: returned once, only its hash is kept."""
        self.require_principal(principal)
        token_id, token = new_token()
        with self.store.begin() as conn:
            conn.execute(
                sa.insert(s.tokens).values(
                    id=token_id,
                    principal=principal,
                    name=name,
                    sha256=token_hash(token),
                    created_by=created_by,
                    created_at=_now(),
                    expires_at=expires_at,
                )
            )
        return token

    def tokens(self, principal: str | None = None) -> list[dict[str, Any]]:
        """Tokens (never their hashes), newest first."""
        t = s.tokens
        cols = [c for c in t.c if c.name != "sha256"]
        query = sa.select(*cols).order_by(t.c.created_at.desc())
        if principal:
            query = query.where(t.c.principal == principal)
        with self.store.engine.connect() as conn:
            return _rows(conn.execute(query))

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token by id (the part after ``pdml_``)."""
        with self.store.begin() as conn:
            done = conn.execute(
                sa.update(s.tokens)
                .where(s.tokens.c.id == token_id, s.tokens.c.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
        if not done.rowcount:
            from prodml.errors import NotFoundError

            raise NotFoundError(
                "active token", token_id, [t["id"] for t in self.tokens() if not t["revoked_at"]]
            )

    def authenticate(
        self, token: str, scope: str | None = None, *, scoped_only: bool = False
    ) -> tuple[str | None, str]:
        """(principal, reason): the principal a token belongs to, or None and why not.

        A token limited to a securable (an endpoint's declared token) counts only where
        ``scope`` is that securable; with ``scoped_only`` only such tokens count.
        """
        t = s.tokens
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.sha256 == token_hash(token))).first()
        if row is None:
            return None, "unknown token"
        if row.revoked_at is not None:
            return None, "token revoked"
        expires = row.expires_at
        if expires is not None:
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            if expires <= _now():
                return None, "token expired"
        if row.scope is not None and row.scope != scope:
            return None, f"the token is for {row.scope} only"
        if scoped_only and row.scope is None:
            return None, f"not a token of {scope}"
        return str(row.principal), "ok"

    def sync_declared(self, scope: str, declared: Sequence[tuple[str, str]]) -> None:
        """Keep the tokens declared for ``scope`` (``(name, sha256)`` from product.yaml) in the
        token table: new ones are added, ones no longer declared are revoked, revoked ones stay
        revoked."""
        t = s.tokens
        wanted = {sha: name for name, sha in declared}
        with self.store.begin() as conn:
            rows = conn.execute(sa.select(t.c.sha256, t.c.scope, t.c.source)).all()
            known = {r.sha256 for r in rows}
            for r in rows:
                if r.source == "config" and r.scope == scope and r.sha256 not in wanted:
                    conn.execute(
                        sa.update(t)
                        .where(t.c.sha256 == r.sha256, t.c.revoked_at.is_(None))
                        .values(revoked_at=_now())
                    )
        for sha, name in wanted.items():
            if sha not in known:
                self._declare(scope, name, sha)

    def _declare(self, scope: str, name: str, sha: str) -> None:
        values = {
            "id": declared_id(sha),
            "principal": name,
            "name": name,
            "sha256": sha,
            "created_by": "product.yaml",
            "created_at": _now(),
            "scope": scope,
            "source": "config",
        }
        try:
            with self.store.begin() as conn:
                conn.execute(sa.insert(s.tokens).values(**values))
        except sa.exc.IntegrityError:
            pass  # another server process declared it at the same moment

    # -- grants and owners -----------------------------------------------------------------

    def grants(
        self, securable: Securable | None = None, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Grants on one securable (exactly) and/or to one principal."""
        t = s.grants
        query = sa.select(t).order_by(t.c.securable_type, t.c.securable, t.c.principal)
        if securable is not None:
            query = query.where(
                t.c.securable_type == securable.type, t.c.securable == securable.name
            )
        if principal is not None:
            query = query.where(t.c.principal == principal)
        with self.store.engine.connect() as conn:
            return _rows(conn.execute(query))

    def grants_on(self, securables: Iterable[Securable]) -> list[dict[str, Any]]:
        """Every grant on any of ``securables`` (a securable and its ancestors)."""
        wanted = list(securables)
        t = s.grants
        conds = [(t.c.securable_type == x.type) & (t.c.securable == x.name) for x in wanted]
        with self.store.engine.connect() as conn:
            return _rows(conn.execute(sa.select(t).where(sa.or_(*conds))))

    def grant(
        self,
        securable: Securable,
        principal: str,
        privileges: Iterable[Privilege],
        *,
        by: str,
        source: str = "cli",
        disclose: bool = True,
    ) -> list[Privilege]:
        """Add grants (existing ones are kept); returns the privileges newly granted.
        An unknown ``principal`` is refused naming the known ones only with ``disclose``."""
        self.require_principal(principal, disclose=disclose)
        have = {g["privilege"] for g in self.grants(securable, principal)}
        new = [p for p in dict.fromkeys(privileges) if p.value not in have]
        if new:
            with self.store.begin() as conn:
                conn.execute(
                    sa.insert(s.grants),
                    [
                        {
                            "securable_type": securable.type,
                            "securable": securable.name,
                            "principal": principal,
                            "privilege": p.value,
                            "source": source,
                            "granted_by": by,
                            "granted_at": _now(),
                        }
                        for p in new
                    ],
                )
        return new

    def revoke(
        self, securable: Securable, principal: str, privileges: Iterable[Privilege]
    ) -> list[Privilege]:
        """Remove grants; returns the privileges that were granted and are now revoked."""
        have = {g["privilege"] for g in self.grants(securable, principal)}
        gone = [p for p in dict.fromkeys(privileges) if p.value in have]
        if gone:
            t = s.grants
            with self.store.begin() as conn:
                conn.execute(
                    sa.delete(t).where(
                        t.c.securable_type == securable.type,
                        t.c.securable == securable.name,
                        t.c.principal == principal,
                        t.c.privilege.in_([p.value for p in gone]),
                    )
                )
        return gone

    def owners(self, securables: Iterable[Securable]) -> dict[Securable, str]:
        """The owners of those of ``securables`` that have one."""
        wanted = list(securables)
        t = s.owners
        conds = [(t.c.securable_type == x.type) & (t.c.securable == x.name) for x in wanted]
        with self.store.engine.connect() as conn:
            rows = _rows(conn.execute(sa.select(t).where(sa.or_(*conds))))
        return {Securable(r["securable_type"], r["securable"]): r["owner"] for r in rows}

    def set_owner(self, securable: Securable, owner: str, *, source: str = "cli") -> None:
        """Make ``owner`` the owner of ``securable``."""
        self.require_principal(owner)
        t = s.owners
        with self.store.begin() as conn:
            conn.execute(
                sa.delete(t).where(
                    t.c.securable_type == securable.type, t.c.securable == securable.name
                )
            )
            conn.execute(
                sa.insert(t).values(
                    securable_type=securable.type,
                    securable=securable.name,
                    owner=owner,
                    source=source,
                )
            )

    def forget(self, securable: Securable) -> None:
        """Remove the grants and owners of a dropped securable and of everything in it."""
        inside = f"{securable.name}."
        with self.store.begin() as conn:
            for t in (s.grants, s.owners):
                conn.execute(
                    sa.delete(t).where(
                        sa.or_(
                            (t.c.securable_type == securable.type)
                            & (t.c.securable == securable.name),
                            t.c.securable.startswith(inside, autoescape=True),
                        )
                    )
                )

    # -- declarations from prodml.yaml ------------------------------------------------------

    def prune_config(
        self,
        *,
        principals: set[str],
        memberships: set[tuple[str, str]],
        grants: set[tuple[str, str, str, str]],
        owners: set[tuple[str, str]],
    ) -> list[str]:
        """Remove what prodml.yaml declared before and declares no more (principals with
        their tokens, memberships, grants, owners); what the CLI made is kept. Returns what
        was removed, for the audit log."""
        removed: list[str] = []
        for row in self.principals():
            if row["source"] == "config" and row["name"] not in principals:
                self.remove_principal(row["name"])
                removed.append(f"principal {row['name']}")
        with self.store.begin() as conn:
            m = s.group_members
            for row in _rows(conn.execute(sa.select(m).where(m.c.source == "config"))):
                if (row["group_name"], row["member"]) not in memberships:
                    conn.execute(
                        sa.delete(m).where(
                            m.c.group_name == row["group_name"], m.c.member == row["member"]
                        )
                    )
                    removed.append(f"{row['member']} from group {row['group_name']}")
            g = s.grants
            for row in _rows(conn.execute(sa.select(g).where(g.c.source == "config"))):
                key = (row["securable_type"], row["securable"], row["principal"], row["privilege"])
                if key not in grants:
                    conn.execute(sa.delete(g).where(g.c.id == row["id"]))
                    removed.append(
                        f"{row['privilege']} on {row['securable_type']} {row['securable']} "
                        f"from {row['principal']}"
                    )
            o = s.owners
            for row in _rows(conn.execute(sa.select(o).where(o.c.source == "config"))):
                if (row["securable_type"], row["securable"]) not in owners:
                    conn.execute(
                        sa.delete(o).where(
                            o.c.securable_type == row["securable_type"],
                            o.c.securable == row["securable"],
                        )
                    )
                    removed.append(f"owner of {row['securable_type']} {row['securable']}")
        return removed

    # -- the audit log (append-only) -------------------------------------------------------

    def audit(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append audit records."""
        self.store.audit(rows)

    def audit_log(
        self,
        *,
        principal: str | None = None,
        securable: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Audit records, newest first."""
        t = s.audit
        query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
        if principal:
            query = query.where((t.c.principal == principal) | (t.c.run_as == principal))
        if securable:
            query = query.where(t.c.securable.like(f"{securable}%"))
        if since:
            query = query.where(t.c.at >= since)
        with self.store.engine.connect() as conn:
            return _rows(conn.execute(query))


def expand(principal: str, memberships: Mapping[str, set[str]]) -> set[str]:
    """``principal`` and every group it is in, directly or through other groups."""
    seen = {principal}
    todo = [principal]
    while todo:
        for group in memberships.get(todo.pop(), ()):
            if group not in seen:
                seen.add(group)
                todo.append(group)
    return seen
