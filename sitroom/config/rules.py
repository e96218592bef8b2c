"""rules.yaml: early-warning rules, one kind each, with thresholds for the four warning levels.

Only what a rule says on its own is checked here; names that need the gazetteer or
sources.yaml (scope regions, a watched source) are checked when the rules are loaded
for evaluation (`sitroom.rules_load`), with the same "file: key: message" form.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from .base import LEVELS, Strict, Text

METRICS = ("new_confirmed", "new_suspected", "clinic_visits", "fever_visits", "risk_arrivals")
Metric = Literal["new_confirmed", "new_suspected", "clinic_visits", "fever_visits", "risk_arrivals"]
RegionLevel = Literal["province", "prefecture", "county"]
Direction = Literal["above", "below"]


class Thresholds(Strict):
    IV: float
    III: float
    II: float
    I: float

    @model_validator(mode="after")
    def _monotonic(self) -> "Thresholds":
        v = [getattr(self, lv) for lv in LEVELS]
        rising = all(a < b for a, b in zip(v, v[1:]))
        falling = all(a > b for a, b in zip(v, v[1:]))
        if not (rising or falling):
            raise ValueError("thresholds must rise strictly from IV to I (or fall strictly, for direction: below)")
        return self

    @property
    def rising(self) -> bool:
        return self.IV < self.I

    def level_for(self, value: float | None, direction: str = "above") -> str | None:
        """The highest level whose threshold the value reaches (or, below, goes down to), or None."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if direction == "below":
            hit = [lv for lv in LEVELS if value <= getattr(self, lv)]
        else:
            hit = [lv for lv in LEVELS if value >= getattr(self, lv)]
        return hit[-1] if hit else None


class Scope(Strict):
    """Which regions a rule watches: whole levels, or a list of regions by name or code."""
    levels: list[RegionLevel] | None = Field(default=None, min_length=1)
    regions: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _codes_as_text(cls, data):
        if isinstance(data, dict) and isinstance(data.get("regions"), list):
            data = {**data, "regions": [str(r) for r in data["regions"]]}
        return data

    @model_validator(mode="after")
    def _one(self) -> "Scope":
        if (self.levels is None) == (self.regions is None):
            raise ValueError("give exactly one of levels (province, prefecture, county) or regions (names or codes)")
        return self


class _Rule(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    direction: Direction = "above"
    thresholds: Thresholds
    recover: float = Field(description="resolve only when the value is back on this side of level IV")
    for_minutes: float = Field(default=0, ge=0, description="the condition must hold this long before it fires")
    escalate_after_minutes: float = Field(default=15, gt=0, description="unacknowledged this long: escalate")

    @model_validator(mode="before")
    @classmethod
    def _natural_direction(cls, data):
        # Lower is worse for doubling time and days of cover; say so once here, not in every rule.
        if isinstance(data, dict) and "direction" not in data and (
                data.get("measure") == "doubling_time" or data.get("kind") == "supply_cover"):
            data = {**data, "direction": "below"}
        return data

    @model_validator(mode="after")
    def _direction_and_hysteresis(self):
        t = self.thresholds
        if self.direction == "above" and not t.rising:
            raise ValueError("thresholds must rise strictly from IV to I (direction: above)")
        if self.direction == "below" and t.rising:
            raise ValueError("direction is below (lower is worse): thresholds must fall strictly from IV to I")
        if self.direction == "above" and self.recover > t.IV:
            raise ValueError(f"recover ({self.recover:g}) must not exceed the level IV threshold ({t.IV:g}), "
                             "or alerts would flap")
        if self.direction == "below" and self.recover < t.IV:
            raise ValueError(f"recover ({self.recover:g}) must not be below the level IV threshold ({t.IV:g}) "
                             "for direction: below, or alerts would flap")
        return self

    def level_for(self, value: float | None) -> str | None:
        return self.thresholds.level_for(value, self.direction)

    def recovered(self, value: float | None) -> bool:
        """Back on the safe side of the recovery value (no value at all is safe too)."""
        if value is None:
            return True
        return value < self.recover if self.direction == "above" else value > self.recover


class _RegionRule(_Rule):
    scope: Scope = Field(default_factory=lambda: Scope(levels=["prefecture"]))


class ThresholdRule(_RegionRule):
    """A figure of a series over a window: count, per 100,000, week-on-week growth, doubling time."""
    kind: Literal["threshold"]
    metric: Metric
    measure: Literal["count", "per_100k", "growth", "doubling_time"] = "count"
    window_hours: float | None = Field(default=None, gt=0)
    window_days: int | None = Field(default=None, ge=1)
    min_count: float = Field(default=0, ge=0, description="growth, doubling: the earlier window needs this many")

    @model_validator(mode="after")
    def _window(self) -> "ThresholdRule":
        if self.measure in ("growth", "doubling_time"):
            if self.window_hours is not None:
                raise ValueError(f"{self.measure} compares two windows of window_days (default 7); "
                                 "window_hours does not apply")
        elif (self.window_hours is None) == (self.window_days is None):
            raise ValueError("give exactly one of window_hours or window_days")
        return self

    @property
    def days(self) -> int:
        return self.window_days or 7


class _SeriesRule(_RegionRule):
    """A detector on a metric's daily series (sitroom.detectors). The judged day is the last
    complete local day unless `partial_day` (today so far, against a baseline of complete days);
    a day a daily reporter did not report is left out (`missing: skip`) or counted 0 (`zero`)."""
    metric: Metric
    missing: Literal["skip", "zero"] = "skip"
    partial_day: bool = False


class EarsRule(_SeriesRule):
    """CDC EARS C1 / C2 / C3; thresholds apply to the statistic (CDC flags C1 / C2 at 3, C3 at 2)."""
    kind: Literal["ears"]
    method: Literal["C1", "C2", "C3"]
    sd_floor: float = Field(default=0.0, ge=0, description="s = max(sd, sd_floor); 0: a flat baseline alarms "
                                                           "on any count above it")
    min_baseline: int = Field(default=7, ge=2, le=7, description="reported days of the 7-day baseline needed")


EssenceLevelOn = Literal["p_value", "statistic"]


class _EssenceRule(_SeriesRule):
    """ESSENCE's detectors: thresholds on the one-sided p-value (direction below, falling from IV
    to I; red is p < 0.01, yellow p < 0.05) or, with level_on: statistic, on the statistic."""
    baseline_days: int = Field(default=28, ge=7)
    guard_days: int = Field(default=2, ge=0)
    level_on: EssenceLevelOn = "p_value"

    @model_validator(mode="before")
    @classmethod
    def _p_values_fall(cls, data):
        if isinstance(data, dict):
            if "sd_floor" in data:
                raise ValueError("sd_floor does not apply to ESSENCE's detectors (their sigma has its own minimum); "
                                 "remove it")
            if data.get("level_on", "p_value") == "p_value" and "direction" not in data:
                data = {**data, "direction": "below"}
        return data

    @model_validator(mode="after")
    def _p_thresholds(self):
        if self.level_on == "p_value":
            t = self.thresholds
            if self.direction != "below" or not all(0 < getattr(t, lv) <= 1 for lv in LEVELS) or not 0 < self.recover <= 1:
                raise ValueError("level_on: p_value needs p-value cut-offs between 0 and 1 falling from IV to I "
                                 "(e.g. IV: 0.05, III: 0.01) and recover between IV and 1 (direction below)")
        return self


Arms = list[Annotated[float, Field(gt=0, le=1)]]


class _Smoothing(Strict):
    smoothing: Arms = Field(default=[0.4, 0.9], min_length=1, max_length=4,
                            description="EWMA weights of the newest day; ESSENCE: 0.4 and 0.9")

    @field_validator("smoothing", mode="before")
    @classmethod
    def _one_arm(cls, v):
        return [v] if isinstance(v, (int, float)) else v


class EwmaRule(_EssenceRule, _Smoothing):
    """ESSENCE's EWMA: two smoothing arms over the whole series against a baseline before a guard band."""
    kind: Literal["ewma"]


class RegressionRule(_EssenceRule):
    """ESSENCE's adaptive regression: trend and day-of-week terms fitted on the baseline."""
    kind: Literal["regression"]

    @field_validator("baseline_days")
    @classmethod
    def _weeks(cls, v: int) -> int:
        if v % 7 or v < 14:
            raise ValueError("the regression's baseline_days must be whole weeks, at least 14 (ESSENCE: 28)")
        return v


class SwitchRule(RegressionRule, _Smoothing):
    """ESSENCE's switch: the regression where its fit has adjusted R^2 >= 0.60, the EWMA elsewhere."""
    kind: Literal["switch"]


class SupplyCoverRule(_RegionRule):
    """Days of cover of one item in a region's open supply points: `total` (their stock over their
    daily consumption, what the region has) or `lowest` (the point closest to running out)."""
    kind: Literal["supply_cover"]
    item: str = Field(min_length=1)
    measure: Literal["total", "lowest"] = "total"


class RiskArrivalsRule(_RegionRule):
    """People arriving from risk areas (stayed there, or not known) over the last window_days."""
    kind: Literal["risk_arrivals"]
    window_days: int = Field(default=14, ge=1)
    per_100k: bool = False


class SourceSilentRule(_Rule):
    """Minutes since a source last gave new data (last_change) or answered at all (last_success).

    A source has no region; its alert is on `region` (default: the first province of
    regions.yaml), so each watched source needs its own rule.
    """
    kind: Literal["source_silent"]
    source: str = Field(min_length=1)
    since: Literal["last_change", "last_success"] = "last_change"
    region: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _code_as_text(cls, data):
        if isinstance(data, dict) and isinstance(data.get("region"), int):
            data = {**data, "region": str(data["region"])}
        return data


# ---- published feeds (issue 10)
class DataMismatchRule(_Rule):
    """A data-quality warning: an aggregate source's rows do not add up to the publisher's own province
    total (sources.yaml `check_totals`). The value is |sitroom's sum - the published total| per province
    (`measure: percent`: as a percentage of the published total)."""
    kind: Literal["data_mismatch"]
    source: str = Field(min_length=1)
    metric: Literal["confirmed", "suspected", "asymptomatic", "cured", "dead"] = "confirmed"
    measure: Literal["absolute", "percent"] = "absolute"


RULE_KINDS = ("threshold", "ears", "ewma", "regression", "switch", "supply_cover", "risk_arrivals", "source_silent",
              "data_mismatch")
SERIES_KINDS = ("ears", "ewma", "regression", "switch")   # detectors on daily series (sitroom.detectors)
RuleConfig = Annotated[Union[ThresholdRule, EarsRule, EwmaRule, RegressionRule, SwitchRule, SupplyCoverRule,
                             RiskArrivalsRule, SourceSilentRule, DataMismatchRule], Field(discriminator="kind")]


class RulesConfig(Strict):
    rules: list[RuleConfig] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list) -> list:
        first: dict[str, int] = {}
        for i, r in enumerate(rules):
            if r.id in first:
                raise ValueError(f"rule ids must be unique; rules[{i}] repeats '{r.id}' of rules[{first[r.id]}]")
            first[r.id] = i
        return rules
