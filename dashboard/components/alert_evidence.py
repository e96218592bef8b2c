"""What an alert's detail shows as evidence: its rule's own figure over time, and the store rows
that make up the current value.

The figure over time is the rule measured exactly as the loaders measure it (sitroom's
`rules_measure.measure`, replayed as of each past step like the backtest, live for now),
for the alert's one region; nothing here recomputes a rule. Rows are read through the same
level columns as the series (`sitroom.series`), newest first, at most ROWS_SHOWN; the store
holds no personal data, so none can be shown.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from sitroom import series
from sitroom.config import SERIES_KINDS
from sitroom.rules_load import CompiledRule, RuleSet
from sitroom.rules_measure import (SERIES_DAYS, Measurer, days_needed, judge, judged_day, level_value, measure,
                                   series_array)
from sitroom.store.models import (CaseDaily, CaseReport, Clinic, ClinicVisit, Inflow, SourceState, SupplyPoint,
                                  SupplyStock)

ROWS_SHOWN = 50
DAYS_SHOWN = 14          # daily steps back from today
HOURLY_UP_TO = 48        # rules over a window of at most this many hours are drawn every HOUR_STEP
HOUR_STEP, HOURS_SHOWN = 2, 96
CASE_METRICS = ("new_confirmed", "new_suspected")


def _one_region(rule_cfg, region: str, gaz, risk_areas) -> RuleSet:
    return RuleSet((CompiledRule(rule_cfg, {gaz.get(region).level: (region,)}),), tuple(risk_areas))


def _steps(cfg, now: datetime) -> list[datetime]:
    """Past instants to replay: every HOUR_STEP hours for short windows, else each local day's end."""
    if cfg.kind == "threshold" and cfg.window_hours and cfg.window_hours <= HOURLY_UP_TO:
        return [now - timedelta(hours=h) for h in range(HOURS_SHOWN, 0, -HOUR_STEP)]
    today = series.local_day(now)
    return [series.local_midnight(today - timedelta(days=d)) - timedelta(seconds=1) for d in range(DAYS_SHOWN, 0, -1)]


def history(s: Session, cfg, region: str, gaz, risk_areas, now: datetime) -> dict:
    """{"points": [(UTC time, value or None)]}; detector rules: see `detector_history`."""
    out: dict = {"points": []}
    if cfg.kind in SERIES_KINDS:
        return detector_history(s, cfg, region, gaz, risk_areas, now)
    if cfg.kind == "source_silent":
        state = s.get(SourceState, cfg.source)
        last = getattr(state, cfg.since, None) if state else None
        if last is not None:  # minutes since the last data grow with the clock from that moment
            out["points"] = [(last, 0.0), (now, max(0.0, (now - last).total_seconds() / 60))]
        return out
    one = _one_region(cfg, region, gaz, risk_areas)
    for at in _steps(cfg, now):
        out["points"].append((at, measure(s, one, gaz, at, replay=True)[cfg.id].get(region)))
    out["points"].append((now, measure(s, one, gaz, now)[cfg.id].get(region)))
    return out


def detector_history(s: Session, cfg, region: str, gaz, risk_areas, now: datetime) -> dict:
    """A detector rule's last DAYS_SHOWN days, judged by the rules' own code (`rules_measure.judge`)
    on the region's series: per local day (ISO date) the count (None: no report, drawn as a gap),
    the baseline's expected value, the statistic, the p-value, ESSENCE's colour and the rule's value;
    `judged_day` is the day the rule judges now (the last complete day unless partial_day)."""
    today = series.local_day(now)
    first = today - timedelta(days=SERIES_DAYS + DAYS_SHOWN - 1)
    daily = series.daily(s, cfg.metric, gaz.get(region).level, first, today, risk_areas=risk_areas,
                         missing=cfg.missing).get(region) or [None] * ((today - first).days + 1)
    judged = judged_day(cfg, today)
    j = judge(cfg, series_array([daily], (judged - first).days), first, every_day=True)
    out = {"kind": "detector", "judged_day": judged.isoformat(), "partial_day": cfg.partial_day, "days": []}
    for i, day in enumerate(series.days(first, today)):
        if day <= today - timedelta(days=DAYS_SHOWN):
            continue
        row = {"day": day.isoformat(), "count": daily[i], "expected": None, "statistic": None, "p_value": None,
               "alert": "grey", "value": None}
        if day <= judged:
            d = j.at(0, i)
            row.update(expected=d.expected, statistic=d.statistic, p_value=d.p_value, alert=d.alert,
                       value=level_value(cfg, d))
        out["days"].append(row)
    return out


# ------------------------------------------------------------------ the rows behind the value
def _since(cfg, now: datetime, m: Measurer) -> datetime:
    """The start of the window the current value is read from."""
    if cfg.kind == "threshold":
        if cfg.measure in ("growth", "doubling_time"):
            return now - 2 * timedelta(days=cfg.days)
        return now - timedelta(hours=cfg.window_hours) if cfg.window_hours else m.days_since(cfg.window_days)
    if cfg.kind in SERIES_KINDS:
        return m.days_since(days_needed(cfg))
    return m.days_since(getattr(cfg, "window_days", 1))


def rows_behind(s: Session, cfg, region: str, gaz, risk_areas, now: datetime) -> dict:
    """{"kind": case|clinic|supply|arrivals|source, "rows": [dict], "more": bool}, newest first."""
    level = gaz.get(region).level
    m = Measurer(s, RuleSet(()), gaz, now)
    if cfg.kind == "source_silent":
        st = s.get(SourceState, cfg.source)
        rows = [] if st is None else [{"source": st.name, "last_change": st.last_change,
                                       "last_success": st.last_success, "failures": st.failures,
                                       "last_error": st.last_error, "rows_inserted": st.rows_inserted}]
        return {"kind": "source", "rows": rows, "more": False}
    if cfg.kind == "supply_cover":
        return _supply_rows(s, cfg.item, level, region, series.local_day(now))
    since = _since(cfg, now, m)
    metric = "risk_arrivals" if cfg.kind == "risk_arrivals" else cfg.metric
    if metric in CASE_METRICS:
        return _case_rows(s, metric, level, region, since)
    if metric in ("clinic_visits", "fever_visits"):
        return _clinic_rows(s, level, region, since)
    return _arrival_rows(s, level, region, series.local_day(since), risk_areas)


def _limited(kind: str, rows: list[dict]) -> dict:
    return {"kind": kind, "rows": rows[:ROWS_SHOWN], "more": len(rows) > ROWS_SHOWN}


def _case_rows(s, metric, level, region, since):
    statuses = series.EVER_CONFIRMED if metric == "new_confirmed" else ("suspected",)
    reports = s.execute(
        select(CaseReport.source, CaseReport.source_key, CaseReport.status, CaseReport.region, CaseReport.reported_at)
        .where(series._col(CaseReport, level) == region, CaseReport.status.in_(statuses),
               CaseReport.reported_at >= since)
        .order_by(CaseReport.reported_at.desc(), CaseReport.id.desc()).limit(ROWS_SHOWN + 1)).all()
    rows = [{"source": r.source, "source_key": r.source_key, "status": r.status, "region": r.region,
             "at": r.reported_at, "count": 1} for r in reports]
    count = getattr(CaseDaily, metric.removeprefix("new_"))
    daily = s.execute(
        select(CaseDaily.source, CaseDaily.source_key, CaseDaily.counting, CaseDaily.region, CaseDaily.bucket,
               CaseDaily.day, count.label("count"))
        .where(series._col(CaseDaily, level) == region, CaseDaily.day >= series.local_day(since), count.is_not(None))
        .order_by(CaseDaily.day.desc(), CaseDaily.id.desc()).limit(ROWS_SHOWN + 1)).all()
    rows += [{"source": r.source, "source_key": r.source_key, "status": f"{metric.removeprefix('new_')} ({r.counting})",
              "region": r.region, "bucket": r.bucket, "at": series.local_midnight(r.day), "count": r.count}
             for r in daily]
    rows.sort(key=lambda r: r["at"], reverse=True)
    return _limited("case", rows)


def _clinic_rows(s, level, region, since):
    found = s.execute(
        select(ClinicVisit.source, ClinicVisit.source_key, Clinic.name, Clinic.region, ClinicVisit.at,
               ClinicVisit.visits, ClinicVisit.fever)
        .join(Clinic, and_(Clinic.source == ClinicVisit.clinic_source, Clinic.source_key == ClinicVisit.clinic))
        .where(series._col(Clinic, level) == region, ClinicVisit.at >= since)
        .order_by(ClinicVisit.at.desc(), ClinicVisit.id.desc()).limit(ROWS_SHOWN + 1)).all()
    return _limited("clinic", [dict(r._mapping) for r in found])


def _supply_rows(s, item, level, region, today):
    latest = (select(SupplyStock.point_source, SupplyStock.point, func.max(SupplyStock.day).label("day"))
              .where(SupplyStock.item == item, SupplyStock.day <= today)
              .group_by(SupplyStock.point_source, SupplyStock.point).subquery())
    found = s.execute(
        select(SupplyStock.source, SupplyStock.source_key, SupplyPoint.name, SupplyPoint.region, SupplyPoint.status,
               SupplyStock.day, SupplyStock.stock, SupplyStock.daily_consumption)
        .join(latest, and_(latest.c.point_source == SupplyStock.point_source, latest.c.point == SupplyStock.point,
                           latest.c.day == SupplyStock.day))
        .join(SupplyPoint, and_(SupplyPoint.source == SupplyStock.point_source,
                                SupplyPoint.source_key == SupplyStock.point))
        .where(SupplyStock.item == item, series._col(SupplyPoint, level) == region)
        .order_by(SupplyStock.day.desc(), SupplyPoint.name).limit(ROWS_SHOWN + 1)).all()
    rows = []
    for r in found:
        row = dict(r._mapping)
        row["cover"] = row["stock"] / row["daily_consumption"] if row["daily_consumption"] else None
        rows.append(row)
    rows.sort(key=lambda r: (r["cover"] is None, r["cover"] or 0))  # the lowest cover is the value
    return _limited("supply", rows)


def _arrival_rows(s, level, region, first_day, risk_areas):
    if not risk_areas:
        return _limited("arrivals", [])
    found = s.execute(
        select(Inflow.source, Inflow.source_key, Inflow.day, Inflow.origin, Inflow.region, Inflow.mode, Inflow.stayed,
               Inflow.count)
        .where(series._col(Inflow, level) == region, Inflow.day >= first_day, series._risk_origin(list(risk_areas)),
               or_(Inflow.stayed.is_(None), Inflow.stayed.is_(True)))
        .order_by(Inflow.day.desc(), Inflow.count.desc()).limit(ROWS_SHOWN + 1)).all()
    return _limited("arrivals", [dict(r._mapping) for r in found])
