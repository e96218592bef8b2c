"""alerts: who resolved and why, and who the task is assigned to

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("resolve_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("assignee")
        batch.drop_column("resolve_reason")
        batch.drop_column("resolved_by")
