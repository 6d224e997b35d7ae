"""The façade's governance: identity, principals, tokens, grants, the audit log; and the checks
a server makes on behalf of the callers it authenticates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.governance.admin import Identity
    from prodml.workspace.facade import Workspace
    from prodml.workspace.wiring import Wiring


class GovernanceMethods:
    """Governance, as the acting principal (and, for servers, as their callers)."""

    _w: Wiring

    @property
    def principal(self) -> str:
        """Who is acting: given to ``connect``, from ``PRODML_TOKEN``, or the local user."""
        return self._w.principal

    @property
    def governance_enabled(self) -> bool:
        """Whether reads, writes, loads and calls are checked."""
        return self._w.platform.file.governance.enabled

    def whoami(self) -> Identity:
        """The acting principal, its groups, whether it is an admin."""
        return self._w.admin.whoami()

    def principals(self) -> list[dict[str, Any]]:
        """Every principal, its kind and groups."""
        return self._w.admin.principals()

    def add_principal(self, name: str, kind: str = "user", *, email: str | None = None) -> None:
        """Create a principal (admins)."""
        self._w.admin.add_principal(name, kind, email=email)

    def remove_principal(self, name: str) -> None:
        """Delete a principal with its memberships and grants; its tokens are revoked."""
        self._w.admin.remove_principal(name)

    def add_member(self, group: str, member: str) -> None:
        """Put a principal in a group (admins); a cycle of groups is refused."""
        self._w.admin.add_member(group, member)

    def remove_member(self, group: str, member: str) -> None:
        """Take a principal out of a group (admins)."""
        self._w.admin.remove_member(group, member)

    def new_token(
        self, principal: str, *, name: str = "token", expires_at: datetime | None = None
    ) -> str:
        """A new token for ``principal`` (yours, or anyone's for admins): returned once, only
        its hash is stored."""
        return self._w.admin.new_token(principal, name=name, expires_at=expires_at)

    def tokens(self, principal: str | None = None) -> list[dict[str, Any]]:
        """Tokens (never the tokens themselves); others' are for admins."""
        return self._w.admin.tokens(principal)

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token (its owner or an admin): it stops working at once."""
        self._w.admin.revoke_token(token_id)

    def grant(self, kind: str, name: str, principal: str, privileges: Sequence[str]) -> list[str]:
        """Grant privileges on a securable (owners, MANAGE holders, admins); the new ones."""
        return self._w.admin.grant(kind, name, principal, privileges)

    def revoke(self, kind: str, name: str, principal: str, privileges: Sequence[str]) -> list[str]:
        """Revoke privileges on a securable; the ones that were granted."""
        return self._w.admin.revoke(kind, name, principal, privileges)

    def effective_grants(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Grants that apply to a securable: its own and those inherited from containers."""
        return self._w.admin.effective(kind, name)

    def audit(
        self,
        *,
        principal: str | None = None,
        securable: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The audit log, newest first: admins see everything, others their own records."""
        return self._w.admin.audit_log(
            principal=principal, securable=securable, since=since, limit=limit
        )

    # -- on behalf of a server's callers ----------------------------------------------------

    def authenticate(self, token: str, *, client: str) -> str:
        """The principal a token belongs to (``AuthenticationError``, audited, otherwise)."""
        return self._w.governance.authenticate(token, client=client)

    def as_caller(self, token: str, *, client: str) -> Workspace:
        """This workspace acting as the principal ``token`` belongs to (authenticated and
        audited): what a server does for each request, so that every method it calls
        decides with the caller's grants. Connections are shared; close this one only."""
        from prodml.workspace.facade import Workspace

        principal = self.authenticate(token, client=client)
        view = Workspace.__new__(Workspace)
        view._w = self._w.as_principal(principal, client)
        return view

    def holds(self, privilege: str, kind: str, name: str) -> bool:
        """Whether you hold ``privilege`` on a securable (always, governance off)."""
        return self._w.admin.holds(privilege, kind, name)

    def can_manage(self, kind: str, name: str) -> bool:
        """Whether you may grant on a securable."""
        return self._w.admin.can_manage(kind, name)

    def is_admin(self) -> bool:
        """Whether you are an admin (always, governance off)."""
        return self._w.admin.sees_everything

    def require_manage(self, kind: str, name: str, action: str) -> None:
        """Owners, MANAGE holders and admins only (a refusal is audited and raised)."""
        from prodml.governance.privileges import Securable

        securable = Securable.parse(kind, name)
        self._w.governance.may_manage(self._w.principal, securable, action)

    def require(self, action: str, kind: str, name: str, *, client: str) -> None:
        """Decide and audit your access (``PermissionDeniedError`` when refused)."""
        self._w.admin.require(action, kind, name, client=client)

    def owner(self, kind: str, name: str) -> str | None:
        """The owner of a securable, if it has one."""
        return self._w.admin.owner(kind, name)

    def column_controls(self, table: str) -> dict[str, dict[str, Any]]:
        """A table's declared column tags and masks (``catalog.schema.table`` or
        ``schema.table``): column → ``{"tags": [...], "mask": ...}``."""
        return self._w.governance.column_controls(str(self._w.catalog.name(table)))

    def effective_owner(self, kind: str, name: str) -> str | None:
        """Who answers for a securable: its owner, else its nearest container's, else the
        first admin prodml.yaml names (None without governance)."""
        from prodml.governance.privileges import Securable

        if not self.governance_enabled:
            return None
        for securable in Securable.parse(kind, name).ancestors():
            found = self._w.admin.owner(securable.type, securable.name)
            if found:
                return found
        return next(iter(self._w.platform.file.governance.admins), None)

    def grants_on(self, kind: str, name: str, principal: str | None = None) -> list[dict[str, Any]]:
        """Grants made on a securable itself (to ``principal``, or to anyone)."""
        return self._w.admin.grants_on(kind, name, principal)

    def check_securable(self, kind: str, name: str) -> None:
        """A securable type and name prodml knows (``GovernanceError`` naming the expected
        shape otherwise)."""
        from prodml.governance.privileges import Securable

        Securable.parse(kind, name)

    def privileges_meant(self, privilege: str, kind: str) -> list[str]:
        """What a granted privilege stands for on a securable type (``ALL_PRIVILEGES`` is the
        privileges that apply there)."""
        from prodml.governance.admin import privileges_meant
        from prodml.governance.privileges import privilege as parse

        return [p.value for p in privileges_meant(parse(privilege), kind)]

    @property
    def metadata_location(self) -> str:
        """The metadata store's URL (password hidden): environments may share one."""
        return self._w.store.engine.url.render_as_string(hide_password=True)

    def change_grants(self, kind: str, name: str, changes: Sequence[Mapping[str, Any]]) -> None:
        """Grant and revoke: each change is ``{principal, add, remove}``; MANAGE is checked
        first, then all are validated before any is applied."""
        from prodml.governance.admin import GrantChange

        planned = [
            GrantChange(c["principal"], add=c.get("add", ()), remove=c.get("remove", ()))
            for c in changes
        ]
        self._w.admin.change_grants(kind, name, planned)
