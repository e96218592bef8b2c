"""Feeds as departments really publish them: versions of one (place, day), conflicts, names as written."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from loaders.poller import SourcePoller
from sitroom.config import SourcesConfig
from sitroom.store.models import CaseDaily, Quarantine, SourceState

from feed_sources import NOW, FeedSource, sources_dict, ts

@pytest.fixture
def agg(store, make_source_url, gaz):
    """The test bulletin table `agg` and a poll of it; `configure(**changes)` changes its sources.yaml entry."""
    _, sessions = store
    src = FeedSource(make_source_url("published"))
    pollers = []

    def configure(**changes):
        raw = sources_dict(src.url)
        entry = next(s for s in raw["sources"] if s["name"] == "agg")
        for k, v in changes.items():
            if isinstance(v, dict) and isinstance(entry.get(k), dict):
                entry[k] = {**entry[k], **v}
            else:
                entry[k] = v
        cfg = SourcesConfig.model_validate(raw)
        p = SourcePoller(next(s for s in cfg.sources if s.name == "agg"), sessions, gaz, cfg)
        pollers.append(p)
        return lambda: p.poll(now=NOW, force=True)
    yield src, sessions, configure
    for p in pollers:
        p.close()
    src.close()


def facts(sessions) -> dict:
    with sessions() as s:
        return {(c.region, c.bucket, str(c.day)): c.confirmed for c in s.scalars(select(CaseDaily))}


def reasons(sessions) -> list:
    with sessions() as s:
        return [r for q in s.scalars(select(Quarantine)) for r in q.reasons]


def test_versions_of_one_place_and_day_the_latest_wins_and_none_is_quarantined(agg):
    src, sessions, configure = agg
    poll = configure()
    src.put("agg", *({"diqu": "西安", "riqi": "2026-11-23", "ljqz": str(n), "ljzy": "0", "gxsj": ts(m)}
                     for n, m in ((10, 300), (14, 200), (19, 100))))
    r = poll()
    assert (r.read, r.inserted, r.quarantined, r.superseded) == (3, 1, 0, 2)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 19}
    # the overlap re-reads the older versions with a newer one: still the latest, nothing quarantined
    src.put("agg", {"diqu": "西安市", "riqi": "2026-11-23", "ljqz": "23", "ljzy": "0", "gxsj": ts(1)})
    r = poll()
    assert (r.updated, r.quarantined) == (1, 0)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 23}
    assert reasons(sessions) == []
    with sessions() as s:
        assert s.get(SourceState, "agg").rows_superseded >= 2


def test_an_older_version_read_again_alone_does_not_overwrite_the_stored_one(agg):
    src, sessions, configure = agg
    poll = configure(batch_size=1, overlap_seconds=3600)    # one row a batch: the older version comes alone
    src.put("agg", {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "10", "ljzy": "0", "gxsj": ts(20)},
            {"diqu": "西安市", "riqi": "2026-11-23", "ljqz": "12", "ljzy": "0", "gxsj": ts(10)})
    poll()
    assert facts(sessions) == {("610100", None, "2026-11-23"): 12}
    r = poll()   # the overlap reads both again, one batch each
    assert (r.updated, r.quarantined) == (0, 0)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 12}


def test_a_version_column_orders_versions_that_share_an_update_time(agg):
    src, sessions, configure = agg
    src.sql("ALTER TABLE agg ADD COLUMN pici TEXT")
    poll = configure(columns={"version": "pici"})
    src.put("agg", {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "30", "ljzy": "0", "gxsj": ts(5), "pici": "3"},
            {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "25", "ljzy": "0", "gxsj": ts(5), "pici": "2"})
    r = poll()
    assert (r.inserted, r.quarantined, r.superseded) == (1, 0, 1)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 30}


def test_a_same_time_conflict_keeps_the_stored_fact_and_names_the_differing_columns(agg):
    src, sessions, configure = agg
    poll = configure()
    src.put("agg", {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "40", "ljzy": "3", "gxsj": ts(30)})
    poll()
    src.put("agg", {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "44", "ljzy": "3", "gxsj": ts(10)},
            {"diqu": "西安市", "riqi": "2026-11-23", "ljqz": "47", "ljzy": "3", "gxsj": ts(10)})
    r = poll()
    assert (r.inserted, r.updated, r.quarantined) == (0, 0, 1)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 40}      # the stored fact stays
    (reason,) = reasons(sessions)
    assert reason.startswith("conflict: 2 rows of key '610100|2026-11-23' with the same update time "
                             "2026-11-23 03:50:00 UTC differ: ")
    assert "region name (column diqu) 西安 / 西安市" in reason and "confirmed (column ljqz) 44 / 47" in reason
    assert "ljzy" not in reason
    # the publisher settles it with a later version: that one loads and the conflict leaves quarantine
    src.put("agg", {"diqu": "西安", "riqi": "2026-11-23", "ljqz": "47", "ljzy": "3", "gxsj": ts(2)})
    r = poll()
    assert (r.updated, r.quarantined) == (1, 0)
    assert facts(sessions) == {("610100", None, "2026-11-23"): 47} and reasons(sessions) == []


# ------------------------------------------------------------------ names, buckets and days as published
PUB = ("CREATE TABLE pub (sf TEXT, ds TEXT, dm TEXT, qz TEXT, gx TEXT)")


@pytest.fixture
def pub(store, make_source_url, gaz):
    """A two-province city table: province, city name, city code, cumulative confirmed, update time."""
    _, sessions = store
    src = FeedSource(make_source_url("pub"))
    src.sql(PUB)
    pollers = []

    def configure(**extra):
        entry = {"name": "pub", "title": {"zh": "发布", "en": "Published"}, "kind": "case_aggregate",
                 "url": src.url, "table": "pub", "counting": "cumulative", "overlap_seconds": 30,
                 "columns": {"updated_at": "gx", "day": "gx", "province": "sf", "region_code": "dm",
                             "region_name": "ds", "confirmed": "qz"},
                 "buckets": {"待明确地区": {"bucket": "undetermined"}, "境外输入": {"bucket": "outside"},
                             "外省输入": {"bucket": "outside"}},
                 "aliases": {"杨凌": 610403}, **extra}
        cfg = SourcesConfig.model_validate({"sources": [entry]})
        p = SourcePoller(cfg.sources[0], sessions, gaz, cfg)
        pollers.append(p)

        def poll():
            return p.poll(now=NOW, force=True)
        poll.src = p.src
        return poll
    yield src, sessions, configure
    for p in pollers:
        p.close()
    src.close()


def row(prov, name, code, n, minutes_ago=10):
    return {"sf": prov, "ds": name, "dm": code, "qz": str(n), "gx": ts(minutes_ago)}


def test_places_as_written_resolve_and_each_raw_name_shows_its_rule(pub):
    from sitroom.store.models import PlaceName
    src, sessions, configure = pub
    poll = configure()
    src.put("pub", row("陕西省", "杨凌示范区", None, 3), row("河南省", "南阳（含邓州）", "0", 40),
            row("河南省", "长垣县", "410728", 5), row("河南省", "许昌县", "", 6), row("河南省", "信阳", "411500.0", 7),
            row("河南省", "洛阳(含偃师)", None, 8), row("河南省", "郑洲市", None, 9),
            row("河南", "待明确地区", None, 2), row("陕西", "待明确地区", None, 4),
            row("陕西省", "境外输入", None, 10), row("陕西省", "外省输入", None, 1))
    r = poll()
    assert (r.read, r.inserted, r.quarantined) == (11, 10, 1), reasons(sessions)
    with sessions() as s:
        got = {(c.region, c.bucket, c.label): (c.confirmed, c.note, str(c.day)) for c in s.scalars(select(CaseDaily))}
        names = {p.raw: (p.region, p.rule, p.note) for p in s.scalars(select(PlaceName))}
    day = "2026-11-23"   # the local day of the update time
    assert got == {
        ("610403", None, None): (3, None, day), ("411300", None, None): (40, "含邓州", day),
        ("410783", None, None): (5, None, day), ("411003", None, None): (6, None, day),
        ("411500", None, None): (7, None, day), ("410300", None, None): (8, "含偃师", day),
        ("410000", "undetermined", None): (2, None, day), ("610000", "undetermined", None): (4, None, day),
        ("610000", "outside", "境外输入"): (10, None, day), ("610000", "outside", "外省输入"): (1, None, day)}
    assert names["杨凌示范区"] == ("610403", "alias", None)
    assert names["南阳（含邓州）"] == ("411300", "pattern", "含邓州")
    assert names["410728"] == ("410783", "historical", None)
    assert names["许昌县"] == ("411003", "historical", None)
    assert names["411500.0"] == ("411500", "code", None)
    assert names["郑洲市"][1] == "unknown"
    assert "0" not in names and "" not in names                      # no code: the name was used
    (reason,) = reasons(sessions)
    assert reason == "unknown region '郑洲市'; did you mean 郑州市 (410100 郑州市)? (column ds)", reason


def test_a_bucket_without_the_rows_province_is_quarantined_with_the_column(pub):
    src, sessions, configure = pub
    poll = configure()
    src.put("pub", row("", "待明确地区", None, 2), row("火星", "待明确地区", None, 2, 9))
    poll()
    need = "bucket '待明确地区' needs the row's province (column sf) (column ds)"
    assert sorted(reasons(sessions)) == [need, need, "unknown province '火星' (column sf)"]


@pytest.mark.parametrize("gx, day", [
    ("2026-11-22 23:30:00", "2026-11-22"),   # 23:30 on the 22nd in Beijing is 15:30 UTC: the bulletin's day is the 22nd
    ("1795363200000", "2026-11-23"),         # ms: 2026-11-23 00:00 +08
])
def test_a_timestamp_day_is_the_local_day_in_the_sources_zone(pub, gx, day):
    # One layout per source: the column is also the cursor, and text written two ways sorts out of order
    # (a row written unlike the others is quarantined: tests/test_cursor_values.py).
    src, sessions, configure = pub
    poll = configure()
    src.put("pub", {"sf": "河南省", "ds": "郑州", "dm": None, "qz": "5", "gx": gx})
    poll()
    assert {(k[0], k[2]): v for k, v in facts(sessions).items()} == {("410100", day): 5}


def province_totals(sessions, gaz, snapshots, province="410000"):
    from sitroom import queries
    with sessions() as s:
        figures = queries.case_figures(s, NOW, 30, snapshots)
    view = queries.roll_up(figures, gaz, province)
    parts = list(view["regions"].values()) + list(view["buckets"].values()) + [view["unplaced"]]
    return sum(p["confirmed"] for p in parts), figures


@pytest.mark.parametrize("snapshot", [True, "province"])
def test_a_place_missing_from_the_latest_snapshot_no_longer_counts(pub, gaz, snapshot):
    src, sessions, configure = pub
    poll = configure(snapshot=snapshot)
    first = [row("河南省", "郑州", None, 10, 300), row("河南省", "邓州", None, 5, 300),
             row("河南省", "南阳", None, 20, 300), row("河南省", "待明确地区", None, 3, 300),
             row("陕西省", "西安", None, 7, 300)]
    src.put("pub", *first)
    poll()
    assert province_totals(sessions, gaz, {"pub": snapshot})[0] == 38
    # the next publication folds 邓州 into 南阳 and has placed the unknown ones (Shaanxi publishes later)
    src.put("pub", row("河南省", "郑州", None, 13, 60), row("河南省", "南阳（含邓州）", None, 27, 60))
    poll()
    total, figures = province_totals(sessions, gaz, {"pub": snapshot})
    assert total == 40
    absent = {(a["region"], a["bucket"]) for a in figures.absent}
    assert {("411381", None), ("410000", "undetermined")} <= absent
    # Shaanxi's 西安 is in no Henan publication: per province it still counts, per source it does not
    assert (("610100", None) in absent) == (snapshot is True)
    assert province_totals(sessions, gaz, {})[0] == 48          # without snapshot: 5 + 3 counted on top
    with sessions() as s:                                        # the history stays
        assert s.scalar(select(CaseDaily.confirmed).where(CaseDaily.region == "411381")) == 5


def test_a_prefecture_that_includes_its_county_is_not_added_twice(pub, gaz):
    from sitroom import queries
    src, sessions, configure = pub
    poll = configure(counties="included")
    src.put("pub", row("河南省", "南阳", None, 27), row("河南省", "邓州", None, 5), row("河南省", "郑州", None, 10))
    poll()
    assert province_totals(sessions, gaz, {})[0] == 37
    with sessions() as s:
        figures = queries.case_figures(s, NOW, 30)
    county_view = queries.roll_up(figures, gaz, "411300")
    assert county_view["regions"]["411381"]["confirmed"] == 5          # 邓州 is shown on 南阳's county map
    assert queries.roll_up(figures, gaz, "410000")["regions"]["411300"]["confirmed"] == 27


def test_the_publishers_province_totals_are_checked_against_the_sum_of_its_rows(pub, gaz):
    from sitroom import queries
    src, sessions, configure = pub
    src.sql("ALTER TABLE pub ADD COLUMN sfqz TEXT")
    poll = configure(snapshot="province", check_totals={"confirmed": "sfqz"})

    def r(prov, name, n, total, minutes_ago):
        return {**row(prov, name, None, n, minutes_ago), "sfqz": str(total)}
    src.put("pub", r("河南省", "郑州", 10, 18, 300), r("河南省", "待明确地区", 3, 18, 300), r("河南省", "邓州", 5, 18, 300),
            r("陕西省", "西安", 7, 9, 300))       # Shaanxi's publisher counts 2 that no row carries
    poll()
    src.put("pub", r("河南省", "郑州", 14, 20, 60), r("河南省", "南阳（含邓州）", 6, 20, 60))
    poll()
    with sessions() as s:
        figures = queries.case_figures(s, NOW, 30, {"pub": "province"})
        got = {(c["province"], c["metric"]): (c["published"], c["ours"], c["diff"])
               for c in queries.totals_check(s, figures, [poll.src])}
        since = {a["region"]: a["since"] for a in queries.absent_since(s, figures)}
    assert got == {("410000", "confirmed"): (20, 20, 0), ("610000", "confirmed"): (9, 7, -2)}
    assert since == {"411381": datetime(2026, 11, 23, 3, 0), "410000": datetime(2026, 11, 23, 3, 0)}


def test_a_data_mismatch_rule_measures_the_difference_per_province(pub, gaz):
    from sitroom.config import RulesConfig
    from sitroom.rules_load import RuleSet, compile_rules
    from sitroom.rules_measure import measure
    src, sessions, configure = pub
    src.sql("ALTER TABLE pub ADD COLUMN sfqz TEXT")
    poll = configure(snapshot="province", check_totals={"confirmed": "sfqz"})
    src.put("pub", {**row("河南省", "郑州", None, 10), "sfqz": "10"}, {**row("陕西省", "西安", None, 7), "sfqz": "9"})
    poll()
    rule = {"id": "feed_totals", "title": {"zh": "不符", "en": "Off"}, "kind": "data_mismatch", "source": "pub",
            "thresholds": {"IV": 1, "III": 10, "II": 50, "I": 200}, "recover": 0}
    feeds = {"pub": (("confirmed",), "province")}
    compiled, problems, _ = compile_rules(RulesConfig.model_validate({"rules": [rule]}).rules, gaz,
                                          source_names={"pub"}, totals_sources=feeds)
    assert problems == []
    with sessions() as s:
        got = measure(s, RuleSet(compiled, totals_sources=feeds), gaz, NOW)
    assert got == {"feed_totals": {"410000": 0.0, "610000": 2.0}}
    _, problems, _ = compile_rules(RulesConfig.model_validate({"rules": [{**rule, "metric": "dead"}]}).rules, gaz,
                                   source_names={"pub"}, totals_sources=feeds)
    assert problems == ["rules.yaml: rules[0].metric: source 'pub' checks no dead total (rule feed_totals); "
                        "its check_totals: confirmed"]
