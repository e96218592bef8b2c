"""The trends page's store queries and its state/CSV helpers, on a real store (SQLite or
PostgreSQL) filled with tests/feed_seed.py's rows."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

import feed_seed as fs
from dashboard import trends_view as tv
from sitroom import series
from sitroom import trends as tr
from sitroom import trends_queries as tq
from sitroom.queries import local_today
from sitroom.series import local_day
from sitroom.store.db import utcnow


def test_cumulative_and_active_per_day(seeded):
    sessions, now = seeded
    today = local_today(now)
    first = today - timedelta(days=6)
    with sessions() as s:
        pref = tq.level_series(s, "prefecture", first, today)
        later = tq.level_series(s, "prefecture", today - timedelta(days=2), today)
        prov = tq.level_series(s, "province", first, today)
    # Xi'an, a cumulative series 10, 14, 11 (a correction), 15, 17 on days -4..0, cured 1 from day -4;
    # the days before its first report are missing (None), not 0 cases
    assert pref[fs.XIAN]["cumulative"] == [None, None, 10, 14, 11, 15, 17]
    assert pref[fs.XIAN]["active"] == [None, None, 9, 13, 10, 14, 16]
    assert pref[fs.XIAN]["new"] == [None, None, 0, 4, 0, 4, 2]     # the rules' series: a correction is 0 new
    # a range starting later begins at the newest figure before it (14 on day -3), then changes
    assert later[fs.XIAN]["cumulative"] == [11, 15, 17]
    assert later[fs.XIAN]["new"] == [0, 4, 2]                     # reported before the range: no day missing
    # Xianyang: "new" rows 3 and 5 on days -2 and -1, summed; no row today: 0 new (it has reported)
    assert pref[fs.XIANYANG]["cumulative"] == [None, None, None, None, 3, 8, 8]
    assert pref[fs.XIANYANG]["new"] == [None, None, None, None, 3, 5, 0]
    # Zhengzhou, line list: confirmed 2, 5 and 40 hours ago, one cured (reported 200 h ago, outcome now)
    by_day = [local_day(now - timedelta(hours=h)) for h in (2, 5, 40, 200)]
    expected = [sum(1 for d in by_day if d <= first + timedelta(days=i)) for i in range(7)]
    assert pref[fs.ZHENGZHOU]["cumulative"] == expected
    assert pref[fs.ZHENGZHOU]["active"] == expected[:-1] + [expected[-1] - 1]
    # the province counts its buckets (outside 12, undetermined 3 on day -1) besides its prefectures
    assert prov[fs.SHAANXI]["cumulative"][-1] == 17 + 8 + 12 + 3
    assert prov[fs.SHAANXI]["cumulative"][:2] == [None, None]
    assert fs.SHAANXI not in pref
    for v in pref.values():   # missing only before the first report: never a gap after it
        assert None not in v["cumulative"][series.series_start(v["new"]):]


def test_a_line_list_region_reported_before_the_range_has_no_missing_days(seeded):
    """Zhengzhou's first case is 200 h old: a range after it without a case there is 0 every day, not missing."""
    sessions, now = seeded
    today = local_today(now)
    first = local_day(now - timedelta(hours=200)) + timedelta(days=1)
    with sessions() as s:
        got = tq.level_series(s, "prefecture", first, first + timedelta(days=3))
        started = series.reported_before(s, "new_confirmed", "prefecture", first)
        visits = series.reported_before(s, "fever_visits", "county", today + timedelta(days=1))
    assert got[fs.ZHENGZHOU]["new"] == [0, 0, 0, 0] and got[fs.ZHENGZHOU]["cumulative"] == [1, 1, 1, 1]
    assert started == {fs.ZHENGZHOU: True}      # Xi'an's bulletin starts 4 days ago
    assert visits == {"410103": False, fs.XIGONG: False, fs.QINDU: False}   # the clinics with visits


class _Data:
    """What trends_view reads of the web's ScreenData, on the test store."""
    def __init__(self, sessions, gaz):
        from sitroom.auth.scope import Scope
        self.sessions, self.gaz, self.scope = sessions, gaz, Scope.ALL

    def trend_series(self, level, first, last):
        with self.sessions() as s:
            return tq.level_series(s, level, first, last)


def test_days_before_the_first_report_are_gaps_in_chart_table_and_csv(seeded, gaz):
    sessions, now = seeded
    today = local_today(now)
    d, w = _Data(sessions, gaz), tr.serial_interval(4.7, 2.9)
    start = today - timedelta(days=9)
    st = tv.TrendState("zh", (fs.XIAN,), "new", start, today, "prefecture", "new7", True)
    trend = tv.region_trend(d, fs.XIAN, "new", start, today, today, w)
    assert trend.values == [None] * 5 + [0, 4, 0, 4, 2]     # Xi'an's first report is 4 days ago
    assert trend.average == [None] * 10                     # no 7-day average over days without a report
    assert trend.first_report == today - timedelta(days=4)
    for metric in ("incidence", "growth", "doubling", "cumulative", "rt"):
        got = tv.region_trend(d, fs.XIAN, metric, start, today, today, w).values
        assert got[:5] == [None] * 5, metric
    rows = {r["code"]: r for r in tv.table_rows(d, st, today, w)}
    xian = rows[fs.XIAN]
    assert xian["cumulative"] == 17 and xian["has_data"]
    assert (xian["new7"], xian["incidence"], xian["growth"]) == (None, None, None)   # 4 complete days, not 7
    assert tv.fmt(xian, "new7", "zh") == "—"
    assert tv.sparkline(xian["spark"]).startswith("data:image/svg+xml")
    chart = list(csv.DictReader(io.StringIO(tv.chart_csv([trend], gaz, "new", "zh"))))
    assert [r["value"] for r in chart] == [""] * 5 + ["0.0", "4.0", "0.0", "4.0", "2.0"]
    table = {r["adcode"]: r for r in csv.DictReader(io.StringIO(tv.table_csv(list(rows.values()), "zh")))}
    assert table[fs.XIAN]["new_7d"] == "" and float(table[fs.XIAN]["cumulative"]) == 17


def test_unknown_level_is_refused(seeded):
    sessions, now = seeded
    with sessions() as s, pytest.raises(ValueError, match="unknown level 'city'"):
        tq.level_series(s, "city", local_today(now), local_today(now))


def test_state_from_url_resolves_names_and_keeps_what_it_cannot_use(gaz):
    today = local_today(utcnow())
    st = tv.parse_state({"regions": "郑州,Luoyang,610100,火星,郑州市", "metric": "rt", "start": "2026-01-05",
                         "end": "2026-02-01", "level": "county", "sort": "growth", "desc": "0", "lang": "en"},
                        gaz, "zh", today=today)
    assert st.regions == (fs.ZHENGZHOU, "410300", fs.XIAN)
    assert st.dropped == ("火星",)
    assert (st.metric, st.level, st.sort, st.desc, st.lang) == ("rt", "county", "growth", False, "en")
    assert (st.start.isoformat(), st.end.isoformat()) == ("2026-01-05", "2026-02-01")
    again = tv.parse_state(st.query(), gaz, "zh", today=today)
    assert (again.regions, again.metric, again.start, again.end, again.level, again.sort, again.desc) == \
        (st.regions, st.metric, st.start, st.end, st.level, st.sort, st.desc)
    # nonsense falls back to defaults; at most 8 regions, the rest reported as dropped
    bad = tv.parse_state({"metric": "<b>", "start": "x", "end": "2999-01-01", "level": "city",
                          "regions": ",".join(r.adcode for r in gaz.prefectures()[:10])}, gaz, "zh", today=today)
    assert (bad.metric, bad.level, bad.end) == ("new", "prefecture", today)
    assert (bad.end - bad.start).days == tv.DEFAULT_DAYS - 1
    assert len(bad.regions) == 8 and len(bad.dropped) == 2


def test_csv_cells_cannot_become_formulas():
    text = tv.to_csv(["region", "value"], [["=HYPERLINK(\"x\")", -12.5], ["+1", "-cmd"], ["@SUM(A1)", 3],
                                           ["\tx", None]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [["'=HYPERLINK(\"x\")", "-12.5"], ["'+1", "'-cmd"], ["'@SUM(A1)", "3"], ["'\tx", ""]]


def test_table_sort_keeps_missing_figures_last():
    rows = [{"code": "1", "name_en": "b", "growth": 5.0}, {"code": "2", "name_en": "a", "growth": None},
            {"code": "3", "name_en": "c", "growth": -3.0}]
    assert [r["code"] for r in tv.sort_rows(rows, "growth", True, "en")] == ["1", "3", "2"]
    assert [r["code"] for r in tv.sort_rows(rows, "growth", False, "en")] == ["3", "1", "2"]
    assert [r["code"] for r in tv.sort_rows(rows, "name", False, "en")] == ["2", "1", "3"]


def test_a_county_its_prefecture_includes_is_not_counted_twice(store):
    """counties: included: Baoji's own figure holds Weibin's; the prefecture's and the province's curves
    are Baoji's figure, the county's curve is Weibin's own."""
    from sitroom.store.models import CaseDaily
    _url, sessions = store
    now = utcnow()
    today = local_today(now)
    day = today - timedelta(days=1)
    with sessions.begin() as s:
        for key, region, in_parent, confirmed in (("baoji", "610300", None, 50), ("weibin", "610302", False, 20)):
            s.add(CaseDaily(source="sx_agg", source_key=f"{key}|{day}", region=region, bucket=None, prefecture="610300",
                            province="610000", day=day, counting="cumulative", confirmed=confirmed, in_parent=in_parent,
                            source_updated_at=now, loaded_at=now))
    with sessions() as s:
        assert tq.cumulative(s, "confirmed", "prefecture", day, today)["610300"] == [50.0, 50.0]
        assert tq.cumulative(s, "confirmed", "province", day, today)["610000"] == [50.0, 50.0]
        assert tq.cumulative(s, "confirmed", "county", day, today)["610302"] == [20.0, 20.0]
