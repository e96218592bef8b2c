"""A source's polling cursor: the last (update time, key) loaded, kept as the source returned it.

The store keeps it (SourceState.cursor) and the loaders compare it in the source's own terms, so a
text column is compared with text of the same layout, a timestamp with a timestamp.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta


def epoch(value) -> datetime | None:
    """Seconds (10 digits) or milliseconds (13 digits) since 1970 (UTC), as feeds often stamp their
    publications (updateTime: 1606710000000), as a naive UTC time; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) in (10, 13):
        value = int(value.strip())
    if not isinstance(value, (int, float)) or not 1e9 <= value < 1e14:
        return None
    seconds = value / 1000 if value >= 1e11 else value
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)


def shift_raw(raw, seconds: float):
    """`raw` moved back by `seconds`, in the same representation the source uses.

    The cursor is compared by the source database itself, so a text column must
    be compared with text of the same layout, a timestamp with a timestamp.
    """
    if isinstance(raw, datetime):
        return raw - timedelta(seconds=seconds)
    if isinstance(raw, date):  # a DATE column: whole days back
        return raw - timedelta(days=-(-seconds // 86400))
    if isinstance(raw, str) and epoch(raw) is not None:   # epoch text: the same digits, earlier
        return str(int(shift_raw(int(raw.strip()), seconds)))
    if isinstance(raw, (int, float)):
        return raw - seconds * (1000 if raw >= 1e11 else 1)   # milliseconds since 1970 move in ms
    text = str(raw)
    sep = "T" if "T" in text else " "
    dt = datetime.fromisoformat(text.replace("/", "-")) - timedelta(seconds=seconds)
    out = dt.isoformat(sep=sep, timespec="microseconds" if "." in text else "seconds")
    return out.replace("-", "/") if "/" in text else out


def encode_cursor(ts, key) -> str:
    def enc(v):
        if isinstance(v, datetime):
            return {"dt": v.isoformat()}
        return {"d": v.isoformat()} if isinstance(v, date) else v
    return json.dumps([enc(ts), enc(key)], ensure_ascii=False)


def decode_cursor(text: str | None):
    if not text:
        return None
    def dec(v):
        if isinstance(v, dict):
            return datetime.fromisoformat(v["dt"]) if "dt" in v else date.fromisoformat(v["d"])
        return v
    ts, key = json.loads(text)
    return dec(ts), dec(key)
