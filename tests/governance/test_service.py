"""Governance of a platform: declarations applied (and removals), identity from a token or the
local user, whom runs execute as, checks by name (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from tests.governance.conftest import DECLARED

from prodml.catalog.policies import Access
from prodml.config.platform import GovernanceConfig
from prodml.errors import AuthenticationError
from prodml.governance.errors import GovernanceError, PermissionDeniedError
from prodml.governance.service import TOKEN_ENV, Governance, parse_securable


def test_identity_from_a_token_or_the_local_user(governance: Governance) -> None:
    token = governance.new_token("ops", "ana", name="cli", expires_at=None)
    assert governance.identify({TOKEN_ENV: token}) == "ana"
    with pytest.raises(AuthenticationError, match="unknown token"):
        governance.identify({TOKEN_ENV: "pdml_bad_bad"})


def test_an_undeclared_local_user_is_told_how_to_get_in(store_url: str) -> None:
    from prodml.catalog.store import MetadataStore

    store = MetadataStore(store_url)
    try:
        config = GovernanceConfig.model_validate({**DECLARED, "local_user": "mallory"})
        gov = Governance(store, config)
        gov.apply_config()
        with pytest.raises(AuthenticationError, match="'mallory', which is not a principal"):
            gov.identify({})
    finally:
        store.close()


def test_runs_execute_as_the_service_principal_only_for_it_or_an_admin(
    governance: Governance,
) -> None:
    assert governance.run_as("ops", "churn-sp") == "churn-sp"  # an admin
    assert governance.run_as("churn-sp", "churn-sp") == "churn-sp"
    assert governance.run_as("ana", "churn-sp") is None  # with her own privileges
    assert governance.run_as("ana", None) is None


def test_checks_by_name_and_declaration_errors(governance: Governance) -> None:
    governance.check_named(Access("ops"), "read", "table", "dev.gold.x")  # admins may
    with pytest.raises(PermissionDeniedError, match=r"lacks SELECT on table dev\.gold\.x"):
        governance.check_named(Access("ana", step="s"), "read", "table", "dev.gold.x")
    (denied,) = [r for r in governance.records.audit_log() if r["outcome"] == "denied"]
    assert denied["client"] == "step:s"
    with pytest.raises(GovernanceError, match="unknown securable type"):
        parse_securable("volume dev.x")


def test_removing_a_declaration_removes_what_it_made(governance: Governance) -> None:
    smaller = {**DECLARED, "users": {"ops": {"groups": ["admins"]}}, "grants": []}
    Governance(governance.records.store, GovernanceConfig.model_validate(smaller)).apply_config()
    names = {p["name"] for p in governance.records.principals()}
    assert "ana" not in names and "ops" in names
    assert governance.records.grants() == []
    removed = [
        r["reason"] for r in governance.records.audit_log() if r["action"] == "config.remove"
    ]
    assert "removed principal ana" in removed


def test_a_member_of_an_undeclared_group_is_refused(store_url: str) -> None:
    from prodml.catalog.store import MetadataStore

    store = MetadataStore(store_url)
    try:
        config = {**DECLARED, "users": {"ana": {"groups": ["ghosts"]}}}
        with pytest.raises(GovernanceError, match="group 'ghosts', which is not declared"):
            Governance(store, GovernanceConfig.model_validate(config)).apply_config()
    finally:
        store.close()
