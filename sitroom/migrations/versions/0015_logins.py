"""logins: each browser login by a hashed nonce, so that a logout ends the session on the server

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "logins",
        sa.Column("id", ID, primary_key=True),
        sa.Column("nonce_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("account_id", ID, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_logins_account_id", "logins", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_logins_account_id", table_name="logins")
    op.drop_table("logins")
