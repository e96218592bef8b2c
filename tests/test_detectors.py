"""EARS C1/C2/C3, EWMA, growth and doubling time against examples worked by hand."""
from __future__ import annotations

import math

import pytest

from sitroom import detectors as d

# A baseline worked once and reused: 2 4 3 5 3 4 7
#   sum 28, mean 4; deviations -2 0 -1 1 -1 0 3, squares 4 0 1 1 1 0 9 = 16
#   sample variance 16 / 6 = 2.6667, sd = sqrt(2.6667) = 1.63299
BASE = [2, 4, 3, 5, 3, 4, 7]
SD = math.sqrt(16 / 6)


def test_mean_and_sample_sd():
    m, sd = d.mean_sd(BASE)
    assert m == 4 and sd == pytest.approx(1.632993, abs=1e-6)


def test_c1_the_seven_days_before_today():
    # today 12: C1 = (12 - 4) / 1.63299 = 4.89898
    assert d.ears_c1(BASE + [12]) == pytest.approx(8 / SD) == pytest.approx(4.898979, abs=1e-6)
    # only the last 8 days count: anything older changes nothing
    assert d.ears_c1([100, 100] + BASE + [12]) == pytest.approx(4.898979, abs=1e-6)
    assert d.ears_c1(BASE) is None   # 7 days: no baseline for the 7th


def test_c2_lags_the_baseline_by_two_days():
    # series: 2 4 3 5 3 4 7 | 9 10 | 12 -> baseline = the first 7 (mean 4, sd 1.63299), the 9 and 10
    # in the guard band are left out: C2 = (12 - 4) / 1.63299 = 4.89898 (C1 uses them).
    assert d.ears_c2(BASE + [9, 10, 12]) == pytest.approx(4.898979, abs=1e-6)
    # C1's baseline is 3 5 3 4 7 9 10: mean 41/7 = 5.857, sum of squares 9+25+9+16+49+81+100 = 289,
    # squared deviations 289 - 41^2/7 = 48.857, sd = sqrt(48.857 / 6) = 2.8536, C1 = 6.143 / 2.8536 = 2.1527
    c1 = d.ears_c1(BASE + [9, 10, 12])
    assert c1 == pytest.approx((12 - 41 / 7) / math.sqrt((289 - 41 ** 2 / 7) / 6)) == pytest.approx(2.1527, abs=1e-4)
    assert d.ears_c2(BASE + [1, 12]) is None


def test_c3_sums_c2_over_three_days_minus_one_each():
    # nine days of 5, then 6, 8, 11; sd 0 -> the floor 1 is used
    #   C2 today     (11): baseline days 3-9 all 5 -> (11 - 5) / 1 = 6 -> term 6 - 1 = 5
    #   C2 yesterday  (8): baseline days 2-8 all 5 -> (8 - 5) / 1 = 3  -> term 2
    #   C2 day before (6): baseline days 1-7 all 5 -> (6 - 5) / 1 = 1  -> term max(0, 0) = 0
    #   C3 = 5 + 2 + 0 = 7
    assert d.ears_c3([5] * 9 + [6, 8, 11], sd_floor=1) == pytest.approx(7)
    # a negative C2 contributes nothing, not a negative term
    assert d.ears_c3([5] * 9 + [0, 0, 11], sd_floor=1) == pytest.approx(5)
    assert d.ears_c3([5] * 11) is None


def test_sd_floor_keeps_a_flat_baseline_from_firing_on_one_case():
    flat = [0] * 7
    assert d.ears_c1(flat + [1], sd_floor=1) == 1          # (1 - 0) / max(0, 1): below any sensible threshold
    assert d.ears_c1(flat + [1], sd_floor=0.5) == 2
    assert d.ears_c1(flat + [6], sd_floor=2) == 3           # six cases out of nothing do fire at 3
    assert d.ears_c1(BASE + [12], sd_floor=2) == pytest.approx(4.0)   # sd 1.633 < floor 2: (12 - 4) / 2
    assert d.ewma([0] * 10 + [1], smoothing=1, baseline=7, guard=3, sd_floor=1) == pytest.approx(1)


def test_ewma_against_the_baseline_with_a_guard_band():
    # baseline 2 4 3 5 3 4 7 (mean 4, sd 1.63299), guard days 6 8, today 10, lambda 0.5:
    #   z starts at 4; z = .5*6 + .5*4 = 5; z = .5*8 + .5*5 = 6.5; z = .5*10 + .5*6.5 = 8.25
    #   sd of the EWMA = 1.63299 * sqrt(.5 / 1.5) = 0.942809
    #   statistic = (8.25 - 4) / 0.942809 = 4.507806
    got = d.ewma(BASE + [6, 8, 10], smoothing=0.5, baseline=7, guard=2, sd_floor=1)
    assert got == pytest.approx(4.25 / (SD * math.sqrt(1 / 3))) == pytest.approx(4.507806, abs=1e-6)
    assert d.ewma(BASE + [6, 8], smoothing=0.5, baseline=7, guard=2) is None


def test_growth_and_doubling_time():
    assert d.growth(150, 100) == pytest.approx(50)           # (150 / 100 - 1) * 100
    assert d.growth(50, 100) == pytest.approx(-50)
    assert d.growth(5, 0) is None and d.growth(30, 4, min_count=10) is None
    # 7-day windows: twice as many -> doubles in 7 days; four times -> 7 ln2 / ln4 = 3.5 days
    assert d.doubling_time(200, 100, 7) == pytest.approx(7)
    assert d.doubling_time(400, 100, 7) == pytest.approx(3.5)
    assert d.doubling_time(100, 100, 7) is None and d.doubling_time(90, 100, 7) is None
    assert d.doubling_time(40, 10, 7, min_count=20) is None
