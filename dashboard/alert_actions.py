"""An officer's action on an alert, or on a silence of a (rule, region): the one place the API, the
banner and /alerts (detail, queue rows, bulk, silences) take it. The text is checked (validate.py), an
alert or region outside the account's regions is as if there were none, the actor is the logged-in
account, and the audit log records it."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from sitroom import silences
from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound, holds
from sitroom.store.models import Silence
from sitroom.validate import person_text, silence_minutes

from .access import actor, principal, record

# action -> (the text field it takes, whether that field is required)
ACTION_FIELDS = {"ack": ("note", False), "note": ("note", True), "assign": ("to", True), "resolve": ("reason", True)}


def take(action: str, alert_id: int, typed) -> dict:
    """Do `action` on the alert with the typed text; the alert as it is after. Raises TextError
    (the text), AlertNotFound, AlertConflict (someone got there first) or the store's DBAPIError."""
    from .app import screen_data
    field, required = ACTION_FIELDS[action]
    value = person_text(field, typed, required)
    d = screen_data()
    now = d.alert(alert_id)
    if now is None:   # none, or outside the account's regions: the same answer
        raise AlertNotFound(f"no alert {alert_id}")
    # resolved while the condition holds: it fires again, and the trail says it was known
    extra = {"held": still_holds(now)} if action == "resolve" else {}
    try:
        with d.sessions.begin() as s:
            out = d.alert_dict(OFFICER_ACTIONS[action](s, alert_id, actor(), value, **extra))
            record(f"alert.{action}", f"alert {alert_id}", detail=value, s=s)
    except AlertConflict as e:
        record(f"alert.{action}", f"alert {alert_id}", ok=False, detail=str(e))
        raise
    d.forget()
    return out


def still_holds(alert: dict) -> bool:
    """An open alert (as ScreenData gives it) whose rule's condition holds at its last value."""
    from .app import screen_data
    return alert["state"] != "resolved" and holds(screen_data().rt.rule(alert["rule"]), alert["value"])


# ---------------------------------------------------------------- silences (sitroom.silences)
class SilenceRefused(ValueError):
    """A silence asked of a rule that is not running, or of a region the rule does not watch (400);
    `code` (rule, not_watched) lets a page say it in its language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def silence(rule: str, region: str, minutes, reason) -> dict:
    """Silence (rule, region) for `minutes` with the reason, as the logged-in account; the silence.
    Raises TextError (minutes, reason), SilenceRefused, LookupError (a region not there or outside the
    account's regions: the same answer), SilenceConflict (one in force) or the store's DBAPIError."""
    from .app import screen_data
    d = screen_data()
    region = region if isinstance(region, str) else ""
    if region not in d.gaz.regions or not d.scope.sees(region):
        raise LookupError(f"no region {region[:40]}")
    compiled = d.rt.rules().get(rule) if isinstance(rule, str) else None
    if compiled is None:
        raise SilenceRefused("rule", f"no rule '{str(rule)[:64]}' runs (rules.yaml)")
    if not any(region in codes for codes in compiled.regions.values()):
        raise SilenceRefused("not_watched", f"rule '{rule}' does not watch region {region}")
    minutes = silence_minutes(minutes)
    reason = person_text("reason", reason, True)
    target = f"silence {rule} {region}"
    try:
        with d.sessions.begin() as s:
            made = silences.create(s, rule, region, minutes, reason, actor(), principal().name)
            out = silences.as_dict(made, d.gaz)
            record("silence.add", target, detail=f"{minutes} min: {reason}", s=s)
    except IntegrityError:   # another officer's silence of the same (rule, region) committed first
        with d.sessions() as s:
            current = silences.by_key(s).get((rule, region))
        if current is None:
            raise
        raise silences.SilenceConflict(f"already silenced by {current.created_by} until "
                                       f"{current.ends:%Y-%m-%d %H:%M:%S} UTC", current) from None
    except silences.SilenceConflict as e:
        record("silence.add", target, ok=False, detail=str(e))
        raise
    d.forget()
    return out


def lift(silence_id: int) -> dict:
    """Lift a silence early, as the logged-in account; the silence after. Raises SilenceNotFound (none, or
    of a region outside the account's: the same answer), SilenceConflict (already ended) or DBAPIError."""
    from .app import screen_data
    d = screen_data()
    with d.sessions() as s:
        found = s.get(Silence, silence_id)
        if found is None or not d.scope.sees(found.region):
            raise silences.SilenceNotFound(f"no silence {silence_id}")
    try:
        with d.sessions.begin() as s:
            out = silences.as_dict(silences.lift(s, silence_id, actor()), d.gaz)
            record("silence.lift", f"silence {silence_id}", s=s)
    except silences.SilenceConflict as e:
        record("silence.lift", f"silence {silence_id}", ok=False, detail=str(e))
        raise
    d.forget()
    return out
