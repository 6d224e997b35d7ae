"""Step runs link to what they created elsewhere (the tracking run of train/evaluate steps).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prodml_step_runs") as batch:
        batch.add_column(sa.Column("links", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prodml_step_runs") as batch:
        batch.drop_column("links")
