"""What the screens and the API show, computed once per data version.

Many browsers poll every second; they all share these results. A result is
recomputed only when the store's data version moves (or once a minute, because
'last 24 hours' slides with the clock), so a refresh with no new data costs one
indexed single-row read.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sitroom import queries
from sitroom.alerts import trail
from sitroom.runtime import Runtime
from sitroom.store import make_engine, session_factory
from sitroom.store.db import utcnow
from sitroom.store.models import Alert, CaseReport

HEARTBEAT_TTL = 0.5     # seconds; bounds the database load from N browsers to 2 reads/s
SLIDE_SECONDS = 60      # time windows are recomputed at least this often


class ScreenData:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.gaz = rt.gazetteer
        self.engine = make_engine(rt.settings.database_url)
        self.sessions = session_factory(self.engine)
        self._lock = threading.Lock()
        self._beat: tuple[float, dict] | None = None
        self._cache: dict[tuple, object] = {}

    # ---------------------------------------------------------------- heartbeat
    def heartbeat(self) -> dict:
        """Data version and source health; cheap, shared across browsers for HEARTBEAT_TTL."""
        now_mono = time.monotonic()
        beat = self._beat
        if beat and now_mono - beat[0] < HEARTBEAT_TTL:
            return beat[1]
        now = utcnow()
        with self.sessions() as s:
            version, changed_at = queries.data_version(s)
            states = {st.name: st for st in queries.sources(s)}
        sources = []
        for src in self.rt.config.sources.sources:
            st = states.get(src.name)
            last = st.last_success if st else None
            limit = src.poll_seconds * src.stale_after_intervals
            age = (now - last).total_seconds() if last else None
            sources.append({
                "name": src.name, "title": src.title.model_dump(),
                "last_success": iso_utc(last), "age_seconds": None if age is None else round(age, 1),
                "stale": age is None or age > limit,
                "healthy": bool(st and st.failures == 0 and last),
                "error": st.last_error if st else None,
            })
        as_of = min((s["last_success"] for s in sources if s["last_success"]), default=None)
        result = {"version": version, "changed_at": iso_utc(changed_at), "as_of": as_of, "now": iso_utc(now),
                  "sources": sources, "stale": any(s["stale"] for s in sources)}
        self._beat = (now_mono, result)
        return result

    def forget(self) -> None:
        """Drop the heartbeat after this process wrote something, so its own change shows at once."""
        self._beat = None

    def _cached(self, key: tuple, compute):
        slot = (self.heartbeat()["version"], int(time.time() // SLIDE_SECONDS)) + key
        with self._lock:
            if slot in self._cache:
                return self._cache[slot]
        value = compute()
        with self._lock:
            if len(self._cache) > 256:  # results of old versions
                self._cache.clear()
            self._cache[slot] = value
        return value

    # ---------------------------------------------------------------- figures
    def region_values(self, parent: str = "all") -> dict[str, dict]:
        """Per child region of `parent` ('all' = every prefecture): counts, new in 24 h, rate per 100k."""
        def compute():
            now = utcnow()
            by = CaseReport.prefecture if parent == "all" or self.gaz.get(parent).level == "province" \
                else CaseReport.region
            within = parent if by is CaseReport.region else None
            with self.sessions() as s:
                counts = queries.case_counts(s, by=by, within=within)
                new = queries.new_confirmed_since(s, now - timedelta(hours=24), by=by)
            children = self.gaz.prefectures() if parent == "all" else self.gaz.children(parent) or [self.gaz.get(parent)]
            out = {}
            for r in children:
                c = counts.get(r.adcode, {"confirmed": 0, "suspected": 0, "cured": 0, "dead": 0, "active": 0})
                out[r.adcode] = {**c, "new_24h": new.get(r.adcode, 0),
                                 "per_100k": round(c["confirmed"] / r.population * 1e5, 2) if r.population else None}
            return out
        return self._cached(("values", parent), compute)

    def totals(self, province: str | None = None) -> dict:
        def compute():
            values = self.region_values("all")
            keys = [r.adcode for r in self.gaz.prefectures(province)]
            out = {k: sum(values[c][k] for c in keys) for k in
                   ("confirmed", "new_24h", "active", "suspected", "cured", "dead")}
            out["active_alerts"] = sum(1 for a in self.alerts("active") if a["state"] == "firing")
            out["open_alerts"] = len(self.alerts("active"))
            return out
        return self._cached(("totals", province), compute)

    def trend(self, region: str | None, days: int) -> list[dict]:
        def compute():
            since = utcnow() - timedelta(days=days)
            with self.sessions() as s:
                rows = queries.daily_new(s, since, self.gaz.get(region).level if region else None, region)
            return [{"day": d, "confirmed": c, "suspected": p} for d, c, p in rows]
        return self._cached(("trend", region, days), compute)

    def alerts(self, state: str | None = "active") -> list[dict]:
        def compute():
            with self.sessions() as s:
                return [self.alert_dict(a) for a in queries.alerts(s, state)]
        return self._cached(("alerts", state), compute)

    def alert(self, alert_id: int, with_trail: bool = False) -> dict | None:
        with self.sessions() as s:
            a = s.get(Alert, alert_id)
            if a is None:
                return None
            out = self.alert_dict(a)
            if with_trail:
                out["trail"] = [{"kind": e.kind, "at": iso_utc(e.at), "by": e.by, "level": e.level, "value": e.value,
                                 "note": e.note} for e in trail(s, alert_id)]
            return out

    def alert_dict(self, a) -> dict:
        rule = next((r for r in self.rt.config.rules.rules if r.id == a.rule), None)
        region = self.gaz.regions.get(a.region)
        return {
            "id": a.id, "rule": a.rule, "rule_title": rule.title.model_dump() if rule else {"zh": a.rule, "en": a.rule},
            "region": a.region, "region_name": region.name if region else a.region,
            "region_name_en": region.name_en if region else a.region,
            "level": a.level, "state": a.state, "value": a.value, "threshold": a.threshold,
            "fired_at": iso_utc(a.fired_at), "updated_at": iso_utc(a.updated_at),
            "acked_by": a.acked_by, "acked_at": iso_utc(a.acked_at), "ack_note": a.ack_note,
            "resolved_at": iso_utc(a.resolved_at), "resolved_by": a.resolved_by, "resolve_reason": a.resolve_reason,
            "assignee": a.assignee, "escalated_at": iso_utc(a.escalated_at),
        }

    def quarantine(self, source: str | None, reason: str | None, limit: int, offset: int) -> dict:
        with self.sessions() as s:
            total, rows = queries.quarantine(s, source, reason, limit, offset)
        return {"total": total, "limit": limit, "offset": offset, "rows": [
            {"source": q.source, "source_key": q.source_key, "reasons": q.reasons, "row": q.row,
             "first_seen": iso_utc(q.first_seen), "last_seen": iso_utc(q.last_seen)} for q in rows]}

    def sources(self) -> list[dict]:
        beat = {b["name"]: b for b in self.heartbeat()["sources"]}
        with self.sessions() as s:
            rows = queries.sources(s)
        out = []
        for st in rows:
            out.append({**beat.get(st.name, {"name": st.name}),
                        "failures": st.failures, "last_error_at": iso_utc(st.last_error_at),
                        "retry_at": iso_utc(st.retry_at), "last_change": iso_utc(st.last_change),
                        "rows_read": st.rows_read, "rows_inserted": st.rows_inserted,
                        "rows_updated": st.rows_updated, "rows_quarantined": st.rows_quarantined})
        known = {o["name"] for o in out}
        out += [b for n, b in beat.items() if n not in known]
        return out


def iso_utc(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt else None
