"""Data-quality results say what the judged write covered (``scope``), so that reprocessing a
partition replaces its results instead of adding the same ones again. Results recorded
before have no scope: they are kept as they are.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prodml_dq_results") as batch:
        batch.add_column(sa.Column("scope", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("prodml_dq_results") as batch:
        batch.drop_column("scope")
