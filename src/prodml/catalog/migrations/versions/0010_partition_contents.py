"""Content ids of tables' data files (``prodml_partition_contents``): planning compares what a
partition holds, not which files hold it, so identical rewrites do not re-run what reads them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prodml_partition_contents",
        sa.Column("table_name", sa.String(400), primary_key=True),
        sa.Column("file_id", sa.String(64), primary_key=True),
        sa.Column("content", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prodml_partition_contents")
