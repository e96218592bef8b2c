"""What people type (an officer's name, a note, whom a task goes to, why an alert is resolved),
checked in one place for the JSON API and every Dash callback that writes.

A value is refused with a reason a person can act on (`TextError`, its `field` and `code`
say which check failed, so a screen can say it in its own language). What passes is stored
as typed, less the whitespace around it, normalised to NFC so that one name is one string.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Longest text per field, in characters; the store's columns for names are VARCHAR(100)
# (alerts.acked_by, resolved_by, assignee, alert_events.by), notes are TEXT.
LIMITS = {"by": 100, "to": 100, "note": 2000, "reason": 2000}
MULTILINE = {"note", "reason"}       # may hold line breaks and tabs; names may not
RESERVED_NAMES = {"system"}          # the engine's own name in the trail (sitroom.alerts.SYSTEM)

# Unicode's explicit directional formatting characters (UAX #9, section 2): embeddings,
# overrides and isolates reorder what follows them, so a note could show text other than it holds.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
# Characters that show nothing: a name made only of them (or of spaces) names nobody.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u200e\u200f\u2061\u2062\u2063\u2064\u3164\uffa0"
                      "\u115f\u1160")   # Hangul fillers: letters (Lo) that draw nothing


class TextError(ValueError):
    """A field refused: `field` (by, note, to, reason; minutes), `code` (required, type, long, control, bidi,
    surrogate, reserved; range) and the message in English; `limit` for code long, `char` for the others."""

    def __init__(self, field: str, code: str, message: str, limit: int | None = None, char: str | None = None):
        super().__init__(message)
        self.field, self.code, self.limit, self.char = field, code, limit, char


@dataclass(frozen=True)
class _Problem:
    code: str
    char: str


def _first_problem(value: str, multiline: bool, name: bool) -> _Problem | None:
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return _Problem("surrogate", ch)
        if ch in BIDI_CONTROLS:
            return _Problem("bidi", ch)
        if cat == "Cc" and not (multiline and ch in "\n\t"):
            return _Problem("control", ch)
        if name and (cat in ("Zl", "Zp", "Cf") or ch in INVISIBLE):
            return _Problem("control", ch)
    return None


def _blank(value: str) -> bool:
    """Only spaces and what draws nothing on its own: format characters (Cf: joiners, tags), combining
    and enclosing marks with no base (Mn, Me: variation selectors, the grapheme joiner), fillers."""
    return all(ch.isspace() or ch in INVISIBLE or unicodedata.category(ch) in ("Cf", "Mn", "Me") for ch in value)


def person_text(field: str, value, required: bool = True) -> str | None:
    """The checked text of `field`, or None when it is empty and not required; raises TextError."""
    if value is None or (isinstance(value, str) and _blank(value)):
        if required:
            raise TextError(field, "required", f"'{field}' is required")
        return None
    if not isinstance(value, str):
        raise TextError(field, "type", f"'{field}' must be text, not {type(value).__name__}")
    limit = LIMITS[field]
    if len(value) > limit * 4:  # no scan of a megabyte for what is refused anyway
        raise TextError(field, "long", f"'{field}' is longer than {limit} characters", limit=limit)
    problem = _first_problem(value, field in MULTILINE, field not in MULTILINE)
    if problem:
        what = {"surrogate": "a lone surrogate (not valid Unicode)",
                "bidi": "a bidirectional control character",
                "control": "a control or invisible character"}[problem.code]
        raise TextError(field, problem.code, f"'{field}' holds {what} (U+{ord(problem.char):04X})",
                        char=problem.char)
    text = unicodedata.normalize("NFC", value.strip())
    if len(text) > limit:
        raise TextError(field, "long", f"'{field}' is longer than {limit} characters", limit=limit)
    if field == "by" and unicodedata.normalize("NFKC", text).casefold() in RESERVED_NAMES:
        raise TextError(field, "reserved", f"'{field}': the name '{text}' is reserved for sitroom itself")
    return text


# How long a (rule, region) may be silenced, in whole minutes: the page offers SILENCE_CHOICES, the
# API takes any whole number in the range. At most a day: a silence is for a known, passing cause
# (a late batch, a correction under way), not a way to switch a rule off (that is rules.yaml's job).
SILENCE_MINUTES = (5, 1440)
SILENCE_CHOICES = (30, 60, 120, 240, 480, 720, 1440)


def silence_minutes(value) -> int:
    """The checked duration of a silence; raises TextError (field "minutes", code "type" or "range",
    `limit` the longest) so that the API and the page say it alike."""
    low, high = SILENCE_MINUTES
    if value is None or value == "":
        raise TextError("minutes", "required", "'minutes' is required", limit=high)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 10:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise TextError("minutes", "type", f"'minutes' must be a whole number of minutes from {low} to {high}",
                        limit=high)
    if not low <= value <= high:
        raise TextError("minutes", "range", f"'minutes' must be from {low} to {high}; got {value}", limit=high)
    return value


def record_id(value, field: str = "id") -> int:
    """A store row id from a request or a page: a whole number 1 .. MAX_ID; raises ValueError with
    the reason."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a whole number")
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise ValueError(f"{field} must be a whole number from 1 to {MAX_ID}; got {value[:40]!r}")
        value = int(text)
    if not isinstance(value, int):
        raise ValueError(f"{field} must be a whole number, not {type(value).__name__}")
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"{field} must be a whole number from 1 to {MAX_ID}; got {value}")
    return value


MAX_ID = 2 ** 31 - 1       # ids are INTEGER columns: 32 bits on PostgreSQL (SQLite's are 64)
MAX_OFFSET = 2 ** 63 - 1   # a row offset: PostgreSQL's OFFSET takes a BIGINT, SQLite's a 64-bit integer
