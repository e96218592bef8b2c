"""notify: webhook deliveries of alert events, and the events the notifier has seen

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_seen",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("alert_events.id"), primary_key=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("alert_events.id"), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.String(4), nullable=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("event_id", "target", name="uq_notify_deliveries_event_target"),
    )
    op.create_index("ix_notify_deliveries_alert_id", "notify_deliveries", ["alert_id"])
    op.create_index("ix_notify_deliveries_due", "notify_deliveries", ["status", "next_attempt_at"])
    # The trail so far is history, not news: a store that gains notifications does not page
    # anybody about last month's alerts.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.get_bind().execute(sa.text("INSERT INTO notify_seen (event_id, seen_at) SELECT id, :now FROM alert_events"),
                          {"now": now})


def downgrade() -> None:
    op.drop_index("ix_notify_deliveries_due", table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_alert_id", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_table("notify_seen")
