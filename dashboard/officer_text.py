"""What a page says when an officer's action is refused (the text typed) or not recorded (the store)."""
from __future__ import annotations

from sitroom.store.health import fault_code
from sitroom.validate import TextError

from .i18n import t

FIELD_LABELS = {"by": "ack_name", "note": "note", "to": "assign_to", "reason": "resolve_reason",
                "minutes": "silence_minutes"}
SILENCE_LABELS = {**FIELD_LABELS, "reason": "silence_reason"}   # the silence form's fields


def refused(e: TextError, lang: str, labels: dict = FIELD_LABELS) -> str:
    """The reason in the page's language, naming the field as the page labels it."""
    field = t(labels.get(e.field, "note"), lang)
    if e.code == "required":
        return t("need_field", lang, field=field)
    char = f"U+{ord(e.char):04X}" if e.char else ""
    return t(f"text_{e.code}", lang, field=field, limit=e.limit, char=char)


def not_recorded(e: Exception, lang: str) -> str:
    """An action the store did not take: said as such, with the store's fault."""
    return t("not_recorded", lang, why=t(f"store_{fault_code(e)}", lang))
