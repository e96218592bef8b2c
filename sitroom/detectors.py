"""Aberration detectors and growth figures on daily counts: pure functions, no store.

A series is a list of daily counts, oldest first, whose last item is the day being
judged ("today"). A detector returns None when the series is too short to judge.

EARS (CDC Early Aberration Reporting System), with s = max(sample sd, sd_floor):
  C1 = (x_t - mean(x_{t-7..t-1})) / s            baseline: the 7 days before today
  C2 = (x_t - mean(x_{t-9..t-3})) / s            the same, 2 days of lag (guard band)
  C3 = sum over i = 0, 1, 2 of max(0, C2_{t-i} - 1)
The floor keeps a flat baseline (sd 0) from turning one case into an infinite statistic.

EWMA like ESSENCE: baseline = `baseline` days ending `guard` days before today, its mean m
and sample sd s (floored); the smoothed value starts at m and takes in the guard days and
today, z <- lam * x + (1 - lam) * z; statistic = (z - m) / (s * sqrt(lam / (2 - lam))), the
denominator being the standard deviation of an EWMA of independent days with sd s.
"""
from __future__ import annotations

import math
from typing import Sequence


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1), as EARS uses."""
    n = len(values)
    m = sum(values) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return m, sd


def _z(x: float, baseline: Sequence[float], sd_floor: float) -> float:
    m, sd = mean_sd(baseline)
    return (x - m) / max(sd, sd_floor)


def ears_c1(series: Sequence[float], sd_floor: float = 1.0) -> float | None:
    if len(series) < 8:
        return None
    return _z(series[-1], series[-8:-1], sd_floor)


def ears_c2(series: Sequence[float], sd_floor: float = 1.0) -> float | None:
    if len(series) < 10:
        return None
    return _z(series[-1], series[-10:-3], sd_floor)


def ears_c3(series: Sequence[float], sd_floor: float = 1.0) -> float | None:
    if len(series) < 12:
        return None
    terms = [ears_c2(series[:len(series) - i], sd_floor) for i in range(3)]
    return sum(max(0.0, c - 1) for c in terms)


EARS = {"C1": ears_c1, "C2": ears_c2, "C3": ears_c3}
EARS_DAYS = {"C1": 8, "C2": 10, "C3": 12}  # days of series each needs, today included


def ewma(series: Sequence[float], smoothing: float = 0.4, baseline: int = 28, guard: int = 2,
         sd_floor: float = 1.0) -> float | None:
    if len(series) < baseline + guard + 1:
        return None
    recent = series[len(series) - guard - 1:]
    m, sd = mean_sd(series[len(series) - guard - 1 - baseline:len(series) - guard - 1])
    z = m
    for x in recent:
        z = smoothing * x + (1 - smoothing) * z
    return (z - m) / (max(sd, sd_floor) * math.sqrt(smoothing / (2 - smoothing)))


def growth(current: float, previous: float, min_count: float = 0) -> float | None:
    """Growth of the current window over the previous one, in percent; None without a base."""
    if previous <= 0 or previous < min_count:
        return None
    return (current / previous - 1) * 100


def doubling_time(current: float, previous: float, window_days: float, min_count: float = 0) -> float | None:
    """Days to double at the growth seen between two consecutive windows of new cases.

    Exponential growth at rate r per day multiplies a window's count by e^(r * window_days),
    so Td = window_days * ln 2 / ln(current / previous). None when not growing (no doubling).
    """
    if previous <= 0 or previous < min_count or current <= previous:
        return None
    return window_days * math.log(2) / math.log(current / previous)
