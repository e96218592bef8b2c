"""Individual travel records -> arrival counts, on the way in; no person-level record is stored.

Each record adds one to its (arrival day, origin, destination, mode, stayed long enough)
count in `inflows`. To count a record once although polls re-read an overlap window, a
killed loader re-reads its last batch, and a source may touch a record again later, an
8-byte digest of its id is kept (packed, one `travel_seen` row per batch, written in the
same transaction as the counts) for `remember_days`. A record is an event: a later change
to it is not counted again (undoing its old count would need its itinerary).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sitroom.store.models import Inflow, TravelSeen

from .mapping import local_day_of
from .timeparse import to_utc
from .writes import add_counts

DIGEST = 8


class TravelLedger:
    """The digests of counted records, mirrored in memory and refreshed inside each batch's transaction."""

    def __init__(self, source: str):
        self.source = source
        self.reset()

    def reset(self) -> None:
        """Forget the mirror (after a failed transaction or a prune): the next batch reloads it."""
        self.seen: set[bytes] = set()
        self.loaded_id = 0

    def refresh(self, s: Session) -> None:
        for id_, blob in s.execute(select(TravelSeen.id, TravelSeen.digests).where(
                TravelSeen.source == self.source, TravelSeen.id > self.loaded_id).order_by(TravelSeen.id)):
            self.seen.update(blob[i:i + DIGEST] for i in range(0, len(blob), DIGEST))
            self.loaded_id = id_

    def count(self, s: Session, src, good: dict, last, now: datetime, regions: set) -> int:
        """Count the batch's records not counted before; returns how many were new."""
        self.refresh(s)
        tz = ZoneInfo(src.timezone)
        fresh = {}
        for key, (values, _row) in good.items():
            d = bytes.fromhex(key.removeprefix("record:"))
            if d not in self.seen:
                fresh[d] = values
        if fresh:
            newest = max(v["updated_at"] for v in fresh.values())
            row = TravelSeen(source=self.source, newest=newest, digests=b"".join(fresh))
            s.add(row)
            s.flush()
            self.seen.update(fresh)
            self.loaded_id = max(self.loaded_id, row.id)
            _add_counts(s, src, fresh.values(), tz, now, regions)
        if last is not None:
            horizon = to_utc(last[0], tz) - max(timedelta(seconds=src.overlap_seconds) + timedelta(minutes=5),
                                                timedelta(days=src.remember_days))
            if s.execute(delete(TravelSeen).where(TravelSeen.source == self.source,
                                                  TravelSeen.newest < horizon)).rowcount:
                self.reset()
        return len(fresh)


def _add_counts(s: Session, src, records, tz, now: datetime, regions: set) -> None:
    buckets: Counter = Counter()
    newest: dict[tuple, tuple[datetime, dict]] = {}
    for v in records:
        key = (local_day_of(v["arrived_at"], tz), v["origin"], v["region"], v.get("mode"),
               v["stay"] >= src.min_stay_hours)
        buckets[key] += 1
        if key not in newest or v["updated_at"] > newest[key][0]:
            newest[key] = (v["updated_at"], v)
    rows = []
    for key, n in buckets.items():
        updated_at, v = newest[key]
        regions.add(v["prefecture"])
        rows.append({"source": src.name, "source_key": "|".join("" if p is None else str(p) for p in key),
                     "count": n, "source_updated_at": updated_at, "loaded_at": now,
                     **dict(zip(("day", "origin", "region", "mode", "stayed"), key)),
                     "prefecture": v["prefecture"], "province": v["province"]})
    add_counts(s, Inflow, rows)
