"""Governance's errors: their kinds (HTTP status), and messages that name who, what and how
to fix it."""

from __future__ import annotations

from prodml.errors import AccessDeniedError, UsageError, http_status
from prodml.governance.errors import GovernanceError, NotAnAdminError, PermissionDeniedError
from prodml.governance.privileges import Privilege, Securable


def test_a_missing_privilege_names_the_grant_that_fixes_it() -> None:
    err = PermissionDeniedError(
        "ana", Privilege.SELECT, Securable.parse("table", "dev.gold.orders"), "read"
    )
    assert isinstance(err, AccessDeniedError) and http_status(err) == 403
    assert (err.principal, err.missing, err.action) == ("ana", Privilege.SELECT, "read")
    assert err.message == "ana may not read: it lacks SELECT on table dev.gold.orders"
    assert err.hint == (
        "an owner or a MANAGE holder can run: prodml grants grant table dev.gold.orders "
        "SELECT --to ana"
    )


def test_administration_is_for_admins() -> None:
    err = NotAnAdminError("ana", "add principals")
    assert http_status(err) == 403 and err.principal == "ana"
    assert str(err) == (
        "ana may not add principals: only admins manage principals and tokens "
        "(admins are listed under governance.admins in prodml.yaml)"
    )


def test_a_malformed_request_is_a_usage_error() -> None:
    err = GovernanceError("unknown privilege 'fly'", hint="privileges: SELECT")
    assert isinstance(err, UsageError) and http_status(err) == 400
    assert str(err) == "unknown privilege 'fly' (privileges: SELECT)"
