"""Errors of governance: malformed requests, missing privileges, who may administer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prodml.errors import AccessDeniedError, UsageError

if TYPE_CHECKING:
    from prodml.governance.privileges import Privilege, Securable


class GovernanceError(UsageError):
    """A governance request is malformed (unknown privilege, securable or principal)."""


class PermissionDeniedError(AccessDeniedError):
    """A principal lacks a privilege: names the principal, the privilege and the securable."""

    def __init__(self, principal: str, missing: Privilege, securable: Securable, action: str):
        self.principal = principal
        self.missing = missing
        self.securable = securable
        self.action = action
        super().__init__(
            f"{principal} may not {action}: it lacks {missing} on {securable}",
            hint=f"an owner or a MANAGE holder can run: prodml grants grant {securable.type} "
            f"{securable.name} {missing} --to {principal}",
        )


class NotAnAdminError(AccessDeniedError):
    """Principal and token management (of others) is for admins.

    Attributes:
        principal: who asked.
    """

    def __init__(
        self, principal: str, action: str, only: str = "manage principals and tokens"
    ) -> None:
        self.principal = principal
        super().__init__(
            f"{principal} may not {action}: only admins {only}",
            hint="admins are listed under governance.admins in prodml.yaml",
        )
