"""Each rule's figure per region at a moment: series from the store, judged by the detectors.

One `Measurer` per evaluation memoises the store reads, so fifty rules over the same
metric and level cost one grouped query each, not one per rule or region.
A value of None means "no figure" (no supply point with a limit, no growth to double,
a source never heard from): it never raises an alert and lets an open one resolve.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import detectors, series
from .rules_load import CompiledRule, RuleSet
from .store.models import SourceState


def days_needed(rule) -> int:
    """How many days of daily series (today included) a rule's detector reads."""
    if rule.kind == "ears":
        return detectors.EARS_DAYS[rule.method]
    if rule.kind == "ewma":
        return rule.baseline_days + rule.guard_days + 1
    return 0


class Measurer:
    def __init__(self, s: Session, ruleset: RuleSet, gaz, now: datetime, replay: bool = False):
        """`replay`: a backtest at `now` in the past; leave out rows stamped after it."""
        self.s, self.ruleset, self.gaz, self.now, self.replay = s, ruleset, gaz, now, replay
        self.today = series.local_day(now)
        self.span = max([days_needed(r.config) for r in ruleset.rules] + [1])
        self._memo: dict[tuple, dict] = {}

    def _once(self, key: tuple, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def daily(self, metric: str, level: str) -> dict[str, list[float]]:
        first = self.today - timedelta(days=self.span - 1)
        return self._once(("daily", metric, level), lambda: series.daily(
            self.s, metric, level, first, self.today, risk_areas=self.ruleset.risk_areas,
            as_of=self.now if self.replay else None))

    def total(self, metric: str, level: str, since: datetime, until: datetime | None = None) -> dict[str, float]:
        if until is None and self.replay:
            until = self.now + timedelta(microseconds=1)
        return self._once(("total", metric, level, since, until), lambda: series.window_total(
            self.s, metric, level, since, until, risk_areas=self.ruleset.risk_areas))

    def days_since(self, n: int) -> datetime:
        """The start of a window of n local days, today included."""
        return series.local_midnight(self.today - timedelta(days=n - 1))

    # ---------------------------------------------------------------- per rule
    def values(self, rule: CompiledRule) -> dict[str, float | None]:
        """{region: value} for every region in the rule's scope."""
        cfg = rule.config
        out: dict[str, float | None] = {}
        for level, codes in rule.regions.items():
            figure = getattr(self, f"_{cfg.kind}")(cfg, level)
            for code in codes:
                v = figure(code)
                if v is not None and rule.per_100k:
                    v = v / self.gaz.get(code).population * 100_000
                out[code] = v
        return out

    def _threshold(self, cfg, level):
        if cfg.measure in ("count", "per_100k"):
            since = (self.now - timedelta(hours=cfg.window_hours)) if cfg.window_hours else self.days_since(cfg.window_days)
            totals = self.total(cfg.metric, level, since)
            return lambda code: totals.get(code, 0.0)
        span = timedelta(days=cfg.days)
        current = self.total(cfg.metric, level, self.now - span)
        previous = self.total(cfg.metric, level, self.now - 2 * span, self.now - span)
        if cfg.measure == "growth":
            return lambda code: detectors.growth(current.get(code, 0.0), previous.get(code, 0.0), cfg.min_count)
        return lambda code: detectors.doubling_time(current.get(code, 0.0), previous.get(code, 0.0), cfg.days,
                                                    cfg.min_count)

    def _ears(self, cfg, level):
        by_region, detect = self.daily(cfg.metric, level), detectors.EARS[cfg.method]
        need = detectors.EARS_DAYS[cfg.method]
        return lambda code: detect(by_region[code][-need:], cfg.sd_floor) if code in by_region else 0.0

    def _ewma(self, cfg, level):
        by_region = self.daily(cfg.metric, level)
        need = cfg.baseline_days + cfg.guard_days + 1
        return lambda code: (detectors.ewma(by_region[code][-need:], cfg.smoothing, cfg.baseline_days,
                                            cfg.guard_days, cfg.sd_floor) if code in by_region else 0.0)

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


def measure(s: Session, ruleset: RuleSet, gaz, now: datetime, replay: bool = False) -> dict[str, dict]:
    """{rule id: {region: value or None}} for every rule of the set."""
    m = Measurer(s, ruleset, gaz, now, replay)
    return {r.id: m.values(r) for r in ruleset.rules}
