"""quarantine browse indexes (newest first, per source)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_quarantine_source_seen", "quarantine", ["source", "last_seen"])
    op.create_index("ix_quarantine_seen", "quarantine", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_seen", "quarantine")
    op.drop_index("ix_quarantine_source_seen", "quarantine")
