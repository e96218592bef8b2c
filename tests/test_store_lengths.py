"""Whatever length a source's values have, the source goes on: keys of any length load, and a value
longer than its store column (PostgreSQL enforces VARCHAR(n) and INTEGER) is a quarantined row naming
the column, on both stores, checked by the mapper with limits read from the store's models."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from loaders.feeds import FEEDS
from loaders.limits import int_limit, text_limit
from loaders.poller import SourcePoller
from sitroom.store.models import Clinic, ClinicVisit, Quarantine

from feed_sources import FeedSource, sources_config
from test_bad_values import GOOD

# source table -> its key column; (table, column, field) of every free-text field the feeds map
KEYS = {"cases": "kh", "clinic": "id", "point": "pid", "trip": "rid"}
TEXTS = [("clinic", "mc", "name"), ("clinic", "dz", "address"), ("point", "pname", "name"),
         ("flow", "origin", "origin"), ("trip", "origin", "origin")]
COUNTS = [("agg", "ljqz", "confirmed"), ("clinic", "nl", "capacity"), ("visit", "rc", "visits"), ("flow", "n", "count")]
CASE = {"kh": "K1", "zt": "确诊", "qx": "410105", "bgsj": "2026-11-23 10:00:00", "gxsj": "2026-11-23 11:00:00"}


def row(table: str) -> dict:
    return dict(CASE) if table == "cases" else dict(GOOD[table])


@pytest.fixture
def world(store, gaz, make_source_url):
    src = FeedSource(make_source_url("lengths"))
    cfg = sources_config(src.url)
    pollers = {s.name: SourcePoller(s, store[1], gaz, cfg) for s in cfg.sources}

    def poll(name: str):
        r = pollers[name].poll(force=True)
        assert r.error is None, r.error
        return r
    yield src, poll, store[1]
    for p in pollers.values():
        p.close()
    src.close()


def kind_of(name: str) -> str:
    return next(s.kind for s in sources_config("sqlite:///x.db").sources if s.name == name)


def held(sessions) -> dict[str, list[str]]:
    with sessions() as s:
        return {q.source_key: q.reasons for q in s.scalars(select(Quarantine))}


@pytest.mark.parametrize("table", KEYS)
@pytest.mark.parametrize("length", [150, 250, 5000])
def test_a_key_of_any_length_loads_and_stays_one_row(world, table, length):
    src, poll, sessions = world
    key = ("长" * length)
    src.put(table, {**row(table), KEYS[table]: key})
    assert poll(table).inserted == 1
    assert poll(table).inserted == 0   # the next poll finds it again: nothing doubled, no conflict


@pytest.mark.parametrize("length", [150, 250, 5000])
def test_a_bad_row_with_a_long_key_is_quarantined_once_and_leaves_when_fixed(world, length):
    src, poll, sessions = world
    key = "K" * length
    src.put("cases", {**CASE, "kh": key, "zt": "未知"})
    assert poll("cases").quarantined == 1
    r = poll("cases")
    assert (r.quarantined, r.inserted) == (0, 0)
    src.sql("UPDATE cases SET zt = '确诊', gxsj = '2026-11-23 11:30:00'")
    assert poll("cases").inserted == 1
    assert held(sessions) == {}


def test_a_long_clinic_key_still_joins_its_visits(world):
    src, poll, sessions = world
    key = "C" * 300
    src.put("clinic", {**GOOD["clinic"], "id": key})
    src.put("visit", {**GOOD["visit"], "mzid": key})
    poll("clinic"), poll("visit")
    with sessions() as s:
        (clinic,) = s.scalars(select(Clinic.source_key))
        (visited,) = s.scalars(select(ClinicVisit.clinic))
    assert clinic == visited


@pytest.mark.parametrize("table,col,field", TEXTS, ids=[f"{t}.{c}" for t, c, _ in TEXTS])
def test_text_longer_than_its_store_column_is_quarantined_naming_the_column(world, table, col, field):
    src, poll, sessions = world
    limit = text_limit(FEEDS[kind_of(table)].model, field)
    assert limit, f"{field} is not a VARCHAR column of its store table"
    src.put(table, {**row(table), col: "名" * (limit + 1)})
    r = poll(table)
    assert (r.inserted, r.quarantined) == (0, 1)
    assert f"text longer than {limit} characters (column {col})" in next(iter(held(sessions).values()))
    src.sql(f"DELETE FROM {table}")
    src.put(table, {**row(table), col: "名" * limit, **({KEYS[table]: "K2"} if table in KEYS else {})})
    assert poll(table).inserted == 1


@pytest.mark.parametrize("table,col,field", COUNTS, ids=[f"{t}.{c}" for t, c, _ in COUNTS])
def test_a_count_past_its_store_column_is_quarantined_naming_the_column(world, table, col, field):
    src, poll, sessions = world
    maximum = int_limit(FEEDS[kind_of(table)].model, field)
    src.put(table, {**row(table), col: str(maximum + 1)})
    r = poll(table)
    assert (r.inserted, r.quarantined) == (0, 1)
    assert any(f"(column {col})" in x and "more than the store holds" in x for x in next(iter(held(sessions).values())))
