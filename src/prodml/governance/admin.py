"""Governance administration for one acting principal: every change is checked and audited
here, whichever adapter (CLI, catalog API, notebook) asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prodml.governance.authorizer import Where
from prodml.governance.privileges import (
    ALL,
    APPLICABLE,
    Privilege,
    Securable,
    check_applicable,
    privilege,
)
from prodml.governance.service import Governance


@dataclass(frozen=True)
class Identity:
    """Who acts: a principal, the groups it is in (transitively), whether it is an admin."""

    name: str
    groups: list[str]
    admin: bool


@dataclass(frozen=True)
class GrantChange:
    """Privileges to add to and remove from one principal on one securable."""

    principal: str
    add: Sequence[str] = ()
    remove: Sequence[str] = ()


class Administration:
    """What ``actor`` may see and change of principals, tokens, grants and the audit log."""

    def __init__(self, governance: Governance, actor: str) -> None:
        self.governance = governance
        self.actor = actor
        self._records = governance.records
        self._authorizer = governance.authorizer

    def _admin(self, action: str) -> None:
        self.governance.require_admin(self.actor, action)

    def _changed(self, action: str, reason: str, securable: Securable | None = None) -> None:
        self._authorizer.record(self.actor, action, securable, outcome="changed", reason=reason)

    @property
    def sees_everything(self) -> bool:
        """Without governance, or as an admin: every principal's tokens and audit records."""
        return not self.governance.enabled or self._authorizer.is_admin(self.actor)

    # -- who -------------------------------------------------------------------------------

    def whoami(self) -> Identity:
        """The acting principal and its groups."""
        groups = sorted(self._authorizer.identities(self.actor) - {self.actor})
        return Identity(self.actor, groups, self._authorizer.is_admin(self.actor))

    def principals(self) -> list[dict[str, Any]]:
        """Every principal, its kind and groups (admins; others see themselves only)."""
        everyone = self._records.principals()
        if self.governance.discloses_principals(self.actor):
            return everyone
        return [p for p in everyone if p["name"] == self.actor]

    def add_principal(self, name: str, kind: str, *, email: str | None = None) -> None:
        """Create a principal (admins)."""
        self._admin("add principals")
        self._records.add_principal(name, kind, email=email)
        self._changed("principal.add", f"{kind} {name} created")

    def remove_principal(self, name: str) -> None:
        """Delete a principal with its memberships and grants; its tokens are revoked."""
        self._admin("remove principals")
        self._records.require_principal(name)
        self._records.remove_principal(name)
        self._changed("principal.remove", f"removed {name}")

    def add_member(self, group: str, member: str) -> None:
        """Put a principal in a group (admins); a cycle of groups is refused."""
        self._admin("change group members")
        self._records.add_member(group, member)
        self._authorizer.forget()
        self._changed("member.add", f"{member} into {group}")

    def remove_member(self, group: str, member: str) -> None:
        """Take a principal out of a group (admins)."""
        self._admin("change group members")
        self._records.remove_member(group, member)
        self._authorizer.forget()
        self._changed("member.remove", f"{member} out of {group}")

    # -- tokens ----------------------------------------------------------------------------

    def new_token(self, principal: str, *, name: str, expires_at: datetime | None) -> str:
        """A token for ``principal`` (yours, or anyone's for admins): returned once."""
        return self.governance.new_token(self.actor, principal, name=name, expires_at=expires_at)

    def tokens(self, principal: str | None = None) -> list[dict[str, Any]]:
        """Tokens (never the tokens themselves); others' are for admins."""
        if not self.sees_everything:
            principal = self.actor
        return self._records.tokens(principal)

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token (its owner or an admin): it stops working at once."""
        self.governance.revoke_token(self.actor, token_id)

    def audit_log(
        self,
        *,
        principal: str | None = None,
        securable: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Audit records, newest first; admins see everything, others their own."""
        if not self.sees_everything:
            principal = self.actor
        return self._records.audit_log(
            principal=principal, securable=securable, since=since, limit=limit
        )

    # -- grants ----------------------------------------------------------------------------

    def grant(self, kind: str, name: str, principal: str, privileges: Sequence[str]) -> list[str]:
        """Grant privileges (owners, MANAGE holders and admins); the new ones are returned."""
        return self.governance.grant(self.actor, Securable.parse(kind, name), principal, privileges)

    def revoke(self, kind: str, name: str, principal: str, privileges: Sequence[str]) -> list[str]:
        """Revoke privileges (owners, MANAGE holders and admins); the revoked ones are returned."""
        securable = Securable.parse(kind, name)
        return self.governance.revoke(self.actor, securable, principal, privileges)

    def effective(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Grants that apply to a securable: its own and those inherited from its containers
        (who holds what is for those who may grant on it: others see their own)."""
        securable = Securable.parse(kind, name)
        rows = self._authorizer.effective(securable)
        if self.can_manage(kind, name):
            return rows
        mine = self._authorizer.identities(self.actor)
        return [r for r in rows if r["principal"] in mine]

    def grants_on(self, kind: str, name: str, principal: str | None = None) -> list[dict[str, Any]]:
        """Grants made on the securable itself (to ``principal``, or to anyone)."""
        return self._records.grants(Securable.parse(kind, name), principal)

    def owner(self, kind: str, name: str) -> str | None:
        """The owner of a securable, if it has one."""
        securable = Securable.parse(kind, name)
        return self._records.owners([securable]).get(securable)

    def holds(self, privilege_name: str, kind: str, name: str) -> bool:
        """Whether the actor holds a privilege on a securable (always, governance off)."""
        if not self.governance.enabled:
            return True
        held = privilege(privilege_name)
        return self._authorizer.holds(self.actor, held, Securable.parse(kind, name))

    def can_manage(self, kind: str, name: str) -> bool:
        """Whether the actor may grant on the securable (owners, MANAGE holders, admins)."""
        securable = Securable.parse(kind, name)
        return not self.governance.enabled or self._authorizer.can_manage(self.actor, securable)

    def require(self, action: str, kind: str, name: str, *, client: str) -> None:
        """Decide and audit an access (``PermissionDeniedError`` when refused)."""
        if self.governance.enabled:
            securable = Securable.parse(kind, name)
            self._authorizer.check(self.actor, action, securable, where=Where(client=client))

    def change_grants(self, kind: str, name: str, changes: Sequence[GrantChange]) -> None:
        """Grant and revoke for several principals at once: every change is validated (known
        privileges that apply here, known principals) and MANAGE is checked before any is
        applied, so a bad request changes nothing."""
        securable = Securable.parse(kind, name)
        # first, even for an empty batch (its answer lists the grants, which only managers
        # may read) and before any name is looked up (a refusal tells nothing else)
        self.governance.may_manage(self.actor, securable, "grant")
        disclose = self.governance.discloses_principals(self.actor)
        planned = []
        for change in changes:
            add = [privilege(p) for p in change.add]
            remove = [privilege(p) for p in change.remove]
            check_applicable(securable, [*add, *remove])
            self._records.require_principal(change.principal, disclose=disclose)
            planned.append((change.principal, add, remove))
        for principal, add, remove in planned:
            if add:
                self.governance.grant(self.actor, securable, principal, add)
            if remove:
                self.governance.revoke(self.actor, securable, principal, remove)


def privileges_meant(held: Privilege, securable_type: str) -> list[Privilege]:
    """What a granted privilege stands for on a type: ``ALL_PRIVILEGES`` expanded to the
    privileges that apply there, any other privilege itself."""
    if held == Privilege.ALL_PRIVILEGES:
        return sorted(ALL & APPLICABLE[securable_type])
    return [held]
