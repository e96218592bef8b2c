"""What an operator does to a source: one function each, called by the CLI and the /sources page alike.

`resync` makes the source's next poll re-read it from the start, so values the loader never saw
change (a mapped column dropped and re-added, rows fixed without a new update time) are read again.
It is idempotent: re-read rows update their facts in place, nothing is counted twice, and facts of
rows that vanished from the source stay as the loader always leaves them. Travel records are counted
into arrivals once (only a digest of each record is remembered, for `remember_days`), so for them the
re-read goes back only as far as that memory reaches.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .cursor import decode_cursor, encode_cursor, shift_raw
from .store import bump_version
from .store.models import SourceState

MARGIN_SECONDS = 300   # kept inside the travel ledger's memory: it prunes by batch, not by record


@dataclass(frozen=True)
class Resync:
    source: str
    from_start: bool               # False: travel records, re-read for `days` before the cursor
    days: float = 0.0


class UnknownSource(ValueError):
    pass


def resync(s: Session, sources, name: str) -> Resync:
    """Move the cursor of source `name` back (see the module); commits with the caller's transaction."""
    src = next((x for x in sources.sources if x.name == name), None)
    if src is None:
        raise UnknownSource(f"no source {name!r} in sources.yaml; there are: "
                            + ", ".join(x.name for x in sources.sources))
    state = s.get(SourceState, name, with_for_update=True)
    if state is None:   # never polled: its first poll reads from the start anyway
        return Resync(name, True)
    state.retry_at = None   # the next poll runs now, not after a backoff
    if src.kind != "travel_records" or state.cursor is None:
        state.cursor = None
        bump_version(s)
        return Resync(name, True)
    back = src.remember_days * 86400 - src.overlap_seconds - MARGIN_SECONDS
    if back > 0:
        try:
            state.cursor = encode_cursor(shift_raw(decode_cursor(state.cursor)[0], back), None)
        except (ValueError, TypeError, KeyError, IndexError):   # unusable: the loader drops it and starts over
            state.cursor = None
    bump_version(s)
    return Resync(name, False, max(back, 0) / 86400)
