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
