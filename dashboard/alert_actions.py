"""An officer's action on an alert: the one place the API, the banner and /alerts (detail, queue
rows, bulk) take it. The text is checked (validate.py), an alert outside the account's regions is
as if there were none, the actor is the logged-in account, and the audit log records it."""
from __future__ import annotations

from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound, holds
from sitroom.validate import person_text

from .access import actor, record

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
