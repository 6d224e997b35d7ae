"""Shared fixtures: an isolated PostgreSQL schema per test and a metadata-store URL matrix."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "PRODML_TEST_POSTGRES_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped after the test.

    Skips when ``PRODML_TEST_POSTGRES_URL`` is not set.
    """
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL backend tests skipped")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A metadata-store URL: a SQLite file in ``tmp_path``, or an isolated PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/prodml.db"
    return str(request.getfixturevalue("pg_url"))


def _weight(item: pytest.Item) -> int:
    """Where a test goes in the run: the slow ones first, then the rest (in pytest-randomly's
    order)."""
    return 0 if item.get_closest_marker("slow") else 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests start first: under xdist, one scheduled last leaves the other
    worker idle while it runs."""
    items.sort(key=_weight)  # stable: the random order holds within each weight
