"""A governance of its own for the governance unit tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prodml.catalog.store import MetadataStore
from prodml.config.platform import GovernanceConfig
from prodml.governance.service import Governance

DECLARED: dict[str, Any] = {
    "enabled": True,
    "admins": ["admins"],
    "users": {"ops": {"groups": ["admins"]}, "ana": {"groups": ["analysts"]}, "eve": {}},
    "groups": {"admins": {}, "analysts": {}},
    "service_principals": {"churn-sp": {}},
    "grants": [
        {"securable": "catalog dev", "principal": "analysts", "privileges": ["USE_CATALOG"]},
        {"securable": "schema dev.gold", "principal": "analysts", "privileges": ["USE_SCHEMA"]},
    ],
}


@pytest.fixture
def governance(store_url: str) -> Iterator[Governance]:
    """Declared principals and grants applied to a fresh metadata store."""
    store = MetadataStore(store_url)
    gov = Governance(store, GovernanceConfig.model_validate(DECLARED))
    gov.apply_config()
    yield gov
    store.close()
