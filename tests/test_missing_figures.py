"""Missing is not zero: which regions of a map have nothing of their own reported, on a real store
(SQLite or PostgreSQL) filled by tests/feed_seed.py: a Henan line list, Shaanxi aggregates."""
from __future__ import annotations

from datetime import timedelta

import pytest

import feed_seed as fs
from sitroom import queries
from sitroom.series import local_day as local_today
from sitroom.store.db import utcnow
from sitroom.store.models import CaseDaily

BAOJI, WEIBIN = "610300", "610302"


@pytest.fixture
def figures(seeded):
    sessions, now = seeded
    with sessions.begin() as s:
        # Baoji's bulletin gives the prefecture's total only, never its counties
        s.add(CaseDaily(source="sx_agg", source_key=f"baoji|{local_today(now)}", region=BAOJI, bucket=None,
                        prefecture=BAOJI, province=fs.SHAANXI, day=local_today(now) - timedelta(days=1),
                        counting="cumulative", confirmed=0, suspected=None, asymptomatic=None, cured=0, dead=0,
                        source_updated_at=now, loaded_at=now))
    with sessions() as s:
        return queries.case_figures(s, now)


def test_overview_says_which_prefectures_reported_nothing(figures, gaz):
    missing = queries.roll_up(figures, gaz, "all")["missing"]
    henan = [p.adcode for p in gaz.prefectures("410000")]
    assert not set(henan) & set(missing)                    # a line list: no row is no case
    assert fs.XIAN not in missing and fs.XIANYANG not in missing and BAOJI not in missing  # rows, even a zero
    shaanxi_silent = {p.adcode for p in gaz.prefectures(fs.SHAANXI)} - {fs.XIAN, fs.XIANYANG, BAOJI}
    assert missing == {c: "none" for c in shaanxi_silent}


def test_counties_of_a_prefecture_that_reports_only_its_total(figures, gaz):
    baoji = queries.roll_up(figures, gaz, BAOJI)
    assert WEIBIN in baoji["missing"]
    assert set(baoji["missing"].values()) == {"prefecture_only"}
    assert set(baoji["missing"]) == {c.adcode for c in gaz.children(BAOJI)}
    xian = queries.roll_up(figures, gaz, fs.XIAN)["missing"]   # one county reported, the rest not at all
    assert fs.XINCHENG not in xian and set(xian.values()) == {"none"} and xian
    assert not queries.roll_up(figures, gaz, fs.ZHENGZHOU)["missing"]


def test_an_empty_store_reported_nothing(store, gaz):
    _url, sessions = store
    with sessions() as s:
        empty = queries.case_figures(s, utcnow())
    top = queries.roll_up(empty, gaz, "all")
    assert set(top["missing"]) == {p.adcode for p in gaz.prefectures()} and set(top["missing"].values()) == {"none"}
