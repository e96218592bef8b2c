"""A row's update time is the polling cursor: one that cannot be read or lies in the future is
quarantined and never moves the cursor, and the source goes on loading later rows."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from loaders.demo.health_commission import local
from loaders.poller import SourcePoller
from sitroom.store.models import CaseReport, Quarantine, SourceState

NOW = datetime.utcnow


def put(sim, key: str, gxsj: str) -> None:
    with sim.engine.begin() as c:
        c.execute(text("DELETE FROM bl_report WHERE bgkid = :k"), {"k": key})
        c.execute(text("INSERT INTO bl_report (bgkid, xzdm, xzdz, bgrq, gxsj, zt) "
                       "VALUES (:k, '410105', '郑州市金水区', :r, :g, '1')"),
                  {"k": key, "r": local(NOW() - timedelta(hours=1)), "g": gxsj})


def poll(p: SourcePoller):
    """One poll, which must end (a page of bad rows must not make it loop)."""
    out = []
    t = threading.Thread(target=lambda: out.append(p.poll(force=True)), daemon=True)
    t.start()
    t.join(60)
    assert out, "the poll did not end"
    return out[0]


def loaded(sessions) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(CaseReport.source_key)))


def reasons(sessions) -> dict[str, list[str]]:
    with sessions() as s:
        return {q.source_key: q.reasons for q in s.scalars(select(Quarantine))}


@pytest.fixture
def poller(store, hc_source, gaz):
    sim, src = hc_source
    p = SourcePoller(src.model_copy(update={"batch_size": 2}), store[1], gaz)   # bad rows fill whole pages
    yield p
    p.close()


def test_garbage_and_far_future_update_times_are_quarantined_and_later_rows_load(poller, hc_source, store):
    sim, _ = hc_source
    sessions = store[1]
    for i in range(3):
        put(sim, f"OK{i}", local(NOW() - timedelta(minutes=5)))
    put(sim, "NA", "N/A")
    put(sim, "Y2099", "2099-01-01 08:00:00")
    put(sim, "SOON", local(NOW() + timedelta(minutes=20)))
    r = poll(poller)
    assert (r.error, r.inserted, r.quarantined) == (None, 3, 3)
    q = reasons(sessions)
    assert q["NA"] == ["unreadable update time 'N/A' (column gxsj)"]
    assert q["Y2099"] == ["update time 2099-01-01 00:00 UTC is in the future (column gxsj)"]
    assert "in the future (column gxsj)" in q["SOON"][0]
    with sessions() as s:
        cursor = s.get(SourceState, "hc_cases").cursor
    assert "N/A" not in cursor and "2099" not in cursor
    # Rows written afterwards (dated before the bad ones, which sort last) still load, poll after poll.
    for n in range(3):
        put(sim, f"LATER{n}", local(NOW() - timedelta(seconds=5)))
        r = poll(poller)
        assert (r.error, r.inserted) == (None, 1), r
    assert loaded(sessions) == {"OK0", "OK1", "OK2", "LATER0", "LATER1", "LATER2"}
    # Fixed at the source, a bad row leaves quarantine for the facts.
    put(sim, "NA", local(NOW()))
    r = poll(poller)
    assert r.inserted == 1 and "NA" not in reasons(sessions)


def test_a_row_inside_the_tolerance_does_not_hide_rows_written_before_its_time(poller, hc_source, store):
    sim, _ = hc_source
    put(sim, "AHEAD", local(NOW() + timedelta(minutes=5)))   # a clock 5 minutes fast: within 10 minutes
    assert poll(poller).inserted == 1
    put(sim, "NOW", local(NOW() - timedelta(seconds=1)))     # written later, dated before AHEAD
    r = poll(poller)
    assert (r.error, r.inserted) == (None, 1)
    assert loaded(store[1]) == {"AHEAD", "NOW"}


def test_the_tolerance_is_the_sources_own(store, hc_source, gaz):
    sim, src = hc_source
    p = SourcePoller(src.model_copy(update={"future_tolerance_seconds": 60}), store[1], gaz)
    try:
        put(sim, "AHEAD", local(NOW() + timedelta(minutes=5)))
        r = p.poll(force=True)
        assert (r.inserted, r.quarantined) == (0, 1)
    finally:
        p.close()


def test_a_cursor_an_older_version_took_from_a_bad_row_is_dropped(poller, hc_source, store):
    sim, _ = hc_source
    sessions = store[1]
    put(sim, "OK", local(NOW() - timedelta(minutes=1)))
    poll(poller)
    with sessions.begin() as s:
        s.get(SourceState, "hc_cases").cursor = '["N/A", "NA"]'
    put(sim, "NEXT", local(NOW()))
    r = poll(poller)
    assert (r.error, r.inserted) == (None, 1)


@pytest.mark.parametrize("written", ["%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"])
def test_a_past_time_written_in_another_layout_does_not_hide_later_rows(poller, hc_source, store, written):
    """In a text column '2026/11/28 09:00' or '2026-11-28T09:00' sorts after every '2026-11-28 …' of the
    source, though it is in the past: as the cursor it would hide every row written after it."""
    sim, _ = hc_source
    sessions = store[1]
    for i in range(3):
        put(sim, f"OK{i}", local(NOW() - timedelta(minutes=10)))
    odd = (NOW() - timedelta(minutes=5)).replace(tzinfo=None)
    shown = local(odd)                                   # the source's local time, then written otherwise
    put(sim, "ODD", datetime.strptime(shown, "%Y-%m-%d %H:%M:%S").strftime(written))
    r = poll(poller)
    if written.endswith("%f"):   # fractions of a second sort with the rest: the same layout
        assert (r.error, r.inserted, r.quarantined) == (None, 4, 0)
    else:
        assert (r.error, r.inserted, r.quarantined) == (None, 3, 1)
        assert "not written like the source's other update times" in reasons(sessions)["ODD"][0]
    for n in range(2):
        put(sim, f"LATER{n}", local(NOW() - timedelta(seconds=5)))
        r = poll(poller)
        assert (r.error, r.inserted) == (None, 1), r
    assert {"LATER0", "LATER1"} <= loaded(sessions)


@pytest.mark.parametrize("first", ["%Y/%m/%d %H:%M", "%Y%m%d"])
def test_a_first_row_written_in_another_layout_does_not_hide_the_sources_rows(poller, hc_source, store, first):
    """Alone at the first poll, a row written unlike the source's later rows is all there is to go by,
    and becomes the cursor; in a text column ('2026/11/23' and '20261123' sort after every '2026-12-…')
    it hid every row the source wrote afterwards, for ever. Rows written since, most of them unlike the
    cursor, make the loader read the source again in their layout: the odd row is quarantined then."""
    sim, _ = hc_source
    sessions = store[1]
    odd = datetime.strptime(local(NOW() - timedelta(days=3)), "%Y-%m-%d %H:%M:%S").strftime(first)
    put(sim, "ODD", odd)
    assert poll(poller).inserted == 1
    for i in range(3):
        put(sim, f"OK{i}", local(NOW() - timedelta(seconds=5)))
    r = poll(poller)
    assert r.error is None
    assert loaded(sessions) == {"OK0", "OK1", "OK2"}
    assert "not written like the source's other update times" in reasons(sessions)["ODD"][0]
    with sessions() as s:
        assert s.get(SourceState, "hc_cases").cursor.startswith('["' + local(NOW())[:4] + "-")
    put(sim, "LATER", local(NOW()))
    r = poll(poller)
    assert (r.error, r.inserted) == (None, 1)
    assert poll(poller).inserted == 0        # the cursor stays in the source's layout: nothing read twice


def test_unreadable_update_times_say_nothing_of_how_the_source_writes_them(poller, hc_source, store):
    """The first page sorts '0' and '0.2' before every real time: they are not times, and once made the
    source's 'layout' by a majority of the page, they had its readable rows quarantined for ever."""
    sim, _ = hc_source
    sessions = store[1]
    for key, bad in (("Z0", "0"), ("Z1", "0.2"), ("Z2", "00")):
        put(sim, key, bad)
    put(sim, "OK", local(NOW() - timedelta(minutes=20)))
    r = poll(poller)
    assert (r.error, r.inserted, r.quarantined) == (None, 1, 3)
    assert loaded(sessions) == {"OK"}


def test_a_few_rows_written_otherwise_lately_do_not_outweigh_the_sources_history(poller, hc_source, store):
    sim, _ = hc_source
    sessions = store[1]
    for i in range(5):
        put(sim, f"OK{i}", local(NOW() - timedelta(minutes=10 - i)))
    assert poll(poller).inserted == 5
    for i in range(3):
        put(sim, f"ODD{i}", (datetime.strptime(local(NOW()), "%Y-%m-%d %H:%M:%S")).strftime("%Y/%m/%d %H:%M"))
    r = poll(poller)
    assert (r.error, r.inserted, r.quarantined) == (None, 0, 3)
    assert loaded(sessions) == {f"OK{i}" for i in range(5)}


def test_a_row_without_an_update_time_is_quarantined_whichever_page_it_sorts_into(store, hc_source, gaz):
    """NULL sorts first on SQLite and last on PostgreSQL: read in pages of 2, the NULL row comes after a
    page boundary on PostgreSQL, and must be read (and quarantined) all the same."""
    sim, src = hc_source
    with sim.engine.begin() as c:   # the demo's table without its NOT NULLs (CREATE TABLE AS keeps none)
        c.execute(text("CREATE TABLE bl_loose AS SELECT * FROM bl_report WHERE 1 = 0"))
        for key, when in [(f"OK{i}", local(NOW() - timedelta(minutes=5 - i))) for i in range(3)] + [("NOTIME", None)]:
            c.execute(text("INSERT INTO bl_loose (bgkid, xzdm, xzdz, bgrq, gxsj, zt) "
                           "VALUES (:k, '410105', '郑州市金水区', :r, :g, '1')"),
                      {"k": key, "r": local(NOW() - timedelta(hours=1)), "g": when})
    p = SourcePoller(src.model_copy(update={"batch_size": 2, "table": "bl_loose"}), store[1], gaz)
    try:
        r = poll(p)
    finally:
        p.close()
    assert (r.error, r.inserted, r.quarantined) == (None, 3, 1), r
    assert "NOTIME" in reasons(store[1])
