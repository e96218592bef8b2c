"""The read queries behind the wall's case figures and map layers, on a real store (SQLite or
PostgreSQL, per SITROOM_TEST_STORE) filled with model rows by tests/feed_seed.py."""
from __future__ import annotations

from datetime import timedelta

import pytest

import feed_seed as fs
from sitroom import queries
from sitroom.config.regions import RegionsConfig


def test_case_figures_add_aggregates_buckets_and_line_list(seeded, gaz):
    sessions, now = seeded
    with sessions() as s:
        figures = queries.case_figures(s, now)
    top = queries.roll_up(figures, gaz, "all")
    xian, xianyang, zz = (top["regions"][c] for c in (fs.XIAN, fs.XIANYANG, fs.ZHENGZHOU))
    e = fs.EXPECTED
    # cumulative series: the newest day's figure; its new figure is today's difference
    assert (xian["confirmed"], xian["new_24h"], xian["cured"], xian["active"]) == (17, 2, 1, 16)
    # "new" series: summed; the newest day (yesterday) is the last 24 h figure
    assert (xianyang["confirmed"], xianyang["new_24h"]) == (e["xianyang_confirmed"], e["xianyang_new_24h"])
    # line list (Henan): cured counts as ever confirmed, not as active
    assert (zz["confirmed"], zz["active"], zz["new_24h"], zz["suspected"], zz["cured"]) == (4, 3, 2, 1, 1)
    # buckets: never on a prefecture, counted for the province
    assert {b: f["confirmed"] for b, f in top["buckets"].items()} == e["buckets"]
    assert top["buckets"]["outside"]["new_24h"] == 2 and top["buckets"]["undetermined"]["new_24h"] == 0
    assert set(top["regions"]) == {p.adcode for p in gaz.prefectures()}
    shaanxi = queries.roll_up(figures, gaz, fs.SHAANXI)
    total = sum(f["confirmed"] for f in shaanxi["regions"].values()) + sum(
        f["confirmed"] for f in shaanxi["buckets"].values())
    assert total == e["shaanxi_confirmed"]
    assert sum(f["new_24h"] for f in shaanxi["regions"].values()) + sum(
        f["new_24h"] for f in shaanxi["buckets"].values()) == e["shaanxi_new_24h"]
    assert queries.roll_up(figures, gaz, fs.HENAN)["buckets"] == {}


def test_correction_is_zero_new_and_reported(seeded, gaz):
    sessions, now = seeded
    today = queries.local_today(now)
    with sessions() as s:
        figures = queries.case_figures(s, now)
        trend = {r["day"]: r for r in queries.daily_new(s, now - timedelta(days=7), "province", fs.SHAANXI)}
        xian_trend = {r["day"]: r for r in queries.daily_new(s, now - timedelta(days=7), "prefecture", fs.XIAN)}
    corr_day = (today - timedelta(days=2)).isoformat()
    assert figures.corrections == [{"region": fs.XINCHENG, "bucket": None, "prefecture": fs.XIAN,
                                    "province": fs.SHAANXI, "day": corr_day, "metric": "confirmed", "delta": -3}]
    top = queries.roll_up(figures, gaz, "all")
    assert [c["delta"] for c in top["corrections"][fs.XIAN]] == [-3]
    county = queries.roll_up(figures, gaz, fs.XIAN)
    assert [c["delta"] for c in county["corrections"][fs.XINCHENG]] == [-3]
    assert county["regions"][fs.XINCHENG]["confirmed"] == 17
    assert queries.roll_up(figures, gaz, fs.ZHENGZHOU)["corrections_all"] == []

    def day(n):
        return (today - timedelta(days=n)).isoformat()
    # Xi'an: first reported day (10) has no new; +4; correction -3 counted 0 new; +4; +2
    assert day(4) not in xian_trend or xian_trend[day(4)]["confirmed"] == 0
    assert [xian_trend[day(n)]["confirmed"] for n in (3, 2, 1, 0)] == [4, 0, 4, 2]
    assert xian_trend[day(2)]["corr_confirmed"] == -3
    # the province adds the "new" series of Qindu (3, 5) and the outside bucket (first day 10: no new; then +2)
    assert [trend[day(n)]["confirmed"] for n in (3, 2, 1, 0)] == [4, 0 + 3, 4 + 5 + 2, 2]
    assert sum(r["corr_confirmed"] for r in trend.values()) == -3


def test_line_list_trend_counts_per_local_day(seeded):
    sessions, now = seeded
    with sessions() as s:
        rows = queries.daily_new(s, now - timedelta(days=30), "prefecture", fs.ZHENGZHOU)
    # 3 confirmed + 1 cured (older than 30 days? no: 200 h) ever confirmed; the suspected one separately
    assert sum(r["confirmed"] for r in rows) == 4
    assert sum(r["suspected"] for r in rows) == 1
    assert all(r["corr_confirmed"] == 0 for r in rows)


def test_clinic_load_and_history(seeded):
    sessions, now = seeded
    with sessions() as s:
        got = {c["key"]: c for c in queries.clinics(s, now)}
        days = queries.clinic_days(s, fs.CLINIC_SOURCE, "zz-1", now)
    assert {k: c["load"] for k, c in got.items()} == fs.EXPECTED["clinic_load"]
    assert got["zz-1"]["visits_24h"] == 50 and got["zz-1"]["fever_24h"] == 10
    assert got["xa-1"]["status"] == "closed" and got["xy-1"]["capacity"] is None
    assert got["zz-1"]["lon"] == pytest.approx(113.666) and got["zz-1"]["lat"] == pytest.approx(34.753)
    assert len(days) == 7 and days[-1]["day"] == queries.local_today(now).isoformat()
    assert sum(d["visits"] for d in days) == 100 and sum(d["fever"] for d in days) == 19


def test_days_of_cover(seeded):
    sessions, now = seeded
    with sessions() as s:
        got = {p["key"]: p for p in queries.supply_points(s)}
        history = queries.supply_days(s, fs.SUPPLY_SOURCE, "p-1", now)
    assert {k: p["min_cover"] for k, p in got.items()} == fs.EXPECTED["cover"]
    p1 = got["p-1"]["items"]
    assert p1["masks"]["stock"] == 500 and p1["masks"]["days_of_cover"] == 5.0
    assert p1["sanitizer"]["days_of_cover"] is None            # consumption 0: no limit
    assert got["p-3"]["items"] == {} and got["p-3"]["status"] == "closed"
    assert [h["stock"] for h in history["masks"]] == [800, 600, 500]
    assert [h["days_of_cover"] for h in history["masks"]] == [8.0, 6.0, 5.0]
    assert queries.days_of_cover(10, 0) is None and queries.days_of_cover(10, 4) == 2.5


def test_inflow_top_origins_and_risk(seeded, gaz):
    sessions, now = seeded
    regions = RegionsConfig(provinces=["410000", "610000"], risk_areas=fs.RISK_AREAS)
    with sessions() as s:
        rows = queries.inflow_rows(s, now)
    top = queries.inflow_summary(rows, gaz, "all", regions.is_risk_origin)
    zz = top[fs.ZHENGZHOU]
    e = fs.EXPECTED
    assert zz["arrivals"] == e["zhengzhou_arrivals"]
    assert zz["risk_arrivals"] == e["zhengzhou_risk"]      # 100 stayed + 10 not known; 40 passed through
    assert [(o["origin"], o["count"]) for o in zz["origins"]] == e["zhengzhou_top"]
    assert [o["risk"] for o in zz["origins"]] == [False, True, False]
    assert zz["modes"] == e["zhengzhou_modes"]
    assert top[fs.XIANYANG]["arrivals"] == 60 and top[fs.XIANYANG]["risk_arrivals"] == 0
    county = queries.inflow_summary(rows, gaz, fs.ZHENGZHOU, regions.is_risk_origin)
    assert county[fs.ZHONGYUAN]["arrivals"] == 340 and county["410103"]["arrivals"] == 40
    assert county[fs.ZHONGYUAN]["risk_arrivals"] == 100
