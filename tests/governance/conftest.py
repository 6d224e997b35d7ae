"""A governance of its own for the governance unit tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
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


def governed_retail(root: Path, edit: Callable[[str], str], *commands: tuple[str, ...]) -> Path:
    """The retail example at ``root`` with governance on, its prodml.yaml passed through
    ``edit``, then ``commands`` run with the CLI (each must succeed)."""
    from tests.helpers import prodml_cli

    assert prodml_cli("init", str(root), "--example", "retail", "--days", "40").code == 0
    platform = root / "prodml.yaml"
    platform.write_text(
        edit(platform.read_text().replace("  enabled: false\n", "  enabled: true\n"))
    )
    for args in commands:
        r = prodml_cli(*args, cwd=root, timeout=300)
        assert r.code == 0, r.err
    return root
