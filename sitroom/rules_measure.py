"""Each rule's figure per region at a moment: series from the store, judged by the detectors.

One `Measurer` per evaluation memoises the store reads and shares them (series.Reads: case_daily
once per metric, clinic visits once per span of days, for every window and level), so fifty rules
cost a few grouped queries, not one per rule, window or region.
A value of None means "no figure" (no supply point with a limit, no growth to double,
a source never heard from, a detector without enough baseline: grey, "insufficient data",
a region whose series is empty): it never raises an alert and lets an open one resolve.

Detector rules (sitroom.config.SERIES_KINDS) read SERIES_DAYS of daily series, ending today,
for every region at once (sitroom.series: missing days None, never zero) and judge the last
complete day, or today with `partial_day`. Their value is the p-value (ESSENCE, level_on:
p_value) or the statistic; `Measurer.details` keeps each region's whole `Detection`
(expected, statistic, p-value, colour) and the judged day for the alert and its detail.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import numpy as np

from . import detectors, series
from .config import SERIES_KINDS
from .rules_load import CompiledRule, RuleSet
from .store.models import SourceState

# Days of daily series the detectors read, today included: a series' first report and the EWMA's
# start are looked for this far back. An EWMA started 30 days before its baseline carries less
# than 0.6^30 = 2e-7 of its starting value, and the regression's weekend check reads 7 weeks.
SERIES_DAYS = 61
STATISTIC_CAP = 1e9
# The days before FRESH_DAYS ago (baseline days: complete, rarely changed) are read from the store at
# most every OLD_DAYS_SECONDS per store, metric and level; the judged day, the guard band and today
# every time. A late row for an older day is taken up within that time.
FRESH_DAYS, OLD_DAYS_SECONDS = 3, 300
_old_days: dict[tuple, tuple[float, list]] = {}   # a flat baseline's EARS statistic (+inf) is stored as this: JSON has no infinity


def days_needed(rule) -> int:
    """How many days of daily series (today included) a rule's detector reads."""
    if rule.kind not in SERIES_KINDS:
        return 0
    if rule.kind == "ears":
        judged = detectors.ears_days(rule.method)
    else:
        judged = rule.baseline_days + rule.guard_days + 1
    return max(SERIES_DAYS, judged + 1)          # + 1: the judged day is the last complete one


def judged_day(rule, today):
    """The day a detector rule judges: the last complete local day, or today with partial_day."""
    return today if rule.partial_day else today - timedelta(days=1)


def series_array(rows, last: int) -> np.ndarray:
    """Daily series (None for missing) as one array, regions x days, cut after column `last`."""
    return np.array([[np.nan if v is None else v for v in r[:last + 1]] for r in rows], dtype=float)


def judge(cfg, y: np.ndarray, first_day, every_day: bool = False) -> detectors.Judgement:
    """A detector rule's judgement of series `y` (column 0 is `first_day`): the last day, or every day."""
    if cfg.kind == "ears":
        if not every_day:           # the last day's statistic reads no day before these
            y = y[:, -detectors.ears_days(cfg.method):]
        return detectors.ears(y, cfg.method, cfg.sd_floor, cfg.min_baseline)
    kw = {"arms": cfg.smoothing} if cfg.kind in ("ewma", "switch") else {}
    if not every_day:
        kw["days"] = [-1]
    return detectors.detect(cfg.kind, y, first_day, cfg.baseline_days, cfg.guard_days, **kw)


def level_value(cfg, d: detectors.Detection) -> float | None:
    """What the rule's levels apply to: the p-value (level_on: p_value) or the statistic; None for
    grey (insufficient data) and for a regression flag ESSENCE drops (a count below its 7-day average)."""
    on_p = getattr(cfg, "level_on", "statistic") == "p_value"
    if not d.judged or (on_p and d.alert == "blue" and d.p_value is not None and d.p_value < detectors.YELLOW_P):
        return None
    v = d.p_value if on_p else d.statistic
    return None if v is None else max(-STATISTIC_CAP, min(STATISTIC_CAP, v))


class Measurer:
    def __init__(self, s: Session, ruleset: RuleSet, gaz, now: datetime, replay: bool = False):
        """`replay`: a backtest at `now` in the past; leave out rows stamped after it."""
        self.s, self.ruleset, self.gaz, self.now, self.replay = s, ruleset, gaz, now, replay
        self.today = series.local_day(now)
        self.span = max([days_needed(r.config) for r in ruleset.rules] + [1])
        self._memo: dict[tuple, dict] = {}
        self.reads = series.Reads(self._case_daily_from())
        self.details: dict[str, dict[str, detectors.Detection]] = {}   # rule id -> region -> judgement

    def _once(self, key: tuple, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def first_day(self):
        return self.today - timedelta(days=self.span - 1)

    def daily(self, metric: str, level: str, missing: str = "skip") -> dict[str, list[float | None]]:
        rows = self._once(("daily_rows", metric, level), lambda: self._daily_rows(metric, level))
        return self._once(("daily", metric, level, missing),
                          lambda: series.daily_from_rows(rows, self.first_day, self.today, missing))

    def _daily_rows(self, metric: str, level: str) -> list:
        risk = self.ruleset.risk_areas
        if self.replay:                       # a backtest reads as of each step: nothing cached
            return series.daily_rows(self.s, metric, level, self.first_day, self.today, risk_areas=risk,
                                     as_of=self.now, reads=self.reads)
        cut = self.today - timedelta(days=FRESH_DAYS)
        key = (str(self.s.get_bind().url), metric, level, self.first_day, risk)
        hit = _old_days.get(key)
        if hit is None or time.monotonic() - hit[0] > OLD_DAYS_SECONDS:
            for k in [k for k in _old_days if k[:3] == key[:3]]:
                del _old_days[k]              # another day's window
            hit = _old_days[key] = (time.monotonic(), series.daily_rows(
                self.s, metric, level, self.first_day, cut, risk_areas=risk, reads=self.reads))
        return hit[1] + series.daily_rows(self.s, metric, level, cut + timedelta(days=1), self.today, risk_areas=risk,
                                          reads=self.reads)

    def _case_daily_from(self):
        """The first local day the rules read from case_daily at every evaluation (threshold windows, the
        detectors' fresh days; a replay: every day): one read per metric serves them (series.Reads)."""
        days = [self.first_day if self.replay else self.today - timedelta(days=FRESH_DAYS - 1)]
        for rule in self.ruleset.rules:
            if rule.config.kind == "threshold":
                days += [series.day_range(since, until)[0] for since, until in self._windows(rule.config)]
        return min(days)

    def total(self, metric: str, level: str, since: datetime, until: datetime | None = None) -> dict[str, float]:
        if until is None and self.replay:
            until = self.now + timedelta(microseconds=1)
        return self._once(("total", metric, level, since, until), lambda: series.window_total(
            self.s, metric, level, since, until, risk_areas=self.ruleset.risk_areas, reads=self.reads))

    def days_since(self, n: int) -> datetime:
        """The start of a window of n local days, today included."""
        return series.local_midnight(self.today - timedelta(days=n - 1))

    # ---------------------------------------------------------------- per rule
    def values(self, rule: CompiledRule) -> dict[str, float | None]:
        """{region: value} for every region in the rule's scope."""
        cfg = rule.config
        out: dict[str, float | None] = {}
        for level, codes in rule.regions.items():
            if cfg.kind in SERIES_KINDS:
                out.update(self._detect(cfg, level, codes))
                continue
            figure = getattr(self, f"_{cfg.kind}")(cfg, level)
            for code in codes:
                v = figure(code)
                if v is not None and rule.per_100k:
                    v = v / self.gaz.get(code).population * 100_000
                out[code] = v
        return out

    def _windows(self, cfg) -> list[tuple[datetime, datetime | None]]:
        """The [since, until) windows a threshold rule totals: one for a count, this and the previous for growth."""
        if cfg.measure in ("count", "per_100k"):
            since = (self.now - timedelta(hours=cfg.window_hours)) if cfg.window_hours else self.days_since(cfg.window_days)
            return [(since, None)]
        span = timedelta(days=cfg.days)
        return [(self.now - span, None), (self.now - 2 * span, self.now - span)]

    def _threshold(self, cfg, level):
        windows = [self.total(cfg.metric, level, since, until) for since, until in self._windows(cfg)]
        if cfg.measure in ("count", "per_100k"):
            return lambda code: windows[0].get(code, 0.0)
        current, previous = windows
        if cfg.measure == "growth":
            return lambda code: detectors.growth(current.get(code, 0.0), previous.get(code, 0.0), cfg.min_count)
        return lambda code: detectors.doubling_time(current.get(code, 0.0), previous.get(code, 0.0), cfg.days,
                                                    cfg.min_count)

    def _detect(self, cfg, level: str, codes) -> dict[str, float | None]:
        """A detector rule over every region of one level at once (one array, regions x days)."""
        by_region = self.daily(cfg.metric, level, cfg.missing)
        out: dict[str, float | None] = {code: None for code in codes}   # an empty series: no value, not 0
        have = [c for c in codes if c in by_region]
        if not have:
            return out
        y = series_array([by_region[c] for c in have], (judged_day(cfg, self.today) - self.first_day).days)
        j = judge(cfg, y, self.first_day)
        details = self.details.setdefault(cfg.id, {})
        for row, code in enumerate(have):
            details[code] = j.at(row)
            out[code] = level_value(cfg, details[code])
        return out

    def _supply_cover(self, cfg, level):
        cover = self._once(("cover", cfg.item, level, cfg.measure),
                           lambda: series.days_of_cover(self.s, cfg.item, level, self.today, cfg.measure))
        return cover.get

    def _risk_arrivals(self, cfg, level):
        totals = self.total("risk_arrivals", level, self.days_since(cfg.window_days))
        return lambda code: totals.get(code, 0.0)

    def _source_silent(self, cfg, level):
        state = self._once(("sources",), lambda: {r.name: r for r in self.s.scalars(select(SourceState))})
        if self.replay:  # the store keeps no history of source health
            return lambda code: None
        last = getattr(state.get(cfg.source), cfg.since, None)
        minutes = None if last is None else max(0.0, (self.now - last).total_seconds() / 60)
        return lambda code: minutes


    # ---- published feeds (issue 10)
    def _data_mismatch(self, cfg, level):
        if self.replay:   # the store keeps the latest publication's totals, not a history of checks
            return lambda code: None
        got = self._once(("totals_check", cfg.source), lambda: self._totals_check(cfg.source))
        return lambda code: _mismatch(got.get((code, cfg.metric)), cfg.measure)

    def _totals_check(self, source: str) -> dict:
        from types import SimpleNamespace

        from . import queries
        metrics, snapshot = self.ruleset.totals_sources.get(source, ((), False))
        figures = queries.case_figures(self.s, self.now, 1, {source: snapshot} if snapshot else {})
        src = SimpleNamespace(name=source, check_totals=metrics)
        return {(c["province"], c["metric"]): c for c in queries.totals_check(self.s, figures, [src])}


def _mismatch(check, measure: str):
    if check is None:
        return None
    if measure == "percent":
        return abs(check["diff"]) / check["published"] * 100 if check["published"] else None
    return float(abs(check["diff"]))


def measure(s: Session, ruleset: RuleSet, gaz, now: datetime, replay: bool = False) -> dict[str, dict]:
    """{rule id: {region: value or None}} for every rule of the set."""
    return measure_all(s, ruleset, gaz, now, replay)[0]


def measure_all(s: Session, ruleset: RuleSet, gaz, now: datetime, replay: bool = False):
    """(values as `measure` gives them, {rule id: {region: Detection}} of the detector rules)."""
    m = Measurer(s, ruleset, gaz, now, replay)
    return {r.id: m.values(r) for r in ruleset.rules}, m.details
