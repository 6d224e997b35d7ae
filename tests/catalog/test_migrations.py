"""A metadata database made by the previous main upgrades to the head revision and keeps its
records: runs, lineage, grants, the audit log, and tokens already issued (SQLite, PostgreSQL).

The databases in ``fixtures/`` were made by the main of 2026-12-02 (revision 0006; see
``fixtures/README.md``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from prodml.catalog import schema
from prodml.catalog.store import MetadataStore

FIXTURES = Path(__file__).parent / "fixtures"

#: test secrets: tokens issued by the previous main into the fixture databases
TOKENS = {
    "sqlite": (
        "pdml_a3c809139202_AMYc4RKUCme61oZaMTnNHAaqo0lQFLj_PPqktsm4JBM",
        "pdml_49e5e283b2d0_b4j7sD_p9e8p0qEXxBgJaxo9eYQ7ouUC6w7gdsMJBk4",
    ),
    "postgres": (
        "pdml_6a68df5af55e_TLVxGCsue7v5yYk5HhFY0K4k2ataqon4Vwm50coYjg4",
        "pdml_fba957318ed0_J-K34pSltwNaGTtzXoLJ1B_pIzLkjcpjf2XS7sfx9FQ",
    ),
}


#: a token ``prodml tokens new`` printed before the token systems merged
SERVING_TOKEN = "pml_ejSKjOTES3MKFzk8u8dwmEmrqYGVg9s9RT4ihKQL19s"


def _sqlite(tmp_path: Path) -> Iterator[str]:
    copy = tmp_path / "prodml.db"
    shutil.copy(FIXTURES / "main-0006.sqlite", copy)
    yield f"sqlite:///{copy}"


def _postgres() -> Iterator[str]:
    base = os.environ.get("PRODML_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PRODML_TEST_POSTGRES_URL not set: PostgreSQL upgrade test skipped")
    name = f"t_{uuid.uuid4().hex[:10]}"
    dump = (FIXTURES / "main-0006.postgres.sql").read_text().replace("fixture_main", name)
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    raw = admin.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute(dump)
        raw.commit()
    finally:
        raw.close()
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def previous_main(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a copy of the previous main's metadata database."""
    made = _sqlite(tmp_path) if request.param == "sqlite" else _postgres()
    yield request.param, next(made)
    next(made, None)


def _revision(store: MetadataStore) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())


def test_a_database_of_the_previous_main_upgrades_and_keeps_its_records(
    previous_main: tuple[str, str],
) -> None:
    backend, url = previous_main
    store = MetadataStore(url)  # opening migrates to the head revision
    try:
        assert _revision(store) == schema.HEAD_REVISION
        runs = store.list_runs(catalog="dev")
        assert [r["status"] for r in runs] == ["succeeded"]
        steps = store.step_runs(runs[0]["run_id"])
        assert len(steps) == 13 and {s["status"] for s in steps} <= {"succeeded", "skipped"}
        assert {t["name"] for t in store.list_tables("dev")} >= {"orders", "customer_features"}
        with store.engine.connect() as conn:
            edges = conn.execute(
                sa.select(sa.func.count()).select_from(schema.lineage_edges)
            ).scalar()
            audit = conn.execute(sa.select(sa.func.count()).select_from(schema.audit)).scalar()
            grants = conn.execute(sa.select(sa.func.count()).select_from(schema.grants)).scalar()
            dq_scopes = {
                s for (s,) in conn.execute(sa.select(schema.dq_results.c.scope).distinct())
            }
        assert edges and audit and grants == 8
        assert dq_scopes <= {None}  # results recorded before 0008 are kept, with no scope
    finally:
        store.close()
    from prodml.governance.store import GovernanceStore
    from prodml.governance.tokens import token_hash

    kept, revoked = TOKENS[backend]
    records = GovernanceStore(MetadataStore(url))
    try:
        assert records.authenticate(kept) == ("churn-sp", "ok")
        assert records.authenticate(revoked) == (None, "token revoked")
        # tokens issued before are the platform's: no scope, made with the CLI
        assert {(t["scope"], t["source"]) for t in records.tokens()} == {(None, "cli")}
        # an endpoint token the previous main printed (pml_…, its hash in product.yaml) works
        records.sync_declared("endpoint dev.churn", [("crm-app", token_hash(SERVING_TOKEN))])
        assert records.authenticate(SERVING_TOKEN, "endpoint dev.churn") == ("crm-app", "ok")
    finally:
        records.store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A metadata database at revision 0010 (the previous main's head) with a table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'prodml.db'}"
        cleanup = None
    else:
        base = os.environ.get("PRODML_TEST_POSTGRES_URL")
        if not base:
            pytest.skip("PRODML_TEST_POSTGRES_URL not set: PostgreSQL upgrade test skipped")
        name = f"t_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
        cleanup = (admin, name)
    from alembic import command
    from alembic.config import Config

    from prodml.catalog.store import MIGRATIONS

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0010")
        stamp = sa.text("CURRENT_TIMESTAMP")
        conn.execute(
            sa.text(
                "INSERT INTO prodml_tables (catalog, schema_name, name, description, columns, "
                "partition_by, keys, location, created_at, updated_at) VALUES ('dev', 'gold', "
                "'orders', 'Orders.', '[]', '[]', '[]', '/data/dev/gold/orders', "
                f"{stamp}, {stamp})"
            )
        )
    engine.dispose()
    try:
        yield url
    finally:
        if cleanup is not None:
            admin, name = cleanup
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            admin.dispose()


def test_a_0010_database_upgrades_to_catalog_api_definitions(at_0010: str) -> None:
    """0011: catalogs and schemas made through the catalog API, and a table's type, creator
    and properties; the tables already recorded are kept, as tables products write."""
    store = MetadataStore(at_0010)
    try:
        assert _revision(store) == schema.HEAD_REVISION == "0011"
        (orders,) = store.list_tables("dev")
        assert (orders["name"], orders["table_type"], orders["created_by"]) == (
            "orders",
            None,
            None,
        )
        assert store.placements() == {}  # only tables defined by location are placed
        made = {"securable_type": "catalog", "name": "lake", "properties": {}, "created_by": "ops"}
        assert store.add_securable(made) and not store.add_securable(made)
        assert store.securable("catalog", "lake")["created_by"] == "ops"
    finally:
        store.close()
