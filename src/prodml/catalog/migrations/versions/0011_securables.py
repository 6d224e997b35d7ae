"""Catalogs, schemas and tables defined through the catalog API: ``prodml_securables`` (the
catalogs and schemas callers made, with their comment, properties, storage root, creator and
times) and, on ``prodml_tables``, a table's type (EXTERNAL, MANAGED; None for tables products
write), its creator and its properties.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prodml_securables",
        sa.Column("securable_type", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(400), primary_key=True),
        sa.Column("comment", sa.Text),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("storage_root", sa.Text),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(128)),
        sa.Column("updated_at", TS, nullable=False),
    )
    with op.batch_alter_table("prodml_tables") as batch:
        batch.add_column(sa.Column("table_type", sa.String(16)))
        batch.add_column(sa.Column("created_by", sa.String(128)))
        batch.add_column(sa.Column("properties", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("prodml_tables") as batch:
        batch.drop_column("properties")
        batch.drop_column("created_by")
        batch.drop_column("table_type")
    op.drop_table("prodml_securables")
