"""Source time values -> naive UTC (the cursor, kept exactly as the source returned it: sitroom.cursor)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sitroom.cursor import decode_cursor, encode_cursor, epoch as _epoch, shift_raw  # noqa: F401  (the loaders' names)


def to_utc(value, tz: ZoneInfo) -> datetime:
    """Parse a source time (datetime, date, or text such as '2026-11-23 08:30[:00]' or '2026/11/23 08:30').

    Naive values are in the source's time zone. Raises ValueError on anything else.
    """
    epoch = _epoch(value)
    if epoch is not None:
        return epoch
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(f"not a time: {value!r}")
        dt = datetime.fromisoformat(text.replace("/", "-") if "/" in text else text)
    elif isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:  # local time: subtract the zone's offset at that time (one C call; loaders parse millions)
        return dt - tz.utcoffset(dt)
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


_DIGIT = str.maketrans("0123456789", "9999999999")


def text_layout(value) -> str | None:
    """How a text time is written, digits as 9 and fractions of a second left out ('9999-99-99 99:99:99');
    None for a value that is not text. A source's text column sorts as text, so a time written otherwise
    ('2026/11/28 9:00', ISO with 'T') sorts out of its place among the others."""
    if value.__class__ is not str:
        return None
    head, dot, tail = value.strip().partition(".")
    if dot and tail[:1].isdigit():   # '…:00.123456+08:00' -> '…:00+08:00'
        tail = tail.lstrip("0123456789")
    else:
        head, tail = value.strip(), ""
    return (head + tail).translate(_DIGIT)
