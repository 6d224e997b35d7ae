"""Tests for the metadata store, run against every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from prodml.catalog import schema
from prodml.catalog.errors import MetadataStoreError
from prodml.catalog.store import MIGRATIONS, MetadataStore
from prodml.errors import NotFoundError

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[MetadataStore]:
    opened = MetadataStore(store_url)
    yield opened
    opened.close()


def table_record(name: str, catalog: str = "dev", **extra: Any) -> dict[str, Any]:
    return {
        "catalog": catalog,
        "schema_name": "silver",
        "name": name,
        "owner_product": "retail_core",
        "producer_step": "retail_core.clean_orders",
        "layer": "silver",
        "description": "Cleaned orders.",
        "columns": [{"name": "order_id", "type": "int64"}],
        "partition_by": ["order_date"],
        "keys": ["order_id"],
        "location": f"/data/{catalog}/silver/{name}",
        **extra,
    }


def run_record(
    run_id: str, *, product: str = "churn", catalog: str = "dev", started_at: datetime = T0
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "product": product,
        "env": catalog,
        "catalog": catalog,
        "status": "running",
        "started_at": started_at,
        "principal": "ana",
        "git_sha": "0123abc",
        "git_dirty": False,
        "config_hash": "cafe0123cafe0123",
        "packages": {"prodml": "0.1.0"},
        "options": {"full_refresh": False},
    }


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


# -- migrations ------------------------------------------------------------------------------


def test_head_revision_matches_the_migration_scripts() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS))
    assert scripts.get_heads() == [schema.HEAD_REVISION]


def test_migrations_run_once_and_reopening_is_a_no_op(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="prodml.catalog.store"):
        first = MetadataStore(store_url)
        first.upsert_table(table_record("orders"))
        first.close()
        migrations = [r for r in caplog.records if "migrating" in r.getMessage()]
        assert len(migrations) == 1

        second = MetadataStore(store_url)
        try:
            assert [r for r in caplog.records if "migrating" in r.getMessage()] == migrations
            # the data written before survives the reopen
            assert [t["name"] for t in second.list_tables()] == ["orders"]
            with second.engine.connect() as conn:
                assert (
                    MigrationContext.configure(conn).get_current_revision() == schema.HEAD_REVISION
                )
                names = set(sa.inspect(conn).get_table_names())
                versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            assert {t.name for t in schema.metadata.sorted_tables} <= names
            assert versions == [(schema.HEAD_REVISION,)]
        finally:
            second.close()


def test_migrate_again_is_harmless(store: MetadataStore) -> None:
    store.upsert_table(table_record("orders"))
    store.migrate()
    assert len(store.list_tables()) == 1


# -- tables and commits ----------------------------------------------------------------------


def test_upsert_get_and_list_tables(store: MetadataStore) -> None:
    assert store.get_table("dev", "silver", "orders") is None
    assert store.list_tables() == []

    store.upsert_table(table_record("orders"))
    created = store.get_table("dev", "silver", "orders")
    assert created is not None
    assert created["columns"] == [{"name": "order_id", "type": "int64"}]
    assert created["partition_by"] == ["order_date"]
    assert created["keys"] == ["order_id"]
    assert created["created_at"] == created["updated_at"]

    store.upsert_table(table_record("orders", description="Orders, deduplicated.", keys=[]))
    updated = store.get_table("dev", "silver", "orders")
    assert updated is not None
    assert updated["id"] == created["id"]
    assert updated["description"] == "Orders, deduplicated."
    assert updated["keys"] == []
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]

    store.upsert_table(table_record("customers"))
    store.upsert_table(table_record("orders", catalog="prod"))
    listed = [(t["catalog"], t["name"]) for t in store.list_tables()]
    assert listed == [("dev", "customers"), ("dev", "orders"), ("prod", "orders")]
    assert [t["name"] for t in store.list_tables("prod")] == ["orders"]
    assert store.list_tables("staging") == []


def test_description_defaults_to_empty(store: MetadataStore) -> None:
    record = table_record("orders")
    del record["description"]
    store.upsert_table(record)
    entry = store.get_table("dev", "silver", "orders")
    assert entry is not None
    assert entry["description"] == ""


def test_record_commit_is_idempotent_per_version(store: MetadataStore) -> None:
    def commit(version: int, rows: int) -> dict[str, Any]:
        return {
            "table_name": "dev.silver.orders",
            "version": version,
            "operation": "merge",
            "run_id": "r1",
            "step": "clean",
            "rows": rows,
            "bytes": 10 * rows,
            "partitions": ["2024-01-01"],
        }

    store.record_commit(commit(0, 5))
    store.record_commit(commit(0, 999))
    store.record_commit(commit(1, 7))
    commits = store.commits("dev.silver.orders")
    assert [(c["version"], c["rows"]) for c in commits] == [(1, 7), (0, 5)]
    assert commits[1]["partitions"] == ["2024-01-01"]
    assert store.commits("dev.silver.other") == []


# -- runs ------------------------------------------------------------------------------------


def test_create_update_and_get_run(store: MetadataStore) -> None:
    store.create_run(run_record("20240301-aaaa"))
    store.update_run("20240301-aaaa", status="success", ended_at=T0 + timedelta(minutes=3))
    run = store.get_run("20240301-aaaa")
    assert run["status"] == "success"
    assert run["ended_at"] - run["started_at"] == timedelta(minutes=3)
    assert run["packages"] == {"prodml": "0.1.0"}
    assert run["options"] == {"full_refresh": False}
    assert run["git_dirty"] is False


def test_get_run_by_unique_prefix(store: MetadataStore) -> None:
    store.create_run(run_record("abc123"))
    store.create_run(run_record("abd456"))
    assert store.get_run("abc")["run_id"] == "abc123"
    assert store.get_run("abd456")["run_id"] == "abd456"


def test_ambiguous_prefix_is_not_found(store: MetadataStore) -> None:
    store.create_run(run_record("abc123"))
    store.create_run(run_record("abc456"))
    with pytest.raises(NotFoundError) as info:
        store.get_run("abc")
    assert info.value.kind == "run"
    assert "ambiguous" in str(info.value)


def test_unknown_run_is_not_found_and_lists_recent(store: MetadataStore) -> None:
    store.create_run(run_record("abc123"))
    with pytest.raises(NotFoundError) as info:
        store.get_run("zzz")
    assert info.value.known == ["abc123"]


def test_prefix_wildcards_are_literal(store: MetadataStore) -> None:
    store.create_run(run_record("abc123"))
    store.create_run(run_record("ab_9"))
    with pytest.raises(NotFoundError):
        store.get_run("ab%")
    assert store.get_run("ab_")["run_id"] == "ab_9"


def test_list_runs_filters_and_orders_newest_first(store: MetadataStore) -> None:
    store.create_run(run_record("r1", product="churn", catalog="dev", started_at=T0))
    store.create_run(
        run_record("r2", product="demand", catalog="dev", started_at=T0 + timedelta(hours=1))
    )
    store.create_run(
        run_record("r3", product="churn", catalog="prod", started_at=T0 + timedelta(hours=2))
    )
    assert [r["run_id"] for r in store.list_runs()] == ["r3", "r2", "r1"]
    assert [r["run_id"] for r in store.list_runs(product="churn")] == ["r3", "r1"]
    assert [r["run_id"] for r in store.list_runs(catalog="dev")] == ["r2", "r1"]
    assert [r["run_id"] for r in store.list_runs(product="churn", catalog="dev")] == ["r1"]
    assert [r["run_id"] for r in store.list_runs(limit=1)] == ["r3"]
    assert store.list_runs(product="nope") == []


def test_upsert_step_run_inserts_then_updates(store: MetadataStore) -> None:
    store.create_run(run_record("r1"))
    store.upsert_step_run(
        "r1", "churn.features", product="churn", stage="gold", status="running", started_at=T0
    )
    store.upsert_step_run("r1", "churn.label", product="churn", stage="gold", status="pending")
    first, _ = store.step_runs("r1")
    assert (first["step"], first["status"]) == ("churn.features", "running")
    assert (first["inputs"], first["outputs"], first["partitions"]) == ({}, {}, [])

    store.upsert_step_run(
        "r1",
        "churn.features",
        status="success",
        rows_written=42,
        outputs={"gold.churn_features": 3},
        partitions=["2024-01-01"],
    )
    steps = store.step_runs("r1")
    assert [s["step"] for s in steps] == ["churn.features", "churn.label"]
    assert steps[0]["status"] == "success"
    assert steps[0]["rows_written"] == 42
    assert steps[0]["outputs"] == {"gold.churn_features": 3}
    assert steps[0]["partitions"] == ["2024-01-01"]
    assert steps[0]["started_at"] == T0
    assert steps[0]["product"] == "churn"
    assert store.step_runs("other") == []


# -- step states and lineage -----------------------------------------------------------------


def test_set_states_merges_or_replaces(store: MetadataStore) -> None:
    assert store.get_states("dev", "s") == {}
    store.set_states("dev", "s", {"2024-01-01": "a1", "2024-01-02": "b1"}, "r1", replace=False)
    store.set_states("dev", "s", {"2024-01-02": "b2", "2024-01-03": "c2"}, "r2", replace=False)
    assert store.get_states("dev", "s") == {
        "2024-01-01": "a1",
        "2024-01-02": "b2",
        "2024-01-03": "c2",
    }

    # other steps and catalogs are separate
    store.set_states("prod", "s", {"": "p"}, "r3", replace=True)
    store.set_states("dev", "t", {"": "t"}, "r3", replace=True)

    store.set_states("dev", "s", {"2024-01-03": "c3"}, "r4", replace=True)
    assert store.get_states("dev", "s") == {"2024-01-03": "c3"}
    store.set_states("dev", "s", {}, "r5", replace=False)
    assert store.get_states("dev", "s") == {"2024-01-03": "c3"}
    store.set_states("dev", "s", {}, "r5", replace=True)
    assert store.get_states("dev", "s") == {}

    assert store.get_states("prod", "s") == {"": "p"}
    assert store.get_states("dev", "t") == {"": "t"}


def test_add_edges_and_query_them(store: MetadataStore) -> None:
    store.add_edges([])
    store.add_edges(
        [
            {
                "run_id": "r1",
                "step": "clean",
                "source": "dev.bronze.orders",
                "source_version": 3,
                "target": "dev.silver.orders",
                "target_version": 1,
            },
            {
                "run_id": "r1",
                "step": "clean",
                "source": "dev.bronze.customers",
                "source_version": None,
                "target": "dev.silver.orders",
                "target_version": 1,
            },
            {
                "run_id": "r1",
                "step": "features",
                "source": "dev.silver.orders",
                "source_version": 1,
                "target": "dev.gold.features",
                "target_version": 0,
            },
        ]
    )
    into = store.edges(target="dev.silver.orders")
    assert [e["source"] for e in into] == ["dev.bronze.orders", "dev.bronze.customers"]
    assert into[0]["source_version"] == 3
    assert into[1]["source_version"] is None
    out = store.edges(source="dev.silver.orders")
    assert [(e["step"], e["target"]) for e in out] == [("features", "dev.gold.features")]
    assert len(store.edges()) == 3
    assert store.edges(source="dev.silver.orders", target="dev.silver.orders") == []


# -- timestamps ------------------------------------------------------------------------------


def test_timestamps_come_back_aware_utc(store: MetadataStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.upsert_table(table_record("orders"))
    store.record_commit(
        {
            "table_name": "t",
            "version": 0,
            "operation": "create",
            "rows": 1,
            "bytes": 1,
            "partitions": [],
        }
    )
    store.create_run(run_record("r1"))
    store.upsert_step_run("r1", "s", product="p", stage="gold", status="ok", started_at=T0)
    store.add_edges([{"run_id": "r1", "step": "s", "source": "a", "target": "b"}])

    table = store.get_table("dev", "silver", "orders")
    assert table is not None
    stamps = [
        table["created_at"],
        table["updated_at"],
        store.list_tables()[0]["created_at"],
        store.commits("t")[0]["committed_at"],
        store.edges()[0]["created_at"],
    ]
    for stamp in stamps:
        assert_utc(stamp)
        assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=5)
    run = store.get_run("r1")
    assert_utc(run["started_at"])
    assert run["started_at"] == T0
    assert run["ended_at"] is None
    assert_utc(store.list_runs()[0]["started_at"])
    assert_utc(store.step_runs("r1")[0]["started_at"])


def test_non_utc_timestamps_keep_their_instant_on_sqlite(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path}/prodml.db")
    try:
        started = datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
        store.create_run(run_record("r1", started_at=started))
        assert store.get_run("r1")["started_at"] == started
    finally:
        store.close()


@pytest.mark.services
def test_non_utc_timestamps_keep_their_instant_on_postgres(pg_url: str) -> None:
    store = MetadataStore(pg_url)
    try:
        started = datetime(2024, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
        store.create_run(run_record("r1", started_at=started))
        assert store.get_run("r1")["started_at"] == started
    finally:
        store.close()


@pytest.mark.services
def test_postgres_timestamps_are_utc_whatever_the_session_timezone(pg_url: str) -> None:
    store = MetadataStore(pg_url + "%20-ctimezone%3DAsia/Kolkata")
    try:
        store.create_run(run_record("r1"))
        assert_utc(store.get_run("r1")["started_at"])
    finally:
        store.close()


# -- errors ----------------------------------------------------------------------------------


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    url = "postgresql+psycopg2://postgres:Hunter2Secret@127.0.0.1:1/x"
    with pytest.raises(MetadataStoreError) as info:
        MetadataStore(url)
    error = info.value
    assert "Hunter2Secret" not in str(error)
    assert "127.0.0.1" in str(error)
    assert "***" in str(error)
    assert error.retryable is True
    assert error.hint is not None and "metadata.url" in error.hint


def test_invalid_url_is_a_store_error_without_the_password() -> None:
    with pytest.raises(MetadataStoreError, match=r"invalid metadata\.url") as info:
        MetadataStore("nosuchdialect://u:Hunter2Secret@h/x")
    assert "Hunter2Secret" not in str(info.value)


def test_sqlite_file_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(MetadataStoreError, match="cannot open the metadata store"):
        MetadataStore(f"sqlite:///{tmp_path}/missing/dir/prodml.db")


def test_upgrade_from_the_first_revision_keeps_data(tmp_path: Path) -> None:
    """A store created by an older prodml is migrated in place when opened."""
    from alembic import command
    from alembic.config import Config

    from prodml.catalog.store import MIGRATIONS

    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO prodml_step_runs (run_id, step, product, stage, status, inputs, outputs, "
                "partitions) VALUES ('r1', 'p.s', 'p', 'train', 'succeeded', '{}', '{}', '[]')"
            )
        )
    engine.dispose()
    store = MetadataStore(url)
    try:
        store.upsert_step_run("r1", "p.s", links={"tracking_run_id": "abc"})
        assert store.step_runs("r1")[0]["links"] == {"tracking_run_id": "abc"}
    finally:
        store.close()


def _open(url: str) -> None:
    MetadataStore(url).close()


def test_processes_opening_a_new_store_at_once_all_succeed(store_url: str) -> None:
    """Found by benchmarks/kill_concurrency.py: two runs started together on a new platform
    both created the store's tables; one failed with 'table prodml_tables already exists'."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open, args=(store_url,)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = MetadataStore(store_url)
    try:
        with store.engine.connect() as conn:
            head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert head == schema.HEAD_REVISION
    finally:
        store.close()
