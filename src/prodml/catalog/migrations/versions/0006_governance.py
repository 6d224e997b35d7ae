"""Governance: principals, group members, tokens (hashes), grants, owners, the audit log, and
who each run executed as.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("prodml_runs", sa.Column("run_as", sa.String(256)))
    op.create_table(
        "prodml_principals",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("email", sa.String(256)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "prodml_group_members",
        sa.Column("group_name", sa.String(128), primary_key=True),
        sa.Column("member", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_table(
        "prodml_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(128), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "prodml_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("securable_type", sa.String(16), nullable=False),
        sa.Column("securable", sa.String(512), nullable=False, index=True),
        sa.Column("principal", sa.String(128), nullable=False, index=True),
        sa.Column("privilege", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("securable_type", "securable", "principal", "privilege"),
    )
    op.create_table(
        "prodml_owners",
        sa.Column("securable_type", sa.String(16), primary_key=True),
        sa.Column("securable", sa.String(512), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_table(
        "prodml_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("principal", sa.String(128), nullable=False, index=True),
        sa.Column("run_as", sa.String(128)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("securable_type", sa.String(16)),
        sa.Column("securable", sa.String(512), index=True),
        sa.Column("privilege", sa.String(32)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("client", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_column("prodml_runs", "run_as")
    for table in (
        "prodml_audit",
        "prodml_owners",
        "prodml_grants",
        "prodml_tokens",
        "prodml_group_members",
        "prodml_principals",
    ):
        op.drop_table(table)
