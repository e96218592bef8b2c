"""Store tables (SQLAlchemy 2 typed models). Times are naive UTC.

Facts are keyed by (source, source_key) so a re-read updates instead of
duplicating. No personal data: a case is its source key, status, region and time.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CaseReport(Base):
    __tablename__ = "case_reports"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(6))      # most specific code given (county or prefecture)
    prefecture: Mapped[str] = mapped_column(String(6))
    province: Mapped[str] = mapped_column(String(6))
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    source_updated_at: Mapped[datetime] = mapped_column(DateTime)
    loaded_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_case_reports_source_key"),
        Index("ix_case_reports_status_reported", "status", "reported_at"),
        Index("ix_case_reports_prefecture_reported", "prefecture", "reported_at"),
        Index("ix_case_reports_region_reported", "region", "reported_at"),
    )


class Quarantine(Base):
    """A source row that failed validation, with every reason; replaced when the row changes."""
    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(128))
    row: Mapped[dict] = mapped_column(JSON)            # only mapped columns, as read
    reasons: Mapped[list] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("source", "source_key", name="uq_quarantine_source_key"),
                      Index("ix_quarantine_source_seen", "source", "last_seen"),
                      Index("ix_quarantine_seen", "last_seen"))


class SourceState(Base):
    """Watermark and health of one source; the cursor moves in the same transaction as the facts."""
    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)   # JSON [updated_at, key] as read from the source
    last_poll: Mapped[datetime | None] = mapped_column(DateTime)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)
    last_change: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_updated: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(4))
    state: Mapped[str] = mapped_column(String(16))     # firing | acknowledged | resolved
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    fired_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ack_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolve_reason: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(100))   # person or team the task is dispatched to
    firing_since: Mapped[datetime | None] = mapped_column(DateTime)  # fired, or rose to its current level
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)  # left unacknowledged too long
    __table_args__ = (
        # One open alert per (rule, region): enforced by the database, not by hope.
        Index("uq_alerts_open", "rule", "region", unique=True,
              sqlite_where=text("state != 'resolved'"), postgresql_where=text("state != 'resolved'")),
        Index("ix_alerts_state", "state"),
    )


class AlertEvent(Base):
    """Append-only trail of what happened to an alert, who did it and when."""
    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))      # fired | escalated | acknowledged | noted | assigned | resolved
    at: Mapped[datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str | None] = mapped_column(String(4))
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class DataVersion(Base):
    """A counter bumped by every commit that changes what a screen shows."""
    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)
