"""Individual travel records -> arrival counts, on the way in; no person-level record is stored.

Each record adds one to its (arrival day, origin, destination, mode, stayed long enough)
count in `inflows`. To count a record once although polls re-read an overlap window
(and a killed loader re-reads its last batch), a digest of its id is kept in
`travel_seen` in the same transaction as the counts, and only while the record can
still be re-read: digests older than the cursor minus the overlap are deleted.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from sitroom.store.models import Inflow, TravelSeen

from .mapping import local_day_of, record_digest
from .timeparse import to_utc

IN_CHUNK = 900
PRUNE_SLACK = timedelta(minutes=5)   # keep digests a little longer than the overlap strictly needs


def count_travel(s: Session, src, good: dict, last, now: datetime, regions: set) -> int:
    """Count the batch's records not counted before; returns how many were new."""
    tz = ZoneInfo(src.timezone)
    digests = {record_digest(src.name, key): values for key, (values, _row) in good.items()}
    seen = set()
    keys = list(digests)
    for i in range(0, len(keys), IN_CHUNK):
        chunk = keys[i:i + IN_CHUNK]
        seen.update(s.scalars(select(TravelSeen.digest).where(TravelSeen.source == src.name,
                                                               TravelSeen.digest.in_(chunk))))
    fresh = {d: v for d, v in digests.items() if d not in seen}
    if fresh:
        s.execute(insert(TravelSeen), [{"source": src.name, "digest": d, "updated_at": v["updated_at"]}
                                       for d, v in fresh.items()])
        buckets: Counter = Counter()
        latest: dict[str, tuple[dict, datetime]] = {}
        for v in fresh.values():
            stayed = v["stay"] >= src.min_stay_hours
            key = (local_day_of(v["arrived_at"], tz), v["origin"], v["region"], v.get("mode"), stayed)
            skey = "|".join("" if p is None else str(p) for p in key)
            buckets[skey] += 1
            if skey not in latest or v["updated_at"] > latest[skey][1]:
                latest[skey] = (dict(zip(("day", "origin", "region", "mode", "stayed"), key)) |
                                {"prefecture": v["prefecture"], "province": v["province"]}, v["updated_at"])
        _add_counts(s, src.name, buckets, latest, now, regions)
    if last is not None:
        horizon = to_utc(last[0], tz) - timedelta(seconds=src.overlap_seconds) - PRUNE_SLACK
        s.execute(delete(TravelSeen).where(TravelSeen.source == src.name, TravelSeen.updated_at < horizon))
    return len(fresh)


def _add_counts(s: Session, source: str, buckets: Counter, latest: dict, now: datetime, regions: set) -> None:
    keys = list(buckets)
    existing: dict[str, tuple[int, int]] = {}
    for i in range(0, len(keys), IN_CHUNK):
        for id_, key, n in s.execute(select(Inflow.id, Inflow.source_key, Inflow.count).where(
                Inflow.source == source, Inflow.source_key.in_(keys[i:i + IN_CHUNK]))):
            existing[key] = (id_, n)
    new_rows, changed = [], []
    for key, n in buckets.items():
        fields, updated_at = latest[key]
        regions.add(fields["prefecture"])
        if key in existing:
            id_, old = existing[key]
            changed.append({"id": id_, "count": old + n, "source_updated_at": updated_at, "loaded_at": now})
        else:
            new_rows.append({"source": source, "source_key": key, "count": n, "source_updated_at": updated_at,
                             "loaded_at": now, **fields})
    if new_rows:
        s.execute(insert(Inflow), new_rows)
    if changed:
        s.execute(update(Inflow), changed)
