"""The trends page's computations, checked against numbers worked out by hand."""
import math
from datetime import date

import pytest
from scipy.stats import chi2

from sitroom import trends as tr


def test_seven_day_average_leaves_out_todays_partial_day():
    days = [7, 7, 7, 7, 7, 7, 14, 1]   # the last day is today, 1 case so far this morning
    assert tr.seven_day_average(days) == [None] * 6 + [8.0, 50 / 7]   # today's 1 drags it down
    # marked partial, today has no average: yesterday's (7+..+7+14)/7 = 8 is the newest
    assert tr.seven_day_average(days, partial=True) == [None] * 6 + [8.0, None]


def test_average_on_calendar_days_without_today():
    first, today = date(2026, 3, 1), date(2026, 3, 10)
    counts = {date(2026, 3, d): n for d, n in [(1, 7), (3, 14), (7, 7), (9, 21), (10, 1)]}   # days 2, 4-6, 8: none
    # 3-3..3-9: 14 + 7 + 21 = 42 over 7 days = 6 (a missing day counts 0, not skipped)
    assert tr.average_on(counts, date(2026, 3, 9), first, today) == 6.0
    assert tr.average_on(counts, date(2026, 3, 7), first, today) == 4.0     # 3-1..3-7: 28 / 7
    assert tr.average_on(counts, date(2026, 3, 6), first, today) is None    # 6 days known behind it
    assert tr.average_on(counts, today, first, today) is None               # today is partial


def test_incidence_per_100k_and_no_population():
    days = [10] * 7
    # 70 cases in 7 days in 350,000 people: 70 / 350000 x 100000 = 20
    assert tr.incidence_per_100k(days, 350_000)[-1] == pytest.approx(20.0)
    assert tr.incidence_per_100k(days, None) == [None] * 7


def test_week_growth():
    days = [1] * 7 + [2] * 7   # 7 cases, then 14: +100 %
    g = tr.week_growth(days)
    assert g[-1] == pytest.approx(100.0) and g[:7] == [None] * 7
    assert tr.week_growth([0] * 7 + [5] * 7)[-1] is None   # from nothing: no percentage


def test_doubling_time():
    cum = [100] * 7 + [100, 110, 120, 130, 140, 150, 200]
    # C_t = 200, C_t-7 = 100: doubled in exactly 7 days
    assert tr.doubling_time(cum)[-1] == pytest.approx(7.0)
    # 7 ln2 / ln(150/100) = 4.852 / 0.4055 = 11.97 days
    assert tr.doubling_time(cum[:-1])[-1] == pytest.approx(7 * math.log(2) / math.log(1.5))
    assert tr.doubling_time([5] * 14)[-1] is None           # no growth: no doubling
    assert tr.doubling_time(cum, partial=True)[-1] is None  # today is not complete


def test_serial_interval_is_a_distribution_with_its_mean():
    w = tr.serial_interval(4.7, 2.9)
    assert sum(w) == pytest.approx(1.0)
    assert sum((s + 1) * x for s, x in enumerate(w)) == pytest.approx(4.7, abs=0.1)


def test_rt_cori_one_day_worked_out():
    """10 cases a day on days 0..8, serial interval w1 = w2 = 0.5 (mean 1.5 days), window 7 days,
    prior Gamma(shape 1, scale 5).

    Total infectiousness Λ_t = Σ_s I_(t-s) w_s: Λ_0 = 0, Λ_1 = 10 x 0.5 = 5, Λ_2..8 = 10 x 0.5 + 10 x 0.5 = 10.
    Day 8's window is days 2..8 (it begins 2 >= ceil(1.5) days after the first case, with 20 >= 12
    cases seen before it): Σ I = 7 x 10 = 70, Σ Λ = 7 x 10 = 70.
    Posterior Gamma(shape 1 + 70 = 71, scale 1 / (1/5 + 70) = 1/70.2): mean 71 / 70.2 = 1.01140;
    its quantiles are chi2(2 x 71) / (2 x 70.2).
    Day 7's window (days 1..7) begins 1 day after the first case, with 10 cases seen: no estimate.
    """
    rt = tr.rt_cori([10] * 9, [0.5, 0.5])
    assert rt[:8] == [None] * 8
    day8 = rt[8]
    assert day8.cases == 70
    assert day8.mean == pytest.approx(71 / 70.2)
    assert day8.low == pytest.approx(chi2.ppf(0.025, 142) / 140.4)
    assert day8.high == pytest.approx(chi2.ppf(0.975, 142) / 140.4)
    assert day8.low == pytest.approx(0.7899, abs=1e-4) and day8.high == pytest.approx(1.2598, abs=1e-4)


def test_rt_growing_epidemic_above_one_and_partial_day_left_out():
    cases = [round(5 * 1.1 ** d) for d in range(30)]
    rt = tr.rt_cori(cases, tr.serial_interval(4.7, 2.9), partial=True)
    assert rt[-1] is None
    assert rt[-2].low > 1
    assert tr.rt_cori([0] * 10, [1.0])[-1] is None   # no one infectious: no estimate


def test_days_before_the_first_report_are_used_by_no_figure():
    """A region first reporting on day 3 (None before): no 7-day figure reads days 0-2 as zeros."""
    new = [None, None, None, 5, 5, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10, 10, 10, 10]
    sums = tr.week_sums(new)
    assert sums[:9] == [None] * 9 and sums[9] == 35.0     # days 3..9: the first full week of reports
    assert tr.seven_day_average(new)[8] is None            # (0 + 0 + 0 + 5 x 4) / 7 before the fix
    assert tr.incidence_per_100k(new, 100_000)[9] == pytest.approx(35.0)
    growth = tr.week_growth(new)
    assert growth[15] is None and growth[16] == pytest.approx((70 - 35) / 35 * 100)   # days 10-16 vs 3-9
    cum = [None, None, None, 5, 10, 15, 20, 25, 30, 35, 45]
    assert tr.doubling_time(cum)[:10] == [None] * 10       # C_t-7 on day 9 is missing, not 0
    assert tr.doubling_time(cum)[10] == pytest.approx(7 * math.log(2) / math.log(45 / 5))   # day 10 over day 3
    # Rt: estimated from the first report on, as the series without its missing days
    w = tr.serial_interval(4.7, 2.9)
    series = [None] * 5 + [3, 4, 6, 8, 10, 13, 15, 18, 22, 25, 30, 33, 38, 40, 44, 50, 52]
    got = tr.rt_cori(series, w)
    assert got[:5] == [None] * 5 and got[5:] == tr.rt_cori(series[5:], w)
    assert any(e is not None for e in got)
