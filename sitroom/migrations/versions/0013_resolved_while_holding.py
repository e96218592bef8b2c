"""alert_events: whether a person resolved the alert while its condition still held (it fires again)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_events", sa.Column("held", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_column("held")
