"""Feature consumers: which model versions were trained on which features.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prodml_feature_consumers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("feature_table", sa.String(512), nullable=False, index=True),
        sa.Column("feature", sa.String(256), nullable=False),
        sa.Column("table_version", sa.BigInteger),
        sa.Column("model", sa.String(512), nullable=False, index=True),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prodml_feature_consumers")
