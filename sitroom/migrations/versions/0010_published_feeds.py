"""published feeds: versions of a key, place names and how they resolved, publications and their totals

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FACTS = ("case_reports", "case_daily", "clinics", "clinic_visits", "supply_points", "supply_stock", "inflows")


def upgrade() -> None:
    for table in FACTS:
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("source_version", sa.Float(), nullable=True))
    with op.batch_alter_table("case_daily") as b:
        b.add_column(sa.Column("label", sa.String(100), nullable=True))
        b.add_column(sa.Column("note", sa.String(100), nullable=True))
        b.add_column(sa.Column("in_parent", sa.Boolean(), nullable=True))
    with op.batch_alter_table("sources") as b:
        b.add_column(sa.Column("rows_superseded", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "place_names",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("raw", sa.String(100), primary_key=True),
        sa.Column("region", sa.String(6), nullable=True),
        sa.Column("bucket", sa.String(16), nullable=True),
        sa.Column("province", sa.String(6), nullable=True),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("note", sa.String(100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "publications",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(6), primary_key=True),
        sa.Column("published_at", sa.DateTime(), primary_key=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("place_names")
    with op.batch_alter_table("sources") as b:
        b.drop_column("rows_superseded")
    with op.batch_alter_table("case_daily") as b:
        b.drop_column("in_parent")
        b.drop_column("note")
        b.drop_column("label")
    for table in FACTS:
        with op.batch_alter_table(table) as b:
            b.drop_column("source_version")
