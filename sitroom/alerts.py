"""Alert lifecycle: pending -> firing -> acknowledged -> resolved, one open alert per (rule, region).

A rule's condition first waits in `rule_pending` for the rule's `for_minutes` (off the screens;
a blip that clears leaves nothing behind), then fires. An open alert rises (and alerts again,
even if acknowledged) when its level goes up, escalates once per level when left
unacknowledged for `escalate_after_minutes`, keeps its level while the value eases, and
resolves by itself only when the value is back past the rule's `recover` value (hysteresis).

Writers race (the loader evaluating, officers acknowledging from many browsers), so every
state change is a conditional UPDATE and the database's partial unique index keeps one open
alert per (rule, region). All of it lives in the store: a restarted process carries on.

A silenced (rule, region) (sitroom.silences) goes through all of this unchanged, a rise to a
higher level included (it stays silenced, as in Alertmanager; why: silences.py); only what is
told to people differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .config import LEVELS
from .regions import Gazetteer
from .rules_load import RuleSet, compile_rules
from .rules_measure import STATISTIC_CAP, judged_day, measure_all
from .series import local_day
from .store import bump_version
from .store.db import utcnow
from .store.models import Alert, AlertEvent, RulePending

SYSTEM = "system"
OPEN = ("firing", "acknowledged")


class AlertNotFound(LookupError):
    pass


class AlertConflict(Exception):
    """The alert is not in a state that allows this; says who got there first."""

    def __init__(self, message: str, alert: Alert):
        super().__init__(message)
        self.alert_id, self.state, self.by, self.at = alert.id, alert.state, alert.acked_by, alert.acked_at
        self.resolved_by = alert.resolved_by


@dataclass
class Evaluation:
    fired: int = 0
    escalated: int = 0
    resolved: int = 0
    updated: int = 0
    pending: int = 0      # conditions that started waiting out their rule's for_minutes
    dropped: int = 0      # pending conditions that cleared before firing

    @property
    def changed(self) -> bool:
        return bool(self.fired or self.escalated or self.resolved or self.updated or self.pending or self.dropped)


def next_step(rule, value: float | None, open_level: str | None, pending_since: datetime | None,
              now: datetime) -> str:
    """What the lifecycle does with a new value (shared by `evaluate` and the backtest).

    none | pend | wait | drop | fire (no open alert); rise | resolve | update (open alert).
    """
    level = rule.level_for(value)
    if open_level is None:
        if level is None:
            return "drop" if pending_since is not None else "none"
        held = now - (pending_since or now)
        if held >= timedelta(minutes=rule.for_minutes):
            return "fire"
        return "wait" if pending_since is not None else "pend"
    if level is not None and LEVELS.index(level) > LEVELS.index(open_level):
        return "rise"
    if rule.recovered(value):
        return "resolve"
    return "update"


def _ruleset(rules, gaz: Gazetteer) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    compiled, problems, _ = compile_rules(list(rules), gaz)
    if problems:
        raise ValueError("; ".join(problems))
    return RuleSet(compiled)


def evaluate(s: Session, rules, gaz: Gazetteer, now: datetime | None = None, partial: bool = False) -> Evaluation:
    """Measure every rule over its scope and move the lifecycle on; commits nothing (the caller does).

    `rules`: a RuleSet (what the loaders run) or a list of rule configs (scopes resolved here);
    `partial`: they are a part of the rules running (rule_inputs.moved_by), so an open alert of a rule
    not among them is not theirs to end.
    """
    now = now or utcnow()
    ruleset = _ruleset(rules, gaz)
    values, details = measure_all(s, ruleset, gaz, now)
    return apply(s, ruleset, values, now, details, partial)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _evidence(rule, detection, now: datetime) -> dict:
    """What a detector rule keeps on its alert beside the value: statistic, p-value, judged day."""
    if detection is None:
        return {}
    stat = detection.statistic
    if stat is not None:
        stat = max(-STATISTIC_CAP, min(STATISTIC_CAP, stat))
    return {"statistic": stat, "p_value": detection.p_value, "judged_day": judged_day(rule, local_day(now))}


def apply(s: Session, ruleset: RuleSet, values: dict[str, dict], now: datetime,
          details: dict[str, dict] | None = None, partial: bool = False) -> Evaluation:
    """Move the lifecycle on with measured values; `details`: detector rules' judgements per region;
    `partial`: as for `evaluate`."""
    ev = Evaluation()
    details = details or {}
    open_alerts = {(a.rule, a.region): a for a in s.scalars(select(Alert).where(Alert.state != "resolved"))}
    pending = {(p.rule, p.region): p for p in s.scalars(select(RulePending))}
    if partial:
        ids = {r.id for r in ruleset.rules}
        open_alerts = {k: a for k, a in open_alerts.items() if k[0] in ids}
        pending = {k: p for k, p in pending.items() if k[0] in ids}
    from . import silences   # (silences imports this module)
    quiet = silences.by_key(s, now)   # evaluated as ever; a fresh alert's trail says it is silenced
    seen: set[tuple[str, str]] = set()
    for crule in ruleset.rules:
        rule = crule.config
        for region, value in values.get(rule.id, {}).items():
            key = (rule.id, region)
            seen.add(key)
            alert, waiting = open_alerts.get(key), pending.get(key)
            step = next_step(rule, value, alert.level if alert else None, waiting.since if waiting else None, now)
            level = rule.level_for(value)
            evidence = _evidence(rule, details.get(rule.id, {}).get(region), now)
            if step == "pend":
                s.add(RulePending(rule=rule.id, region=region, since=now, level=level, value=value,
                                  threshold=getattr(rule.thresholds, level), updated_at=now,
                                  fires_at=now + timedelta(minutes=rule.for_minutes)))
                ev.pending += 1
            elif step == "wait":
                if (waiting.level, waiting.value) != (level, value):
                    ev.updated += 1  # the pending section shows the value: screens must re-read it
                    waiting.level, waiting.value, waiting.updated_at = level, value, now
                    waiting.threshold = getattr(rule.thresholds, level)
                waiting.fires_at = waiting.since + timedelta(minutes=rule.for_minutes)
            elif step == "drop":
                s.execute(delete(RulePending).where(RulePending.rule == rule.id, RulePending.region == region))
                ev.dropped += 1
            elif step == "fire":
                if waiting is not None:
                    s.execute(delete(RulePending).where(RulePending.rule == rule.id, RulePending.region == region))
                note = (f"held since {waiting.since:%Y-%m-%d %H:%M:%S} UTC ({rule.for_minutes:g} min)"
                        if waiting is not None else None)
                fired = _fire(s, rule, region, level, value, now, note, evidence)
                if key in quiet:
                    silences.note_fired(s, fired, quiet[key], now)
                ev.fired += 1
            elif step == "rise":
                ev.escalated += _rise(s, rule, alert, level, value, now, evidence)
                continue  # a fresh level: escalation waits for its own time
            elif step == "resolve":
                ev.resolved += _system_resolve(
                    s, alert, value, now, f"value {_fmt(value)} is back past {rule.recover:g} "
                                          f"({'below' if rule.direction == 'above' else 'above'} which it resolves)"
                    if value is not None else "no value any more (nothing left to measure)")
                continue
            elif step == "update" and (value != alert.value or evidence.get("judged_day", alert.judged_day)
                                       != alert.judged_day):
                # The level is kept until the value recovers: no flapping.
                ev.updated += _set(s, alert, now, value=value, **evidence)
            if alert is not None and _overdue(alert, rule, now):
                ev.escalated += _escalate(s, alert, rule, now)
    for key, alert in open_alerts.items():   # a rule removed or a region taken out of its scope
        if key not in seen:
            why = "rule removed from rules.yaml" if ruleset.get(key[0]) is None else "region no longer in the rule's scope"
            ev.resolved += _system_resolve(s, alert, None, now, why)
    for key in pending.keys() - seen:
        s.execute(delete(RulePending).where(RulePending.rule == key[0], RulePending.region == key[1]))
        ev.dropped += 1
    if ev.changed:
        bump_version(s)
    return ev


def _set(s: Session, alert: Alert, now: datetime, condition=None, **values) -> int:
    """A conditional UPDATE of an open alert by the system; 0 if someone changed it first."""
    q = update(Alert).where(Alert.id == alert.id, Alert.state != "resolved")
    if condition is not None:
        q = q.where(condition)
    return s.execute(q.values(updated_at=now, **values).execution_options(synchronize_session=False)).rowcount


def _rise(s: Session, rule, alert: Alert, level: str, value: float, now: datetime, evidence: dict) -> int:
    """A rise alerts again even if the lower level was acknowledged."""
    won = _set(s, alert, now, Alert.level == alert.level, level=level, state="firing", value=value,
               threshold=getattr(rule.thresholds, level), escalated_at=None, firing_since=now, **evidence)
    if won:
        s.add(AlertEvent(alert_id=alert.id, kind="escalated", at=now, by=SYSTEM, level=level, value=value,
                         note=f"level {alert.level} -> {level}"))
    return won


def _system_resolve(s: Session, alert: Alert, value: float | None, now: datetime, why: str) -> int:
    values = {"state": "resolved", "resolved_at": now, "resolved_by": SYSTEM, "resolve_reason": why}
    if value is not None:
        values["value"] = value
    won = _set(s, alert, now, **values)
    if won:
        s.add(AlertEvent(alert_id=alert.id, kind="resolved", at=now, by=SYSTEM, level=alert.level,
                         value=value if value is not None else alert.value, note=why))
    return won


def _overdue(alert: Alert, rule, now: datetime) -> bool:
    """Firing, never escalated at this level, and nobody has taken it for too long."""
    if alert.state != "firing" or alert.escalated_at is not None:
        return False
    return now - (alert.firing_since or alert.fired_at) >= timedelta(minutes=rule.escalate_after_minutes)


def _escalate(s: Session, alert: Alert, rule, now: datetime) -> int:
    won = _set(s, alert, now, (Alert.state == "firing") & Alert.escalated_at.is_(None), escalated_at=now)
    if won:
        s.add(AlertEvent(alert_id=alert.id, kind="escalated", at=now, by=SYSTEM, level=alert.level,
                         value=alert.value, note=f"unacknowledged for {rule.escalate_after_minutes:g} min"))
    return won


def _fire(s: Session, rule, region: str, level: str, value: float, now: datetime, note: str | None,
          evidence: dict) -> Alert:
    alert = Alert(rule=rule.id, region=region, level=level, state="firing", value=value,
                  threshold=getattr(rule.thresholds, level), fired_at=now, updated_at=now, firing_since=now,
                  **evidence)
    s.add(alert)
    s.flush()
    s.add(AlertEvent(alert_id=alert.id, kind="fired", at=now, by=SYSTEM, level=level, value=value, note=note))
    return alert


def pending_alerts(s: Session) -> list[dict]:
    """Conditions waiting out their rule's for_minutes, for the /alerts queue (not for banners)."""
    rows = s.scalars(select(RulePending).order_by(RulePending.fires_at, RulePending.rule, RulePending.region))
    return [{"rule": p.rule, "region": p.region, "state": "pending", "level": p.level, "value": p.value,
             "threshold": p.threshold, "since": p.since, "fires_at": p.fires_at} for p in rows]


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


def holds(rule, value: float | None) -> bool:
    """Whether an open alert's condition still holds at its last value: resolved, it fires again at the
    next evaluation (between the recover value and level IV it does not: that is the hysteresis)."""
    return rule is not None and value is not None and rule.level_for(value) is not None


def resolve(s: Session, alert_id: int, by: str, reason: str, now: datetime | None = None,
            held: bool = False) -> Alert:
    """Close an alert by hand, with the reason; the rule may fire again later if the value rises.
    `held`: the condition still held (the person was told it fires again); kept in the trail."""
    now = now or utcnow()
    won, alert = _claim(s, alert_id, Alert.state != "resolved",
                        state="resolved", resolved_at=now, resolved_by=by, resolve_reason=reason, updated_at=now)
    if not won:
        raise AlertConflict(f"alert {alert_id} was already resolved by {alert.resolved_by or SYSTEM}", alert)
    s.add(AlertEvent(alert_id=alert_id, kind="resolved", at=now, by=by, level=alert.level, value=alert.value,
                     note=reason, held=held or None))
    bump_version(s)
    return alert


def trail(s: Session, alert_id: int) -> list[AlertEvent]:
    return list(s.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))


# What a duty officer can do to an alert: action name -> function(session, id, by, text).
OFFICER_ACTIONS = {"ack": acknowledge, "note": add_note, "assign": assign, "resolve": resolve}
