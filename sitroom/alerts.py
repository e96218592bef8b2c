"""Alert lifecycle: fire once per (rule, region), escalate, resolve with hysteresis, acknowledge.

Writers race (the loader evaluating, officers acknowledging from many browsers),
so every state change is a conditional UPDATE and the database's partial unique
index keeps one open alert per (rule, region).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .config import LEVELS, RuleConfig
from .queries import new_confirmed_since
from .regions import Gazetteer
from .store import bump_version
from .store.db import utcnow
from .store.models import Alert, AlertEvent

SYSTEM = "system"


class AlertNotFound(LookupError):
    pass


class AlertConflict(Exception):
    """The alert is not in a state that allows this; says who got there first."""

    def __init__(self, message: str, alert: Alert):
        super().__init__(message)
        self.alert_id, self.state, self.by, self.at = alert.id, alert.state, alert.acked_by, alert.acked_at


@dataclass
class Evaluation:
    fired: int = 0
    escalated: int = 0
    resolved: int = 0
    updated: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.fired or self.escalated or self.resolved or self.updated)


def rule_values(s: Session, rule: RuleConfig, now: datetime) -> dict[str, float]:
    """The rule's metric per region (only new_confirmed_24h for now)."""
    return new_confirmed_since(s, now - timedelta(hours=24))


def evaluate(s: Session, rules: list[RuleConfig], gaz: Gazetteer, now: datetime | None = None) -> Evaluation:
    """Apply every rule to every region in scope; commits nothing (the caller's transaction)."""
    now = now or utcnow()
    ev = Evaluation()
    for rule in rules:
        values = rule_values(s, rule, now)
        open_alerts = {a.region: a for a in s.scalars(
            select(Alert).where(Alert.rule == rule.id, Alert.state != "resolved"))}
        for region in (r.adcode for r in gaz.prefectures()):
            value = float(values.get(region, 0))
            level = rule.thresholds.level_for(value)
            alert = open_alerts.get(region)
            if alert is None:
                if level:
                    _fire(s, rule, region, level, value, now)
                    ev.fired += 1
            elif level and LEVELS.index(level) > LEVELS.index(alert.level):
                # A rise alerts again even if the lower level was acknowledged.
                alert.level, alert.state, alert.value = level, "firing", value
                alert.threshold, alert.escalated_at, alert.firing_since = getattr(rule.thresholds, level), None, now
                alert.updated_at = now
                s.add(AlertEvent(alert_id=alert.id, kind="escalated", at=now, by=SYSTEM, level=level, value=value))
                ev.escalated += 1
            elif value < rule.recover_below:
                alert.state, alert.resolved_at, alert.updated_at, alert.value = "resolved", now, now, value
                alert.resolved_by, alert.resolve_reason = SYSTEM, f"value {value:g} fell below {rule.recover_below:g}"
                s.add(AlertEvent(alert_id=alert.id, kind="resolved", at=now, by=SYSTEM, level=alert.level,
                                 value=value, note=f"value {value:g} fell below {rule.recover_below:g}"))
                ev.resolved += 1
            elif value != alert.value:
                alert.value, alert.updated_at = value, now  # level kept until it clears: no flapping
                ev.updated += 1
            if alert is not None and _overdue(alert, rule, now):
                alert.escalated_at, alert.updated_at = now, now
                s.add(AlertEvent(alert_id=alert.id, kind="escalated", at=now, by=SYSTEM, level=alert.level,
                                 value=alert.value,
                                 note=f"unacknowledged for {rule.escalate_after_minutes:g} min"))
                ev.escalated += 1
    if ev.changed:
        bump_version(s)
    return ev


def _overdue(alert: Alert, rule: RuleConfig, now: datetime) -> bool:
    """Firing, never escalated at this level, and nobody has taken it for too long."""
    if alert.state != "firing" or alert.escalated_at is not None:
        return False
    return now - (alert.firing_since or alert.fired_at) >= timedelta(minutes=rule.escalate_after_minutes)


def _fire(s: Session, rule: RuleConfig, region: str, level: str, value: float, now: datetime) -> None:
    alert = Alert(rule=rule.id, region=region, level=level, state="firing", value=value,
                  threshold=getattr(rule.thresholds, level), fired_at=now, updated_at=now, firing_since=now)
    s.add(alert)
    s.flush()
    s.add(AlertEvent(alert_id=alert.id, kind="fired", at=now, by=SYSTEM, level=level, value=value))


def _claim(s: Session, alert_id: int, condition, **values) -> tuple[bool, Alert]:
    """A conditional UPDATE: of several concurrent callers exactly one sees won=True."""
    won = s.execute(update(Alert).where(Alert.id == alert_id, condition).values(**values)
                    .execution_options(synchronize_session=False)).rowcount
    alert = s.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return bool(won), alert


def acknowledge(s: Session, alert_id: int, by: str, note: str | None = None, now: datetime | None = None) -> Alert:
    """Take responsibility for a firing alert; exactly one of several concurrent callers wins."""
    now = now or utcnow()
    won, alert = _claim(s, alert_id, Alert.state == "firing",
                        state="acknowledged", acked_by=by, acked_at=now, ack_note=note, updated_at=now)
    if not won:
        if alert.state == "acknowledged":
            raise AlertConflict(f"already acknowledged by {alert.acked_by} at {alert.acked_at:%Y-%m-%d %H:%M:%S} UTC",
                                alert)
        raise AlertConflict(f"alert {alert_id} is {alert.state}", alert)
    s.add(AlertEvent(alert_id=alert_id, kind="acknowledged", at=now, by=by, level=alert.level,
                     value=alert.value, note=note))
    bump_version(s)
    return alert


def _open_alert(s: Session, alert_id: int) -> Alert:
    alert = s.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    if alert.state == "resolved":
        raise AlertConflict(f"alert {alert_id} is already resolved", alert)
    return alert


def add_note(s: Session, alert_id: int, by: str, note: str, now: datetime | None = None) -> Alert:
    """What was done, by whom; kept in the trail."""
    now = now or utcnow()
    alert = s.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    s.add(AlertEvent(alert_id=alert_id, kind="noted", at=now, by=by, level=alert.level, value=alert.value, note=note))
    alert.updated_at = now
    bump_version(s)
    return alert


def assign(s: Session, alert_id: int, by: str, to: str, now: datetime | None = None) -> Alert:
    """Dispatch the alert to a person or team (the command centre's one-click task dispatch)."""
    now = now or utcnow()
    alert = _open_alert(s, alert_id)
    alert.assignee, alert.updated_at = to, now
    s.add(AlertEvent(alert_id=alert_id, kind="assigned", at=now, by=by, level=alert.level, value=alert.value,
                     note=to))
    bump_version(s)
    return alert


def resolve(s: Session, alert_id: int, by: str, reason: str, now: datetime | None = None) -> Alert:
    """Close an alert by hand, with the reason; the rule may fire again later if the value rises."""
    now = now or utcnow()
    won, alert = _claim(s, alert_id, Alert.state != "resolved",
                        state="resolved", resolved_at=now, resolved_by=by, resolve_reason=reason, updated_at=now)
    if not won:
        raise AlertConflict(f"alert {alert_id} was already resolved by {alert.resolved_by or SYSTEM}", alert)
    s.add(AlertEvent(alert_id=alert_id, kind="resolved", at=now, by=by, level=alert.level, value=alert.value,
                     note=reason))
    bump_version(s)
    return alert


def trail(s: Session, alert_id: int) -> list[AlertEvent]:
    return list(s.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))


# What a duty officer can do to an alert: action name -> function(session, id, by, text).
OFFICER_ACTIONS = {"ack": acknowledge, "note": add_note, "assign": assign, "resolve": resolve}
