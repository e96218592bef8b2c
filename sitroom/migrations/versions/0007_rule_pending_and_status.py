"""rule_pending (conditions waiting out a rule's `for_minutes`) and rules_status (hot reload)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_pending",
        sa.Column("rule", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(6), primary_key=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("fires_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "rules_status",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rules_status")
    op.drop_table("rule_pending")
