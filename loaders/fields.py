"""Reading one source value as one of sitroom's field types; each failure is a reason naming the column.

A parser takes the raw value and returns the typed value, or raises Bad with what is
wrong in words an operator can act on. The row mapper adds the column name.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .timeparse import _epoch, to_utc

EARLIEST = datetime(2019, 12, 1)         # no record of this epidemic can predate it


class Bad(ValueError):
    """A value that cannot be used; the message says what is wrong (without the column)."""


def _shown(v, limit: int = 60) -> str:
    """A raw value as a reason quotes it: repr, cut (a reason must stay readable whatever the row holds)."""
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "…"


def blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def text(v, max_len: int | None = 200) -> str:
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("bad encoding (not UTF-8)") from None
    s = str(v).strip()
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes surfaced as surrogates by the source reader
        raise Bad("bad encoding (not UTF-8)") from None
    if "\x00" in s:  # PostgreSQL cannot store it, and no name or place holds one
        raise Bad("text with a NUL character")
    if max_len is not None and len(s) > max_len:
        raise Bad(f"text longer than {max_len} characters")
    return s


def number(v) -> float:
    if isinstance(v, bool):
        raise Bad(f"not a number {_shown(v)}")
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        try:
            x = float(text(v).replace(",", ""))
        except ValueError:
            raise Bad(f"not a number {_shown(v)}") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise Bad(f"not a number {_shown(v)}")
    return x


def count(v, factor: float = 1.0, maximum: int | None = None) -> int:
    x = number(v) * factor
    if x < 0:
        raise Bad(f"negative count {_shown(v)}")
    if abs(x - round(x)) > 1e-6:
        raise Bad(f"not a whole number {_shown(v)}")
    if maximum is not None and x > maximum:
        raise Bad(f"count {_shown(v)} is more than the store holds ({maximum:,})")
    return int(round(x))


def quantity(v, factor: float = 1.0) -> float:
    x = number(v) * factor
    if x < 0:
        raise Bad(f"negative quantity {_shown(v)}")
    if x == float("inf"):
        raise Bad(f"quantity {_shown(v)} is more than the store holds")
    return x


def time_utc(v, tz: ZoneInfo, now: datetime, ahead: timedelta, earliest: datetime | None = EARLIEST) -> datetime:
    """A time no later than `now + ahead` (the source's clock may run that far ahead) nor before `earliest`."""
    try:
        t = to_utc(v.decode("utf-8") if isinstance(v, bytes) else v, tz)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise Bad(f"unreadable time {_shown(v)}") from None
    if t > now + ahead:
        raise Bad(f"time {t:%Y-%m-%d %H:%M} UTC is in the future")
    if earliest is not None and t < earliest:
        raise Bad(f"time {t:%Y-%m-%d} is before {earliest:%Y-%m-%d}")
    return t


def version(v, tz: ZoneInfo) -> float:
    """A version column: a number (publication 17), or a time (seconds since 1970, UTC)."""
    try:
        return number(v)
    except Bad:
        pass
    try:
        t = to_utc(v.decode("utf-8") if isinstance(v, bytes) else v, tz)
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise Bad(f"unreadable version {_shown(v)} (a number or a time)") from None
    return (t - datetime(1970, 1, 1)).total_seconds()


def local_day(v, tz: ZoneInfo, today: date) -> date:
    """A calendar day in the source's zone: a date, a time (its local day), '2026-11-23' or 20261123."""
    if (t := _epoch(v)) is not None:      # a timestamp in seconds or ms since 1970: its local day
        d = tz.fromutc(t.replace(tzinfo=tz)).date()
    elif isinstance(v, datetime):
        d = (v.astimezone(tz) if v.tzinfo else v).date()
    elif isinstance(v, date):
        d = v
    else:
        s = str(v).strip()
        try:
            if s.isdigit() and len(s) == 8:
                d = date(int(s[:4]), int(s[4:6]), int(s[6:]))
            else:
                d = datetime.fromisoformat(s.replace("/", "-")).date()
        except ValueError:
            raise Bad(f"unreadable day {_shown(v)}") from None
    if d > today:
        raise Bad(f"day {d} is in the future")
    if d < EARLIEST.date():
        raise Bad(f"day {d} is before {EARLIEST:%Y-%m-%d}")
    return d


def coordinate(v, low: float, high: float) -> float:
    x = number(v)
    if not low <= x <= high:
        raise Bad(f"{x:g} is outside {low:g}..{high:g}")
    return x
