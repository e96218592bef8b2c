"""Per-region series from the store, for the rules, the backtest and the wall.

Every query groups in SQL by (region column, local day) and reads rows through the
indexes; nothing here loops over fact rows in Python, except `Reads`, which the rules of one
evaluation share: case_daily's rows of a few weeks with their changes (a few thousand), and
clinic visits grouped per county and day, summed here per window and level. A level picks the
column a row is counted under: county -> the row's most specific region, prefecture, province.

Metrics:
  new_confirmed / new_suspected  case_reports by local day of reported_at (a cured or dead
                                 case was confirmed first) + case_daily: "new" rows as given,
                                 "cumulative" rows as the difference from the previous
                                 reported day of the same source and region (looked for up
                                 to LOOKBACK_DAYS before the window); the first reported day
                                 has no "new" and a correction (negative difference) counts 0
                                 (the trend shows it; a rule must not).
  clinic_visits / fever_visits   clinic_visits joined to clinics, by local day of `at`
  risk_arrivals                  inflows from risk-area origins (stayed True or not known)
Days of cover is a snapshot, not a series: `days_of_cover(item, level, as_of)`.

Windows in hours on day-stamped rows (case_daily, inflows): a day counts when its local
midnight falls within the window, so "the last 24 hours" is today and "168 hours" is the
last 7 days, today included.
"""
from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from .store.models import CaseDaily, CaseReport, Clinic, ClinicVisit, Inflow, SupplyPoint, SupplyStock

LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no daylight saving
EVER_CONFIRMED = ("confirmed", "cured", "dead")  # a cured or dead case was confirmed first
METRICS = ("new_confirmed", "new_suspected", "clinic_visits", "fever_visits", "risk_arrivals")


def local_day(utc: datetime) -> date:
    return (utc + LOCAL_OFFSET).date()


def local_midnight(day: date) -> datetime:
    """The UTC instant a local day starts."""
    return datetime(day.year, day.month, day.day) - LOCAL_OFFSET


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_day_sql(s: Session, col):
    """SQL for the local day of a naive UTC time column."""
    hours = int(LOCAL_OFFSET.total_seconds() // 3600)
    if s.get_bind().dialect.name == "sqlite":
        return func.date(col, f"+{hours} hours")
    return func.date(col + literal_column(f"interval '{hours} hours'"))


def _as_date(d) -> date:
    return d if isinstance(d, date) else date.fromisoformat(str(d)[:10])


def _col(table, level: str):
    return {"county": table.region, "prefecture": table.prefecture, "province": table.province}[level]


# ------------------------------------------------------------------ per-table daily sums
def _line_list_daily(s, metric, level, first, last, as_of):
    day = local_day_sql(s, CaseReport.reported_at).label("day")
    statuses = EVER_CONFIRMED if metric == "new_confirmed" else ("suspected",)
    until = local_midnight(last + timedelta(days=1))
    q = (select(_col(CaseReport, level), day, func.count())
         .where(CaseReport.status.in_(statuses), CaseReport.reported_at >= local_midnight(first),
                CaseReport.reported_at < until)
         .group_by(_col(CaseReport, level), day))
    if as_of is not None:
        q = q.where(CaseReport.reported_at <= as_of)
    return s.execute(q)


LOOKBACK_DAYS = 60  # how far before `first` the previous reported day of a cumulative series is looked for


def aggregate_changes(metric: str, first: date, last: date | None = None):
    """Subquery of case_daily rows reported on local days first..last that give `metric`
    (confirmed, suspected, asymptomatic, cured or dead): region, bucket, prefecture, province,
    day, `new` (>= 0) and `corr` (<= 0, a correction of a cumulative count).

    "new" rows count as given. A cumulative row's change is the difference to the previous day
    its series (source, counting, region, bucket) reported this metric, computed by the database
    with a window function; the first reported day has no change (nor has a day whose previous
    report is more than LOOKBACK_DAYS before `first`); a fall is a correction, never new.
    """
    count = getattr(CaseDaily, metric)
    previous = func.lag(count).over(partition_by=(CaseDaily.source, CaseDaily.counting, CaseDaily.region,
                                                  CaseDaily.bucket, CaseDaily.label), order_by=CaseDaily.day)
    bounds = [CaseDaily.day >= first - timedelta(days=LOOKBACK_DAYS)] + ([CaseDaily.day <= last] if last else [])
    rows = (select(CaseDaily.region, CaseDaily.bucket, CaseDaily.prefecture, CaseDaily.province, CaseDaily.day,
                   CaseDaily.in_parent, CaseDaily.counting, count.label("value"), (count - previous).label("diff"))
            .where(*bounds, or_(CaseDaily.counting == "new", count.is_not(None)))
            .subquery())
    new = case((rows.c.counting == "new", func.coalesce(rows.c.value, 0)), (rows.c.diff > 0, rows.c.diff), else_=0)
    corr = case((and_(rows.c.counting == "cumulative", rows.c.diff < 0), rows.c.diff), else_=0)
    return (select(rows.c.region, rows.c.bucket, rows.c.prefecture, rows.c.province, rows.c.day,
                   rows.c.in_parent, new.label("new"), corr.label("corr"))
            .where(rows.c.day >= first).subquery())


def _aggregate_daily(s, metric, level, first, last):
    rows = aggregate_changes(metric.removeprefix("new_"), first, last)
    col = {"county": rows.c.region, "prefecture": rows.c.prefecture, "province": rows.c.province}[level]
    q = select(col, rows.c.day, func.sum(rows.c.new)).where(col.is_not(None)).group_by(col, rows.c.day)
    if level != "county":   # a county its prefecture's own figure already counts is not added again
        q = q.where(rows.c.in_parent.is_not(False))
    return s.execute(q)


class Reads:
    """Reads that the rules of one evaluation share (`daily_rows(reads=...)`, `window_total(reads=...)`).

    The rules ask for many windows and levels of the same rows: a detector's days, a threshold's
    day, 7 days, a growth's two windows; clinic and fever visits by county and by prefecture.
    case_daily is read once per metric for every day from `aggregates_from` on (earlier windows get
    their own query): a window's own query counts a cumulative day's change only if the report before
    it is at most LOOKBACK_DAYS before the window's first day, and each row keeps that report's day,
    so every window gets what its own query gives. Clinic visits are read once per span of days,
    summed per county (with its prefecture and province); a level's sums are sums of those.
    """

    def __init__(self, aggregates_from: date):
        self.aggregates_from = aggregates_from
        self._changes: dict[str, tuple[list[date], list[tuple]]] = {}
        self._visits: dict[tuple, list[tuple]] = {}

    def aggregates(self, s: Session, metric: str, level: str, first: date, last: date) -> list[tuple]:
        """As `_aggregate_daily`: (region, day, new) of new_confirmed / new_suspected."""
        if first < self.aggregates_from:
            return list(_aggregate_daily(s, metric, level, first, last))
        if metric not in self._changes:
            rows = sorted(self._read_changes(s, metric.removeprefix("new_")), key=lambda r: r[4])
            self._changes[metric] = ([r[4] for r in rows], rows)
        days, rows = self._changes[metric]
        lookback = first - timedelta(days=LOOKBACK_DAYS)
        at = _LEVEL_AT[level]
        out: dict[tuple[str, date], int] = {}
        for row in rows[bisect.bisect_left(days, first):bisect.bisect_right(days, last)]:
            code, in_parent, day, counting, value, diff, previous = row[at], *row[3:]
            if code is None or (level != "county" and in_parent is False):
                continue   # a county its prefecture's own figure already counts is not added again
            if counting == "new":
                new = value or 0
            else:
                new = diff if diff is not None and diff > 0 and previous >= lookback else 0
            out[code, day] = out.get((code, day), 0) + new
        return [(code, day, new) for (code, day), new in out.items()]

    def _read_changes(self, s: Session, metric: str) -> list[tuple]:
        count = getattr(CaseDaily, metric)
        per_series = {"partition_by": (CaseDaily.source, CaseDaily.counting, CaseDaily.region, CaseDaily.bucket,
                                       CaseDaily.label), "order_by": CaseDaily.day}
        rows = (select(CaseDaily.region, CaseDaily.prefecture, CaseDaily.province, CaseDaily.in_parent, CaseDaily.day,
                       CaseDaily.counting, count.label("value"), (count - func.lag(count).over(**per_series)).label("diff"),
                       func.lag(CaseDaily.day).over(**per_series).label("previous"))
                .where(CaseDaily.day >= self.aggregates_from - timedelta(days=LOOKBACK_DAYS),
                       or_(CaseDaily.counting == "new", count.is_not(None)))
                .subquery())
        return [(*r[:4], _as_date(r[4]), r[5], r[6], r[7], None if r[8] is None else _as_date(r[8]))
                for r in s.execute(select(rows).where(rows.c.day >= self.aggregates_from))]

    def visits(self, s: Session, metric: str, level: str, first: date, last: date, as_of) -> list[tuple]:
        """As `_visits_daily`: (region, day, sum) of clinic_visits / fever_visits."""
        key = (first, last, as_of)
        if key not in self._visits:
            self._visits[key] = list(s.execute(_visits_by_day(
                s, (Clinic.region, Clinic.prefecture, Clinic.province),
                (func.sum(ClinicVisit.visits), func.sum(ClinicVisit.fever)), first, last, as_of)))
        at, value_at = _LEVEL_AT[level], 4 if metric == "clinic_visits" else 5
        out: dict[tuple, float | None] = {}
        for row in self._visits[key]:
            code, day, value = row[at], row[3], row[value_at]
            if (code, day) not in out:
                out[code, day] = value
            elif value is not None:           # SQL's sum: of the values there are, None if none
                out[code, day] = value if out[code, day] is None else out[code, day] + value
        return [(code, day, value) for (code, day), value in out.items()]


_LEVEL_AT = {"county": 0, "prefecture": 1, "province": 2}   # a level's column in Reads' rows


def _visits_daily(s, metric, level, first, last, as_of):
    value = ClinicVisit.visits if metric == "clinic_visits" else ClinicVisit.fever
    return s.execute(_visits_by_day(s, (_col(Clinic, level),), (func.sum(value),), first, last, as_of))


def _visits_by_day(s, keys, sums, first, last, as_of):
    """keys, local day, sums of clinic visits (by their clinic's region) on local days first..last."""
    day = local_day_sql(s, ClinicVisit.at).label("day")
    q = (select(*keys, day, *sums)
         .join(Clinic, and_(Clinic.source == ClinicVisit.clinic_source, Clinic.source_key == ClinicVisit.clinic))
         .where(ClinicVisit.at >= local_midnight(first), ClinicVisit.at < local_midnight(last + timedelta(days=1)))
         .group_by(*keys, day))
    if as_of is not None:
        q = q.where(ClinicVisit.at <= as_of)
    return q


def _risk_origin(risk_areas: list[str]):
    """The SQL twin of RegionsConfig.is_risk_origin: the origin starts with a risk area."""
    def like(prefix: str):
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return Inflow.origin.like(f"{escaped}%", escape="\\")
    return or_(*(like(a) for a in risk_areas))


def _arrivals_daily(s, level, first, last, risk_areas):
    col = _col(Inflow, level)
    q = (select(col, Inflow.day, func.sum(Inflow.count))
         .where(Inflow.day >= first, Inflow.day <= last, _risk_origin(risk_areas),
                or_(Inflow.stayed.is_(None), Inflow.stayed.is_(True)))  # not the passed-through ones
         .group_by(col, Inflow.day))
    return s.execute(q)


MISSING = ("skip", "zero")


def daily_rows(s: Session, metric: str, level: str, first: date, last: date, *, risk_areas: list[str] = (),
               as_of: datetime | None = None, reads: Reads | None = None) -> list[tuple[bool, str, date, float | None]]:
    """(from a line list?, region, local day, value) of `metric` on local days first..last, summed in SQL
    (`reads`: shared by many calls)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; one of {', '.join(METRICS)}")
    out: list[tuple[bool, str, date, float | None]] = []

    def add(rows, line_list: bool = False):
        out.extend((line_list, region, _as_date(day), value) for region, day, value in rows if region is not None)

    if metric in ("new_confirmed", "new_suspected"):
        add(_line_list_daily(s, metric, level, first, last, as_of), line_list=True)
        add((reads.aggregates if reads else _aggregate_daily)(s, metric, level, first, last))
    elif metric in ("clinic_visits", "fever_visits"):
        add((reads.visits if reads else _visits_daily)(s, metric, level, first, last, as_of))
    elif risk_areas:
        add(_arrivals_daily(s, level, first, last, list(risk_areas)))
    return out


def reported_before(s: Session, metric: str, level: str, day: date, *,
                    risk_areas: list[str] = ()) -> dict[str, bool]:
    """{region: from a line list?} of the regions with a report of `metric` before local day `day`
    (the rows `daily_rows` counts, at any earlier day): their series began before a window that starts
    on `day` (`daily(started=...)`), so its first days are not "before the first report"."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; one of {', '.join(METRICS)}")
    out: dict[str, bool] = {}

    def add(q, line_list: bool = False):
        for (region,) in s.execute(q.distinct()):
            if region is not None:
                out[region] = out.get(region, False) or line_list

    if metric in ("new_confirmed", "new_suspected"):
        statuses = EVER_CONFIRMED if metric == "new_confirmed" else ("suspected",)
        col = _col(CaseReport, level)
        add(select(col).where(CaseReport.status.in_(statuses), CaseReport.reported_at < local_midnight(day)),
            line_list=True)
        count, col = getattr(CaseDaily, metric.removeprefix("new_")), _col(CaseDaily, level)
        q = select(col).where(CaseDaily.day < day, or_(CaseDaily.counting == "new", count.is_not(None)))
        if level != "county":   # as _aggregate_daily: a county its prefecture already counts is not its own report
            q = q.where(CaseDaily.in_parent.is_not(False))
        add(q)
    elif metric in ("clinic_visits", "fever_visits"):
        add(select(_col(Clinic, level)).select_from(ClinicVisit)
            .join(Clinic, and_(Clinic.source == ClinicVisit.clinic_source, Clinic.source_key == ClinicVisit.clinic))
            .where(ClinicVisit.at < local_midnight(day)))
    elif risk_areas:
        add(select(_col(Inflow, level)).where(Inflow.day < day, _risk_origin(list(risk_areas)),
                                              or_(Inflow.stayed.is_(None), Inflow.stayed.is_(True))))
    return out


def daily(s: Session, metric: str, level: str, first: date, last: date, *, risk_areas: list[str] = (),
          as_of: datetime | None = None, missing: str = "skip",
          started: dict[str, bool] | None = None) -> dict[str, list[float | None]]:
    """{region: [value or None per local day from first to last]}; only regions with rows (or `started`).

    A region's series starts at its first report: the days before it are None (missing), never
    zero, so a new clinic is not judged against a baseline of zeros, nor drawn as a flat zero line.
    After it, a line list reports cases, not days, so a day without a case is 0; a daily reporter
    (aggregate bulletins, clinic visits, arrivals) that sent no row for a day has it None with
    `missing="skip"` (the default) and 0 with `missing="zero"`.
    Without `started` the first report is looked for within the window (the detectors read a window
    long enough for that); `started` (`reported_before(first)`) names the regions whose series began
    before it: they start on the window's first day.
    `as_of` (UTC) leaves out timestamped rows after it, for replays within a day.
    """
    return daily_from_rows(daily_rows(s, metric, level, first, last, risk_areas=risk_areas, as_of=as_of),
                           first, last, missing, started)


def daily_from_rows(rows, first: date, last: date, missing: str = "skip",
                    started: dict[str, bool] | None = None) -> dict[str, list[float | None]]:
    """`daily` of rows from `daily_rows` (of one read, or of several reads of adjoining days).
    The one place that says where a series starts (the days before: None)."""
    if missing not in MISSING:
        raise ValueError(f"unknown missing '{missing}'; one of {', '.join(MISSING)}")
    n = (last - first).days + 1
    started = started or {}
    values: dict[str, list[float]] = {r: [0.0] * n for r in started}
    seen: dict[str, list[bool]] = {r: [False] * n for r in started}
    every_day_from: dict[str, int] = {r: 0 for r, line_list in started.items() if line_list}
    for line_list, region, day, value in rows:
        i = (day - first).days
        if not 0 <= i < n:
            continue
        values.setdefault(region, [0.0] * n)[i] += float(value or 0)
        seen.setdefault(region, [False] * n)[i] = True
        if line_list:
            every_day_from[region] = min(every_day_from.get(region, n), i)
    out: dict[str, list[float | None]] = {}
    for region, vals in values.items():
        reported = seen[region]
        start = 0 if region in started else min(reported.index(True), every_day_from.get(region, n))
        every = every_day_from.get(region, n) if missing == "skip" else start
        out[region] = [None if i < start or not (reported[i] or i >= every) else v for i, v in enumerate(vals)]
    return out


def series_start(values: list[float | None]) -> int:
    """Index of the first day of a series `daily` gave with missing="zero" (only the days before its
    start are None there): its first report, or the window's first day; len(values) if none."""
    return next((i for i, v in enumerate(values) if v is not None), len(values))


def day_range(since: datetime, until: datetime | None) -> tuple[date, date]:
    """Local days whose midnight falls within [since, until)."""
    first = local_day(since)
    if local_midnight(first) < since:
        first += timedelta(days=1)
    if until is None:
        return first, date(9999, 12, 31)
    last = local_day(until)
    if local_midnight(last) >= until:
        last -= timedelta(days=1)
    return first, last


def window_total(s: Session, metric: str, level: str, since: datetime, until: datetime | None = None, *,
                 risk_areas: list[str] = (), reads: Reads | None = None) -> dict[str, float]:
    """{region: total of the metric in [since, until)} (no upper bound without `until`; `reads` as
    for `daily_rows`).

    Exact for timestamped rows; day-stamped rows count when their local midnight is inside.
    """
    out: dict[str, float] = {}

    def add(rows):
        for region, value in rows:
            if region is not None and value:
                out[region] = out.get(region, 0.0) + float(value)

    def within(col):
        return and_(col >= since, col < until) if until is not None else col >= since

    first, last = day_range(since, until)
    if metric in ("new_confirmed", "new_suspected"):
        statuses = EVER_CONFIRMED if metric == "new_confirmed" else ("suspected",)
        col = _col(CaseReport, level)
        add(s.execute(select(col, func.count())
                      .where(CaseReport.status.in_(statuses), within(CaseReport.reported_at)).group_by(col)))
        if first <= last:
            rows = (reads.aggregates if reads else _aggregate_daily)(s, metric, level, first, last)
            add((r, sum(v)) for r, v in _sum_rows(rows))
    elif metric in ("clinic_visits", "fever_visits"):
        value = ClinicVisit.visits if metric == "clinic_visits" else ClinicVisit.fever
        col = _col(Clinic, level)
        add(s.execute(select(col, func.sum(value))
                      .join(Clinic, and_(Clinic.source == ClinicVisit.clinic_source,
                                         Clinic.source_key == ClinicVisit.clinic))
                      .where(within(ClinicVisit.at)).group_by(col)))
    elif risk_areas and first <= last:
        add((r, sum(v)) for r, v in _sum_rows(_arrivals_daily(s, level, first, last, list(risk_areas))))
    elif metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; one of {', '.join(METRICS)}")
    return out


def _sum_rows(rows) -> list[tuple[str, list[float]]]:
    by: dict[str, list[float]] = {}
    for region, _day, value in rows:
        by.setdefault(region, []).append(float(value or 0))
    return list(by.items())


def days_of_cover(s: Session, item: str, level: str, as_of: date, measure: str = "total") -> dict[str, float]:
    """{region: days of cover of `item` over its open points}, from each point's latest count.

    `total`: the points' stock over their daily consumption together; `lowest`: the point
    closest to running out. Consumption 0 means no limit (no figure when nothing is consumed).
    """
    latest = (select(SupplyStock.point_source, SupplyStock.point, func.max(SupplyStock.at).label("at"))
              .where(SupplyStock.item == item, SupplyStock.day <= as_of)
              .group_by(SupplyStock.point_source, SupplyStock.point).subquery())
    col = _col(SupplyPoint, level)
    if measure == "lowest":
        value = func.min(case((SupplyStock.daily_consumption > 0, SupplyStock.stock / SupplyStock.daily_consumption)))
    else:
        value = func.sum(SupplyStock.stock) / func.nullif(func.sum(SupplyStock.daily_consumption), 0)
    q = (select(col, value)
         .join(latest, and_(latest.c.point_source == SupplyStock.point_source, latest.c.point == SupplyStock.point,
                            latest.c.at == SupplyStock.at))
         .join(SupplyPoint, and_(SupplyPoint.source == SupplyStock.point_source,
                                 SupplyPoint.source_key == SupplyStock.point))
         .where(SupplyStock.item == item, SupplyPoint.status == "open")
         .group_by(col))
    return {r: float(v) for r, v in s.execute(q) if r is not None and v is not None}
