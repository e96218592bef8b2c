"""ESSENCE's EWMA, regression and switch, CDC's EARS C1-C3, growth and doubling time, against
examples worked by hand and numbers from the published implementations: CDC's Rnssp 0.3.x
(R/alert_ewma.R, alert_regression.R, alert_switch.R) and R's surveillance 1.20 `earsC`, each run on
the same series (their output is quoted below; the packages are not needed to run these tests)."""
from __future__ import annotations

import math

import pytest

from datetime import date

import numpy as np

from sitroom import detectors as d

# A baseline worked once and reused: 2 4 3 5 3 4 7
#   sum 28, mean 4; deviations -2 0 -1 1 -1 0 3, squares 4 0 1 1 1 0 9 = 16
#   sample variance 16 / 6 = 2.6667, sd = sqrt(2.6667) = 1.63299
BASE = [2, 4, 3, 5, 3, 4, 7]
SD = math.sqrt(16 / 6)


def c1(series, sd_floor=1.0):
    return d.ears(series, "C1", sd_floor).at(0).statistic


def c2(series, sd_floor=1.0):
    return d.ears(series, "C2", sd_floor).at(0).statistic


def c3(series, sd_floor=1.0):
    return d.ears(series, "C3", sd_floor).at(0).statistic


def test_mean_and_sample_sd():
    m, sd = d.mean_sd(BASE)
    assert m == 4 and sd == pytest.approx(1.632993, abs=1e-6)


def test_c1_the_seven_days_before_today():
    # today 12: C1 = (12 - 4) / 1.63299 = 4.89898
    assert c1(BASE + [12]) == pytest.approx(8 / SD) == pytest.approx(4.898979, abs=1e-6)
    # only the last 8 days count: anything older changes nothing
    assert c1([100, 100] + BASE + [12]) == pytest.approx(4.898979, abs=1e-6)
    assert c1(BASE) is None   # 7 days: no baseline for the 7th


def test_c2_lags_the_baseline_by_two_days():
    # series: 2 4 3 5 3 4 7 | 9 10 | 12 -> baseline = the first 7 (mean 4, sd 1.63299), the 9 and 10
    # in the guard band are left out: C2 = (12 - 4) / 1.63299 = 4.89898 (C1 uses them).
    assert c2(BASE + [9, 10, 12]) == pytest.approx(4.898979, abs=1e-6)
    # C1's baseline is 3 5 3 4 7 9 10: mean 41/7 = 5.857, sum of squares 9+25+9+16+49+81+100 = 289,
    # squared deviations 289 - 41^2/7 = 48.857, sd = sqrt(48.857 / 6) = 2.8536, C1 = 6.143 / 2.8536 = 2.1527
    got = c1(BASE + [9, 10, 12])
    assert got == pytest.approx((12 - 41 / 7) / math.sqrt((289 - 41 ** 2 / 7) / 6)) == pytest.approx(2.1527, abs=1e-4)
    assert c2(BASE + [1, 12]) is None


def test_c3_sums_c2_over_three_days_minus_one_each():
    # nine days of 5, then 6, 8, 11; sd 0 -> the floor 1 is used
    #   C2 today     (11): baseline days 3-9 all 5 -> (11 - 5) / 1 = 6 -> term 6 - 1 = 5
    #   C2 yesterday  (8): baseline days 2-8 all 5 -> (8 - 5) / 1 = 3  -> term 2
    #   C2 day before (6): baseline days 1-7 all 5 -> (6 - 5) / 1 = 1  -> term max(0, 0) = 0
    #   C3 = 5 + 2 + 0 = 7
    assert c3([5] * 9 + [6, 8, 11], sd_floor=1) == pytest.approx(7)
    # a negative C2 contributes nothing, not a negative term
    assert c3([5] * 9 + [0, 0, 11], sd_floor=1) == pytest.approx(5)
    assert c3([5] * 9) is None      # C2 needs 7 baseline days before 2 guard days


def test_growth_and_doubling_time():
    assert d.growth(150, 100) == pytest.approx(50)           # (150 / 100 - 1) * 100
    assert d.growth(50, 100) == pytest.approx(-50)
    assert d.growth(5, 0) is None and d.growth(30, 4, min_count=10) is None
    # 7-day windows: twice as many -> doubles in 7 days; four times -> 7 ln2 / ln4 = 3.5 days
    assert d.doubling_time(200, 100, 7) == pytest.approx(7)
    assert d.doubling_time(400, 100, 7) == pytest.approx(3.5)
    assert d.doubling_time(100, 100, 7) is None and d.doubling_time(90, 100, 7) is None
    assert d.doubling_time(40, 10, 7, min_count=20) is None


# ------------------------------------------------------------------ ESSENCE EWMA
def test_ewma_one_day_worked_out_and_as_rnssp_gives_it():
    # Series 2 4 3 5 3 4 7 | 6 8 | 10 (2024-01-01 ..): day 10 is judged against the 7 days before the
    # 2-day guard band: n = 7, mean m = 4, sd s = 1.632993, df 6; t95 = qt(.95, 6) = 1.94318.
    # Arm 0.4, z from y1 = 2: 2.8, 2.88, 3.728, 3.4368, 3.66208, 4.997248, 5.3983488, 6.43900928,
    #   z10 = .4 * 10 + .6 * 6.43900928 = 7.863405568
    #   corr = sqrt(.4/1.6 + 1/7 - 2 * .6^3 * (1 - .6^7) / 7) = sqrt(.392857 - .059988) = .576948
    #   c = (.1289 - (.2414 - .1826 * .6^4) * ln .5) * .4 / 1.94318 = .279823 * .205848 = .057601
    #   sigma = max(.0066, 1.632993 * .576948 + .057601) = .999753; statistic = 3.863406 / .999753 = 3.86436
    # Arm 0.9: z10 = 9.780692, corr = .980180, c = .137194, sigma = 1.737821, statistic = 3.32641,
    #   a larger p-value: the 0.4 arm is reported. p = 1 - pt(3.86436, 6) = 0.00416 < 0.01: red.
    # Rnssp alert_ewma(df, B = 7) on this series, day 10: 4, 3.86435177891704, 0.00416009324058031, red.
    got = d.ewma([2, 4, 3, 5, 3, 4, 7, 6, 8, 10]).at(0)
    assert got.expected == 4 and got.alert == "red"
    assert got.statistic == pytest.approx(3.86435177891704, rel=1e-12)
    assert got.p_value == pytest.approx(0.00416009324058031, rel=1e-10)
    assert d.ewma([2, 4, 3, 5, 3, 4, 7, 6, 8, 10]).at(0, 8).alert == "grey"     # 6 baseline days: too few


# 60 days, 2024-01-01 .., a five-day surge on days 46-50 (2024-02-15 .. 02-19)
S1 = [18, 24, 23, 17, 20, 24, 22, 25, 24, 16, 24, 15, 22, 19, 23, 18, 18, 22, 23, 23, 22, 21, 25, 17, 18, 25, 17,
      23, 21, 15, 25, 16, 17, 24, 15, 19, 15, 19, 22, 24, 21, 21, 21, 24, 22, 47, 50, 46, 45, 47, 22, 18, 19, 25,
      21, 25, 19, 21, 23, 21]
# Rnssp alert_ewma(df) (B 28, g 2, w 0.4 / 0.9) on S1, 2024-02-14 .. 02-20: statistic, p-value, colour
RNSSP_S1 = [(1.0338348880079, 0.155192538908737, "blue"), (7.73130447436936, 1.29069904764023e-08, "red"),
            (8.59805320167843, 1.63241697936911e-09, "red"), (7.48370050636158, 2.37210315834346e-08, "red"),
            (3.86043859432928, 0.000319741515437677, "red"), (3.28393013986878, 0.00141673763853789, "red"),
            (1.09201398413446, 0.142237847742867, "blue")]


def test_ewma_over_a_surge_matches_rnssp_red_on_day_one_and_blue_after():
    j = d.ewma(S1)
    for k, (stat, p, colour) in enumerate(RNSSP_S1):
        got = j.at(0, 44 + k)
        assert (got.statistic, got.p_value, got.alert) == (pytest.approx(stat, rel=1e-9),
                                                           pytest.approx(p, rel=1e-6), colour), k
    assert j.at(0, 45).alert == "red"                        # the surge's first day
    # The day after the surge ends is blue again: the smoothed values were clipped to the control limit
    # while the surge ran, so it is not carried on. Without the clipping the 0.4 arm would stay high.
    assert j.at(0, 50).alert == "blue" and j.at(0, 51).alert == "blue"
    assert [j.at(0, i).alert for i in range(9)] == ["grey"] * 9 and j.at(0, 9).alert != "grey"


def test_a_series_of_3_days_is_grey_for_every_detector():
    new_clinic = [50.0, 52.0, 49.0]
    for method in d.METHODS:
        j = d.detect(method, new_clinic, date(2026, 11, 20))
        assert [j.at(0, i).alert for i in range(3)] == ["grey"] * 3, method
        assert j.at(0).p_value is None and j.at(0).statistic is None
    # days before the first report are missing (NaN), not zeros: the same, with 40 empty days in front
    padded = [math.nan] * 40 + new_clinic
    assert all(d.detect(m, padded, date(2026, 10, 11)).at(0).alert == "grey" for m in d.METHODS)
    # read as zeros, they would make the first day a surge
    assert d.ewma([0.0] * 40 + new_clinic).at(0, 40).alert == "red"


def test_a_missing_day_does_not_lower_the_statistic():
    # the surge's second day not reported: the EWMA carries z over it (skip) where a 0 would pull it down
    gap = S1[:46] + [math.nan] + S1[47:48]
    zero = S1[:46] + [0] + S1[47:48]
    skip, zeroed = d.ewma(gap).at(0), d.ewma(zero).at(0)
    assert skip.alert == "red" and skip.statistic > zeroed.statistic
    assert d.ewma(gap).at(0, 46).alert == "grey"              # the missing day itself is not judged
    # EARS: the missing day is left out of the baseline (6 of 7 days), not a 0 among them
    flat = [20, 22, 21, 19, 20, math.nan, 21, 30]
    got = d.ears(flat, "C1", min_baseline=6).at(0)
    assert got.expected == pytest.approx(123 / 6) and got.statistic > d.ears(np.nan_to_num(flat), "C1").at(0).statistic


def test_a_flat_baseline():
    # EWMA: sd 0, so sigma is its correction constant c (0.4 arm .0576, 0.9 arm .137 at df 27):
    # Rnssp on 40 days of 5 then 6 gives statistic 6.08703886092688, p 8.41286759367676e-07, red.
    got = d.ewma([5] * 40 + [6]).at(0)
    assert got.statistic == pytest.approx(6.08703886092688, rel=1e-9) and got.alert == "red"
    assert d.ewma([5] * 41).at(0).statistic == 0 and d.ewma([5] * 41).at(0).alert == "blue"
    # EARS with sd_floor 0 (CDC: no floor): any count above a flat baseline is +inf (mean + 3 * 0 is
    # exceeded: an alarm), the same count 0, a lower one -inf; a floor turns it into a z-score.
    assert d.ears([0] * 7 + [1], "C1").at(0).statistic == math.inf and d.ears([0] * 7 + [1], "C1").at(0).alert == "red"
    assert d.ears([0] * 8, "C1").at(0).statistic == 0 and d.ears([0] * 8, "C1").at(0).alert == "blue"
    assert d.ears([3] * 7 + [1], "C1").at(0).statistic == -math.inf
    assert d.ears([0] * 7 + [1], "C1", sd_floor=1).at(0).statistic == 1
    assert d.ears([0] * 7 + [6], "C1", sd_floor=2).at(0).statistic == 3     # six cases out of nothing do flag
    assert d.ears(BASE + [12], "C1", sd_floor=2).at(0).statistic == pytest.approx(4.0)   # sd 1.633 < 2


def test_ears_at_cdcs_flags_as_rs_surveillance_earsc():
    # surveillance::earsC(method = "C1" | "C2", baseline = 7, alpha = 1 - pnorm(3)): upperbound = mean + 3 sd
    # on days 10..15 of y; an alarm where y exceeds it. CDC flags C1 / C2 at 3: the same days.
    y = [2, 4, 3, 5, 3, 4, 7, 9, 10, 12, 6, 8, 11, 20, 5]
    upper = {"C1": [14.41785, 17.15713, 17.03983, 15.93725, 15.48074, 24.32138],
             "C2": [8.898979, 11.708204, 14.417850, 17.157133, 17.039834, 15.937254]}
    alarms = {"C1": [0, 0, 0, 0, 1, 0], "C2": [1, 0, 0, 0, 1, 0]}
    for method in ("C1", "C2"):
        j = d.ears(y, method)
        for k in range(6):
            got = j.at(0, 9 + k)
            sd = (upper[method][k] - got.expected) / 3
            assert got.statistic == pytest.approx((y[9 + k] - got.expected) / sd, rel=1e-5)
            assert (got.alert == "red") == bool(alarms[method][k]), (method, k)
    assert d.EARS_ALARM == {"C1": 3, "C2": 3, "C3": 2}
    # C3 flags at 2: worked in test_c3_sums_c2_over_three_days_minus_one_each (7 >= 2)
    assert d.ears([5] * 9 + [6, 8, 11], "C3", sd_floor=1).at(0).alert == "red"
    assert d.ears([5] * 9 + [6, 6, 7], "C3", sd_floor=1).at(0).alert == "blue"      # 0 + 0 + 1 < 2


# ------------------------------------------------------------------ ESSENCE regression and switch
def test_regression_one_day_worked_out_and_as_rnssp_gives_it():
    # 14 baseline days from Thursday 2024-01-04 (t = 1..14), y = 20 + t + 6 on Saturdays (t = 3, 10) + e,
    # e = +1 on Monday t 5 and Tuesday t 13, -1 on Monday t 12 and Tuesday t 6: e sums to 0 within every
    # weekday and sum(e * t) = 5 - 12 - 6 + 13 = 0, so least squares gives back b0 = 20, b1 = 1, Sat = 6,
    # every other weekday 0, and RSS = 4. Guard days 35, 36; judged: Saturday 2024-01-20, t = 17, y = 50.
    #   n = 14, n_df = 14 - 8 = 6; sqrt(RSS / n_df) = sqrt(4 / 6) = 0.816497
    #   sigma = 0.816497 * sqrt((14 + 7) * (14 - 4) / (14 * (14 - 7))) = 0.816497 * 1.463850 = 1.195229
    #   expected = 20 + 17 + 6 = 43; statistic = (50 - 43) / 1.195229 = 5.856620; p = 1 - pt(5.8566, 6)
    # Rnssp alert_regression(df, B = 14), 2024-01-20: 43, 5.85662018573853, 0.000547315258502157, red,
    # adjusted R^2 0.967807552843371.
    base = [21, 22, 29, 24, 26, 25, 27, 28, 29, 36, 31, 31, 34, 34]
    j = d.regression(base + [35, 36, 50], date(2024, 1, 4), baseline=14)
    got = j.at(0)
    assert got.expected == pytest.approx(43) and got.alert == "red"
    assert got.statistic == pytest.approx(5.85662018573853, rel=1e-10)
    assert got.p_value == pytest.approx(0.000547315258502157, rel=1e-8)
    assert j.r2_adj[0, -1] == pytest.approx(0.967807552843371, rel=1e-10)
    # the switch takes the regression here (adjusted R^2 >= 0.60) ...
    sw = d.switch(base + [35, 36, 50], date(2024, 1, 4), baseline=14)
    assert sw.at(0).detector == "regression" and sw.at(0).statistic == got.statistic
    # ... and the EWMA on S1, whose baseline no trend or weekday explains (Rnssp's switch: "EWMA")
    sw = d.switch(S1, date(2024, 1, 1))
    assert sw.at(0, 45).detector == "ewma" and sw.at(0, 45).p_value == pytest.approx(RNSSP_S1[1][1], rel=1e-6)


def test_regression_drops_a_flag_below_the_7_day_average():
    # alert_regression's last step: a flagged weekday whose count is below the mean of its last 7 days
    # (today included) is blue. Judged: Monday 2024-01-22, after two guard days of 200.
    base = [21, 22, 29, 24, 26, 25, 27, 28, 29, 36, 31, 31, 34, 34]
    flagged = d.regression(base + [35, 36, 60], date(2024, 1, 6), baseline=14).at(0)
    assert flagged.p_value < 0.01 and flagged.alert == "red"
    got = d.regression(base + [200, 200, 60], date(2024, 1, 6), baseline=14).at(0)
    assert got.p_value == flagged.p_value            # the guard days are not in the fit ...
    assert got.alert == "blue"                       # ... but 60 is below (31+34+34+200+200+60+31)/7


def test_regions_judged_together_come_out_as_each_alone():
    # The rules judge ~300 regions in one call, and the regression fits together the rows that
    # share a set of reported baseline days. Each row must come out as it does alone: rows without
    # gaps (one fit), rows with the same gaps (a fit per set), late starts, a flat series.
    rng = np.random.default_rng(11)
    y = rng.poisson(rng.uniform(0.5, 40, (60, 1)), (60, 61)).astype(float)
    y += (np.arange(61) % 7 == 5) * rng.uniform(0, 10, (60, 1))      # a weekday effect, from none to strong
    y[44:] += np.arange(61) * rng.uniform(0, 1, (16, 1))              # a trend
    gaps = rng.random((8, 61)) < 0.1
    for r in range(20, 60):
        y[r, gaps[r % 8]] = np.nan                                    # missed days, each set on 5 rows
    y[::7, :rng.integers(20, 45)] = np.nan                            # series that start late
    y[1] = 0.0                                                        # no case at all
    first = date(2024, 1, 1)
    for method, kw in [(m, days) for m in ("regression", "switch", "ewma") for days in ({}, {"days": [-1]})]:
        together = d.detect(method, y, first, **kw)
        assert (together.alert[:, -1] != "grey").sum() > 40, method
        if kw:    # the rules judge only the last day: as it is judged among all days
            every = d.detect(method, y, first)
            assert (together.alert[:, -1] == every.alert[:, -1]).all() and (together.alert[:, :-1] == "grey").all()
            np.testing.assert_array_equal(together.p_value[:, -1], every.p_value[:, -1])
            np.testing.assert_array_equal(together.statistic[:, -1], every.statistic[:, -1])
        for r in range(len(y)):
            alone = d.detect(method, y[r], first, **kw)
            assert (together.alert[r] == alone.alert[0]).all(), (method, r)
            for k in ("expected", "statistic", "p_value", "r2_adj"):
                if getattr(alone, k) is not None:
                    np.testing.assert_allclose(getattr(together, k)[r], getattr(alone, k)[0], rtol=1e-9, atol=1e-9,
                                               err_msg=f"{method} {k} row {r}")


def test_ears_on_the_last_day_reads_only_ears_days():
    # The rules hand EARS only the days one day's statistic reads (d.ears_days): the same judgement.
    rng = np.random.default_rng(12)
    y = rng.poisson(rng.uniform(0.2, 20, (40, 1)), (40, 30)).astype(float)
    y[rng.random(y.shape) < 0.02] = np.nan
    y[:6, -3:] = [40, 60, 300]                                    # surges: C3 sums three days of them
    for method in ("C1", "C2", "C3"):
        every = d.ears(y, method, sd_floor=1)
        tail = d.ears(y[:, -d.ears_days(method):], method, sd_floor=1)
        assert (every.alert[:, -1] == "red").sum() >= 3
        np.testing.assert_array_equal(tail.statistic[:, -1], every.statistic[:, -1])
        assert (tail.alert[:, -1] == every.alert[:, -1]).all()
