"""The audit log: who did what, when, from where. Append-only (rows are never changed or deleted)."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitroom.store.db import utcnow

from .models import AuditEntry

COLUMNS = ("at", "actor", "action", "target", "ok", "address", "detail")


def record(s: Session, action: str, actor: str | None, target: str | None = None, ok: bool = True,
           address: str | None = None, detail: str | None = None, at: datetime | None = None) -> None:
    s.add(AuditEntry(at=at or utcnow(), actor=(actor or None) and actor[:64], action=action,
                     target=target and target[:200], ok=ok, address=address and address[:64],
                     detail=detail and detail[:4000]))


def count(s: Session, action: str, since: datetime, actor: str | None = None, address: str | None = None) -> int:
    q = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action, AuditEntry.at >= since)
    if actor is not None:
        q = q.where(AuditEntry.actor == actor)
    if address is not None:
        q = q.where(AuditEntry.address == address)
    return s.scalar(q)


def last_at(s: Session, action: str, actor: str) -> datetime | None:
    return s.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action == action, AuditEntry.actor == actor))


def entries(s: Session, actor: str | None = None, action: str | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int | None = 500) -> list[AuditEntry]:
    """Newest first; `action` matches a prefix ("alert." is every alert action)."""
    q = select(AuditEntry)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if action:
        q = q.where(AuditEntry.action.startswith(action, autoescape=True))
    if since:
        q = q.where(AuditEntry.at >= since)
    if until:
        q = q.where(AuditEntry.at < until)
    q = q.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(s.scalars(q.limit(limit) if limit else q))


def as_dict(e: AuditEntry) -> dict:
    return {"at": e.at.isoformat(timespec="seconds") + "Z", "actor": e.actor, "action": e.action,
            "target": e.target, "ok": e.ok, "address": e.address, "detail": e.detail}


def to_csv(rows: list[AuditEntry]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for e in rows:
        d = as_dict(e)
        # a cell starting with = + - @ is a formula to a spreadsheet: quote it as text
        w.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in (d[c] for c in COLUMNS)])
    return out.getvalue()
