"""The schema the code queries is the schema the migrations make (no table, column or index
without its migration), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from prodml.catalog import schema
from prodml.catalog.store import MetadataStore


def test_the_migrations_make_the_schema_the_code_uses(store_url: str) -> None:
    store = MetadataStore(store_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": False, "compare_server_default": False}
            )
            diffs = compare_metadata(context, schema.metadata)
        tables = [
            d for d in diffs if d[0] in ("add_table", "remove_table", "add_column", "remove_column")
        ]
        assert tables == [], tables
    finally:
        store.close()
