"""Principals, groups, tokens, grants with inheritance and the audit log, on SQLite and on
PostgreSQL (the ``store_url`` matrix)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from prodml.catalog.store import MetadataStore
from prodml.errors import NotFoundError
from prodml.governance.authorizer import Authorizer, Where
from prodml.governance.errors import GovernanceError, PermissionDeniedError
from prodml.governance.privileges import Privilege, Securable, privilege
from prodml.governance.store import GovernanceStore

P = Privilege
GOLD = Securable("schema", "prod.gold")
PREDICTIONS = Securable("table", "prod.gold.churn_predictions")
PROD = Securable("catalog", "prod")


@pytest.fixture
def gov(store_url: str) -> Iterator[GovernanceStore]:
    store = MetadataStore(store_url)
    gov = GovernanceStore(store)
    gov.add_principal("ana", "user", email="ana@example.com")
    gov.add_principal("ben", "user")
    gov.add_principal("data-scientists", "group")
    gov.add_principal("analytics", "group")
    gov.add_principal("churn-sp", "service_principal")
    gov.add_member("data-scientists", "ana")
    gov.add_member("analytics", "data-scientists")  # groups in groups
    yield gov
    store.close()


def test_grants_on_a_container_reach_every_child_through_nested_groups(
    gov: GovernanceStore,
) -> None:
    auth = Authorizer(gov)
    assert not auth.decide("ana", "read", PREDICTIONS).allowed
    gov.grant(PROD, "analytics", [P.USE_CATALOG, P.USE_SCHEMA], by="admin")
    denied = auth.decide("ana", "read", PREDICTIONS)
    assert (denied.missing, denied.on) == (P.SELECT, PREDICTIONS)  # USE_* alone is not enough
    gov.grant(GOLD, "data-scientists", [P.SELECT], by="admin")
    assert auth.decide("ana", "read", PREDICTIONS).allowed  # the schema grant covers the table
    assert auth.decide("ana", "read", Securable("table", "prod.gold.future_table")).allowed
    assert not auth.decide("ana", "read", Securable("table", "prod.silver.orders")).allowed
    assert not auth.decide("ana", "write", PREDICTIONS).allowed
    assert not auth.decide("ben", "read", PREDICTIONS).allowed


def test_all_privileges_is_everything_but_manage_and_owners_may_grant(
    gov: GovernanceStore,
) -> None:
    auth = Authorizer(gov)
    gov.grant(Securable("catalog", "staging"), "churn-sp", [P.ALL_PRIVILEGES], by="admin")
    staging_table = Securable("table", "staging.gold.churn_predictions")
    for action in ("read", "write", "create_table"):
        assert auth.decide("churn-sp", action, staging_table).allowed, action
    assert not auth.decide("churn-sp", "write", PREDICTIONS).allowed  # staging jobs ≠ prod
    assert not auth.can_manage("churn-sp", staging_table)
    gov.set_owner(GOLD, "ben")
    assert auth.can_manage("ben", PREDICTIONS)
    # an owner of the schema still needs USE_CATALOG on its catalog, as in Unity Catalog
    assert auth.decide("ben", "write", PREDICTIONS).missing == P.USE_CATALOG
    gov.grant(PROD, "ben", [P.USE_CATALOG], by="admin")
    assert auth.decide("ben", "write", PREDICTIONS).allowed
    gov.grant(PREDICTIONS, "ana", [P.MANAGE], by="ben")
    assert auth.can_manage("ana", PREDICTIONS) and not auth.can_manage("ana", GOLD)
    assert (
        Authorizer(gov, admins=frozenset({"analytics"})).decide("ana", "write", PREDICTIONS).allowed
    )


def test_check_audits_allowed_and_denied_with_a_clear_refusal(gov: GovernanceStore) -> None:
    auth = Authorizer(gov)
    gov.grant(PROD, "ana", [P.USE_CATALOG, P.USE_SCHEMA, P.SELECT], by="admin")
    auth.check("ana", "read", PREDICTIONS, where=Where(run_id="r1"))
    with pytest.raises(PermissionDeniedError) as err:
        auth.check("ana", "write", PREDICTIONS, where=Where(run_id="r1", client="cli"))
    assert str(err.value).startswith(
        "ana may not write table prod.gold.churn_predictions: it lacks MODIFY on table "
        "prod.gold.churn_predictions"
    )
    log = gov.audit_log(principal="ana")
    assert [(r["action"], r["outcome"], r["privilege"]) for r in log] == [
        ("write", "denied", "MODIFY"),
        ("read", "allowed", None),
    ]
    assert log[0]["securable"] == "prod.gold.churn_predictions" and log[0]["client"] == "cli"
    assert gov.audit_log(since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_group_cycles_and_unknown_names_are_refused(gov: GovernanceStore) -> None:
    with pytest.raises(GovernanceError, match="cycle"):
        gov.add_member("data-scientists", "analytics")
    with pytest.raises(GovernanceError, match="cycle"):
        gov.add_member("analytics", "analytics")
    with pytest.raises(GovernanceError, match="not a group"):
        gov.add_member("ana", "ben")
    with pytest.raises(NotFoundError, match="did you mean 'ana'"):
        gov.grant(PROD, "anna", [P.SELECT], by="admin")
    with pytest.raises(GovernanceError, match="already exists as a user"):
        gov.add_principal("ana", "group")
    for bad in ("Ana", "ana; drop table x", "", "a" * 200):
        with pytest.raises(GovernanceError, match="is not valid"):
            gov.add_principal(bad, "user")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("table", "prod.gold"),
        ("table", "prod.gold.x; DROP TABLE y"),
        ("schema", "prod.Gold"),
        ("catalog", "prod.gold"),
        ("volume", "prod.gold.x"),
        ("table", "prod.gold.x'--"),
    ],
)
def test_securable_names_with_injection_attempts_are_rejected(kind: str, name: str) -> None:
    with pytest.raises(GovernanceError):
        Securable.parse(kind, name)


def test_privilege_names() -> None:
    assert privilege("use catalog") is P.USE_CATALOG and privilege("select") is P.SELECT
    with pytest.raises(GovernanceError, match="did you mean 'SELECT'"):
        privilege("SELCT")


def test_tokens_are_hashed_shown_once_expire_and_revoke(gov: GovernanceStore) -> None:
    token = gov.new_token("churn-sp", name="ci", created_by="ana", expires_at=None)
    assert token.startswith("pdml_")
    assert gov.authenticate(token) == ("churn-sp", "ok")
    listed = gov.tokens("churn-sp")
    assert "sha256" not in listed[0] and token not in repr(listed)
    assert gov.authenticate(token[:-1] + ("x" if token[-1] != "x" else "y"))[0] is None
    assert gov.authenticate("Bearer nonsense") == (None, "unknown token")  # any format: by hash
    gov.revoke_token(listed[0]["id"])
    assert gov.authenticate(token) == (None, "token revoked")
    old = gov.new_token(
        "churn-sp", name="old", created_by="ana", expires_at=datetime.now(UTC) - timedelta(1)
    )
    assert gov.authenticate(old) == (None, "token expired")
    with pytest.raises(NotFoundError):
        gov.revoke_token("nope")


def test_prodml_yaml_removals_take_effect(store_url: str) -> None:
    from prodml.config.platform import GovernanceConfig
    from prodml.governance.service import Governance

    declared = {
        "enabled": True,
        "users": {"ana": {"groups": ["admins"]}, "bob": {}},
        "groups": {"admins": {}},
        "grants": [{"securable": "catalog prod", "principal": "bob", "privileges": ["SELECT"]}],
    }
    store = MetadataStore(store_url)
    try:
        first = Governance(store, GovernanceConfig(**declared))
        first.apply_config()
        token = first.records.new_token("bob", name="t", created_by="ana", expires_at=None)
        assert first.authorizer.holds("bob", P.SELECT, PREDICTIONS)
        assert "ana" in first.authorizer.identities("ana") and first.records.memberships()
        # ana leaves the admins group; bob and his grant leave the file
        smaller = {**declared, "users": {"ana": {}}, "grants": []}
        second = Governance(store, GovernanceConfig(**smaller))
        second.apply_config()
        assert second.records.memberships() == {}
        assert second.records.principal("bob") is None
        assert second.records.grants(principal="bob") == []
        assert second.records.authenticate(token)[0] is None  # his tokens went with him
        removed = [
            r["reason"] for r in second.records.audit_log() if r["action"] == "config.remove"
        ]
        assert any("bob" in r for r in removed) and any("group admins" in r for r in removed)
    finally:
        store.close()
