"""Read queries shared by the API, the wall page and the rules. No page writes SQL."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from sqlalchemy import String, cast

from .store.models import Alert, CaseReport, DataVersion, Quarantine, SourceState

EVER_CONFIRMED = ("confirmed", "cured", "dead")  # a cured or dead case was confirmed first
LOCAL_OFFSET_HOURS = 8                            # Asia/Shanghai has no DST


def data_version(s: Session) -> tuple[int, datetime | None]:
    row = s.execute(select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == 1)).one()
    return int(row.version), row.changed_at


def new_confirmed_since(s: Session, since: datetime, by=CaseReport.prefecture) -> dict[str, int]:
    q = (select(by, func.count()).where(CaseReport.status.in_(EVER_CONFIRMED), CaseReport.reported_at >= since)
         .group_by(by))
    return {r: n for r, n in s.execute(q)}


def case_counts(s: Session, by=CaseReport.prefecture, within: str | None = None) -> dict[str, dict[str, int]]:
    """Cumulative counts per region: confirmed (ever), suspected, cured, dead, active."""
    q = select(by, CaseReport.status, func.count()).group_by(by, CaseReport.status)
    if within:
        q = q.where(CaseReport.prefecture == within)
    out: dict[str, dict[str, int]] = {}
    for region, status, n in s.execute(q):
        c = out.setdefault(region, {"confirmed": 0, "suspected": 0, "cured": 0, "dead": 0, "active": 0})
        c[status] += n
    for c in out.values():
        c["active"] = c["confirmed"]
        c["confirmed"] = c["confirmed"] + c["cured"] + c["dead"]
    return out


def _local_day(s: Session, col):
    if s.get_bind().dialect.name == "sqlite":
        return func.date(col, f"+{LOCAL_OFFSET_HOURS} hours")
    return func.date(col + literal_column(f"interval '{LOCAL_OFFSET_HOURS} hours'"))


def daily_new(s: Session, since: datetime, level: str | None = None, code: str | None = None) -> list[tuple[str, int, int]]:
    """(local day, new confirmed, new suspected) per day since `since` (UTC), for one region or all."""
    day = _local_day(s, CaseReport.reported_at).label("day")
    q = (select(day,
                func.sum(case((CaseReport.status.in_(EVER_CONFIRMED), 1), else_=0)),
                func.sum(case((CaseReport.status == "suspected", 1), else_=0)))
         .where(CaseReport.reported_at >= since).group_by(day).order_by(day))
    if code:
        col = {"province": CaseReport.province, "prefecture": CaseReport.prefecture, "county": CaseReport.region}[level]
        q = q.where(col == code)
    return [(str(d), int(c or 0), int(p or 0)) for d, c, p in s.execute(q)]


def alerts(s: Session, state: str | None = None, limit: int = 200) -> list[Alert]:
    q = select(Alert)
    if state == "active":
        q = q.where(Alert.state != "resolved")
    elif state:
        q = q.where(Alert.state == state)
    # Most severe first; among equals, what still needs a person before what has one, newest first.
    level_rank = case({"I": 0, "II": 1, "III": 2, "IV": 3}, value=Alert.level)
    state_rank = case({"firing": 0, "acknowledged": 1}, value=Alert.state, else_=2)
    return list(s.scalars(q.order_by(level_rank, state_rank, Alert.fired_at.desc(), Alert.id.desc()).limit(limit)))


def sources(s: Session) -> list[SourceState]:
    return list(s.scalars(select(SourceState).order_by(SourceState.name)))


def quarantine(s: Session, source: str | None = None, reason: str | None = None,
               limit: int = 100, offset: int = 0) -> tuple[int, list[Quarantine]]:
    """Rejected rows, newest first; `reason` matches any part of any reason."""
    q = select(Quarantine)
    if source:
        q = q.where(Quarantine.source == source)
    if reason:
        escaped = reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(cast(Quarantine.reasons, String).like(f"%{escaped}%", escape="\\"))
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(Quarantine.last_seen.desc(), Quarantine.id.desc()).limit(limit).offset(offset))
    return int(total), list(rows)
