"""A/B-test decisions: what was concluded, by whom, and the report it rested on.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prodml_ab_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("product", sa.String(128), nullable=False, index=True),
        sa.Column("experiment", sa.String(128), nullable=False, index=True),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("model", sa.String(256)),
        sa.Column("champion_before", sa.BigInteger),
        sa.Column("champion_after", sa.BigInteger),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(256), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prodml_ab_decisions")
