"""Pure computations for the leaders' trends page: 7-day averages, incidence, growth,
doubling time and the reproduction number Rt by the Cori method. No database here.

Series are lists of daily values, oldest first; the last day may be today's partial day
(`partial=True`): it is never part of an average, a sum over 7 days or an Rt window, so a
figure does not sag every afternoon while today's reports are still coming in.
A value that cannot be computed is None (too little history, no population, no growth).
A day may be None in the input too: before the region's first report (missing, not zero; see
sitroom.series.daily). No figure reads it: a 7-day sum, growth or doubling time whose days
include one is None, and Rt's series starts at the first report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

WEEK = 7


def _complete(values: list[float], partial: bool) -> int:
    """How many leading days are complete."""
    return len(values) - 1 if partial and values else len(values)


def week_sums(values: list[float], partial: bool = False) -> list[float | None]:
    """Sum of the 7 complete days ending on each day (None before 7 days of history or on the partial day)."""
    n = _complete(values, partial)
    out: list[float | None] = [None] * len(values)
    for i in range(WEEK - 1, n):
        week = values[i - WEEK + 1:i + 1]
        if None not in week:
            out[i] = float(sum(week))
    return out


def seven_day_average(values: list[float], partial: bool = False) -> list[float | None]:
    return [None if s is None else s / WEEK for s in week_sums(values, partial)]


def average_on(counts: dict[date, float], day: date, first: date, today: date) -> float | None:
    """The 7-day average ending on `day` of per-day counts (days without a count are 0), over
    complete days known from `first` on: None for today (partial) and for days with fewer than 7
    known days behind them."""
    if day >= today or (day - first).days < WEEK - 1:
        return None
    return sum(counts.get(day - timedelta(days=i), 0) for i in range(WEEK)) / WEEK


def incidence_per_100k(values: list[float], population: int | None, partial: bool = False) -> list[float | None]:
    """New cases in the last 7 complete days per 100,000 people; None without a population
    (counties have no census figure here: none is invented)."""
    if not population:
        return [None] * len(values)
    return [None if s is None else s * 100_000 / population for s in week_sums(values, partial)]


def week_growth(values: list[float], partial: bool = False) -> list[float | None]:
    """Week-on-week growth in %: (this 7 days - the 7 before) / the 7 before x 100; None when the
    week before had no cases (growth from nothing has no percentage)."""
    sums = week_sums(values, partial)
    out: list[float | None] = [None] * len(values)
    for i in range(WEEK, len(values)):
        now, before = sums[i], sums[i - WEEK]
        if now is not None and before:
            out[i] = (now - before) / before * 100
    return out


def doubling_time(cumulative: list[float], partial: bool = False) -> list[float | None]:
    """Days for the cumulative count to double at the growth of the last 7 complete days:
    7 x ln 2 / ln(C_t / C_t-7). None when C_t-7 is 0 or nothing grew (no doubling)."""
    n = _complete(cumulative, partial)
    out: list[float | None] = [None] * len(cumulative)
    for i in range(WEEK, n):
        now, before = cumulative[i], cumulative[i - WEEK]
        if before is not None and now is not None and before > 0 and now > before:
            out[i] = WEEK * math.log(2) / math.log(now / before)
    return out


# ------------------------------------------------------------------------------------ Rt (Cori)
# Cori A, Ferguson NM, Fraser C, Cauchemez S. A new framework and software to estimate
# time-varying reproduction numbers during epidemics. Am J Epidemiol 2013;178(9):1505-1512.
# With a Gamma(a, scale b) prior on R and Poisson incidence I_t ~ Pois(R Λ_t), where
# Λ_t = Σ_s I_{t-s} w_s is the total infectiousness, the posterior of R over the window of
# days t-k+1..t is Gamma(shape a + Σ I, scale 1 / (1/b + Σ Λ)).
PRIOR_SHAPE = 1.0   # Cori et al.'s (and EpiEstim's) default prior: mean 5, sd 5
PRIOR_SCALE = 5.0
# When not to estimate (EpiEstim's guidance after Cori et al.): before at least 12 cases were seen
# since the start of the series, and for windows that begin less than one mean serial interval
# after the first case (the infectors of those cases are not in the data).
MIN_CASES_BEFORE = 12


def serial_interval(mean: float, sd: float, max_days: int | None = None) -> list[float]:
    """Discretised serial interval w_1..w_n from a gamma distribution with this mean and sd:
    w_s = F(s + 1/2) - F(s - 1/2), the probability that the interval rounds to s days, renormalised
    over 1..n (a serial interval of 0 days cannot be counted by day; n: where the tail left is
    below 0.1 %). Index 0 of the result is w_1."""
    from scipy.stats import gamma
    shape, scale = (mean / sd) ** 2, sd ** 2 / mean
    n = max_days or max(2, math.ceil(gamma.ppf(0.999, shape, scale=scale)))
    w = [gamma.cdf(s + .5, shape, scale=scale) - gamma.cdf(s - .5, shape, scale=scale) for s in range(1, n + 1)]
    total = sum(w)
    return [x / total for x in w]


@dataclass(frozen=True)
class RtEstimate:
    mean: float
    low: float      # 2.5 % quantile of the posterior
    high: float     # 97.5 %
    cases: float    # cases in the window (few cases: a wide interval)


def rt_cori(incidence: list[float], w: list[float], partial: bool = False, window: int = WEEK,
            prior_shape: float = PRIOR_SHAPE, prior_scale: float = PRIOR_SCALE,
            min_cases_before: float = MIN_CASES_BEFORE) -> list[RtEstimate | None]:
    """Rt for each day over the `window` complete days ending on it. None when the window begins
    before MIN_CASES_BEFORE cases or within one mean serial interval of the first case, or when its
    total infectiousness is 0 (no one infectious); None on the missing days before the series'
    first report (the series is estimated from there on) and for a window with a missing day."""
    start = next((i for i, v in enumerate(incidence) if v is not None), len(incidence))
    if start:
        return [None] * start + rt_cori(incidence[start:], w, partial, window, prior_shape, prior_scale,
                                        min_cases_before)
    if None in incidence:   # a missing day later on: it infects no one in Λ, and no window holding it is estimated
        est = rt_cori([v or 0.0 for v in incidence], w, partial, window, prior_shape, prior_scale, min_cases_before)
        gaps = [i for i, v in enumerate(incidence) if v is None]
        return [None if any(t - window < g <= t for g in gaps) else e for t, e in enumerate(est)]
    from scipy.stats import gamma
    n = _complete(incidence, partial)
    lam = [sum(incidence[t - s] * w[s - 1] for s in range(1, min(t, len(w)) + 1)) for t in range(len(incidence))]
    mean_si = math.ceil(sum((s + 1) * x for s, x in enumerate(w)))
    first_case = next((i for i, v in enumerate(incidence) if v > 0), len(incidence))
    seen = [0.0]
    for v in incidence:
        seen.append(seen[-1] + v)   # seen[i]: cases before day i
    out: list[RtEstimate | None] = [None] * len(incidence)
    for t in range(window, n):   # day 0 has no infectiousness of its own: windows start at day 1
        begin = t - window + 1
        if seen[begin] < min_cases_before or begin - first_case < mean_si:
            continue
        cases = sum(incidence[t - window + 1:t + 1])
        infectious = sum(lam[t - window + 1:t + 1])
        if infectious <= 0:
            continue
        shape, scale = prior_shape + cases, 1 / (1 / prior_scale + infectious)
        out[t] = RtEstimate(shape * scale, float(gamma.ppf(0.025, shape, scale=scale)),
                            float(gamma.ppf(0.975, shape, scale=scale)), cases)
    return out
