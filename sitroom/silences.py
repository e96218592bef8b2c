"""Silences: a (rule, region) silenced for a chosen time with a reason, as Alertmanager's and Grafana's
silences are, fitted to sitroom's alert lifecycle.

While a silence is in force its (rule, region) is evaluated as ever: an alert fires, rises, escalates
and resolves, and all of it is kept in the trail. What changes is only what reaches people unasked:
no notification is sent of the alert's events (sitroom.notify), and the screens show the alert as
silenced — in its level's colour, without the flash, the tone, or the kiosk wall jumping to it.

A rise to a higher level during a silence stays silenced, as Alertmanager keeps an alert silenced
whatever its labels change to (a silence of ours matches a rule and a region, not a level): the
officer chose the time knowing the alert, a silence that breaks by itself at every rise would be
no use against the noise it is set for (a late batch of reports moving the value), the rise is in
the trail and in the banner's colour, and a silence lasts at most a day (validate.SILENCE_MINUTES).

It ends by itself: `expire_due` (the loader process runs it every few seconds) records the end in
the trail and moves the data version, which open screens are pushed. A screen also stops showing
it as silenced once its end has passed, whatever the loaders do. An alert still firing when its
silence ends is notified then (notify.py), as Alertmanager does, so a warning that fired during
the silence is not lost. The trail entries name the silence (alert_events.silence_id): who, until
when, why; the silence's end: lifted by whom, or expired.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .alerts import SYSTEM
from .store import bump_version
from .store.db import utcnow
from .store.models import Alert, AlertEvent, Silence

log = logging.getLogger(__name__)
SILENCE_KINDS = ("silenced", "silence_lifted", "silence_expired")   # its trail entries


class SilenceNotFound(LookupError):
    pass


class SilenceConflict(Exception):
    """A silence already in force for the (rule, region), or one already ended: says whose and until when."""

    def __init__(self, message: str, silence: Silence):
        super().__init__(message)
        self.silence_id, self.by, self.ends = silence.id, silence.created_by, silence.ends


def in_force(s: Session, now: datetime | None = None, regions=None) -> list[Silence]:
    """Silences not lifted whose end has not come (an expiry not yet recorded is over all the same)."""
    now = now or utcnow()
    q = select(Silence).where(Silence.ended_at.is_(None), Silence.ends > now)
    if regions is not None:
        q = q.where(Silence.region.in_(sorted(regions)))
    return list(s.scalars(q.order_by(Silence.ends, Silence.id)))


def by_key(s: Session, now: datetime | None = None) -> dict[tuple[str, str], Silence]:
    return {(x.rule, x.region): x for x in in_force(s, now)}


def silenced_at(silences, at: datetime) -> bool:
    """Whether one of a (rule, region)'s silences was in force at `at` (a trail entry's time)."""
    return any(x.starts <= at < x.ends and (x.lifted_at is None or at < x.lifted_at) for x in silences)


def _open_alert(s: Session, rule: str, region: str) -> Alert | None:
    return s.scalar(select(Alert).where(Alert.rule == rule, Alert.region == region, Alert.state != "resolved"))


def _trail(s: Session, alert: Alert | None, kind: str, silence: Silence, by: str, at: datetime,
           note: str | None = None) -> None:
    if alert is not None:
        s.add(AlertEvent(alert_id=alert.id, kind=kind, at=at, by=by, level=alert.level, value=alert.value,
                         note=note, silence_id=silence.id))


def create(s: Session, rule: str, region: str, minutes: int, reason: str, by: str, account: str,
           now: datetime | None = None) -> Silence:
    """Silence (rule, region) from now for `minutes`; the open alert's trail says who, until when, why.
    Raises SilenceConflict when one is in force (the database's partial unique index settles a race:
    IntegrityError). `rule`, `region`, `minutes` and `reason` are checked by the caller."""
    now = now or utcnow()
    expire_due(s, now)   # one past its end and not yet recorded does not stand in the way
    current = s.scalar(select(Silence).where(Silence.rule == rule, Silence.region == region,
                                             Silence.ended_at.is_(None)))
    if current is not None:
        raise SilenceConflict(f"already silenced by {current.created_by} until "
                              f"{current.ends:%Y-%m-%d %H:%M:%S} UTC", current)
    silence = Silence(rule=rule, region=region, starts=now, ends=now + timedelta(minutes=minutes), reason=reason,
                      created_by=by, account=account)
    s.add(silence)
    s.flush()
    _trail(s, _open_alert(s, rule, region), "silenced", silence, by, now, reason)
    bump_version(s)
    return silence


def lift(s: Session, silence_id: int, by: str, now: datetime | None = None) -> Silence:
    """End a silence early; exactly one of several concurrent callers wins (SilenceConflict for the others)."""
    now = now or utcnow()
    won = s.execute(update(Silence).where(Silence.id == silence_id, Silence.ended_at.is_(None), Silence.ends > now)
                    .values(lifted_at=now, lifted_by=by, ended_at=now)
                    .execution_options(synchronize_session=False)).rowcount
    silence = s.get(Silence, silence_id, populate_existing=True)
    if silence is None:
        raise SilenceNotFound(f"no silence {silence_id}")
    if not won:
        if silence.lifted_by:
            raise SilenceConflict(f"already lifted by {silence.lifted_by} at {silence.lifted_at:%Y-%m-%d %H:%M:%S} UTC",
                                  silence)
        raise SilenceConflict(f"silence {silence_id} already expired at {silence.ends:%Y-%m-%d %H:%M:%S} UTC", silence)
    _trail(s, _open_alert(s, silence.rule, silence.region), "silence_lifted", silence, by, now)
    bump_version(s)
    return silence


def expire_due(s: Session, now: datetime | None = None) -> int:
    """Record the end of every silence whose time is up (in the trail, by the system); how many.
    Safe with several processes: each end is claimed by a conditional UPDATE."""
    now = now or utcnow()
    ended = 0
    for silence in s.scalars(select(Silence).where(Silence.ended_at.is_(None), Silence.ends <= now)).all():
        won = s.execute(update(Silence).where(Silence.id == silence.id, Silence.ended_at.is_(None))
                        .values(ended_at=now).execution_options(synchronize_session=False)).rowcount
        if won:
            _trail(s, _open_alert(s, silence.rule, silence.region), "silence_expired", silence, SYSTEM, silence.ends)
            ended += 1
    if ended:
        bump_version(s)
    return ended


def note_fired(s: Session, alert: Alert, silence: Silence, now: datetime) -> None:
    """An alert that fires during a silence: its trail says it is silenced, by whom, until when, why."""
    _trail(s, alert, "silenced", silence, silence.created_by, now, silence.reason)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt else None


def as_dict(x: Silence, gaz=None) -> dict:
    """As the API and the screens give it (times as UTC ISO text)."""
    region = gaz.regions.get(x.region) if gaz is not None else None
    return {"id": x.id, "rule": x.rule, "region": x.region,
            "region_name": region.name if region else x.region, "region_name_en": region.name_en if region else x.region,
            "starts": _iso(x.starts), "ends": _iso(x.ends), "reason": x.reason, "created_by": x.created_by,
            "lifted_at": _iso(x.lifted_at), "lifted_by": x.lifted_by, "ended_at": _iso(x.ended_at)}


def expire_job(sessions) -> None:
    """The loader process's scheduler job: ends that are due, recorded (logs a failure; the next run retries)."""
    try:
        with sessions.begin() as s:
            expire_due(s)
    except Exception:   # a store that is down now: the next run catches up
        log.exception("silences: recording expiries failed")
