"""Administration: who may change principals, groups, tokens and grants, what each sees of
tokens and the audit log; every change is audited, refusals too."""

from __future__ import annotations

import pytest

from prodml.errors import NotFoundError
from prodml.governance.admin import Administration, GrantChange, privileges_meant
from prodml.governance.errors import GovernanceError, NotAnAdminError, PermissionDeniedError
from prodml.governance.privileges import Privilege
from prodml.governance.service import Governance


def test_admins_change_principals_and_groups_and_it_is_audited(governance: Governance) -> None:
    ops = Administration(governance, "ops")
    ops.add_principal("zoe", "user", email="zoe@example.com")
    ops.add_member("analysts", "zoe")
    assert {p["name"]: p["groups"] for p in ops.principals()}["zoe"] == ["analysts"]
    ops.remove_member("analysts", "zoe")
    ops.remove_principal("zoe")
    actions = [r["action"] for r in ops.audit_log() if r["outcome"] == "changed"]
    assert actions[:4] == ["principal.remove", "member.remove", "member.add", "principal.add"]
    with pytest.raises(NotFoundError, match="unknown principal 'zoe'"):
        ops.remove_principal("zoe")


def test_a_non_admin_is_refused_and_the_refusal_is_audited(governance: Governance) -> None:
    ana = Administration(governance, "ana")
    for change in (
        lambda: ana.add_principal("mallory", "user"),
        lambda: ana.add_member("admins", "ana"),
        lambda: ana.remove_principal("eve"),
        lambda: ana.new_token("eve", name="x", expires_at=None),
    ):
        with pytest.raises(NotAnAdminError, match="only admins manage principals"):
            change()
    denied = [r["action"] for r in ana.audit_log() if r["outcome"] == "denied"]
    assert denied == [
        "create tokens for others",
        "remove principals",
        "change group members",
        "add principals",
    ]


def test_tokens_and_the_audit_log_are_your_own_unless_you_are_an_admin(
    governance: Governance,
) -> None:
    ana, ops = Administration(governance, "ana"), Administration(governance, "ops")
    ana.new_token("ana", name="laptop", expires_at=None)
    ops.new_token("eve", name="batch", expires_at=None)
    assert {t["principal"] for t in ana.tokens()} == {"ana"}
    assert {t["principal"] for t in ana.tokens("eve")} == {"ana"}  # asking for eve's: own only
    assert {t["principal"] for t in ops.tokens()} == {"ana", "eve"}
    (eves,) = ops.tokens("eve")
    with pytest.raises(NotAnAdminError):
        ana.revoke_token(eves["id"])
    ana.revoke_token(ana.tokens()[0]["id"])
    assert {r["principal"] for r in ana.audit_log()} <= {"ana"}
    assert {r["principal"] for r in ops.audit_log()} >= {"ana", "ops"}
    assert ops.whoami().admin and not ana.whoami().admin
    assert ana.whoami().groups == ["analysts"]


def test_grants_through_administration(governance: Governance) -> None:
    ops, ana = Administration(governance, "ops"), Administration(governance, "ana")
    assert ops.grant("table", "dev.gold.t", "ana", ["select"]) == ["SELECT"]
    assert ops.grant("table", "dev.gold.t", "ana", ["SELECT"]) == []  # already granted
    assert ana.holds("SELECT", "table", "dev.gold.t") and not ana.can_manage("table", "dev.gold.t")
    ana.require("read", "table", "dev.gold.t", client="test")
    with pytest.raises(PermissionDeniedError, match="lacks MODIFY"):
        ana.require("write", "table", "dev.gold.t", client="test")
    inherited = {
        (r["privilege"], r["inherited_from"]) for r in ops.effective("table", "dev.gold.t")
    }
    assert inherited == {("SELECT", None), ("USE_SCHEMA", "dev.gold"), ("USE_CATALOG", "dev")}
    assert [g["privilege"] for g in ops.grants_on("table", "dev.gold.t", "ana")] == ["SELECT"]
    assert ops.owner("table", "dev.gold.t") is None
    assert ops.revoke("table", "dev.gold.t", "ana", ["SELECT", "MODIFY"]) == ["SELECT"]
    with pytest.raises(PermissionDeniedError, match="lacks MANAGE"):
        ana.grant("table", "dev.gold.t", "eve", ["SELECT"])


def test_a_batch_of_grant_changes_is_applied_whole_or_not_at_all(governance: Governance) -> None:
    ops = Administration(governance, "ops")
    good = GrantChange("ana", add=["SELECT"])
    for bad, error, needle in (
        (GrantChange("ana", add=["USE_CATALOG"]), GovernanceError, "cannot be granted on a table"),
        (GrantChange("ana", add=["FLY"]), GovernanceError, "unknown privilege 'FLY'"),
        (GrantChange("nobody", add=["SELECT"]), NotFoundError, "unknown principal 'nobody'"),
    ):
        with pytest.raises(error, match=needle):
            ops.change_grants("table", "dev.gold.t", [good, bad])
        assert ops.grants_on("table", "dev.gold.t") == []  # the good change was not applied
    with pytest.raises(PermissionDeniedError):
        Administration(governance, "ana").change_grants("table", "dev.gold.t", [good])
    ops.change_grants("table", "dev.gold.t", [good, GrantChange("eve", add=["MODIFY"])])
    assert {g["principal"] for g in ops.grants_on("table", "dev.gold.t")} == {"ana", "eve"}


def test_all_privileges_means_what_applies_to_the_type() -> None:
    on_table = privileges_meant(Privilege.ALL_PRIVILEGES, "table")
    assert on_table == [Privilege.BROWSE, Privilege.MODIFY, Privilege.SELECT]
    assert privileges_meant(Privilege.SELECT, "table") == [Privilege.SELECT]
    assert Privilege.MANAGE not in privileges_meant(Privilege.ALL_PRIVILEGES, "catalog")
