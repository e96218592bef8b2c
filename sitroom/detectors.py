"""Aberration detectors on daily counts: ESSENCE's EWMA, adaptive regression and switch, CDC's
EARS C1-C3, and the growth figures. Pure functions, no store.

A series is a row of daily values, oldest first, one column per calendar day. NaN is a day
without a report: the days before a series' first report and a day a daily reporter missed
(sitroom.series decides which days those are). A missing day is never read as zero: it is left
out of every baseline and of the smoothed value, and is itself not judged. Every detector takes a
2-D array (regions x days) and judges each day it can, so the rules judge ~300 regions in one
pass; `sitroom detect` passes one row. Each returns a `Judgement`: per day the baseline's
expected value, the statistic, the one-sided p-value and ESSENCE's colour: grey (no baseline:
"insufficient data"), blue, yellow (p < 0.05), red (p < 0.01).

ESSENCE (sources followed, line by line): CDC NSSP's R package Rnssp 0.3.x, R/alert_ewma.R
(`ewma_loop`), R/alert_regression.R (`adaptive_regression` and the wrapper's 7-day-average
check), R/alert_switch.R, and its reference pages (cdcgov.github.io/Rnssp/reference/alert_ewma,
alert_regression, alert_switch), which describe NSSP-ESSENCE's detectors; the numbers in
tests/test_detectors.py were checked against Rnssp run on the same series.
  EWMA: two arms, w = 0.4 (gradual events) and 0.9 (sudden ones, close to C2), each one EWMA
    z_t = w*y_t + (1-w)*z_{t-1} carried over the whole series from its first report (z_1 = y_1).
    Baseline: the B = 28 days ending g = 2 days (guard band) before the judged day; while a series
    is young it is every day from the first report, from 7 days on (fewer: grey). With n baseline
    days, mean m and sample sd s, degrees of freedom n - 1, t99/t95 = qt(0.99 / 0.95, n - 1)
    rounded to 5 decimals as Rnssp does:
      sigma = max(min_sigma, s * corr + c), corr = sqrt(w/(2-w) + 1/n - 2(1-w)^(g+1) (1-(1-w)^n)/n),
      c = (0.1289 - (0.2414 - 0.1826 (1-w)^4) ln(10 * 0.05)) * w / t95,
      min_sigma = (w / t95) * (0.01 + 0.05 (1-w)^2);
      statistic = (z_t - m) / sigma; p = 1 - pt(statistic, n - 1); when |statistic| > t99 the
      smoothed value is clipped to m +- t99 * sigma, so a surge is not carried on for days after.
    The arm with the smaller p-value is reported (a tie: the 0.9 arm, as Rnssp).
  Regression: least squares on the baseline (28 days before the guard band; from 11 days on) of
    y = b0 + b1*t + Mon..Sat indicators (Sunday the reference); expected = max(0, fit at the
    judged day); n_df = n - 8; sigma = max(sqrt(RSS / n_df) * sqrt((n+7)(n-4) / (n(n-7))),
    0.01 / t95(n_df)); statistic = (y - expected) / sigma; p = 1 - pt(statistic, n_df). A yellow
    or red day whose count is below its 7-day average (a weekend day: and below the average of
    its last 7 same weekdays) is blue, as alert_regression does.
  Switch: the regression where its baseline fit has adjusted R^2 >= 0.60, the EWMA elsewhere.
Where sitroom deliberately differs from Rnssp:
  - a missing day (NaN) is left out: of the baseline (n counts reported days, so the degrees of
    freedom drop), of the regression's fit (the time index stays the calendar day), of the EWMA
    (z is carried over it) and of the 7-day averages (a window with a missing day checks nothing,
    as Rnssp's NA does); Rnssp has no missing days (ESSENCE sends zeros).
  - a regression baseline that lacks a weekday (gaps) cannot be fitted: grey, not an NA forecast.
  - Rnssp scales a series of percentages below 1 by its median; sitroom's metrics are counts.
  - the 7-day-average check leaves a grey day grey (Rnssp's ungrouped path turns some blue).
  - p-values are Student's t upper tail from scipy (`stdtr(df, -x)`), exact where Rnssp's 1 - pt
    rounds to 0; so where both EWMA arms round to 0 in R (a statistic above ~8), Rnssp reports the
    0.9 arm and sitroom the arm with the truly smaller p (the colour is red either way).
  - the rules set levels with `value <= cut-off` on p-values (ESSENCE: p < 0.05); p equal to a
    cut-off has probability 0 for a continuous statistic.
  - the alert_switch page says its EWMA uses 0.4 only; its code runs both arms, and so does sitroom.

EARS (CDC's Early Aberration Reporting System; Hutwagner et al., J Urban Health 2003;80(2 Suppl
1):i89-i96; Fricker et al., Stat Med 2008;27:3407-29), with s = max(sample sd, sd_floor):
  C1 = (y_t - mean(y_{t-7..t-1})) / s;  C2 = the same on y_{t-9..t-3} (2 guard days);
  C3 = sum over i = 0, 1, 2 of max(0, C2_{t-i} - 1). CDC flags C1 and C2 at 3, C3 at 2.
  The 7-day baseline needs `min_baseline` reported days (default all 7). sd_floor may be 0: a
  flat baseline (sd 0) then gives +inf for any count above its mean (an alarm on one case, as
  mean + 3 * 0 is exceeded), 0 for a count equal to it and -inf below. C3 needs today's C2; an
  earlier day without one adds nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import special

RED_P, YELLOW_P = 0.01, 0.05          # ESSENCE's red and yellow (Rnssp alert_ewma / alert_regression)
EWMA_ARMS = (0.4, 0.9)                # Rnssp alert_ewma defaults w1, w2
EWMA_MIN_BASELINE = 7                 # Rnssp ewma_loop min_baseline (0.3.x; earlier versions 11)
REGRESSION_MIN_BASELINE = 11          # Rnssp adaptive_regression min_baseline
SWITCH_R2 = 0.60                      # Rnssp alert_switch: regression where adjusted R^2 >= 0.60
EARS_ALARM = {"C1": 3.0, "C2": 3.0, "C3": 2.0}   # CDC EARS flags (Hutwagner et al. 2003)
EARS_LAG = {"C1": 0, "C2": 2, "C3": 2}
EARS_BASELINE = 7
METHODS = ("ewma", "regression", "switch", "c1", "c2", "c3")


@dataclass(frozen=True)
class Detection:
    """One day's judgement. `alert`: grey | blue | yellow | red (EARS: grey | blue | red)."""
    expected: float | None
    statistic: float | None
    p_value: float | None
    alert: str
    detector: str | None = None       # switch: which detector judged the day

    @property
    def judged(self) -> bool:
        return self.alert != "grey"


@dataclass
class Judgement:
    """Every day of every row: arrays of shape (rows, days), NaN where not judged."""
    expected: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    alert: np.ndarray                 # object array of colour names
    detector: np.ndarray | None = None
    r2_adj: np.ndarray | None = None

    def at(self, row: int, day: int = -1) -> Detection:
        def f(a):
            v = float(a[row, day])
            return None if math.isnan(v) else v
        det = None if self.detector is None else self.detector[row, day]
        return Detection(f(self.expected), f(self.statistic), f(self.p_value), str(self.alert[row, day]), det)


def _columns(n_days: int, days: Sequence[int] | None) -> np.ndarray:
    """A mask of the columns `days` (all with None)."""
    mask = np.zeros(n_days, dtype=bool)
    mask[slice(None) if days is None else list(days)] = True
    return mask


def _rows(y) -> np.ndarray:
    a = np.array(y, dtype=float)
    return a[None, :] if a.ndim == 1 else a


def essence_colour(p: np.ndarray) -> np.ndarray:
    out = np.full(p.shape, "grey", dtype=object)
    ok = ~np.isnan(p)
    out[ok] = "blue"
    out[ok & (p < YELLOW_P)] = "yellow"
    out[ok & (p < RED_P)] = "red"
    return out


def t_upper(stat, df):
    """One-sided p-value P(T > stat) of Student's t with df degrees of freedom (1 - pt in R)."""
    return special.stdtr(df, -np.asarray(stat, dtype=float))


def t_quantile(q: float, df):
    """qt(q, df) for whole degrees of freedom, rounded to 5 decimals as Rnssp rounds its control
    limits; from a table per q (the rules ask for it on every region and day)."""
    dfs = np.asarray(df, dtype=int)
    top = int(dfs.max()) if dfs.size else 1
    table = _t_table(q, 1 << max(6, top.bit_length()))
    return table[dfs]


@lru_cache(maxsize=None)
def _t_table(q: float, size: int) -> np.ndarray:
    return np.round(special.stdtrit(np.arange(size + 1).clip(1), q), 5)


def baseline_windows(y: np.ndarray, days: int, guard: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every day i: (n, mean, sample sd) of the reported values on days i-guard-days .. i-guard-1."""
    rows, n_days = y.shape
    padded = np.concatenate([np.full((rows, days + guard), np.nan), y], axis=1)
    win = sliding_window_view(padded, days, axis=1)[:, :n_days]       # win[:, i] = days i-g-B .. i-g-1
    have = ~np.isnan(win)
    n = have.sum(axis=-1)
    with np.errstate(all="ignore"):
        mean = np.where(have, win, 0).sum(axis=-1) / n
        dev = np.where(have, win - mean[..., None], 0)
        sd = np.sqrt((dev ** 2).sum(axis=-1) / (n - 1))                 # two passes: a flat baseline is exactly 0
    return n, np.where(n > 0, mean, np.nan), np.where(n > 1, sd, np.nan)


# ------------------------------------------------------------------ ESSENCE EWMA
def ewma(y, baseline: int = 28, guard: int = 2, arms: Sequence[float] = EWMA_ARMS,
         min_baseline: int = EWMA_MIN_BASELINE, days: Sequence[int] | None = None) -> Judgement:
    """`days`: the columns to give a judgement on (default all; the smoothed value runs over every day)."""
    y = _rows(y)
    rows, n_days = y.shape
    n, mean, sd = baseline_windows(y, baseline, guard)
    judged = (n >= min_baseline) & ~np.isnan(y)
    report = judged & _columns(n_days, days)
    dof = np.maximum(n - 1, 1)
    t99, t95 = t_quantile(0.99, dof), t_quantile(0.95, dof)
    best_stat = np.full((rows, n_days), np.nan)
    best_p = np.full((rows, n_days), np.nan)
    with np.errstate(all="ignore"):
        for w in arms:
            corr = np.sqrt(w / (2 - w) + 1 / n - 2 * (1 - w) ** (guard + 1) * ((1 - (1 - w) ** n) / n))
            const = (0.1289 - (0.2414 - 0.1826 * (1 - w) ** 4) * math.log(10 * 0.05)) * (w / t95)
            sigma = np.maximum((w / t95) * (0.01 + 0.05 * (1 - w) ** 2), sd * corr + const)
            stat = np.full((rows, n_days), np.nan)
            z = np.full(rows, np.nan)
            for i in range(n_days):
                x = y[:, i]
                z = np.where(np.isnan(x), z, np.where(np.isnan(z), x, w * x + (1 - w) * z))
                j = judged[:, i]
                if not j.any():
                    continue
                s = (z - mean[:, i]) / sigma[:, i]
                stat[j, i] = s[j]
                clip = j & (np.abs(s) > t99[:, i])
                z = np.where(clip, mean[:, i] + np.sign(s) * t99[:, i] * sigma[:, i], z)
            p = np.full((rows, n_days), np.nan)
            p[report] = t_upper(stat[report], dof[report])
            take = report & ~(best_p < p)          # the smaller p-value; a tie goes to the later arm
            best_stat = np.where(take, stat, best_stat)
            best_p = np.where(take, p, best_p)
    expected = np.where(report, mean, np.nan)
    return Judgement(expected, best_stat, best_p, essence_colour(best_p))


# ------------------------------------------------------------------ ESSENCE adaptive regression
def weekday_of(first_day: date, n_days: int) -> np.ndarray:
    """ISO weekday (1 Monday .. 7 Sunday) of each column."""
    return (first_day.isoweekday() - 1 + np.arange(n_days)) % 7 + 1


def regression(y, first_day: date, baseline: int = 28, guard: int = 2,
               min_baseline: int = REGRESSION_MIN_BASELINE, days: Sequence[int] | None = None) -> Judgement:
    """`first_day`: the date of column 0 (for the weekday terms); `days`: the columns to judge
    (default all; the rules judge only the last). The rows judged on one day share the design
    (intercept, trend, weekdays of the same baseline days), so the rows with the same reported
    baseline days (without gaps: all of them) are fitted together from one decomposition."""
    y = _rows(y)
    rows, n_days = y.shape
    dow = weekday_of(first_day, n_days)
    out = {k: np.full((rows, n_days), np.nan) for k in ("expected", "statistic", "df", "r2")}
    cols = range(n_days) if days is None else [d % n_days for d in days]
    for i in cols:
        lo, hi = max(0, i - guard - baseline), i - guard          # baseline columns lo .. hi-1
        if hi - lo < min_baseline:
            continue
        t = np.arange(lo, hi) - (i - guard - baseline)          # the calendar day's index; any origin fits alike
        design = np.column_stack([np.ones(hi - lo), t] + [(dow[lo:hi] == d).astype(float) for d in range(1, 7)])
        x_test = np.concatenate([[1.0, i - (i - guard - baseline)], [float(dow[i] == d) for d in range(1, 7)]])
        base = y[:, lo:hi]
        have = ~np.isnan(base)
        judged = ~np.isnan(y[:, i]) & (have.sum(axis=1) >= min_baseline)
        if not judged.any():
            continue
        for keep in np.unique(have[judged], axis=0):
            members = np.nonzero(judged & (have == keep).all(axis=1))[0]
            fit = _fit(base[members][:, keep], design[keep], x_test)
            if fit is None:
                continue                                        # a weekday missing from the baseline
            expected, sigma, n_df, r2_adj = fit
            out["expected"][members, i], out["df"][members, i], out["r2"][members, i] = expected, n_df, r2_adj
            out["statistic"][members, i] = (y[members, i] - expected) / sigma
    judged = ~np.isnan(out["statistic"])
    p_value = np.where(judged, t_upper(out["statistic"], np.where(judged, out["df"], 1)), np.nan)
    alert = essence_colour(p_value)
    _below_average_is_blue(y, dow, alert)
    return Judgement(out["expected"], out["statistic"], p_value, alert, r2_adj=out["r2"])


def _fit(obs: np.ndarray, X: np.ndarray, x_test: np.ndarray):
    """Least squares of each row of `obs` (rows x n baseline days) on the design X (n x 8), from one
    SVD of X as numpy's lstsq solves it; None where X lacks full rank (lstsq's rank test).
    Per row: (expected = max(0, fit at the judged day), sigma, n - 8 degrees of freedom, adjusted R^2)."""
    n, k = X.shape
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    if (s > s[0] * max(n, k) * np.finfo(float).eps).sum() < k:
        return None
    beta = (obs @ u / s) @ vt                                   # rows x k
    fit = beta @ X.T
    rss = ((obs - fit) ** 2).sum(axis=1)
    n_df = n - 8
    t95 = float(t_quantile(0.95, n_df))
    sigma = np.maximum(np.sqrt(rss / n_df) * math.sqrt((n + 7) * (n - 4) / (n * (n - 7))), 0.01 / t95)
    mss = ((fit - fit.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2_adj = 1 - (1 - mss / (rss + mss)) * ((n - 1) / n_df)
    return np.maximum(0.0, beta @ x_test), sigma, n_df, np.where(rss + mss > 0, r2_adj, 0.0)


def _below_average_is_blue(y: np.ndarray, dow: np.ndarray, alert: np.ndarray) -> None:
    """alert_regression's last step: a flag on a day below its 7-day average (today included) is
    dropped; on a Saturday or Sunday only if also below the average of its last 7 same weekdays."""
    rows, n_days = y.shape
    if n_days < 7:
        return
    ma7 = np.full((rows, n_days), np.nan)
    ma7[:, 6:] = sliding_window_view(y, 7, axis=1).mean(axis=-1)     # NaN when a day in it is missing
    with np.errstate(invalid="ignore"):
        below = (alert != "blue") & (alert != "grey") & (y < ma7)
    for i in np.nonzero(below.any(axis=0))[0]:
        for r in np.nonzero(below[:, i])[0]:
            if dow[i] in (6, 7):
                same = y[r, i::-7][:7]
                if len(same) < 7 or np.isnan(same).any() or not y[r, i] < same.mean():
                    continue
            alert[r, i] = "blue"


def switch(y, first_day: date, baseline: int = 28, guard: int = 2, arms: Sequence[float] = EWMA_ARMS,
           days: Sequence[int] | None = None) -> Judgement:
    """The regression where its fit explains the baseline (adjusted R^2 >= 0.60), else the EWMA."""
    reg = regression(y, first_day, baseline, guard, days=days)
    ew = ewma(y, baseline, guard, arms, days=days)
    use_reg = reg.r2_adj >= SWITCH_R2                 # NaN (not fitted) compares False: EWMA
    pick = lambda a, b: np.where(use_reg, a, b)       # noqa: E731
    detector = np.where(use_reg, "regression", np.where(ew.alert != "grey", "ewma", None))
    return Judgement(pick(reg.expected, ew.expected), pick(reg.statistic, ew.statistic),
                     pick(reg.p_value, ew.p_value), pick(reg.alert, ew.alert), detector, reg.r2_adj)


# ------------------------------------------------------------------ CDC EARS
def ears_days(method: str) -> int:
    """The days of series one day's C1 / C2 / C3 reads, that day included (C3: also its two days before)."""
    method = method.upper()
    return EARS_BASELINE + EARS_LAG[method] + (3 if method == "C3" else 1)


def ears(y, method: str, sd_floor: float = 0.0, min_baseline: int = EARS_BASELINE) -> Judgement:
    """C1 / C2 / C3; `alert` red where the statistic reaches CDC's flag (3, or 2 for C3)."""
    y = _rows(y)
    method = method.upper()
    n, mean, sd = baseline_windows(y, EARS_BASELINE, EARS_LAG[method])
    judged = (n >= min_baseline) & ~np.isnan(y)
    s = np.maximum(sd, sd_floor)
    with np.errstate(all="ignore"):
        diff = y - mean
        stat = np.where(s > 0, diff / s, np.sign(diff) * np.inf)       # sd 0: +-inf, or 0 for no change
        stat = np.where(judged, np.where(diff == 0, 0.0, stat), np.nan)
    if method == "C3":
        term = np.where(np.isnan(stat), 0.0, np.maximum(0.0, stat - 1))
        c3 = term.copy()
        c3[:, 1:] += term[:, :-1]
        c3[:, 2:] += term[:, :-2]
        stat = np.where(judged, c3, np.nan)
    nan = np.full(y.shape, np.nan)
    alert = np.full(y.shape, "grey", dtype=object)
    alert[judged] = "blue"
    alert[judged & (stat >= EARS_ALARM[method])] = "red"
    return Judgement(np.where(judged, mean, np.nan), stat, nan, alert)


def detect(method: str, y, first_day: date, baseline: int = 28, guard: int = 2, **kw) -> Judgement:
    """One entry point for the rules and `sitroom detect`: method ewma | regression | switch | c1 | c2 | c3."""
    method = method.lower()
    if method == "ewma":
        return ewma(y, baseline, guard, **kw)
    if method == "regression":
        return regression(y, first_day, baseline, guard, **kw)
    if method == "switch":
        return switch(y, first_day, baseline, guard, **kw)
    if method in ("c1", "c2", "c3"):
        return ears(y, method, **kw)
    raise ValueError(f"unknown method '{method}'; one of {', '.join(METHODS)}")


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1), as EARS and ESSENCE use."""
    n = len(values)
    m = sum(values) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return m, sd


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

