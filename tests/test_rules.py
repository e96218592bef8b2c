"""Each rule kind on store rows with a known answer, and the pending -> firing lifecycle.

Times: NOW is 2026-11-23 04:00 UTC = 12:00 in Asia/Shanghai, so "today" is the local day
2026-11-23 and a row at local noon of day D is stored at D 04:00 UTC.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from sitroom.alerts import acknowledge, evaluate, pending_alerts, trail
from sitroom.config import RulesConfig
from sitroom.rules_load import RuleSet, compile_rules
from sitroom.rules_measure import measure
from sitroom.store.models import (Alert, CaseDaily, CaseReport, Clinic, ClinicVisit, Inflow, RulePending,
                                  SourceState, SupplyPoint, SupplyStock)

NOW = datetime(2026, 11, 23, 4, 0)
TODAY = date(2026, 11, 23)
TITLE = {"zh": "测试", "en": "test"}


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0)


def ruleset(gaz, *rules, risk_areas=()) -> RuleSet:
    cfg = RulesConfig.model_validate({"rules": [{"title": TITLE, **r} for r in rules]})
    compiled, problems, _ = compile_rules(cfg.rules, gaz, risk_areas=risk_areas)
    assert not problems
    return RuleSet(compiled, tuple(risk_areas))


def values(sessions, gaz, rs, now=NOW):
    with sessions() as s:
        return measure(s, rs, gaz, now)


_seq = iter(range(10**9))


def cases(s, region: str, n: int, at: datetime, status: str = "confirmed"):
    pref = region[:4] + "00"
    s.execute(insert(CaseReport), [
        {"source": "ll", "source_key": f"c{next(_seq)}", "status": status, "region": region, "prefecture": pref,
         "province": region[:2] + "0000", "reported_at": at, "source_updated_at": at, "loaded_at": at}
        for _ in range(n)])


def daily_row(s, region, day, counting, confirmed, *, bucket=None, prefecture="same", source="agg"):
    s.add(CaseDaily(source=source, source_key=f"d{next(_seq)}", region=region, bucket=bucket,
                    prefecture=region if prefecture == "same" else prefecture, province=region[:2] + "0000",
                    day=day, counting=counting, confirmed=confirmed, source_updated_at=NOW, loaded_at=NOW))


# ------------------------------------------------------------------ threshold: count, per 100k, growth, doubling
def test_counts_over_a_window_join_line_lists_and_aggregates(store, gaz):
    _, sessions = store
    d = lambda n: TODAY - timedelta(days=n)  # noqa: E731
    with sessions.begin() as s:
        cases(s, "410102", 3, NOW - timedelta(hours=1))        # Zhengzhou county, today
        cases(s, "410100", 2, NOW - timedelta(days=3), "cured")  # cured: was confirmed, counts
        cases(s, "410100", 4, NOW - timedelta(days=3), "suspected")
        cases(s, "410100", 1, NOW - timedelta(days=8))          # local day 11-15: outside 11-17..11-23
        # Xi'an reports cumulative figures: 100 (11-15, before the window: the base), 110 (+10),
        # 107 (a correction, -3: counts 0), not reported on 11-21, 115 (+8 over 107) -> 18 new in the window
        for day, cum in [(d(8), 100), (d(5), 110), (d(3), 107), (d(1), 115)]:
            daily_row(s, "610100", day, "cumulative", cum)
        daily_row(s, "610100", d(2), "cumulative", None)        # not reported: not a base either
        daily_row(s, "610300", d(2), "new", 4)                  # Baoji reports new counts
        daily_row(s, "610000", d(1), "new", 5, bucket="outside", prefecture=None)  # province's own bucket
    rs = ruleset(gaz, {"id": "c7", "kind": "threshold", "metric": "new_confirmed", "window_days": 7,
                       "scope": {"levels": ["province", "prefecture"]},
                       "thresholds": {"IV": 5, "III": 10, "II": 20, "I": 40}, "recover": 4},
                 {"id": "p7", "kind": "threshold", "metric": "new_confirmed", "measure": "per_100k", "window_days": 7,
                  "scope": {"regions": ["西安", "410100"]},
                  "thresholds": {"IV": 0.1, "III": 1, "II": 2, "I": 5}, "recover": 0.05},
                 {"id": "s24", "kind": "threshold", "metric": "new_suspected", "window_hours": 24,
                  "thresholds": {"IV": 1, "III": 2, "II": 3, "I": 4}, "recover": 0})
    got = values(sessions, gaz, rs)
    c7 = got["c7"]
    assert (c7["410100"], c7["610100"], c7["610300"], c7["410300"]) == (5, 18, 4, 0)
    assert (c7["410000"], c7["610000"]) == (5, 18 + 4 + 5)     # the bucket counts toward the province only
    assert got["p7"]["610100"] == pytest.approx(18 / gaz.get("610100").population * 1e5)
    assert got["p7"]["410100"] == pytest.approx(5 / gaz.get("410100").population * 1e5)
    assert got["s24"]["410100"] == 0                            # the suspected ones are 3 days old
    with sessions.begin() as s:
        evaluate(s, rs, gaz, NOW)
    with sessions() as s:
        fired = {(a.rule, a.region): a.level for a in s.scalars(select(Alert))}
    assert fired == {("c7", "410100"): "IV", ("c7", "610100"): "III", ("c7", "410000"): "IV",
                     ("c7", "610000"): "II", ("p7", "610100"): "IV"}


def test_growth_and_doubling_time_week_on_week(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        cases(s, "410100", 10, NOW - timedelta(days=10))   # the previous 7 days: 10
        cases(s, "410100", 40, NOW - timedelta(days=2))    # the last 7 days: 40
        cases(s, "410300", 3, NOW - timedelta(days=10))    # too few to judge growth on
        cases(s, "410300", 30, NOW - timedelta(days=2))
    rs = ruleset(gaz, {"id": "g", "kind": "threshold", "metric": "new_confirmed", "measure": "growth", "min_count": 5,
                       "thresholds": {"IV": 100, "III": 200, "II": 400, "I": 800}, "recover": 50},
                 {"id": "dt", "kind": "threshold", "metric": "new_confirmed", "measure": "doubling_time",
                  "min_count": 5, "thresholds": {"IV": 7, "III": 4, "II": 2, "I": 1}, "recover": 10})
    got = values(sessions, gaz, rs)
    assert got["g"]["410100"] == pytest.approx(300)        # (40 / 10 - 1) * 100
    assert got["dt"]["410100"] == pytest.approx(3.5)       # 7 ln 2 / ln 4
    assert got["g"]["410300"] is None and got["dt"]["410300"] is None and got["g"]["410500"] is None
    assert rs.get("dt").config.direction == "below" and rs.get("dt").config.level_for(3.5) == "III"


def test_one_read_of_aggregates_gives_every_window_what_its_own_query_gives(store, gaz):
    # The rules read case_daily once per metric (series.AggregateReads) for all their windows and
    # levels. Cumulative series with gaps longer than the lookback, corrections, days not reported,
    # new counts, a province's bucket and counties their prefecture already counts (in_parent False).
    import random
    from sitroom import series
    _, sessions = store
    rng = random.Random(7)
    far = series.LOOKBACK_DAYS
    with sessions.begin() as s:
        for source in ("a", "b"):
            for region in ("610102", "610103", "610104", "610202", "610100", "610300"):
                cum, counting = rng.randrange(50), rng.choice(["cumulative", "cumulative", "new"])
                backs = rng.sample(range(2 * far + 20), 40)
                if region == "610300":        # a rise 12 days ago over a report far + 20 days ago
                    counting, backs = "cumulative", [2 * far, far + 20, 12, 5]
                for back in sorted(backs, reverse=True):
                    cum = max(0, cum + rng.randrange(-3, 9)) if region != "610300" else cum + 5
                    value = None if rng.random() < 0.1 and region != "610300" else (
                        cum if counting == "cumulative" else rng.randrange(9))
                    s.add(CaseDaily(source=source, source_key=f"d{next(_seq)}", region=region, bucket=None,
                                    prefecture=region[:4] + "00", province="610000", day=TODAY - timedelta(days=back),
                                    counting=counting, confirmed=value, suspected=value and value // 2,
                                    in_parent=False if region == "610104" else None,
                                    source_updated_at=NOW, loaded_at=NOW))
        for back in range(0, 90, 3):
            daily_row(s, "610000", TODAY - timedelta(days=back), "cumulative", 100 + back % 7, bucket="outside",
                      prefecture=None)
    first = TODAY - timedelta(days=30)
    with sessions() as s:
        shared = series.Reads(first).aggregates
        for metric in ("new_confirmed", "new_suspected"):
            for level in ("county", "prefecture", "province"):
                for a, b in [(0, 0), (6, 0), (13, 7), (30, 0), (30, 22), (29, 1), (45, 0), (100, 60)]:
                    for window in [(TODAY - timedelta(days=a), TODAY - timedelta(days=b)),
                                   (TODAY - timedelta(days=a), date(9999, 12, 31))]:
                        alone = sorted(series._aggregate_daily(s, metric, level, *window))
                        assert sorted(shared(s, metric, level, *window)) == alone, (metric, level, window)
                        assert alone or a < 6


def test_one_read_of_clinic_visits_gives_every_level_what_its_own_query_gives(store, gaz):
    # The rules read clinic visits once per span of days (series.Reads) for both metrics and every
    # level: clinics in counties of two prefectures and in a prefecture, fever counts not given.
    import random
    from sitroom import series
    _, sessions = store
    rng = random.Random(8)
    with sessions.begin() as s:
        places = [("410102", "410100"), ("410103", "410100"), ("410502", "410500"), ("410500", "410500")]
        for i, (region, pref) in enumerate(places * 2):
            s.add(Clinic(source="reg", source_key=f"k{i}", name=f"k{i}", lon=113.6, lat=34.7, region=region,
                         prefecture=pref, province="410000", status="open", capacity=200, source_updated_at=NOW,
                         loaded_at=NOW))
            for _ in range(60):
                fever = None if i in (1, 5) or rng.random() < 0.2 else rng.randrange(5)   # 410103: none
                s.add(ClinicVisit(source="v", source_key=f"v{next(_seq)}", clinic_source="reg", clinic=f"k{i}",
                                  at=NOW - timedelta(hours=rng.randrange(24 * 10)), visits=rng.randrange(20),
                                  fever=fever, source_updated_at=NOW, loaded_at=NOW))
    with sessions() as s:
        shared = series.Reads(TODAY)
        for first, last, as_of in [(TODAY - timedelta(days=9), TODAY, None), (TODAY - timedelta(days=2), TODAY, None),
                                   (TODAY - timedelta(days=9), TODAY, NOW - timedelta(hours=30))]:
            for metric in ("clinic_visits", "fever_visits"):
                for level in ("county", "prefecture", "province"):
                    alone = sorted(series._visits_daily(s, metric, level, first, last, as_of), key=str)
                    assert sorted(shared.visits(s, metric, level, first, last, as_of), key=str) == alone
                    assert None in [v for _, _, v in alone] or metric == "clinic_visits" or level != "county"


# ------------------------------------------------------------------ detectors on stored daily series
BASE = [2, 4, 3, 5, 3, 4, 7]   # mean 4, sample sd sqrt(16 / 6) = 1.63299 (see test_detectors.py)
P_VALUES = {"IV": 0.05, "III": 0.01, "II": 0.001, "I": 0.0001}
# 46 days of the series worked in test_detectors.py (S1): its day 45 is a surge's first day, which
# Rnssp's alert_ewma colours red with p = 1.29069904764023e-08.
S1 = [18, 24, 23, 17, 20, 24, 22, 25, 24, 16, 24, 15, 22, 19, 23, 18, 18, 22, 23, 23, 22, 21, 25, 17, 18, 25, 17,
      23, 21, 15, 25, 16, 17, 24, 15, 19, 15, 19, 22, 24, 21, 21, 21, 24, 22, 47]


def test_ears_c1_on_case_reports_by_local_day(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        for i, n in enumerate(BASE):                        # 11-16 .. 11-22
            cases(s, "410300", n, noon(TODAY - timedelta(days=7 - i)))
        cases(s, "410300", 12, NOW - timedelta(hours=3))    # today so far
        cases(s, "410300", 5, datetime(2026, 11, 22, 17, 0))  # 01:00 local on 11-23: today, not yesterday
    rule = {"id": "e1", "kind": "ears", "method": "C1", "metric": "new_confirmed", "sd_floor": 1,
            "thresholds": {"IV": 3, "III": 5, "II": 8, "I": 12}, "recover": 2}
    got = values(sessions, gaz, ruleset(gaz, {**rule, "partial_day": True}))["e1"]
    assert got["410300"] == pytest.approx((17 - 4) / math.sqrt(16 / 6))   # 13 / 1.63299 = 7.961
    assert got["410100"] is None                                          # nothing at all: no value, not 0
    # By default the last complete day (11-22, 7 cases) is judged, and its baseline 11-15 .. 11-21 has
    # only the 6 days since the first report: insufficient data, no value (days before were not zeros).
    assert values(sessions, gaz, ruleset(gaz, rule))["e1"]["410300"] is None


def _clinics(s):
    for key, region in (("k1", "410502"), ("k2", "410503")):
        s.add(Clinic(source="reg", source_key=key, name=key, lon=113.6, lat=34.7, region=region, prefecture="410500",
                     province="410000", status="open", capacity=200, source_updated_at=NOW, loaded_at=NOW))


def _fever(s, day: date, n: int, clinic: str = "k1", hours: int = 1):
    s.add(ClinicVisit(source="v", source_key=f"v{next(_seq)}", clinic_source="reg", clinic=clinic,
                      at=noon(day) - timedelta(hours=hours), visits=10 * n, fever=n, source_updated_at=NOW,
                      loaded_at=NOW))


def test_ewma_judges_the_last_complete_day_on_p_values(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        _clinics(s)
        for i, n in enumerate(S1):                                  # 46 days ending yesterday
            day = TODAY - timedelta(days=len(S1) - i)
            _fever(s, day, n - n // 2, "k1", 1)                     # split over two clinics of 410500
            _fever(s, day, n // 2, "k2", 3)
        _fever(s, TODAY, 2)                                         # today so far: not judged by default
    rs = ruleset(gaz, {"id": "w", "kind": "ewma", "metric": "fever_visits", "thresholds": P_VALUES, "recover": 0.1},
                 {"id": "v24", "kind": "threshold", "metric": "clinic_visits", "window_hours": 24,
                  "thresholds": {"IV": 50, "III": 100, "II": 200, "I": 400}, "recover": 40})
    with sessions() as s:
        from sitroom.rules_measure import measure_all
        got, details = measure_all(s, rs, gaz, NOW)
    assert got["w"]["410500"] == pytest.approx(1.29069904764023e-08, rel=1e-9)   # Rnssp's p for that day
    d = details["w"]["410500"]
    assert d.alert == "red" and d.statistic == pytest.approx(7.73130447436936, rel=1e-9)
    assert d.expected == pytest.approx(20.25)
    assert rs.get("w").config.level_for(got["w"]["410500"]) == "I"
    assert got["w"]["410100"] is None                                # no clinic there: no value
    # The same rule on today so far (2 patients) sees no surge.
    rs_today = ruleset(gaz, {"id": "w", "kind": "ewma", "metric": "fever_visits", "thresholds": P_VALUES,
                             "recover": 0.1, "partial_day": True})
    assert values(sessions, gaz, rs_today)["w"]["410500"] > 0.5


def test_a_new_clinic_is_grey_not_a_surge_over_zeros(store, gaz):
    """A fever clinic that opened 3 days ago reporting 50 a day: its days before are missing."""
    _, sessions = store
    with sessions.begin() as s:
        _clinics(s)
        for d in (3, 2, 1):
            _fever(s, TODAY - timedelta(days=d), 50)
    rules = [{"id": k, "kind": k, "metric": "fever_visits", "thresholds": P_VALUES, "recover": 0.1}
             for k in ("ewma", "regression", "switch")]
    rules += [{"id": m.lower(), "kind": "ears", "method": m, "metric": "fever_visits",
               "thresholds": {"IV": 3, "III": 5, "II": 8, "I": 12}, "recover": 2} for m in ("C1", "C2", "C3")]
    got = values(sessions, gaz, ruleset(gaz, *rules))
    assert {k: v["410500"] for k, v in got.items()} == {r["id"]: None for r in rules}


def test_a_missing_day_is_left_out_not_read_as_a_drop(store, gaz):
    """A surge's first day (S1's last), then a day without a report, then the surge goes on (50)."""
    _, sessions = store
    series = S1 + [None, 50]                                         # ends yesterday
    with sessions.begin() as s:
        _clinics(s)
        for i, n in enumerate(series):
            if n is not None:
                _fever(s, TODAY - timedelta(days=len(series) - i), n)
    rule = {"id": "w", "kind": "ewma", "metric": "fever_visits", "thresholds": P_VALUES, "recover": 0.1}
    with sessions() as s:
        from sitroom.rules_measure import measure_all
        skip = measure_all(s, ruleset(gaz, rule), gaz, NOW)[1]["w"]["410500"]
        zero = measure_all(s, ruleset(gaz, {**rule, "missing": "zero"}), gaz, NOW)[1]["w"]["410500"]
    # skip: the smoothed value is carried over the missing day; zero: the 0 pulls both arms down
    # and the surge's third day looks weaker
    assert zero.statistic < skip.statistic


# ------------------------------------------------------------------ supply cover, risk arrivals, silent source
def test_days_of_cover_of_open_points_from_their_latest_counts(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        for key, status in (("p1", "open"), ("p2", "open"), ("p3", "closed")):
            s.add(SupplyPoint(source="pts", source_key=key, name=key, kind="mask_pharmacy", lon=0, lat=0,
                              region="410702", prefecture="410700", province="410000", status=status,
                              source_updated_at=NOW, loaded_at=NOW))
        for point, day, stock, use in (("p1", 3, 100, 10), ("p1", 1, 40, 10),   # latest: 40 / 10 = 4 days
                                       ("p2", 1, 500, 0),                        # no consumption: no limit
                                       ("p3", 1, 1, 10),                         # closed: not counted
                                       ("p1", -2, 1, 10)):                       # counted after today: ignored
            s.add(SupplyStock(source="st", source_key=f"s{next(_seq)}", point_source="pts", point=point, item="n95",
                              day=TODAY - timedelta(days=day), at=NOW - timedelta(days=day), stock=stock,
                              daily_consumption=use,
                              source_updated_at=NOW, loaded_at=NOW))
    rule = {"kind": "supply_cover", "item": "n95", "scope": {"levels": ["prefecture", "county"]},
            "thresholds": {"IV": 7, "III": 5, "II": 3, "I": 1}, "recover": 10}
    rs = ruleset(gaz, {**rule, "id": "low", "measure": "lowest"}, {**rule, "id": "tot"})
    got = values(sessions, gaz, rs)
    assert got["low"]["410700"] == 4 and got["low"]["410702"] == 4 and got["low"]["410100"] is None
    assert rs.get("low").config.level_for(4) == "III"
    assert got["tot"]["410700"] == (40 + 500) / (10 + 0)     # what the open points hold together


def test_arrivals_from_risk_areas_over_fourteen_days(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        for days_ago, origin, stayed, n in ((3, "湖北省武汉市江岸区", True, 30), (13, "湖北省武汉市", None, 20),
                                            (3, "湖北省武汉市", False, 100),   # passed through: not counted
                                            (3, "北京市", True, 50),           # not a risk area
                                            (14, "湖北省武汉市", True, 70)):   # 11-09: outside 11-10..11-23
            s.add(Inflow(source="in", source_key=f"i{next(_seq)}", day=TODAY - timedelta(days=days_ago),
                         origin=origin, region="410102", prefecture="410100", province="410000", mode="rail",
                         stayed=stayed, count=n, source_updated_at=NOW, loaded_at=NOW))
    rs = ruleset(gaz, {"id": "ra", "kind": "risk_arrivals", "window_days": 14,
                       "thresholds": {"IV": 40, "III": 100, "II": 200, "I": 400}, "recover": 30},
                 risk_areas=["湖北省武汉市"])
    assert values(sessions, gaz, rs)["ra"]["410100"] == 50


def test_silent_source_minutes_since_last_change(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        s.add(SourceState(name="hc", last_change=NOW - timedelta(minutes=45), last_success=NOW - timedelta(minutes=1)))
    rs = ruleset(gaz, {"id": "quiet", "kind": "source_silent", "source": "hc",
                       "thresholds": {"IV": 30, "III": 60, "II": 120, "I": 240}, "recover": 10},
                 {"id": "down", "kind": "source_silent", "source": "hc", "since": "last_success", "region": "陕西",
                  "thresholds": {"IV": 30, "III": 60, "II": 120, "I": 240}, "recover": 10},
                 {"id": "never", "kind": "source_silent", "source": "nobody",
                  "thresholds": {"IV": 30, "III": 60, "II": 120, "I": 240}, "recover": 10})
    got = values(sessions, gaz, rs)
    assert got == {"quiet": {"410000": 45.0}, "down": {"610000": 1.0}, "never": {"410000": None}}


# ------------------------------------------------------------------ lifecycle: pending -> firing, restart
SLOW = {"id": "slow", "kind": "threshold", "metric": "new_confirmed", "window_hours": 24, "for_minutes": 10,
        "thresholds": {"IV": 10, "III": 20, "II": 40, "I": 80}, "recover": 8}


def run(sessions, gaz, rs, now):
    with sessions.begin() as s:
        return evaluate(s, rs, gaz, now)


def state(sessions):
    with sessions() as s:
        return ([(a.rule, a.region, a.level, a.state) for a in s.scalars(select(Alert).order_by(Alert.id))],
                [(p["rule"], p["region"], p["level"], p["since"]) for p in pending_alerts(s)])


def test_pending_fires_only_after_for_minutes_and_a_blip_leaves_nothing(store, gaz):
    _, sessions = store
    rs = ruleset(gaz, SLOW)
    with sessions.begin() as s:
        cases(s, "410100", 12, NOW - timedelta(hours=1))
    assert run(sessions, gaz, rs, NOW).pending == 1
    assert state(sessions) == ([], [("slow", "410100", "IV", NOW)])
    with sessions.begin() as s:
        cases(s, "410100", 10, NOW - timedelta(minutes=1))                  # 22 while pending: III
    assert run(sessions, gaz, rs, NOW + timedelta(minutes=9)).fired == 0
    assert state(sessions) == ([], [("slow", "410100", "III", NOW)])
    # The early cases leave the 24-hour window: the condition clears before its time.
    assert run(sessions, gaz, rs, NOW + timedelta(hours=24)).dropped == 1
    assert state(sessions) == ([], [])
    # Met again, held 10 minutes: it fires, and the trail says since when it held.
    with sessions.begin() as s:
        cases(s, "410100", 15, NOW + timedelta(hours=24))
    later = NOW + timedelta(hours=24, minutes=1)
    run(sessions, gaz, rs, later)
    ev = run(sessions, gaz, rs, later + timedelta(minutes=10))
    assert ev.fired == 1 and state(sessions) == ([("slow", "410100", "IV", "firing")], [])
    with sessions() as s:
        [fired] = trail(s, s.scalars(select(Alert.id)).one())
    assert fired.kind == "fired" and fired.note == f"held since {later:%Y-%m-%d %H:%M:%S} UTC (10 min)"


def test_a_pending_value_that_moves_within_its_level_moves_the_screens_version(store, gaz):
    from sitroom.queries import data_version
    _, sessions = store
    rs = ruleset(gaz, SLOW)
    with sessions.begin() as s:
        cases(s, "410100", 12, NOW - timedelta(hours=1))
    run(sessions, gaz, rs, NOW)
    with sessions() as s:
        before = data_version(s)[0]
    with sessions.begin() as s:
        cases(s, "410100", 3, NOW - timedelta(minutes=1))                   # 15: still level IV
    assert run(sessions, gaz, rs, NOW + timedelta(minutes=1)).updated == 1
    with sessions() as s:
        assert data_version(s)[0] > before
        assert [(p["level"], p["value"]) for p in pending_alerts(s)] == [("IV", 15)]
    assert not run(sessions, gaz, rs, NOW + timedelta(minutes=2)).changed  # nothing new: no work for the screens


def test_restart_keeps_pending_and_open_alerts(store, gaz):
    from sitroom.store import make_engine, session_factory
    url, sessions = store
    rs = ruleset(gaz, SLOW)
    with sessions.begin() as s:
        cases(s, "410100", 12, NOW - timedelta(hours=1))
        cases(s, "410300", 50, NOW - timedelta(hours=1))
    run(sessions, gaz, rs, NOW)
    # A new process: a new engine and sessions on the same store, new rules objects.
    engine = make_engine(url)
    fresh = session_factory(engine)
    try:
        rs2 = ruleset(gaz, SLOW)
        assert run(fresh, gaz, rs2, NOW + timedelta(minutes=5)).fired == 0   # the wait is not restarted...
        assert run(fresh, gaz, rs2, NOW + timedelta(minutes=10)).fired == 2  # ...nor lost
        with fresh.begin() as s:
            acknowledge(s, s.scalars(select(Alert.id).where(Alert.region == "410300")).one(), "张三")
        engine.dispose()
        engine = make_engine(url)
        fresh = session_factory(engine)
        run(fresh, gaz, ruleset(gaz, SLOW), NOW + timedelta(minutes=11))
        assert state(fresh)[0] == [("slow", "410100", "IV", "firing"), ("slow", "410300", "II", "acknowledged")]
    finally:
        engine.dispose()


def test_below_rule_hysteresis_and_a_removed_rule_resolves(store, gaz):
    _, sessions = store
    with sessions.begin() as s:
        s.add(SupplyPoint(source="pts", source_key="p1", name="p1", kind="veg_outlet", lon=0, lat=0, region="410702",
                          prefecture="410700", province="410000", status="open", source_updated_at=NOW,
                          loaded_at=NOW))
    rule = {"id": "cov", "kind": "supply_cover", "item": "vegetables",
            "thresholds": {"IV": 7, "III": 5, "II": 3, "I": 1}, "recover": 10}
    rs = ruleset(gaz, rule)

    def stock(days_ago, amount):
        with sessions.begin() as s:
            s.add(SupplyStock(source="st", source_key=f"s{next(_seq)}", point_source="pts", point="p1",
                              item="vegetables", day=TODAY - timedelta(days=days_ago),
                              at=NOW - timedelta(days=days_ago), stock=amount,
                              daily_consumption=1, source_updated_at=NOW, loaded_at=NOW))

    stock(3, 4)                                         # 4 days: III
    assert run(sessions, gaz, rs, NOW).fired == 1
    stock(2, 2.5)                                       # 2.5 days: II, a rise
    assert run(sessions, gaz, rs, NOW).escalated == 1
    stock(1, 8)                                         # 8 days: safe of IV (7), short of recover (10): stays
    run(sessions, gaz, rs, NOW)
    assert state(sessions)[0] == [("cov", "410700", "II", "firing")]
    stock(0, 12)                                        # 12 days: past recover -> resolved
    assert run(sessions, gaz, rs, NOW).resolved == 1
    stock(-1, 0.5)                                      # (tomorrow) fires again: a new alert
    run(sessions, gaz, rs, NOW + timedelta(days=1))
    other = ruleset(gaz, {**SLOW, "id": "other"})
    assert run(sessions, gaz, other, NOW + timedelta(days=1)).resolved == 1   # rule "cov" taken out of the file
    with sessions() as s:
        last = s.scalars(select(Alert).order_by(Alert.id.desc())).first()
        assert (last.level, last.state, last.resolve_reason) == ("I", "resolved", "rule removed from rules.yaml")
        assert s.scalars(select(RulePending)).all() == []
