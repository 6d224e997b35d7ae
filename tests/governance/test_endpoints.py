"""An endpoint's guard: without governance its declared tokens let callers in; with it any
valid token does and EXECUTE decides; answers are cached for a while; all is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.governance.endpoints import EndpointGuard
from prodml.governance.privileges import Securable
from prodml.governance.service import Governance
from prodml.governance.tokens import new_token, token_hash

ENDPOINT = Securable("endpoint", "dev.churn")


@pytest.fixture
def ungoverned(store_url: str) -> Iterator[Governance]:
    store = MetadataStore(store_url)
    yield Governance(store, GovernanceConfig())
    store.close()


def test_without_governance_only_the_endpoints_own_tokens_count(ungoverned: Governance) -> None:
    declared = new_token()[1]
    ungoverned.records.sync_declared(str(ENDPOINT), [("crm-app", token_hash(declared))])
    ungoverned.records.add_principal("ana", "user")
    platform = ungoverned.records.new_token("ana", name="cli", created_by="ana", expires_at=None)
    guard = EndpointGuard(ungoverned, ENDPOINT, ttl=0)
    assert guard.principal(f"Bearer {declared}") == "crm-app"
    assert guard.permits("crm-app")
    assert guard.principal(f"Bearer {platform}") is None  # a platform token is not enough
    assert guard.principal("Bearer nonsense") is None
    assert guard.principal(None) is None
    assert guard.principal(f"Basic {declared}") is None
    reasons = {r["reason"] for r in ungoverned.records.audit_log() if r["outcome"] == "denied"}
    assert reasons == {"not a token of endpoint dev.churn", "unknown token"}


def test_with_governance_execute_decides_and_grants_are_cached(governance: Governance) -> None:
    ana = governance.records.new_token("ana", name="cli", created_by="ops", expires_at=None)
    guard = EndpointGuard(governance, ENDPOINT, ttl=60)
    assert guard.principal(f"Bearer {ana}") == "ana"
    assert not guard.permits("ana", request_id="r1")
    assert not guard.permits("ana", request_id="r2")  # every refusal is decided and audited
    governance.grant("ops", ENDPOINT, "analysts", ["EXECUTE"])
    assert guard.permits("ana", request_id="r3")  # a refusal is not remembered
    governance.revoke("ops", ENDPOINT, "analysts", ["EXECUTE"])
    assert guard.permits("ana", request_id="r4")  # a grant is, for the ttl (not audited again)
    assert not EndpointGuard(governance, ENDPOINT, ttl=0).permits("ana", request_id="r5")
    calls = [r for r in governance.records.audit_log() if r["action"] == "call"]
    assert [(r["outcome"], r["request_id"], r["client"]) for r in calls] == [
        ("denied", "r5", "http"),
        ("allowed", "r3", "http"),
        ("denied", "r2", "http"),
        ("denied", "r1", "http"),
    ]
    tokens = [t["id"] for t in governance.records.tokens("ana")]
    governance.records.revoke_token(tokens[0])
    assert guard.principal(f"Bearer {ana}") == "ana"  # still cached
    assert EndpointGuard(governance, ENDPOINT, ttl=0).principal(f"Bearer {ana}") is None
