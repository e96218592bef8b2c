"""A source's polling cursor: the last (update time, key) loaded, kept as the source returned it.

The store keeps it (SourceState.cursor) and the loaders compare it in the source's own terms, so a
text column is compared with text of the same layout, a timestamp with a timestamp.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta


def shift_raw(raw, seconds: float):
    """`raw` moved back by `seconds`, in the same representation the source uses.

    The cursor is compared by the source database itself, so a text column must
    be compared with text of the same layout, a timestamp with a timestamp.
    """
    if isinstance(raw, datetime):
        return raw - timedelta(seconds=seconds)
    if isinstance(raw, date):  # a DATE column: whole days back
        return raw - timedelta(days=-(-seconds // 86400))
    if isinstance(raw, (int, float)):
        return raw - seconds
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
