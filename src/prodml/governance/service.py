"""Governance of one platform: identity, declared principals and grants, checks, changes."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from prodml.catalog.policies import (
    Access,
    AllowAll,
    DefineEvent,
    MaintainEvent,
    ReadEvent,
    Restriction,
    WriteEvent,
)
from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.errors import AuthenticationError
from prodml.governance.authorizer import Authorizer, Where
from prodml.governance.errors import GovernanceError, NotAnAdminError, PermissionDeniedError
from prodml.governance.privileges import (
    Privilege,
    Securable,
    check_applicable,
    privilege,
)
from prodml.governance.store import GovernanceStore
from prodml.names import TableName

#: the environment variable holding the CLI's token
TOKEN_ENV = "PRODML_TOKEN"


def parse_securable(text: str) -> Securable:
    """``"table prod.gold.x"`` (type, a space, the name) as a securable."""
    kind, _, name = text.strip().partition(" ")
    return Securable.parse(kind, name.strip())


class Governance:
    """Who is acting, and whether they may; every decision and change is audited.

    Args:
        store: the metadata store (governance tables live there).
        config: the ``governance:`` section of prodml.yaml.
    """

    def __init__(self, store: MetadataStore, config: GovernanceConfig) -> None:
        self.config = config
        self.records = GovernanceStore(store)
        self.authorizer = Authorizer(self.records, frozenset(config.admins))

    @property
    def enabled(self) -> bool:
        """Whether checks are enforced."""
        return self.config.enabled

    # -- declared principals and grants ----------------------------------------------------

    def apply_config(self) -> None:
        """Apply prodml.yaml's principals, memberships, grants and owners (idempotent): what it
        declares is added, what it declared before and no longer does is removed (audited)."""
        config, records = self.config, self.records
        declared = config.names()
        decls: dict[str, Any] = {**config.users, **config.groups, **config.service_principals}
        for name, kind in declared.items():
            decl = decls[name]
            records.add_principal(
                name,
                kind,
                display_name=getattr(decl, "display_name", None) or name,
                email=getattr(decl, "email", None),
                source="config",
            )
        memberships: set[tuple[str, str]] = set()
        for name in declared:
            for group in decls[name].groups:
                if group not in declared:
                    raise GovernanceError(
                        f"governance: {name} is in group {group!r}, which is not declared",
                        hint=f"add it under governance.groups (groups: {', '.join(config.groups)})",
                    )
                memberships.add((group, name))
        grants: set[tuple[str, str, str, str]] = set()
        owners: set[tuple[str, str]] = set()
        for grant in config.grants:
            securable = parse_securable(grant.securable)
            privileges = [privilege(p) for p in grant.privileges]
            check_applicable(securable, privileges)
            grants |= {
                (securable.type, securable.name, grant.principal, p.value) for p in privileges
            }
        for owner in config.owners:
            securable = parse_securable(owner.securable)
            owners.add((securable.type, securable.name))
        removed = records.prune_config(
            principals=set(declared), memberships=memberships, grants=grants, owners=owners
        )
        for group, member in sorted(memberships):
            records.add_member(group, member, source="config")
        for grant in config.grants:
            securable = parse_securable(grant.securable)
            privileges = [privilege(p) for p in grant.privileges]
            records.grant(securable, grant.principal, privileges, by="prodml.yaml", source="config")
        for owner in config.owners:
            records.set_owner(parse_securable(owner.securable), owner.owner, source="config")
        for what in removed:
            self.authorizer.record(
                "prodml.yaml", "config.remove", None, outcome="changed", reason=f"removed {what}"
            )
        self.authorizer.forget()

    # -- identity --------------------------------------------------------------------------

    def identify(self, environ: Mapping[str, str]) -> str:
        """The CLI's principal: from ``PRODML_TOKEN``, else the configured local user."""
        token = environ.get(TOKEN_ENV)
        if token:
            return self.authenticate(token, client="cli")
        name = self.config.local_user or getpass.getuser()
        if self.records.principal(name) is None:
            raise AuthenticationError(
                f"you are {name!r}, which is not a principal of this platform",
                hint=f"set {TOKEN_ENV} to a token, or declare the user under governance.users "
                "(or governance.local_user) in prodml.yaml",
            )
        return name

    def impersonate(self, actor: str, principal: str) -> None:
        """``actor`` acts as ``principal`` (``connect(principal=...)``): admins only; the
        switch is audited, and anyone else is refused."""
        if self.authorizer.is_admin(actor):
            self.records.require_principal(principal)
            self.authorizer.record(
                actor, "impersonate", None, outcome="allowed", reason=f"acts as {principal}"
            )
            return
        self.authorizer.record(
            actor, "impersonate", None, outcome="denied", reason=f"asked to act as {principal}"
        )
        raise AuthenticationError(
            f"you are {actor!r}: only admins may act as another principal ({principal!r})",
            hint=f"leave principal out, or set {TOKEN_ENV} to a token of {principal}",
        )

    def authenticate(self, token: str, *, client: str) -> str:
        """The principal a token belongs to, or :class:`AuthenticationError` (audited)."""
        principal, reason = self.records.authenticate(token)
        if principal is None:
            self.authorizer.record(
                "anonymous",
                "authenticate",
                None,
                outcome="denied",
                reason=reason,
                where=Where(client=client),
            )
            raise AuthenticationError(f"authentication failed: {reason}")
        return principal

    # -- checks ----------------------------------------------------------------------------

    def check(self, access: Access, action: str, securable: Securable, *, client: str) -> None:
        """Decide and audit one access (a no-op when governance is off)."""
        if not self.enabled:
            return
        where = Where(run_as=access.run_as, run_id=access.run_id, client=client)
        self.authorizer.check(access.principal, action, securable, where=where)

    def allows(self, access: Access, action: str, securable: Securable) -> bool:
        """Whether :meth:`check` would allow (decided only: no audit record), for listings
        that show what the principal may see and leave out the rest."""
        if not self.enabled:
            return True
        return self.authorizer.decide(access.run_as or access.principal, action, securable).allowed

    def check_named(
        self, access: Access, action: str, kind: str, name: str, *, client: str | None = None
    ) -> None:
        """:meth:`check` of a securable given by type and full name (models from steps and
        promotions, feature tables of online lookups)."""
        if self.enabled:
            securable = Securable.parse(kind, name)
            self.check(access, action, securable, client=client or f"step:{access.step or 'cli'}")

    def run_as(self, actor: str, target: str | None) -> str | None:
        """Whom a run started by ``actor`` executes as: the product's ``run_as`` service
        principal when ``actor`` is that principal or an admin; anyone else runs it with their
        own privileges (None). Without governance the declared one is only recorded."""
        if target is None or not self.enabled:
            return target
        return target if actor == target or self.authorizer.is_admin(actor) else None

    # -- changes ---------------------------------------------------------------------------

    def may_manage(self, actor: str, securable: Securable, action: str) -> None:
        """Owners, MANAGE holders and admins may ``action`` (grant, revoke); a refusal is
        audited and raised."""
        if self.enabled and not self.authorizer.can_manage(actor, securable):
            self.authorizer.record(
                actor,
                action,
                securable,
                outcome="denied",
                privilege=Privilege.MANAGE,
                reason=f"lacks MANAGE (or ownership) on {securable}",
            )
            raise PermissionDeniedError(actor, Privilege.MANAGE, securable, f"{action} on it")

    def grant(
        self, actor: str, securable: Securable, principal: str, privileges: Sequence[str]
    ) -> list[str]:
        """Grant (owners, MANAGE holders and admins only); audited."""
        wanted = [privilege(p) for p in privileges]
        check_applicable(securable, wanted)
        self.may_manage(actor, securable, "grant")
        new = self.records.grant(
            securable, principal, wanted, by=actor, disclose=self.discloses_principals(actor)
        )
        self.authorizer.record(
            actor,
            "grant",
            securable,
            outcome="changed",
            reason=f"granted {', '.join(p.value for p in wanted)} to {principal}",
        )
        return [p.value for p in new]

    def revoke(
        self, actor: str, securable: Securable, principal: str, privileges: Sequence[str]
    ) -> list[str]:
        """Revoke (owners, MANAGE holders and admins only); audited."""
        wanted = [privilege(p) for p in privileges]
        self.may_manage(actor, securable, "revoke")
        gone = self.records.revoke(securable, principal, wanted)
        self.authorizer.record(
            actor,
            "revoke",
            securable,
            outcome="changed",
            reason=f"revoked {', '.join(p.value for p in wanted)} from {principal}",
        )
        return [p.value for p in gone]

    def discloses_principals(self, actor: str) -> bool:
        """Whether ``actor`` may see who the principals are (admins; anyone without
        governance): an unknown name is answered with the known ones only then."""
        return not self.enabled or self.authorizer.is_admin(actor)

    def require_admin(
        self,
        actor: str,
        action: str,
        only: str = "manage principals and tokens",
        securable: Securable | None = None,
    ) -> None:
        """Principal and token management (and what else ``only`` says) is for admins."""
        if self.enabled and not self.authorizer.is_admin(actor):
            self.authorizer.record(
                actor, action, securable, outcome="denied", reason="not an admin"
            )
            raise NotAnAdminError(actor, action, only)

    def column_controls(self, table: str) -> dict[str, dict[str, Any]]:
        """A table's (``catalog.schema.table``) declared column tags and masks: column →
        ``{"tags": [...], "mask": ...}``."""
        out: dict[str, dict[str, Any]] = {}
        for rule in self.config.columns:
            if _names_table(rule.table, table):
                entry = out.setdefault(rule.column, {"tags": [], "mask": None})
                entry["tags"] = sorted({*entry["tags"], *rule.tags})
                entry["mask"] = rule.mask or entry["mask"]
        return out

    def restriction(self, access: Access, table: str) -> Restriction:
        """What ``access`` reads of ``table``: the declared masks and row filters, but for
        those it is exempt from (as a user or through a group)."""
        if not self.enabled or not (self.config.columns or self.config.row_filters):
            return Restriction()
        who = self.authorizer.identities(access.run_as or access.principal)
        masks = {
            rule.column: rule.mask
            for rule in self.config.columns
            if rule.mask and _names_table(rule.table, table) and not who & set(rule.exempt)
        }
        filters = tuple(
            rule.where
            for rule in self.config.row_filters
            if _names_table(rule.table, table) and not who & set(rule.exempt)
        )
        return Restriction(masks, filters)

    def check_define(self, access: Access, kind: str, name: str, operation: str) -> None:
        """Who may define what (audited when refused): a catalog is created by admins (there
        is no metastore to grant CREATE CATALOG on), a schema by CREATE_SCHEMA on its catalog,
        a table by CREATE_TABLE on its schema (each with USE on the way); changing or
        dropping one is for its owner, MANAGE holders and admins."""
        if not self.enabled:
            return
        securable = Securable.parse(kind, name)
        action = f"{kind}.{operation}"
        if operation == "create" and kind == "catalog":
            self.require_admin(access.principal, action, "create catalogs", securable)
        elif operation == "create":
            self.check(access, action, securable, client=access.client or "workspace")
        else:
            self.may_manage(access.principal, securable, action)

    def defined(self, access: Access, kind: str, name: str, operation: str) -> None:
        """After a definition: its creator owns what it created; what is dropped loses its
        grants and owners (and so does everything in it); audited."""
        if not self.enabled:
            return
        securable = Securable.parse(kind, name)
        if operation == "create":
            self.records.set_owner(securable, access.principal, source="api")
        elif operation == "delete":
            self.records.forget(securable)
        self.authorizer.record(
            access.principal,
            f"{kind}.{operation}",
            securable,
            outcome="changed",
            reason=f"{operation} {securable}",
            where=Where(client=access.client),
        )

    def new_token(
        self, actor: str, principal: str, *, name: str, expires_at: datetime | None
    ) -> str:
        """A token for ``principal`` (admins; or yourself); audited without the token."""
        if actor != principal:
            self.require_admin(actor, "create tokens for others")
        token = self.records.new_token(
            principal, name=name, created_by=actor, expires_at=expires_at
        )
        self.authorizer.record(
            actor, "token.create", None, outcome="changed", reason=f"token {name!r} for {principal}"
        )
        return token

    def revoke_token(self, actor: str, token_id: str) -> None:
        """Revoke a token (its owner or an admin); audited."""
        owner = next((t["principal"] for t in self.records.tokens() if t["id"] == token_id), None)
        if owner != actor:
            self.require_admin(actor, "revoke tokens of others")
        self.records.revoke_token(token_id)
        self.authorizer.record(
            actor, "token.revoke", None, outcome="changed", reason=f"token {token_id} revoked"
        )


class GovernancePolicy(AllowAll):
    """The gate's access checks: every table read and write is decided and audited."""

    #: the audited action of each kind of read (each needs what reading rows needs)
    READS: ClassVar[dict[str, str]] = {
        "data": "read",
        "history": "read_history",
        "state": "read_state",
        "metadata": "browse",
    }

    def __init__(self, governance: Governance, exists: Callable[[TableName], bool]) -> None:
        self.governance = governance
        self._exists = exists

    def before_read(self, event: ReadEvent) -> None:
        """USE_CATALOG + USE_SCHEMA + SELECT (for rows, history and state alike)."""
        self.governance.check(
            event.access,
            self.READS[event.kind],
            Securable("table", str(event.table)),
            client=_client(event.access),
        )

    def visible(self, event: ReadEvent) -> bool:
        """Whether the principal may read as ``event`` asks (decided, not audited)."""
        return self.governance.allows(
            event.access, self.READS[event.kind], Securable("table", str(event.table))
        )

    def restrict(self, event: ReadEvent) -> Restriction | None:
        """The declared column masks and row filters the reader is not exempt from."""
        return self.governance.restriction(event.access, str(event.table)) or None

    def model_visible(self, model: str, access: Access) -> bool:
        """Whether the principal may see a registered model's metadata (not audited)."""
        return self.governance.allows(access, "browse_model", Securable("model", model))

    def before_maintain(self, event: MaintainEvent) -> None:
        """A check reads the table's state (SELECT); repair, optimize, vacuum and forget
        change it (MODIFY)."""
        action = "read_state" if event.operation == "check" else f"table_{event.operation}"
        table = Securable("table", str(event.table))
        self.governance.check(event.access, action, table, client=_client(event.access))

    def before_define(self, event: DefineEvent) -> None:
        """See :meth:`Governance.check_define`."""
        self.governance.check_define(
            event.access, event.securable_type, event.name, event.operation
        )

    def after_define(self, event: DefineEvent) -> None:
        """See :meth:`Governance.defined`."""
        self.governance.defined(event.access, event.securable_type, event.name, event.operation)

    def before_write(self, event: WriteEvent) -> None:
        """MODIFY on an existing table; CREATE_TABLE on its schema for a new one."""
        table = Securable("table", str(event.table))
        action = "write" if self._exists(event.table) else "create_table"
        self.governance.check(event.access, action, table, client=_client(event.access))


def _client(access: Access) -> str:
    if access.step:
        return f"step:{access.step}"
    return access.client or "workspace"


def _names_table(declared: str, table: str) -> bool:
    """Whether a declared ``schema.table`` (any catalog) or ``catalog.schema.table`` names
    ``table`` (full)."""
    return declared == table or (declared.count(".") == 1 and table.split(".", 1)[1] == declared)
