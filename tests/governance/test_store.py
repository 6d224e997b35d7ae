"""Governance records: tokens found by hash (any format), declared endpoint tokens kept in
step with product.yaml, groups without cycles (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from prodml.governance.errors import GovernanceError
from prodml.governance.service import Governance
from prodml.governance.tokens import token_hash

ENDPOINT = "endpoint dev.churn"


def test_declared_endpoint_tokens_follow_product_yaml_and_revocations_stick(
    governance: Governance,
) -> None:
    records = governance.records
    legacy = "pml_" + "x" * 43  # the format serving used to print: still works by its hash
    other = "pdml_0123456789ab_" + "y" * 43
    records.sync_declared(ENDPOINT, [("crm-app", token_hash(legacy)), ("bi", token_hash(other))])
    records.sync_declared(ENDPOINT, [("crm-app", token_hash(legacy)), ("bi", token_hash(other))])
    assert records.authenticate(legacy, ENDPOINT) == ("crm-app", "ok")
    assert records.authenticate(legacy) == (None, f"the token is for {ENDPOINT} only")
    assert records.authenticate(legacy, "endpoint dev.demand")[0] is None
    listed = {t["name"]: t for t in records.tokens()}
    assert listed["crm-app"]["source"] == "config" and listed["crm-app"]["scope"] == ENDPOINT
    records.sync_declared(ENDPOINT, [("crm-app", token_hash(legacy))])  # bi left product.yaml
    assert records.authenticate(other, ENDPOINT) == (None, "token revoked")
    records.revoke_token(listed["crm-app"]["id"])  # a leaked token, revoked by an admin
    records.sync_declared(ENDPOINT, [("crm-app", token_hash(legacy))])
    assert records.authenticate(legacy, ENDPOINT) == (None, "token revoked")


def test_platform_tokens_count_everywhere_but_not_where_only_scoped_ones_do(
    governance: Governance,
) -> None:
    records = governance.records
    token = records.new_token("ana", name="cli", created_by="ops", expires_at=None)
    assert records.authenticate(token, ENDPOINT) == ("ana", "ok")
    assert records.authenticate(token, ENDPOINT, scoped_only=True) == (
        None,
        f"not a token of {ENDPOINT}",
    )
    assert records.authenticate("nonsense") == (None, "unknown token")


def test_groups_never_form_a_cycle(governance: Governance) -> None:
    records = governance.records
    records.add_principal("inner", "group")
    records.add_member("analysts", "inner")
    with pytest.raises(GovernanceError, match="would make a cycle"):
        records.add_member("inner", "analysts")
    with pytest.raises(GovernanceError, match="is a user, not a group"):
        records.add_member("ana", "eve")
    with pytest.raises(GovernanceError, match="already exists as a user"):
        records.add_principal("ana", "group")
    with pytest.raises(GovernanceError, match="not valid"):
        records.add_principal("Ana Smith", "user")
