"""What the screens and the API show, computed once per data version.

Many browsers poll every second; they all share these results. A result is
recomputed only when the store's data version moves (or once a minute, because
'last 24 hours' slides with the clock), so a refresh with no new data costs one
indexed single-row read.
"""
from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from datetime import datetime, timedelta

from sitroom import queries, trends_queries
from sitroom.auth.scope import Scope
from sitroom.alerts import pending_alerts, trail
from sitroom import file_status, loader_beat, silences
from sitroom.store import health as store_health
from sitroom.rules_load import rules_status
from sitroom.runtime import Runtime
from sitroom.store import make_engine, session_factory
from sitroom.store.db import utcnow
from sitroom.store.models import Alert, Silence
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

HEARTBEAT_TTL = 0.5     # seconds; bounds the database load from N browsers to 2 reads/s
HEALTH_TTL = 2.0        # seconds between two looks at whether the store can be written
WEB_BUSY_MS = 5000      # an officer's write waits this long for a locked SQLite store, then is told so
SLIDE_SECONDS = 60      # time windows are recomputed at least this often


class ScreenData:
    """Shared by every request; `scoped(scope)` is the view of one account's region scope, which
    filters every figure, alert and marker where it is computed (and caches per scope)."""
    scope: Scope = Scope.ALL

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.gaz = rt.gazetteer
        self.engine = make_engine(rt.settings.database_url)
        store_health.reopen_when_read_only(self.engine)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _web_busy_timeout)
        elif self.engine.dialect.name == "postgresql":
            event.listen(self.engine, "connect", _web_lock_timeout)
        self.sessions = session_factory(self.engine)
        self._health: tuple[float, dict] | None = None
        self._health_lock = threading.Lock()
        self._lock = threading.Lock()
        self._beat: list = [None]  # [(monotonic time, heartbeat)], shared with the scoped views
        self._cache: dict[tuple, object] = {}
        self._computing: dict[tuple, threading.Lock] = {}
        self._geo: dict[tuple, str] = {}   # boundaries as each scope may see them (static for a run)
        self._floor = 0   # the newest version pushed to screens (push.py): never answer with an older one
        self._root = self           # the unscoped view, which scoped views filter from

    def scoped(self, scope: Scope) -> "ScreenData":
        """The same data (cache, engine, heartbeat) as seen by an account limited to `scope`."""
        if scope.unlimited:
            return self
        view = copy.copy(self)
        view.scope = scope
        return view

    # ---------------------------------------------------------------- heartbeat
    def heartbeat(self) -> dict:
        """Data version and source health; cheap, shared across browsers for HEARTBEAT_TTL."""
        now_mono = time.monotonic()
        beat = self._beat[0]
        if beat and now_mono - beat[0] < HEARTBEAT_TTL and beat[1]["version"] >= self._floor:
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
                "last_change": iso_utc(st.last_change) if st else None,   # its last batch that changed facts
            })
        as_of = min((s["last_success"] for s in sources if s["last_success"]), default=None)
        result = {"version": version, "changed_at": iso_utc(changed_at), "as_of": as_of, "now": iso_utc(now),
                  "sources": sources, "stale": any(s["stale"] for s in sources)}
        self._beat[0] = (now_mono, result)
        return result

    def health(self) -> dict:
        """{"store": {reachable, writable, fault, error}, "loaders": {running, processes, last_beat,
        last_batch}, "ok"}: looked at once per HEALTH_TTL by one request; others take the last look."""
        held = self._health
        if held and time.monotonic() - held[0] < HEALTH_TTL:
            return held[1]
        if not self._health_lock.acquire(blocking=held is None):
            return held[1]
        try:
            store = store_health.probe(self.engine)
            loaders = {"running": None, "processes": 0, "last_beat": None, "last_batch": None}
            if store.reachable:
                try:
                    with self.sessions() as s:
                        loaders = loader_beat.status(s)
                except DBAPIError:
                    pass
            result = {"store": store.as_dict(),
                      "loaders": {**loaders, "last_beat": iso_utc(loaders["last_beat"]),
                                  "last_batch": iso_utc(loaders["last_batch"])}}
            result["ok"] = bool(store.reachable and store.writable and loaders["running"])
            self._health = (time.monotonic(), result)
            return result
        finally:
            self._health_lock.release()

    def saw_version(self, version: int) -> None:
        """Screens are being told of `version`: a heartbeat of an older one is not used from now on."""
        self._floor = max(self._floor, version)

    def forget(self) -> None:
        """Drop the heartbeat after this process wrote something, so its own change shows at once."""
        self._beat[0] = None

    def _cached(self, key: tuple, compute):
        # rules.yaml's generation too: a reloaded file changes titles and thresholds on screen
        self.rt.rules()
        slot = (self.heartbeat()["version"], int(time.time() // SLIDE_SECONDS), self.rt.live_rules.generation,
                self.scope.key()) + key
        with self._lock:
            if slot in self._cache:
                return self._cache[slot]
            computing = self._computing.setdefault(slot, threading.Lock())
        # Pushed screens all ask at the same moment: one computes, the others wait for its result.
        with computing:
            with self._lock:
                if slot in self._cache:
                    return self._cache[slot]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop(slot, None)
            with self._lock:
                if len(self._cache) > 256:  # results of old versions
                    self._cache.clear()
                self._cache[slot] = value
        return value

    # ---------------------------------------------------------------- case figures
    def case_figures(self) -> queries.CaseFigures:
        """Line list + aggregates at the most specific level, once per data version."""
        def compute():
            if not self.scope.unlimited:
                return _scoped_figures(self._root.case_figures(), self.scope)
            with self.sessions() as s:
                return queries.case_figures(s, utcnow(), self.rt.config.dashboard.trend_days, self.snapshots())
        return self._cached(("case_figures",), compute)

    def has_data(self) -> bool:
        """Whether any case figure was ever reported: an empty store shows 'no data', not zeros."""
        f = self.case_figures()
        return bool(f.regions or f.buckets)

    def snapshots(self) -> dict[str, object]:
        """source -> True | "province" for the aggregate sources that publish snapshots."""
        return {s.name: s.snapshot for s in self.rt.config.sources.by_kind("case_aggregate") if s.snapshot}

    def cases(self, parent: str = "all") -> dict:
        """Per child region of `parent` ('all' = every prefecture) with the rate per 100k, plus what is
        not on a child region: province buckets, figures given only for `parent`, and corrections."""
        def compute():
            view = queries.roll_up(self.case_figures(), self.gaz, parent)
            if not self.scope.unlimited:   # the map's regions outside the scope are not the account's
                view["regions"] = {c: v for c, v in view["regions"].items() if self.scope.sees(c)}
                view["corrections"] = {c: v for c, v in view["corrections"].items() if self.scope.sees(c)}
            for code, v in view["regions"].items():
                pop = self.gaz.get(code).population
                v["per_100k"] = round(v["confirmed"] / pop * 1e5, 2) if pop else None
            return view
        return self._cached(("cases", parent), compute)

    def province_summary(self) -> dict[str, dict]:
        """Per province: the sum of its regions, each bucket kind, what is unplaced, and the total."""
        keys = ("confirmed", "new_24h", "active", "suspected", "asymptomatic", "cured", "dead")

        def add(parts):
            return {k: sum(p.get(k, 0) for p in parts) for k in keys}

        def compute():
            out = {}
            for prov in self.gaz.provinces():
                if not (self.scope.unlimited or any(c[:2] == prov.adcode[:2] for c in self.scope.codes)):
                    continue   # a province the account has no region in
                view = self.cases(prov.adcode)
                regions = add(view["regions"].values())
                buckets = {b: add([f]) for b, f in view["buckets"].items()}
                unplaced = add([view["unplaced"]])
                out[prov.adcode] = {"name": prov.name, "name_en": prov.name_en, "regions": regions,
                                    "buckets": buckets, "unplaced": unplaced,
                                    "total": add([regions, unplaced, *buckets.values()])}
            return out
        return self._cached(("province_summary",), compute)

    def bounds(self, view: str) -> list[list[float]]:
        """The map's [[south, west], [north, east]] for `view`; the overview of a scoped account: its regions."""
        if view != "all" or self.scope.unlimited or not any(c in self.gaz.regions for c in self.scope.codes):
            return self.gaz.bounds(view)
        boxes = [self.gaz.bounds(c) for c in self.scope.codes if c in self.gaz.regions]
        return [[min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
                [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)]]

    def boundaries_json(self, parent: str) -> str | None:
        """/geo/<parent>.json as this account may see it: only the outlines of its regions and of those
        holding them; None for a parent outside them (answered as unknown)."""
        if self.scope.unlimited:
            return self.gaz.boundaries_json(parent)
        if parent != "all" and not self.scope.outlines(parent):
            return None
        key = (self.scope.key(), parent)
        if key not in self._geo:
            fc = json.loads(self.gaz.boundaries_json(parent))
            fc["features"] = [f for f in fc["features"] if self.scope.outlines(f["id"])]
            if len(self._geo) > 256:
                self._geo.clear()
            self._geo[key] = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
        return self._geo[key]

    def region_figures(self, code: str) -> dict:
        """A region's current case figures (a province: its total; a prefecture or county: its own)."""
        r = self.gaz.get(code)
        if r.level == "province":
            fig = self.province_summary()[code]["total"]
        else:
            fig = self.cases(r.parent).get("regions", {}).get(code) or queries.zero_figures()
        return {k: fig.get(k) for k in ("confirmed", "new_24h", "active", "suspected", "asymptomatic", "cured",
                                        "dead", "per_100k") if k in fig}

    def feed_checks(self) -> dict:
        """What /sources and the wall say about published feeds: the publishers' totals against ours,
        places gone from a snapshot's latest publication, counties reported beside their prefecture."""
        def compute():
            figures = self.case_figures()
            aggregates = self.rt.config.sources.by_kind("case_aggregate")
            with self.sessions() as s:
                totals = queries.totals_check(s, figures, aggregates)
                absent = queries.absent_since(s, figures)
            counties = {src.name: src.counties for src in aggregates}
            sees = self.scope.sees   # a scoped account: a publisher's province total only for a whole province of its
            return {
                "totals": [{**c, "published_at": iso_utc(c["published_at"])} for c in totals if sees(c["province"])],
                "absent": [{**a, "last_published": iso_utc(a["last_published"]), "latest": iso_utc(a["latest"]),
                            "since": iso_utc(a["since"])} for a in absent if sees(a.get("region") or a.get("province"))],
                "side_by_side": [{"source": src, "prefecture": p, "county": c, "counties": counties.get(src)}
                                 for src, pairs in queries.side_by_side(figures, self.gaz).items() for p, c in pairs
                                 if sees(p)],
            }
        return self._cached(("feed_checks",), compute)

    def mismatches(self) -> list[dict]:
        return [c for c in self.feed_checks()["totals"] if c["diff"]]

    def place_names(self, source: str | None = None) -> list[dict]:
        def compute():
            with self.sessions() as s:
                rows = queries.place_names(s, source)
            return [{"source": p.source, "raw": p.raw, "region": p.region, "bucket": p.bucket, "province": p.province,
                     "rule": p.rule, "note": p.note, "detail": p.detail, "rows": p.rows,
                     "last_seen": iso_utc(p.last_seen)} for p in rows
                    if self.scope.sees(p.region)]   # unresolved (None): only for an account of every region
        return self._cached(("place_names", source), compute)

    def quarantine_groups(self, source: str | None = None) -> list[dict]:
        def compute():
            with self.sessions() as s:
                rows = queries.quarantine_groups(s, source)
            return [{**g, "last_seen": iso_utc(g["last_seen"])} for g in rows]
        return self._cached(("quarantine_groups", source), compute)

    def region_values(self, parent: str = "all") -> dict[str, dict]:
        """Per child region of `parent` ('all' = every prefecture): counts, new in 24 h, rate per 100k."""
        return self.cases(parent)["regions"]

    def totals(self, province: str | None = None) -> dict:
        """Everything counted for the provinces (or one): regions, province buckets, unplaced figures."""
        def compute():
            view = self.cases(province or "all")
            parts = list(view["regions"].values()) + list(view["buckets"].values()) + [view["unplaced"]]
            out = {k: sum(p[k] for p in parts) for k in ("confirmed", "new_24h", "active", "suspected", "cured", "dead")}
            out["active_alerts"] = sum(1 for a in self.alerts("active") if a["state"] == "firing")
            out["open_alerts"] = len(self.alerts("active"))
            return out
        return self._cached(("totals", province), compute)

    def trend(self, region: str | None, days: int) -> list[dict]:
        """[{day, confirmed, suspected, corr_confirmed, corr_suspected}] per local day (line list + aggregates)."""
        def compute():
            since = utcnow() - timedelta(days=days)
            if region is not None and not self.scope.sees(region):
                return []
            codes = [region] if region is not None or self.scope.unlimited else list(self.scope.codes)
            with self.sessions() as s:
                series = [queries.daily_new(s, since, self.gaz.get(c).level if c else None, c) for c in codes]
            return series[0] if len(series) == 1 else _sum_days(series)
        return self._cached(("trend", region, days), compute)

    def trend_series(self, level: str, first, last) -> dict:
        """/trends: {region: {new, cumulative, active}} per local day first..last, for a level."""
        def compute():
            with self.sessions() as s:
                series = trends_queries.level_series(s, level, first, last)
            return {c: v for c, v in series.items() if self.scope.sees(c)}   # only the account's regions
        return self._cached(("trend_series", level, first, last), compute)

    # ---------------------------------------------------------------- map layers
    def clinics(self) -> list[dict]:
        def compute():
            with self.sessions() as s:
                return self._in_scope(queries.clinics(s, utcnow()))
        return self._cached(("clinics",), compute)

    def supply_points(self) -> list[dict]:
        def compute():
            with self.sessions() as s:
                return self._in_scope(queries.supply_points(s))
        return self._cached(("supply",), compute)

    def inflows(self, parent: str = "all") -> dict[str, dict]:
        def rows():
            with self.sessions() as s:
                return self._in_scope(queries.inflow_rows(s, utcnow()))
        def compute():
            return queries.inflow_summary(self._cached(("inflow_rows",), rows), self.gaz, parent,
                                          self.rt.config.regions.is_risk_origin)
        return self._cached(("inflows", parent), compute)

    def layer(self, name: str, parent: str, lang: str) -> tuple[str, str]:
        """(GeoJSON text, digest) of a marker layer; the digest names its content in the layer's URL."""
        from dashboard.components import map_layers as ml

        def compute():
            if name == "clinics":
                geo = ml.clinic_features(self.clinics(), lang)
            elif name == "supply":
                geo = ml.supply_features(self.supply_points(), self.rt.config.sources.supply_kinds, lang)
            else:
                geo = ml.inflow_features(self.inflows(parent), self.gaz, lang)
            body = json.dumps(geo, ensure_ascii=False, separators=(",", ":"))
            return body, hashlib.sha1(body.encode()).hexdigest()[:12]
        return self._cached(("layer", name, parent if name == "inflows" else "", lang), compute)

    def clinic(self, clinic_id: str) -> dict | None:
        """One clinic as in clinics(), with its visits per day over the last 7 days."""
        return self._marker_with_days("clinic", clinic_id, self.clinics, queries.clinic_days)

    def supply_point(self, point_id: str) -> dict | None:
        """One supply point as in supply_points(), with each item's last 14 days."""
        return self._marker_with_days("supply_point", point_id, self.supply_points, queries.supply_days)

    def _marker_with_days(self, kind: str, marker_id: str, markers, days_of) -> dict | None:
        def compute():
            found = next((m for m in markers() if m["id"] == marker_id), None)
            if found is None:
                return None
            with self.sessions() as s:
                return {**found, "days": days_of(s, found["source"], found["key"], utcnow())}
        return self._cached((kind, marker_id), compute)

    def alerts(self, state: str | None = "active") -> list[dict]:
        def compute():
            with self.sessions() as s:
                return [self.alert_dict(a) for a in queries.alerts(s, state, regions=self.scope.regions())]
        return self._cached(("alerts", state), compute)

    def pending(self) -> list[dict]:
        """Conditions waiting out their rule's for_minutes: what is about to fire, soonest first."""
        def compute():
            with self.sessions() as s:
                rows = pending_alerts(s)
            return [{**self._rule_region(p["rule"], p["region"]), **p, "since": iso_utc(p["since"]),
                     "fires_at": iso_utc(p["fires_at"])} for p in rows if self.scope.sees(p["region"])]
        return self._cached(("pending",), compute)

    def silences(self) -> list[dict]:
        """Silences in force of the account's regions, the soonest to end first (sitroom.silences)."""
        def compute():
            with self.sessions() as s:
                return [silences.as_dict(x, self.gaz) for x in silences.in_force(s, regions=self.scope.regions())]
        return self._cached(("silences",), compute)

    def silence_of(self, rule: str, region: str) -> dict | None:
        return next((x for x in self.silences() if (x["rule"], x["region"]) == (rule, region)), None)

    def rules_status(self) -> dict:
        """The loaders' report on rules.yaml (ok, problems, warnings, loaded_at ...); the loader bumps
        the data version in the same transaction as it writes the report."""
        def compute():
            with self.sessions() as s:
                st = rules_status(s)
            return {**st, "loaded_at": iso_utc(st["loaded_at"]), "checked_at": iso_utc(st["checked_at"])}
        return self._cached(("rules_status",), compute)

    def notify_status(self) -> dict:
        """The loaders' report on notify.yaml, as rules_status() ("count": targets running)."""
        def compute():
            with self.sessions() as s:
                st = file_status.status(s, "notify")
            return {**st, "loaded_at": iso_utc(st["loaded_at"]), "checked_at": iso_utc(st["checked_at"])}
        return self._cached(("notify_status",), compute)

    def alert_evidence(self, alert_id: int) -> dict | None:
        """An alert's rule figure over time and the store rows behind its value (see alert_evidence)."""
        from dashboard.components import alert_evidence as ev

        def compute():
            with self.sessions() as s:
                a = s.get(Alert, alert_id)
                cfg = self.rt.rule(a.rule) if a else None
                if cfg is None or a.region not in self.gaz.regions or not self.scope.sees(a.region):
                    return None
                now = utcnow()
                risk = self.rt.config.regions.risk_areas
                return {"history": ev.history(s, cfg, a.region, self.gaz, risk, now),
                        "rows": ev.rows_behind(s, cfg, a.region, self.gaz, risk, now)}
        return self._cached(("evidence", alert_id), compute)

    def alert(self, alert_id: int, with_trail: bool = False) -> dict | None:
        with self.sessions() as s:
            a = s.get(Alert, alert_id)
            if a is None or not self.scope.sees(a.region):  # out of scope: as if it did not exist
                return None
            out = self.alert_dict(a)
            if with_trail:
                events = trail(s, alert_id)
                named = {x.id: x for x in s.scalars(select(Silence).where(
                    Silence.id.in_({e.silence_id for e in events if e.silence_id})))}
                out["trail"] = [{"kind": e.kind, "at": iso_utc(e.at), "by": e.by, "level": e.level, "value": e.value,
                                 "note": e.note, "held": bool(e.held),
                                 # a silence's entries: until when it was set
                                 **({"silenced_until": iso_utc(named[e.silence_id].ends)}
                                    if e.silence_id in named else {})}
                                for e in events]
            return out

    def _rule_region(self, rule_id: str, region_code: str) -> dict:
        """Title and kind of a rule as rules.yaml says now, and the region's names."""
        rule = self.rt.rule(rule_id)
        region = self.gaz.regions.get(region_code)
        return {"rule_title": rule.title.model_dump() if rule else {"zh": rule_id, "en": rule_id},
                "rule_kind": rule.kind if rule else None,
                "region_name": region.name if region else region_code,
                "region_name_en": region.name_en if region else region_code}

    def alert_dict(self, a) -> dict:
        return {
            "id": a.id, "rule": a.rule, "region": a.region, **self._rule_region(a.rule, a.region),
            "level": a.level, "state": a.state, "value": a.value, "threshold": a.threshold,
            "fired_at": iso_utc(a.fired_at), "updated_at": iso_utc(a.updated_at),
            "acked_by": a.acked_by, "acked_at": iso_utc(a.acked_at), "ack_note": a.ack_note,
            "resolved_at": iso_utc(a.resolved_at), "resolved_by": a.resolved_by, "resolve_reason": a.resolve_reason,
            "assignee": a.assignee, "escalated_at": iso_utc(a.escalated_at),
            "firing_since": iso_utc(a.firing_since or a.fired_at),   # fired, or rose to its level
            # detector rules: the raw statistic and p-value beside the value levels read, and the day judged
            "statistic": a.statistic, "p_value": a.p_value,
            "judged_day": a.judged_day.isoformat() if a.judged_day else None,
            **self._silence_fields(a),
        }

    def _silence_fields(self, a) -> dict:
        """An open alert's silence in force: until when (None: not silenced), by whom, why, its id."""
        x = self.silence_of(a.rule, a.region) if a.state != "resolved" else None
        return {"silenced_until": x["ends"] if x else None,
                "silence": {k: x[k] for k in ("id", "ends", "created_by", "reason")} if x else None}

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
                        "rows_updated": st.rows_updated, "rows_quarantined": st.rows_quarantined,
                        "rows_superseded": st.rows_superseded or 0})
        known = {o["name"] for o in out}
        out += [b for n, b in beat.items() if n not in known]
        return out

    def _in_scope(self, rows: list[dict]) -> list[dict]:
        """Rows placed by a "region" key (clinics, supply points, arrivals by destination)."""
        return rows if self.scope.unlimited else [r for r in rows if self.scope.sees(r["region"])]


def _web_busy_timeout(dbapi_conn, _record) -> None:
    dbapi_conn.execute(f"PRAGMA busy_timeout={WEB_BUSY_MS}")


def _web_lock_timeout(dbapi_conn, _record) -> None:
    with dbapi_conn.cursor() as cur:   # a locked table: told after this long, not waited on forever
        cur.execute(f"SET lock_timeout = {WEB_BUSY_MS}")
    dbapi_conn.commit()


def _scoped_figures(figures: queries.CaseFigures, scope: Scope) -> queries.CaseFigures:
    """Only the scope's figures: what is rolled up from them (totals, a province's) is the scope's.
    A province bucket (外省输入, 待确认) belongs to the province, so only a province scope has it."""
    return queries.CaseFigures(
        regions={c: f for c, f in figures.regions.items() if scope.sees(c)},
        place={c: p for c, p in figures.place.items() if scope.sees(c)},
        buckets={k: f for k, f in figures.buckets.items() if k[0] in scope.codes},
        corrections=[c for c in figures.corrections
                     if (scope.sees(c["region"]) if not c["bucket"] else c["province"] in scope.codes)],
        # what was reported at all, of the scope's regions: without it every region of its map read "no data"
        line_provinces={p for p in figures.line_provinces if scope.outlines(p)},
        aggregated={c for c in figures.aggregated if scope.sees(c)},
        inside={c: f for c, f in figures.inside.items() if scope.sees(c)},
        reported={src: {c for c in codes if scope.sees(c)} for src, codes in figures.reported.items()})


def _sum_days(series: list[list[dict]]) -> list[dict]:
    days: dict[str, dict] = {}
    for rows in series:
        for r in rows:
            d = days.setdefault(r["day"], {k: 0 for k in r} | {"day": r["day"]})
            for k, v in r.items():
                if k != "day":
                    d[k] += v
    return [days[k] for k in sorted(days)]


def iso_utc(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt else None
