"""One token system: every token is found by its SHA-256 (whatever its format, including the
endpoint tokens configured in product.yaml), may be limited to one securable (``scope``), and
says where it comes from (``source``: cli, or config for declared endpoint tokens). Tokens
already issued keep working: they get no scope (the platform's tokens, as before).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prodml_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(512)))
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="cli"))
        batch.create_index("ix_prodml_tokens_sha256", ["sha256"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("prodml_tokens") as batch:
        batch.drop_index("ix_prodml_tokens_sha256")
        batch.drop_column("source")
        batch.drop_column("scope")
