"""Read queries shared by the API, the wall page and the rules. No page writes SQL."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.orm import Session

from .series import EVER_CONFIRMED, aggregate_changes, local_day as local_today, local_day_sql, local_midnight
from .store.models import (Alert, CaseDaily, CaseReport, Clinic, ClinicVisit, DataVersion, Inflow, PlaceName,
                           Publication, Quarantine, SourceState, SupplyPoint, SupplyStock)


def data_version(s: Session) -> tuple[int, datetime | None]:
    row = s.execute(select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == 1)).one()
    return int(row.version), row.changed_at


def daily_new(s: Session, since: datetime, level: str | None = None, code: str | None = None) -> list[dict]:
    """Per local day since `since` (UTC), for one region or all: new confirmed and suspected from the
    line list plus the aggregates, and the aggregates' corrections of those days (<= 0).

    [{"day": "2024-03-01", "confirmed": n, "suspected": n, "corr_confirmed": n, "corr_suspected": n}]
    """
    day = local_day_sql(s, CaseReport.reported_at).label("day")
    q = (select(day,
                func.sum(case((CaseReport.status.in_(EVER_CONFIRMED), 1), else_=0)),
                func.sum(case((CaseReport.status == "suspected", 1), else_=0)))
         .where(CaseReport.reported_at >= since).group_by(day).order_by(day))
    if code:
        col = {"province": CaseReport.province, "prefecture": CaseReport.prefecture, "county": CaseReport.region}[level]
        q = q.where(col == code)
    out: dict[str, dict] = {}

    def row(d: str) -> dict:
        return out.setdefault(d, {"day": d, "confirmed": 0, "suspected": 0, "corr_confirmed": 0, "corr_suspected": 0})

    for d, c, p in s.execute(q):
        r = row(str(d))
        r["confirmed"] += int(c or 0)
        r["suspected"] += int(p or 0)
    for metric in ("confirmed", "suspected"):
        agg = aggregate_changes(metric, local_today(since))
        q = select(agg.c.day, func.sum(agg.c.new), func.sum(agg.c.corr)).group_by(agg.c.day)
        if level != "county":   # a county its prefecture's own figure counts is not added again
            q = q.where(agg.c.in_parent.is_not(False))
        if code:
            col = {"province": agg.c.province, "prefecture": agg.c.prefecture, "county": agg.c.region}[level]
            q = q.where(col == code)
        for d, new, corr in s.execute(q):
            r = row(d.isoformat())
            r[metric] += int(new or 0)
            r[f"corr_{metric}"] += int(corr or 0)
    return [out[d] for d in sorted(out)]


def alerts(s: Session, state: str | None = None, limit: int = 200, regions=None) -> list[Alert]:
    """The first `limit` alerts, of `regions` only when given (an account's scope: applied before the
    limit, so a scoped account sees every alert of its own up to the limit)."""
    q = select(Alert)
    if regions is not None:
        q = q.where(Alert.region.in_(sorted(regions)))
    if state == "active":
        q = q.where(Alert.state != "resolved")
    elif state:
        q = q.where(Alert.state == state)
    # Most severe first; among equals, what still needs a person before what has one, newest first.
    level_rank = case({"I": 0, "II": 1, "III": 2, "IV": 3}, value=Alert.level)
    state_rank = case({"firing": 0, "acknowledged": 1}, value=Alert.state, else_=2)
    return list(s.scalars(q.order_by(level_rank, state_rank, Alert.fired_at.desc(), Alert.id.desc()).limit(limit)))


def sources(s: Session) -> list[SourceState]:
    return list(s.scalars(select(SourceState).order_by(SourceState.name)))


def quarantine(s: Session, source: str | None = None, reason: str | None = None,
               limit: int = 100, offset: int = 0) -> tuple[int, list[Quarantine]]:
    """Rejected rows, newest first; `reason` matches any part of any reason."""
    q = select(Quarantine)
    if source:
        q = q.where(Quarantine.source == source)
    if reason:
        escaped = reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(cast(Quarantine.reasons, String).like(f"%{escaped}%", escape="\\"))
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(Quarantine.last_seen.desc(), Quarantine.id.desc()).limit(limit).offset(offset))
    return int(total), list(rows)


# ------------------------------------------------------------------------------------------------ cases
# A region's figures = line-list counts (case_reports) + aggregate counts (case_daily). Aggregates
# come cumulative (new = the difference to the previous reported day of the same series; the first
# day has no "new"; a negative difference is a correction: 0 new, and reported as such) or as
# daily new counts. Bucket rows (people from outside the province, place undetermined) belong to
# their province only.
CASE_METRICS = ("confirmed", "suspected", "asymptomatic", "cured", "dead")
FIGURES = CASE_METRICS + ("active", "new_24h")
BUCKETS = ("outside", "undetermined")


def zero_figures() -> dict:
    return {k: 0 for k in FIGURES}


@dataclass
class CaseFigures:
    """Case figures at the most specific level the store has, ready to be rolled up."""
    regions: dict[str, dict] = field(default_factory=dict)       # region code -> figures
    place: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # region -> (prefecture, province)
    buckets: dict[tuple[str, str], dict] = field(default_factory=dict)      # (province, bucket) -> figures
    corrections: list[dict] = field(default_factory=list)         # {region, bucket, prefecture, province, day, metric, delta}
    # What was reported at all (missing is not zero): a line list covers its provinces (no row for a
    # region: no case there); an aggregate covers only the regions it has rows for.
    line_provinces: set[str] = field(default_factory=set)
    aggregated: set[str] = field(default_factory=set)
    inside: dict[str, dict] = field(default_factory=dict)         # county -> figures its prefecture's row includes
    absent: list[dict] = field(default_factory=list)              # places missing from a snapshot's latest publication
    source_sums: dict[tuple[str, str], dict] = field(default_factory=dict)  # (aggregate source, province) -> counts
    reported: dict[str, set] = field(default_factory=dict)        # aggregate source -> regions it counts now


def snapshot_scope(snapshot, province: str | None) -> str | None:
    """The publication scope of a row of a snapshot source ('' = the whole source), None if not one."""
    if not snapshot:
        return None
    return province or "" if snapshot == "province" else ""


def latest_publications(s: Session, snapshots: dict[str, object]) -> dict[tuple[str, str], datetime]:
    """(source, scope) -> the update time of its latest publication, for the snapshot sources."""
    out: dict[tuple[str, str], datetime] = {}
    for source, snapshot in snapshots.items():
        if snapshot == "province":
            q = (select(CaseDaily.province, func.max(CaseDaily.source_updated_at))
                 .where(CaseDaily.source == source).group_by(CaseDaily.province))
            out.update({(source, prov or ""): t for prov, t in s.execute(q)})
        elif snapshot:
            t = s.scalar(select(func.max(CaseDaily.source_updated_at)).where(CaseDaily.source == source))
            if t is not None:
                out[(source, "")] = t
    return out


def case_figures(s: Session, now: datetime, window_days: int = 30,
                 snapshots: dict[str, object] | None = None) -> CaseFigures:
    """Every region's and bucket's case figures, with the corrections of the last `window_days`.

    `snapshots`: source -> True | "province" for the snapshot sources: a place missing from the latest
    publication of its scope no longer counts (listed in `absent`; its history stays).

    new_24h: line-list cases reported in the last 24 h, plus for aggregates the new count of the
    newest reported day when that day is today or yesterday (local): sources report per day.
    """
    out = CaseFigures()
    snapshots = snapshots or {}

    def slot(region, bucket, prefecture, province) -> dict:
        if bucket:
            return out.buckets.setdefault((province, bucket), zero_figures())
        out.place.setdefault(region, (prefecture, province))
        return out.regions.setdefault(region, zero_figures())

    # line list: current status per case
    q = (select(CaseReport.region, CaseReport.prefecture, CaseReport.province, CaseReport.status, func.count())
         .group_by(CaseReport.region, CaseReport.prefecture, CaseReport.province, CaseReport.status))
    for region, pref, prov, status, n in s.execute(q):
        out.line_provinces.add(prov)
        c = slot(region, None, pref, prov)
        if status in CASE_METRICS:
            c[status] += n
        if status in ("cured", "dead"):   # "confirmed" counts everyone ever confirmed
            c["confirmed"] += n
        if status == "confirmed":
            c["active"] += n
    q = (select(CaseReport.region, CaseReport.prefecture, CaseReport.province, func.count())
         .where(CaseReport.status.in_(EVER_CONFIRMED), CaseReport.reported_at >= now - timedelta(hours=24))
         .group_by(CaseReport.region, CaseReport.prefecture, CaseReport.province))
    for region, pref, prov, n in s.execute(q):
        slot(region, None, pref, prov)["new_24h"] += n

    # aggregates: the newest cumulative row of each series (of a snapshot source: only if it is in the latest
    # publication of its scope), plus the sum of "new" rows
    series = (CaseDaily.source, CaseDaily.region, CaseDaily.bucket, CaseDaily.label)
    latest = (select(*series, func.max(CaseDaily.day).label("day"))
              .where(CaseDaily.counting == "cumulative").group_by(*series).subquery())
    cols = (CaseDaily.source, CaseDaily.region, CaseDaily.bucket, CaseDaily.label, CaseDaily.prefecture,
            CaseDaily.province, CaseDaily.in_parent, CaseDaily.source_updated_at, CaseDaily.day)
    q_cum = (select(*cols, *(getattr(CaseDaily, m) for m in CASE_METRICS))
             .join(latest, and_(CaseDaily.source == latest.c.source, CaseDaily.region == latest.c.region,
                                CaseDaily.bucket.is_not_distinct_from(latest.c.bucket),
                                CaseDaily.label.is_not_distinct_from(latest.c.label), CaseDaily.day == latest.c.day))
             .where(CaseDaily.counting == "cumulative"))
    published = latest_publications(s, snapshots)
    group = (CaseDaily.source, CaseDaily.region, CaseDaily.bucket, CaseDaily.label, CaseDaily.prefecture,
             CaseDaily.province, CaseDaily.in_parent)
    q_new = (select(*group, func.max(CaseDaily.source_updated_at), func.max(CaseDaily.day),
                    *(func.sum(getattr(CaseDaily, m)) for m in CASE_METRICS))
             .where(CaseDaily.counting == "new").group_by(*group))
    for q in (q_cum, q_new):
        for source, region, bucket, label, pref, prov, in_parent, updated, day, *vals in s.execute(q):
            scope = snapshot_scope(snapshots.get(source), prov)
            if scope is not None and updated < published.get((source, scope), updated):
                out.absent.append({"source": source, "scope": snapshots.get(source), "region": region,
                                   "bucket": bucket, "label": label,
                                   "prefecture": pref, "province": prov, "day": day.isoformat(),
                                   "last_published": updated, "latest": published[(source, scope)]})
                continue
            if not bucket:
                out.aggregated.add(region)
            if in_parent is False:
                c = out.inside.setdefault(region, zero_figures())
                out.place.setdefault(region, (pref, prov))
            else:
                c = slot(region, bucket, pref, prov)
            agg = dict(zip(CASE_METRICS, (int(v or 0) for v in vals)))
            for m in CASE_METRICS:
                c[m] += agg[m]
            c["active"] += max(agg["confirmed"] - agg["cured"] - agg["dead"], 0)
            if not bucket:
                out.reported.setdefault(source, set()).add(region)
            if in_parent is not False:
                mine = out.source_sums.setdefault((source, prov), {m: 0 for m in CASE_METRICS})
                for m in CASE_METRICS:
                    mine[m] += agg[m]

    # aggregates per day: new on the newest recent day, and corrections in the window
    today = local_today(now)
    since = today - timedelta(days=window_days - 1)
    newest: dict[tuple, tuple[date, int]] = {}
    for m in CASE_METRICS:
        agg = aggregate_changes(m, since)
        keys = (agg.c.region, agg.c.bucket, agg.c.prefecture, agg.c.province, agg.c.day)
        for region, bucket, pref, prov, day, new, corr in s.execute(
                select(*keys, func.sum(agg.c.new), func.sum(agg.c.corr))
                .where(agg.c.in_parent.is_not(False)).group_by(*keys)):
            k = (region, bucket, pref, prov)
            if m == "confirmed" and today - timedelta(days=1) <= day <= today and (k not in newest or day > newest[k][0]):
                newest[k] = (day, int(new or 0))
            if corr:
                out.corrections.append({"region": region, "bucket": bucket, "prefecture": pref, "province": prov,
                                        "day": day.isoformat(), "metric": m, "delta": int(corr)})
    for k, (_day, n) in newest.items():
        slot(*k)["new_24h"] += n
    out.corrections.sort(key=lambda c: (c["day"], c["region"]), reverse=True)
    return out


def totals_check(s: Session, figures: CaseFigures, sources) -> list[dict]:
    """Per aggregate source with `check_totals`, province and metric: the publisher's own total in its
    latest publication that gives one, sitroom's sum of the source's current rows (regions + buckets +
    unplaced), and the difference (ours - published; 0 when they add up)."""
    out = []
    for src in sources:
        if not getattr(src, "check_totals", None):
            continue
        latest: dict[str, tuple[datetime, dict]] = {}
        for p in s.scalars(select(Publication).where(Publication.source == src.name)
                           .order_by(Publication.published_at.desc())):
            for prov, totals in (p.totals or {}).items():
                latest.setdefault(prov, (p.published_at, totals))
        for prov in sorted(latest):
            at, totals = latest[prov]
            ours = figures.source_sums.get((src.name, prov), {})
            for metric in src.check_totals:
                if metric not in totals:
                    continue
                mine = int(ours.get(metric, 0))
                out.append({"source": src.name, "province": prov, "metric": metric, "published": int(totals[metric]),
                            "ours": mine, "diff": mine - int(totals[metric]), "published_at": at})
    return out


def absent_since(s: Session, figures: CaseFigures) -> list[dict]:
    """The places missing from their snapshot source's latest publication, each with the first
    publication it was missing from ("since")."""
    out = []
    for a in figures.absent:
        q = select(func.min(Publication.published_at)).where(
            Publication.source == a["source"], Publication.published_at > a["last_published"],
            Publication.scope == snapshot_scope(a["scope"], a["province"]))
        out.append({**a, "since": s.scalar(q) or a["latest"]})
    return out


def side_by_side(figures: CaseFigures, gaz) -> dict[str, list[tuple[str, str]]]:
    """source -> [(prefecture, county)] it reports both of now: whether the prefecture's figure includes
    the county is the source's `counties` setting, which someone should have checked."""
    out = {}
    for source, regions in figures.reported.items():
        pairs = sorted((r_.parent, r_.adcode) for code in regions if (r_ := gaz.regions.get(code)) is not None
                       and r_.level == "county" and r_.parent in regions)
        if pairs:
            out[source] = pairs
    return out


def place_names(s: Session, source: str | None = None, limit: int = 500) -> list[PlaceName]:
    """How each source writes its places and the rule that resolved each: unresolved first, then
    the rules that need a person's eye (alias, historical, pattern), then the rest."""
    rank = case({"unknown": 0, "ambiguous": 0, "alias": 1, "historical": 1, "pattern": 1}, value=PlaceName.rule,
                else_=2)
    q = select(PlaceName).order_by(PlaceName.source, rank, PlaceName.rows.desc(), PlaceName.raw).limit(limit)
    if source:
        q = q.where(PlaceName.source == source)
    return list(s.scalars(q))


def quarantine_groups(s: Session, source: str | None = None, limit: int = 50) -> list[dict]:
    """Quarantined rows grouped by source and reasons: 300 rows of one unknown name are one line."""
    reasons = cast(Quarantine.reasons, String)
    q = (select(Quarantine.source, reasons, func.count(), func.max(Quarantine.last_seen))
         .group_by(Quarantine.source, reasons).order_by(func.count().desc(), Quarantine.source).limit(limit))
    if source:
        q = q.where(Quarantine.source == source)
    import json
    return [{"source": src, "reasons": json.loads(text), "rows": int(n), "last_seen": seen}
            for src, text, n, seen in s.execute(q)]


def roll_up(figures: CaseFigures, gaz, parent: str = "all") -> dict:
    """Figures per child region of `parent` ('all' or a province: prefectures; a prefecture: counties).

    Returns {"regions": {code: figures}, "unplaced": figures given only for `parent` itself
    (e.g. a case known by prefecture, seen from the county map), "buckets": {bucket: figures} of
    the provinces covered, "corrections": {code: [..]} and "corrections_all": [..] within `parent`}.
    """
    level = "all" if parent == "all" else gaz.get(parent).level
    if level in ("all", "province"):
        children = gaz.prefectures(None if parent == "all" else parent)
    else:
        children = gaz.children(parent) or [gaz.get(parent)]
    regions = {r.adcode: zero_figures() for r in children}
    unplaced = zero_figures()

    def key_of(region: str, prefecture: str | None, province: str) -> str | None:
        if level == "all":
            return prefecture
        if level == "province":
            return prefecture if province == parent else None
        if prefecture == parent or region == parent:
            return region
        return None

    def within(province: str, prefecture: str | None, region: str) -> bool:
        return (level == "all" or (level == "province" and province == parent)
                or (level not in ("all", "province") and (prefecture == parent or region == parent)))

    for region, fig in figures.regions.items():
        prefecture, province = figures.place[region]
        key = key_of(region, prefecture, province)
        target = regions.get(key) if key else None
        if target is None:
            if not within(province, prefecture, region):
                continue
            target = unplaced   # given at a coarser level than the map shows
        for k in FIGURES:
            target[k] += fig[k]
    if level not in ("all", "province"):   # shown on the county map, already in the prefecture's figure
        for region, fig in figures.inside.items():
            if region in regions:
                for k in FIGURES:
                    regions[region][k] += fig[k]
    buckets = {}
    if level in ("all", "province"):
        for (province, bucket), fig in figures.buckets.items():
            if level == "all" or province == parent:
                b = buckets.setdefault(bucket, zero_figures())
                for k in FIGURES:
                    b[k] += fig[k]
    corrections: dict[str, list] = {}
    corrections_all = []
    for c in figures.corrections:
        if c["bucket"]:
            if level in ("all", "province") and (level == "all" or c["province"] == parent):
                corrections_all.append(c)
            continue
        if not within(c["province"], c["prefecture"], c["region"]):
            continue
        corrections_all.append(c)
        key = key_of(c["region"], c["prefecture"], c["province"])
        if key in regions:
            corrections.setdefault(key, []).append(c)
    return {"regions": regions, "unplaced": unplaced, "buckets": buckets,
            "corrections": corrections, "corrections_all": corrections_all,
            "missing": missing(figures, gaz, parent, list(regions))}


def missing(figures: CaseFigures, gaz, parent: str, children: list[str]) -> dict[str, str]:
    """{child: "none" (nothing reported for it) | "prefecture_only" (its prefecture reports only its
    total)} for the children of `parent` with no figures of their own; reported children are absent."""
    agg_places = {figures.place[r][0] for r in figures.aggregated if r in figures.place} | figures.aggregated
    out = {}
    for code in children:
        r = gaz.get(code)
        province = gaz.province_of(code)
        if province in figures.line_provinces or code in agg_places:
            continue
        if r.level == "county" and gaz.prefecture_of(code) in figures.aggregated:
            out[code] = "prefecture_only"
        else:
            out[code] = "none"
    return out


# ------------------------------------------------------------------------------------------------ clinics
def clinics(s: Session, now: datetime) -> list[dict]:
    """Every fever clinic with its visits and fever patients in the last 24 h and its load
    (visits / capacity per day; None when the capacity is not known)."""
    recent = (select(ClinicVisit.clinic_source, ClinicVisit.clinic, func.sum(ClinicVisit.visits).label("visits"),
                     func.sum(ClinicVisit.fever).label("fever"))
              .where(ClinicVisit.at >= now - timedelta(hours=24))
              .group_by(ClinicVisit.clinic_source, ClinicVisit.clinic).subquery())
    q = (select(Clinic, recent.c.visits, recent.c.fever)
         .outerjoin(recent, and_(recent.c.clinic_source == Clinic.source, recent.c.clinic == Clinic.source_key))
         .order_by(Clinic.source, Clinic.source_key))
    out = []
    for c, visits, fever in s.execute(q):
        visits = int(visits or 0)
        out.append({"id": f"{c.source}|{c.source_key}", "source": c.source, "key": c.source_key, "name": c.name,
                    "address": c.address, "lon": c.lon, "lat": c.lat, "region": c.region, "prefecture": c.prefecture,
                    "province": c.province, "status": c.status, "capacity": c.capacity,
                    "visits_24h": visits, "fever_24h": int(fever or 0),
                    "load": round(visits / c.capacity, 3) if c.capacity else None})
    return out


def clinic_days(s: Session, source: str, key: str, now: datetime, days: int = 7) -> list[dict]:
    """Visits, fever patients and referrals per local day over the last `days` days (every day listed)."""
    first = local_today(now) - timedelta(days=days - 1)
    day = local_day_sql(s, ClinicVisit.at).label("day")
    q = (select(day, func.sum(ClinicVisit.visits), func.sum(ClinicVisit.fever), func.sum(ClinicVisit.referred))
         .where(ClinicVisit.clinic_source == source, ClinicVisit.clinic == key,
                ClinicVisit.at >= local_midnight(first))
         .group_by(day))
    got = {str(d): (int(v or 0), int(f or 0), int(r or 0)) for d, v, f, r in s.execute(q)}
    out = []
    for i in range(days):
        d = (first + timedelta(days=i)).isoformat()
        v, f, r = got.get(d, (0, 0, 0))
        out.append({"day": d, "visits": v, "fever": f, "referred": r})
    return out


# ------------------------------------------------------------------------------------------------ supplies
def days_of_cover(stock: float, consumption: float) -> float | None:
    """stock / daily consumption; None when nothing is consumed (no limit)."""
    return None if not consumption or consumption <= 0 else round(stock / consumption, 1)


def supply_points(s: Session) -> list[dict]:
    """Every supply point with the latest stock of each item, its days of cover, and the minimum over items."""
    latest = (select(SupplyStock.point_source, SupplyStock.point, SupplyStock.item,
                     func.max(SupplyStock.day).label("day"))
              .group_by(SupplyStock.point_source, SupplyStock.point, SupplyStock.item).subquery())
    q = (select(SupplyStock.point_source, SupplyStock.point, SupplyStock.item, SupplyStock.day, SupplyStock.stock,
                SupplyStock.daily_consumption)
         .join(latest, and_(SupplyStock.point_source == latest.c.point_source, SupplyStock.point == latest.c.point,
                            SupplyStock.item == latest.c.item, SupplyStock.day == latest.c.day)))
    items: dict[tuple[str, str], dict] = {}
    for src, point, item, day, stock, cons in s.execute(q):
        items.setdefault((src, point), {})[item] = {"stock": stock, "daily_consumption": cons, "day": day.isoformat(),
                                                    "days_of_cover": days_of_cover(stock, cons)}
    out = []
    for p in s.scalars(select(SupplyPoint).order_by(SupplyPoint.source, SupplyPoint.source_key)):
        its = items.get((p.source, p.source_key), {})
        covers = [i["days_of_cover"] for i in its.values() if i["days_of_cover"] is not None]
        out.append({"id": f"{p.source}|{p.source_key}", "source": p.source, "key": p.source_key, "name": p.name,
                    "kind": p.kind, "lon": p.lon, "lat": p.lat, "region": p.region, "prefecture": p.prefecture,
                    "province": p.province, "status": p.status, "items": its,
                    "min_cover": min(covers) if covers else None,
                    "unlimited": bool(its) and not covers})
    return out


def supply_days(s: Session, source: str, key: str, now: datetime, days: int = 14) -> dict[str, list[dict]]:
    """Per item, its stock, consumption and days of cover on each reported day of the last `days` days."""
    first = local_today(now) - timedelta(days=days - 1)
    q = (select(SupplyStock.item, SupplyStock.day, SupplyStock.stock, SupplyStock.daily_consumption)
         .where(SupplyStock.point_source == source, SupplyStock.point == key, SupplyStock.day >= first)
         .order_by(SupplyStock.item, SupplyStock.day))
    out: dict[str, list[dict]] = {}
    for item, day, stock, cons in s.execute(q):
        out.setdefault(item, []).append({"day": day.isoformat(), "stock": stock, "daily_consumption": cons,
                                         "days_of_cover": days_of_cover(stock, cons)})
    return out


# ------------------------------------------------------------------------------------------------ inflows
INFLOW_DAYS = 14


def inflow_rows(s: Session, now: datetime, days: int = INFLOW_DAYS) -> list[dict]:
    """Arrivals of the last `days` local days, summed per destination region, origin, mode and stay."""
    first = local_today(now) - timedelta(days=days - 1)
    cols = (Inflow.region, Inflow.prefecture, Inflow.province, Inflow.origin, Inflow.mode, Inflow.stayed)
    q = select(*cols, func.sum(Inflow.count)).where(Inflow.day >= first).group_by(*cols)
    return [{"region": r, "prefecture": pf, "province": pv, "origin": o, "mode": m, "stayed": st, "count": int(n or 0)}
            for r, pf, pv, o, m, st, n in s.execute(q)]


def inflow_summary(rows: list[dict], gaz, parent: str, is_risk, top: int = 5) -> dict[str, dict]:
    """Per child region of `parent` (as in roll_up): arrivals, arrivals from risk areas (stayed there,
    or not known: passing through does not count), the top origins and the split by mode."""
    level = "all" if parent == "all" else gaz.get(parent).level
    out: dict[str, dict] = {}
    origins: dict[str, dict[str, list]] = {}
    for r in rows:
        if level == "all":
            key = r["prefecture"]
        elif level == "province":
            key = r["prefecture"] if r["province"] == parent else None
        else:
            key = r["region"] if r["prefecture"] == parent else None
        if not key:
            continue
        risk = is_risk(r["origin"])
        o = out.setdefault(key, {"arrivals": 0, "risk_arrivals": 0, "modes": {}, "origins": []})
        o["arrivals"] += r["count"]
        counted_risk = risk and r["stayed"] is not False
        if counted_risk:
            o["risk_arrivals"] += r["count"]
        mode = r["mode"] or "unknown"
        o["modes"][mode] = o["modes"].get(mode, 0) + r["count"]
        slot = origins.setdefault(key, {}).setdefault(r["origin"], [0, 0, risk])
        slot[0] += r["count"]
        slot[1] += r["count"] if counted_risk else 0
    for key, by_origin in origins.items():
        ranked = sorted(by_origin.items(), key=lambda kv: (-kv[1][0], kv[0]))
        out[key]["origins"] = [{"origin": o, "count": n, "risk": risk, "risk_count": rn}
                               for o, (n, rn, risk) in ranked[:top]]
        out[key]["origin_count"] = len(ranked)
    return out
