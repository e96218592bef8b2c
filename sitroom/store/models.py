"""Store tables (SQLAlchemy 2 typed models). Times are naive UTC.

Facts are keyed by (source, source_key) so a re-read updates instead of
duplicating. No personal data: a case is its source key, status, region and time.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint, text)
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
    imported_from: Mapped[str | None] = mapped_column(String(64))  # region code or place name, if given
    source_updated_at: Mapped[datetime] = mapped_column(DateTime)
    source_version: Mapped[float | None] = mapped_column(Float)   # the source's `version` column, if mapped
    loaded_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_case_reports_source_key"),
        Index("ix_case_reports_status_reported", "status", "reported_at"),
        Index("ix_case_reports_prefecture_reported", "prefecture", "reported_at"),
        Index("ix_case_reports_region_reported", "region", "reported_at"),
    )


class _Fact:
    """Columns every fact table has: where it came from, and when."""
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(200))    # the source's key, or its natural key joined by |
    source_updated_at: Mapped[datetime] = mapped_column(DateTime)
    source_version: Mapped[float | None] = mapped_column(Float)   # the source's `version` column, if mapped
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


def _fact_args(table: str, *indexes: tuple[str, ...]) -> tuple:
    return (UniqueConstraint("source", "source_key", name=f"uq_{table}_source_key"),
            *(Index(f"ix_{table}_{'_'.join(cols)}", *cols) for cols in indexes))


class CaseDaily(_Fact, Base):
    """Aggregate case counts per region (or province bucket) and day, as the source reported them."""
    __tablename__ = "case_daily"
    region: Mapped[str] = mapped_column(String(6))          # the province's code for a bucket row
    bucket: Mapped[str | None] = mapped_column(String(16))  # outside | undetermined | None (a real region)
    prefecture: Mapped[str | None] = mapped_column(String(6))
    province: Mapped[str] = mapped_column(String(6))
    day: Mapped[date] = mapped_column(Date)
    counting: Mapped[str] = mapped_column(String(12))       # cumulative | new
    confirmed: Mapped[int | None] = mapped_column(Integer)
    suspected: Mapped[int | None] = mapped_column(Integer)
    asymptomatic: Mapped[int | None] = mapped_column(Integer)
    cured: Mapped[int | None] = mapped_column(Integer)
    dead: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(100))  # a bucket row's raw name: several per bucket add up
    note: Mapped[str | None] = mapped_column(String(100))   # the bracketed note of the raw name (含邓州)
    in_parent: Mapped[bool | None] = mapped_column(Boolean)  # False: its prefecture's own row already counts it
    __table_args__ = _fact_args("case_daily", ("province", "day"), ("prefecture", "day"), ("region", "day"))


class _Place:
    """A named place on the map: location in GCJ-02 (the boundary map's datum), its regions, its status."""
    name: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    region: Mapped[str] = mapped_column(String(6))
    prefecture: Mapped[str] = mapped_column(String(6))
    province: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16))


class Clinic(_Fact, _Place, Base):
    """A fever clinic (发热门诊)."""
    __tablename__ = "clinics"
    address: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = _fact_args("clinics", ("prefecture",), ("region",))


class ClinicVisit(_Fact, Base):
    """Visits to one clinic in one period starting at `at`."""
    __tablename__ = "clinic_visits"
    clinic_source: Mapped[str] = mapped_column(String(64))  # the clinic_registry source
    clinic: Mapped[str] = mapped_column(String(200))        # the clinic's key there
    at: Mapped[datetime] = mapped_column(DateTime)
    visits: Mapped[int] = mapped_column(Integer)
    fever: Mapped[int | None] = mapped_column(Integer)
    referred: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = _fact_args("clinic_visits", ("clinic_source", "clinic", "at"), ("at",))


class SupplyPoint(_Fact, _Place, Base):
    """A designated pharmacy, reserve-vegetable outlet, warehouse..."""
    __tablename__ = "supply_points"
    kind: Mapped[str] = mapped_column(String(32))
    __table_args__ = _fact_args("supply_points", ("prefecture",), ("kind",))


class SupplyStock(_Fact, Base):
    """Stock of one item at one point, the last count of each day; units are sitroom's."""
    __tablename__ = "supply_stock"
    point_source: Mapped[str] = mapped_column(String(64))   # the supply_points source
    point: Mapped[str] = mapped_column(String(200))         # the point's key there
    item: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime)
    stock: Mapped[float] = mapped_column(Float)
    daily_consumption: Mapped[float] = mapped_column(Float)
    __table_args__ = _fact_args("supply_stock", ("point_source", "point", "item", "day"), ("day",))


class Inflow(_Fact, Base):
    """Arrivals per day, origin, destination and mode: given as counts, or counted from travel records."""
    __tablename__ = "inflows"
    day: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(6))
    prefecture: Mapped[str] = mapped_column(String(6))
    province: Mapped[str] = mapped_column(String(6))
    mode: Mapped[str | None] = mapped_column(String(8))
    stayed: Mapped[bool | None] = mapped_column(Boolean)    # stayed long enough in the origin (None: not known)
    count: Mapped[int] = mapped_column(Integer)
    __table_args__ = _fact_args("inflows", ("prefecture", "day"), ("region", "day"), ("day",))


class TravelSeen(Base):
    """Which travel records were already counted: one row per loaded batch.

    `digests` packs 8-byte digests of (source, record id): no person key, origin,
    destination or time of travel. Rows whose newest record is older than the source's
    `remember_days` behind its cursor are deleted.
    """
    __tablename__ = "travel_seen"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    newest: Mapped[datetime] = mapped_column(DateTime)     # update time of the newest record in the batch
    digests: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (Index("ix_travel_seen_source_id", "source", "id"),)


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
    rows_superseded: Mapped[int] = mapped_column(BigInteger, default=0)   # older versions of a key, not stored


class PlaceName(Base):
    """How a source writes a place, and which rule resolved it (shown per raw name on /sources)."""
    __tablename__ = "place_names"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    raw: Mapped[str] = mapped_column(String(100), primary_key=True)   # as written (bracket note included)
    region: Mapped[str | None] = mapped_column(String(6))             # None: unresolved
    bucket: Mapped[str | None] = mapped_column(String(16))
    province: Mapped[str | None] = mapped_column(String(6))
    rule: Mapped[str] = mapped_column(String(16))   # code exact short pinyin alias historical pattern address bucket
                                                    # unknown ambiguous
    note: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. the historical change, or why it did not resolve
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class Publication(Base):
    """One publication of an aggregate source (rows sharing an update time), per province when the
    source is a snapshot per province ('' otherwise), with the publisher's own totals if mapped."""
    __tablename__ = "publications"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(6), primary_key=True)     # province code, or '' (whole source)
    published_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)   # naive UTC
    rows: Mapped[int] = mapped_column(Integer, default=0)
    totals: Mapped[dict] = mapped_column(JSON)      # {province: {metric: published total}}
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


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
    # Detector rules: the raw statistic and p-value (value is the one the levels are set on) and the day judged
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    judged_day: Mapped[date | None] = mapped_column(Date)
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
    #                                                    | silenced | silence_lifted | silence_expired
    at: Mapped[datetime] = mapped_column(DateTime)
    by: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str | None] = mapped_column(String(4))
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    held: Mapped[bool | None] = mapped_column(Boolean)   # resolved by a person while the condition still held
    # the silence of a silenced | silence_lifted | silence_expired entry (a plain column: adding a foreign key
    # would make SQLite copy the whole trail table)
    silence_id: Mapped[int | None] = mapped_column(Integer)


class Silence(Base):
    """A (rule, region) silenced for a time with a reason (sitroom.silences): its alerts are evaluated and
    kept in the trail as ever, but send no notifications, never flash, sound or take over the kiosk."""
    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(6))
    starts: Mapped[datetime] = mapped_column(DateTime)
    ends: Mapped[datetime] = mapped_column(DateTime)       # when it expires by itself
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))   # the account's display name (the trail's actor)
    account: Mapped[str] = mapped_column(String(64))       # the account's login name
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)   # lifted early, by a person
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)    # lifted, or its expiry recorded in the trail
    __table_args__ = (
        # One silence in force per (rule, region), by the database.
        Index("uq_silences_open", "rule", "region", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_silences_ends", "ended_at", "ends"),
    )


class DataVersion(Base):
    """A counter bumped by every commit that changes what a screen shows."""
    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)


class NotifySeen(Base):
    """Alert events the notifier has looked at (whatever the targets): the outbox's read marks.
    A key per event, not a high-water id, because PostgreSQL may commit ids out of order."""
    __tablename__ = "notify_seen"
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime)


class NotifyDelivery(Base):
    """One alert event to one webhook target: attempts, outcome, next try. Never sent twice."""
    __tablename__ = "notify_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(4))
    target: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)          # fixed when queued: every attempt sends the same body
    status: Mapped[str] = mapped_column(String(12))      # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)  # also the lease of an attempt under way
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)     # HTTP status of the last answer
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (
        UniqueConstraint("event_id", "target", name="uq_notify_deliveries_event_target"),
        Index("ix_notify_deliveries_due", "status", "next_attempt_at"),
    )


class RulePending(Base):
    """A rule's condition met in a region with no open alert yet: it fires once held `for_minutes`.

    Kept apart from `alerts` so that screens and the trail see only alerts that fired; a blip
    that clears before its time leaves no alert behind. One row per (rule, region).
    """
    __tablename__ = "rule_pending"
    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime)      # first evaluation that met the condition
    fires_at: Mapped[datetime] = mapped_column(DateTime)   # since + the rule's for_minutes
    level: Mapped[str] = mapped_column(String(4))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class RulesStatus(Base):
    """What the loader process runs from rules.yaml (name "rules") or notify.yaml ("notify"), and what
    is wrong with the file on disk if anything (sitroom.file_status)."""
    __tablename__ = "rules_status"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)   # "rules"
    file: Mapped[str] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column(Boolean)           # False: the file on disk is invalid, older rules run
    problems: Mapped[list] = mapped_column(JSON)        # "file: key: message" lines of the last check
    warnings: Mapped[list] = mapped_column(JSON)        # e.g. regions skipped for want of a population
    digest: Mapped[str | None] = mapped_column(String(64))   # of the rules running
    rules: Mapped[int] = mapped_column(Integer)         # how many rules (or notify targets) run
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime)   # when the running rules were read
    checked_at: Mapped[datetime] = mapped_column(DateTime)


class LoaderBeat(Base):
    """One loader process's heartbeat (sitroom.loader_beat): is anything still reading the sources?"""
    __tablename__ = "loader_beats"
    process: Mapped[str] = mapped_column(String(100), primary_key=True)   # host:pid
    started_at: Mapped[datetime] = mapped_column(DateTime)
    beat_at: Mapped[datetime] = mapped_column(DateTime)
    last_batch_at: Mapped[datetime | None] = mapped_column(DateTime)     # the last batch stored, any source
