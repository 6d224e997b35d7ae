"""Initial metadata schema: tables, commits, runs, step runs, step states, lineage.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    _tables_and_commits()
    _runs_steps_and_lineage()


def _tables_and_commits() -> None:
    op.create_table(
        "prodml_tables",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("schema_name", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner_product", sa.String(128)),
        sa.Column("producer_step", sa.String(256)),
        sa.Column("layer", sa.String(32)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("partition_by", sa.JSON, nullable=False),
        sa.Column("keys", sa.JSON, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("catalog", "schema_name", "name", name="uq_prodml_tables_name"),
    )
    op.create_table(
        "prodml_table_commits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(400), nullable=False, index=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("step", sa.String(256)),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("partitions", sa.JSON, nullable=False),
        sa.Column("committed_at", TS, nullable=False),
        sa.UniqueConstraint("table_name", "version", name="uq_prodml_table_commits_version"),
    )


def _runs_steps_and_lineage() -> None:
    op.create_table(
        "prodml_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(128), nullable=False, index=True),
        sa.Column("env", sa.String(128), nullable=False),
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("git_sha", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("packages", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("resumed_from", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(256)),
    )
    op.create_table(
        "prodml_step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, index=True),
        sa.Column("step", sa.String(256), nullable=False),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("started_at", TS),
        sa.Column("ended_at", TS),
        sa.Column("cpu_seconds", sa.Float),
        sa.Column("peak_rss_bytes", sa.BigInteger),
        sa.Column("rows_written", sa.BigInteger),
        sa.Column("bytes_written", sa.BigInteger),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("partitions", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("run_id", "step", name="uq_prodml_step_runs_step"),
    )
    op.create_table(
        "prodml_step_states",
        sa.Column("catalog", sa.String(128), primary_key=True),
        sa.Column("step", sa.String(256), primary_key=True),
        sa.Column("partition", sa.String(256), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "prodml_lineage_edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, index=True),
        sa.Column("step", sa.String(256), nullable=False),
        sa.Column("source", sa.String(512), nullable=False, index=True),
        sa.Column("source_version", sa.BigInteger),
        sa.Column("target", sa.String(512), nullable=False, index=True),
        sa.Column("target_version", sa.BigInteger),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "prodml_lineage_edges",
        "prodml_step_states",
        "prodml_step_runs",
        "prodml_runs",
        "prodml_table_commits",
        "prodml_tables",
    ):
        op.drop_table(name)
