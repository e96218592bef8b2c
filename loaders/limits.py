"""What the store can hold, read from its models, so the mapper refuses a value before the store does.

PostgreSQL enforces VARCHAR(n) and INTEGER's range (SQLite does not): a value past them would fail
the whole batch, on every poll. Limits come from `sitroom.store.models`, never repeated here.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import BigInteger, Integer

from sitroom.store.models import Base

INT_MAX = {BigInteger: 2**63 - 1, Integer: 2**31 - 1}   # SQL's BIGINT and INTEGER


def text_limit(model, name: str) -> int | None:
    """The length of `model.name` if it is a VARCHAR(n) column, else None."""
    col = model.__table__.c.get(name)
    return getattr(col.type, "length", None) if col is not None else None


def int_limit(model, name: str) -> int | None:
    """The largest value `model.name` holds if it is an integer column, else None."""
    col = model.__table__.c.get(name)
    if col is None:
        return None
    return next((m for t, m in INT_MAX.items() if isinstance(col.type, t)), None)


# Every table keyed by (source, source_key) — facts and quarantine — keeps the same key for a row,
# so one length fits them all: the shortest.
KEY_LIMIT = min(length for m in Base.registry.mappers
                if (length := text_limit(m.class_, "source_key")) is not None)
_DIGEST = 16   # bytes of the digest that stands for a key too long or not clean text


def store_key(key: str) -> str:
    """A source key as the store keeps it: whole when it fits and is clean text; otherwise a readable
    head and a digest of the whole key, so any key, of any length, is one stable row."""
    if len(key) <= KEY_LIMIT and "\x00" not in key:
        try:
            key.encode("utf-8")
            return key
        except UnicodeEncodeError:   # undecodable source bytes, surfaced as surrogates
            pass
    whole = key.encode("utf-8", "surrogatepass")
    tail = "…#" + hashlib.blake2b(whole, digest_size=_DIGEST).hexdigest()
    head = whole.decode("utf-8", "replace").replace("\x00", "\ufffd")
    return head[:KEY_LIMIT - len(tail)] + tail
