"""The façade's governance: identity, administration as the acting principal, decisions made
on behalf of a server's callers (checked and audited), securable names, batch grant changes."""

from __future__ import annotations

from pathlib import Path

import pytest

import prodml
from prodml.errors import AuthenticationError
from prodml.governance.errors import GovernanceError, NotAnAdminError, PermissionDeniedError


def test_who_acts_and_what_they_may_administer(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        me = ws.whoami()
        assert ws.principal == "ops" and ws.governance_enabled
        assert (me.name, me.admin) == ("ops", True)
        ws.add_principal("bo", email="bo@example.com")
        ws.add_member("admins", "bo")
        assert {p["name"] for p in ws.principals()} >= {"ops", "ana", "bo", "admins"}
        ws.remove_member("admins", "bo")
        ws.remove_principal("bo")
        assert "bo" not in {p["name"] for p in ws.principals()}
    with prodml.connect(governed, principal="ana") as ws:
        assert not ws.whoami().admin
        with pytest.raises(NotAnAdminError, match="only admins manage principals"):
            ws.add_principal("eve")


def test_tokens_authenticate_until_revoked(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        token = ws.new_token("ana", name="laptop")
        assert ws.authenticate(token, client="test") == "ana"
        (listed,) = ws.tokens("ana")
        assert listed["name"] == "laptop" and token not in str(listed)
        ws.revoke_token(listed["id"])
        with pytest.raises(AuthenticationError):
            ws.authenticate(token, client="test")


def test_decisions_on_behalf_of_callers_are_audited(governed: Path) -> None:
    """A server acts for a caller through ``as_caller(token)``: the view decides with the
    caller's grants (there is no way to name a principal on the caller's word)."""
    with prodml.connect(governed) as ws:
        ana = ws.as_caller(ws.new_token("ana", name="t"), client="uc-api")
        assert ana.principal == "ana" and ws.principal == "ops"
        assert ana.holds("SELECT", "table", "dev.gold.totals")  # from schema dev.gold
        assert not ana.holds("SELECT", "table", "dev.bronze.sales")
        assert ws.can_manage("schema", "dev.gold") and not ana.can_manage("schema", "dev.gold")
        assert ws.is_admin() and not ana.is_admin()
        ana.require("read", "table", "dev.gold.totals", client="uc-api")
        with pytest.raises(PermissionDeniedError, match=r"ana may not read table dev\.bronze"):
            ana.require("read", "table", "dev.bronze.sales", client="uc-api")
        seen = {
            (r["securable"], r["outcome"], r["client"])
            for r in ws.audit(principal="ana")
            if r["action"] == "read"
        }
        with pytest.raises(AuthenticationError):
            ws.as_caller("pdml_not-a-token", client="uc-api")
    assert {
        ("dev.gold.totals", "allowed", "uc-api"),
        ("dev.bronze.sales", "denied", "uc-api"),
    } <= seen


def test_grants_one_at_a_time_and_in_a_batch(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        assert ws.grant("schema", "dev.bronze", "ana", ["SELECT", "SELECT"]) == ["SELECT"]
        assert ws.grants_on("schema", "dev.bronze", "ana")[0]["privilege"] == "SELECT"
        effective = ws.effective_grants("table", "dev.bronze.sales")
        assert ("ana", "SELECT", "dev.bronze") in {
            (g["principal"], g["privilege"], g["securable"].split(" ")[-1]) for g in effective
        }
        assert ws.revoke("schema", "dev.bronze", "ana", ["SELECT"]) == ["SELECT"]
        with pytest.raises(GovernanceError):  # one bad change: nothing applied
            ws.change_grants(
                "schema",
                "dev.bronze",
                [{"principal": "ana", "add": ["SELECT"]}, {"principal": "ana", "add": ["FLY"]}],
            )
        assert ws.grants_on("schema", "dev.bronze", "ana") == []
        ana = ws.as_caller(ws.new_token("ana", name="t"), client="test")
        with pytest.raises(PermissionDeniedError):  # only managers, even with no change
            ana.change_grants("schema", "dev.bronze", [])


def test_securable_names_privileges_and_the_store(governed: Path) -> None:
    with prodml.connect(governed) as ws:
        ws.check_securable("table", "dev.gold.totals")
        with pytest.raises(GovernanceError, match="table"):
            ws.check_securable("table", "totals")
        assert "SELECT" in ws.privileges_meant("ALL_PRIVILEGES", "table")
        assert ws.privileges_meant("SELECT", "table") == ["SELECT"]
        assert ws.metadata_location.startswith("sqlite:///")
        assert ws.owner("table", "dev.gold.totals") is None  # not written yet
