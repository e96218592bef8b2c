"""Store queries of the leaders' trends page: daily new, cumulative and active confirmed cases
of every region of a level (province, prefecture or county). No page writes SQL.

new        the rules' series (series.daily "new_confirmed": line list by day of report, plus
           aggregates' new or day-to-day differences; a correction counts 0)
cumulative everyone ever confirmed up to the end of each day: line-list cases reported by then,
           plus each aggregate series' newest cumulative figure by then, plus its "new" rows
active     cumulative confirmed - cured - dead; a line-list case counts as cured or dead from
           the day its source last changed it (the only date the source gives an outcome)
All three are None on the days before a region's first report (missing, not 0; series.daily).
Every query groups in SQL by region column (and day) and reads through the (region, day)
indexes; only the few aggregate rows of the range are carried forward in Python.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from .series import (EVER_CONFIRMED, _as_date, _col, daily, days, local_day_sql, local_midnight, reported_before,
                     series_start)
from .store.models import CaseDaily, CaseReport

LEVELS = ("province", "prefecture", "county")
OUTCOMES = ("confirmed", "cured", "dead")


def _line_list(s: Session, metric: str, level: str, first: date, last: date, add_base, add_day) -> None:
    col = _col(CaseReport, level)
    if metric == "confirmed":
        when, where = CaseReport.reported_at, CaseReport.status.in_(EVER_CONFIRMED)
    else:
        when, where = CaseReport.source_updated_at, CaseReport.status == metric
    start, end = local_midnight(first), local_midnight(last + timedelta(days=1))
    for code, n in s.execute(select(col, func.count()).where(where, when < start).group_by(col)):
        add_base(code, n)
    day = local_day_sql(s, when).label("day")
    for code, d, n in s.execute(select(col, day, func.count())
                                .where(where, when >= start, when < end).group_by(col, day)):
        add_day(code, _as_date(d), n)


def _aggregates(s: Session, metric: str, level: str, first: date, last: date, add_base, add_day) -> None:
    col = _col(CaseDaily, level)
    value = getattr(CaseDaily, metric)
    keep = [CaseDaily.bucket.is_(None)] if level != "province" else []   # buckets belong to their province only
    if level != "county":   # a county its prefecture's own figure counts (counties: included) is not added again
        keep.append(CaseDaily.in_parent.is_not(False))
    real = and_(true(), *keep)
    # "new" rows: summed
    for code, n in s.execute(select(col, func.sum(value)).where(
            real, CaseDaily.counting == "new", CaseDaily.day < first).group_by(col)):
        add_base(code, n or 0)
    for code, d, n in s.execute(select(col, CaseDaily.day, func.sum(value)).where(
            real, CaseDaily.counting == "new", CaseDaily.day >= first, CaseDaily.day <= last)
            .group_by(col, CaseDaily.day)):
        add_day(code, _as_date(d), n or 0)
    # cumulative rows: each series' newest figure before the range, then its changes within it
    series = (CaseDaily.source, CaseDaily.region, CaseDaily.bucket)
    latest = (select(*series, func.max(CaseDaily.day).label("day"))
              .where(real, CaseDaily.counting == "cumulative", value.is_not(None), CaseDaily.day < first)
              .group_by(*series).subquery())
    before: dict[tuple, float] = {}
    for src, region, bucket, code, n in s.execute(
            select(*series, col, value)
            .join(latest, and_(CaseDaily.source == latest.c.source, CaseDaily.region == latest.c.region,
                               CaseDaily.bucket.is_not_distinct_from(latest.c.bucket), CaseDaily.day == latest.c.day))
            .where(CaseDaily.counting == "cumulative")):
        before[(src, region, bucket)] = float(n or 0)
        add_base(code, n or 0)
    rows = s.execute(select(*series, col, CaseDaily.day, value)
                     .where(real, CaseDaily.counting == "cumulative", value.is_not(None),
                            CaseDaily.day >= first, CaseDaily.day <= last)
                     .order_by(CaseDaily.day))
    for src, region, bucket, code, d, n in rows:
        key = (src, region, bucket)
        add_day(code, _as_date(d), float(n) - before.get(key, 0.0))
        before[key] = float(n)


def cumulative(s: Session, metric: str, level: str, first: date, last: date) -> dict[str, list[float]]:
    """{region: [count of `metric` (confirmed, cured, dead) by the end of each day first..last]}."""
    n = (last - first).days + 1
    base: dict[str, float] = {}
    step: dict[str, list[float]] = {}

    def add_base(code, v):
        if code is not None:
            base[code] = base.get(code, 0.0) + float(v)
            step.setdefault(code, [0.0] * n)

    def add_day(code, d, v):
        i = (d - first).days
        if code is not None and 0 <= i < n:
            step.setdefault(code, [0.0] * n)[i] += float(v)

    _line_list(s, metric, level, first, last, add_base, add_day)
    _aggregates(s, metric, level, first, last, add_base, add_day)
    out = {}
    for code, inc in step.items():
        total, acc = base.get(code, 0.0), []
        for v in inc:
            total += v
            acc.append(total)
        out[code] = acc
    return out


def level_series(s: Session, level: str, first: date, last: date) -> dict[str, dict[str, list[float | None]]]:
    """{region: {"new": [...], "cumulative": [...], "active": [...]}} for every region of `level`
    with any case, one value per local day first..last; None on the days before the region's first
    report (series.daily's notion, shared with the rules): missing, never a zero case count."""
    if level not in LEVELS:
        raise ValueError(f"unknown level '{level}'; one of {', '.join(LEVELS)}")
    n = len(days(first, last))
    # missing="zero": after its first report a region's curve has a day without a row as 0 new (a
    # bulletin skipped one day: its cumulative figure carries on), as the cumulative reads it
    new = daily(s, "new_confirmed", level, first, last, missing="zero",
                started=reported_before(s, "new_confirmed", level, first))
    cum = {m: cumulative(s, m, level, first, last) for m in OUTCOMES}
    zero = [0.0] * n
    out = {}
    for code in set(new) | set(cum["confirmed"]):
        c = cum["confirmed"].get(code, zero)
        cured, dead = cum["cured"].get(code, zero), cum["dead"].get(code, zero)
        start = series_start(new[code]) if code in new else 0
        out[code] = {"new": new.get(code, [None] * start + zero[start:]),
                     "cumulative": [None] * start + c[start:],
                     "active": [None] * start + [max(a - b - d, 0.0) for a, b, d in zip(c, cured, dead)][start:]}
    return out
