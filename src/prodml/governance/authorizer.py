"""Access decisions: who may do what on which securable, and the audit record of each."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from prodml.governance.errors import PermissionDeniedError
from prodml.governance.privileges import ALL, Privilege, Securable
from prodml.governance.store import GovernanceStore, expand


@dataclass(frozen=True)
class Where:
    """The context of an audited decision: whom a run executed as, which run and request,
    which client (``cli``, ``http``, ``step:<step>``, …)."""

    run_as: str | None = None
    run_id: str | None = None
    request_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of one check."""

    allowed: bool
    missing: Privilege | None = None
    on: Securable | None = None
    reason: str = ""


#: the privileges each action needs: (privilege, which securable of the chain it is checked on)
#: "catalog" / "schema" / "self" pick the catalog, the schema, or the securable itself; a
#: tuple of privileges is satisfied by any one of them
Requirement = tuple[Privilege | tuple[Privilege, ...], str]
_USE: tuple[Requirement, ...] = (
    (Privilege.USE_CATALOG, "catalog"),
    (Privilege.USE_SCHEMA, "schema"),
)
REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    # on the way to a catalog's or a schema's objects (listings of a catalog's schemas)
    "use_catalog": ((Privilege.USE_CATALOG, "catalog"),),
    "use_schema": _USE,
    "read": (*_USE, (Privilege.SELECT, "self")),
    # a table's metadata (columns, versions, lineage, DQ results without their values), as in
    # Unity Catalog: BROWSE, or any privilege that lets one use the table
    "browse": (*_USE, ((Privilege.BROWSE, Privilege.SELECT, Privilege.MODIFY), "self")),
    # a registered model's metadata (versions, aliases, metrics)
    "browse_model": (*_USE, ((Privilege.BROWSE, Privilege.EXECUTE, Privilege.MODIFY), "self")),
    "write": (*_USE, (Privilege.MODIFY, "self")),
    "create_schema": (
        (Privilege.USE_CATALOG, "catalog"),
        (Privilege.CREATE_SCHEMA, "catalog"),
    ),
    "create_table": (*_USE, (Privilege.CREATE_TABLE, "schema")),
    "create_model": (*_USE, (Privilege.CREATE_MODEL, "schema")),
    "execute": (*_USE, (Privilege.EXECUTE, "self")),
    "modify_model": (*_USE, (Privilege.MODIFY, "self")),
    "call": ((Privilege.EXECUTE, "self"),),
}
#: how a refusal says what was asked ("ana may not see table dev.gold.x")
WORDS = {
    "use_catalog": "use",
    "use_schema": "use",
    "browse": "see",
    "browse_model": "see",
    "read_history": "read the history of",
    "read_state": "read the state of",
    "create_table": "create",
    "create_schema": "create",
    "modify_model": "change",
    **{f"table_{op}": op for op in ("repair", "optimize", "vacuum", "forget", "retain")},
}
# definitions through the catalog API are audited under their own names
REQUIREMENTS |= {
    "schema.create": REQUIREMENTS["create_schema"],
    "table.create": REQUIREMENTS["create_table"],
}
WORDS |= {"schema.create": "create", "table.create": "create"}
# a table's commit history and its state (version, partitions) are read like its rows
REQUIREMENTS |= {"read_history": REQUIREMENTS["read"], "read_state": REQUIREMENTS["read"]}
# maintenance changes a table as a write does
REQUIREMENTS |= {
    f"table_{op}": REQUIREMENTS["write"]
    for op in ("repair", "optimize", "vacuum", "forget", "retain")
}


@dataclass
class Authorizer:
    """Decides with the grants, owners and admins in the store; records every decision.

    Args:
        store: the governance records.
        admins: principals (users or groups) that hold every privilege everywhere.
    """

    store: GovernanceStore
    admins: frozenset[str] = frozenset()
    #: how long group memberships are cached (a change elsewhere applies within this time)
    ttl: float = 5.0
    _memberships: dict[str, set[str]] | None = field(default=None, repr=False)
    _loaded: float = field(default=0.0, repr=False)

    def forget(self) -> None:
        """Re-read group memberships on the next check."""
        self._memberships = None

    def identities(self, principal: str) -> set[str]:
        """The principal and every group it is in (transitively)."""
        now = time.monotonic()
        if self._memberships is None or now - self._loaded > self.ttl:
            self._memberships = self.store.memberships()
            self._loaded = now
        return expand(principal, self._memberships)

    def is_admin(self, principal: str) -> bool:
        """Whether the principal (or one of its groups) is an admin."""
        return bool(self.identities(principal) & self.admins)

    def holds(self, principal: str, privilege: Privilege, securable: Securable) -> bool:
        """Whether ``principal`` holds ``privilege`` on ``securable`` (or on a container):
        as an admin, an owner, or through a grant (ALL_PRIVILEGES covers all but MANAGE)."""
        who = self.identities(principal)
        if who & self.admins:
            return True
        chain = securable.ancestors()
        if set(self.store.owners(chain).values()) & who:
            return True
        for grant in self.store.grants_on(chain):
            if grant["principal"] not in who:
                continue
            held = Privilege(grant["privilege"])
            if held == privilege or (held == Privilege.ALL_PRIVILEGES and privilege in ALL):
                return True
        return False

    def decide(self, principal: str, action: str, securable: Securable) -> Decision:
        """Check every privilege ``action`` needs on ``securable`` and its containers."""
        for wanted, where in REQUIREMENTS[action]:
            target = _target(securable, where)
            if target is None:
                continue
            anyof = wanted if isinstance(wanted, tuple) else (wanted,)
            if not any(self.holds(principal, p, target) for p in anyof):
                what = " or ".join(anyof)
                return Decision(False, anyof[0], target, f"lacks {what} on {target}")
        return Decision(True, reason="granted")

    def can_manage(self, principal: str, securable: Securable) -> bool:
        """Owners (of it or a container), MANAGE holders and admins may grant on it."""
        return self.holds(principal, Privilege.MANAGE, securable)

    def audited(
        self, principal: str, action: str, securable: Securable, where: Where | None = None
    ) -> Decision:
        """Decide for the acting principal (``where.run_as``, else ``principal``) and record the
        decision in the audit log."""
        where = where or Where()
        decision = self.decide(where.run_as or principal, action, securable)
        self.record(
            principal,
            action,
            securable,
            outcome="allowed" if decision.allowed else "denied",
            privilege=decision.missing,
            reason=decision.reason,
            where=where,
        )
        return decision

    def check(
        self,
        principal: str,
        action: str,
        securable: Securable,
        *,
        where: Where | None = None,
        describe: str | None = None,
    ) -> None:
        """Decide, audit, and raise :class:`PermissionDeniedError` on a refusal."""
        where = where or Where()
        decision = self.audited(principal, action, securable, where)
        if not decision.allowed:
            assert decision.missing is not None and decision.on is not None
            raise PermissionDeniedError(
                where.run_as or principal,
                decision.missing,
                decision.on,
                describe or f"{WORDS.get(action, action)} {securable}",
            )

    def record(
        self,
        principal: str,
        action: str,
        securable: Securable | None,
        *,
        outcome: str,
        reason: str,
        privilege: Privilege | None = None,
        where: Where | None = None,
    ) -> None:
        """Append one audit record."""
        where = where or Where()
        self.store.audit(
            [
                {
                    "principal": principal,
                    "run_as": where.run_as,
                    "action": action,
                    "securable_type": securable.type if securable else None,
                    "securable": securable.name if securable else None,
                    "privilege": privilege.value if privilege else None,
                    "outcome": outcome,
                    "reason": reason[:2000],
                    "request_id": where.request_id,
                    "run_id": where.run_id,
                    "client": where.client,
                }
            ]
        )

    def effective(self, securable: Securable) -> list[dict[str, Any]]:
        """Grants that apply to ``securable``: its own and its containers' (with where from)."""
        rows = self.store.grants_on(securable.ancestors())
        return [
            {**r, "inherited_from": None if r["securable"] == securable.name else r["securable"]}
            for r in rows
        ]


def _target(securable: Securable, where: str) -> Securable | None:
    if where == "self":
        return securable
    if where == "catalog":
        return Securable("catalog", securable.catalog)
    return securable.schema()
