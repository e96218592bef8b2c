"""loader_beats: each loader process's heartbeat and its last stored batch (for /healthz and the wall)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loader_beats",
        sa.Column("process", sa.String(100), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("last_batch_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("loader_beats")
