"""Data-quality results: one row per rule per evaluated write or check.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prodml_dq_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("table_name", sa.String(512), nullable=False, index=True),
        sa.Column("version", sa.BigInteger),
        sa.Column("run_id", sa.String(64), index=True),
        sa.Column("step", sa.String(256)),
        sa.Column("rule", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("passed", sa.Boolean),
        sa.Column("failed_rows", sa.BigInteger),
        sa.Column("total_rows", sa.BigInteger, nullable=False),
        sa.Column("observed", sa.Float),
        sa.Column("samples", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prodml_dq_results")
