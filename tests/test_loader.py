"""The loader against a real source database and a real store (SQLite or PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text

from loaders.demo.health_commission import local
from loaders.poller import SourcePoller
from sitroom.store.models import CaseReport, Quarantine, SourceState

NOW = datetime.utcnow


def put(sim, key, *, code="410105", name="郑州市金水区", reported=None, updated=None, status="1"):
    """Write one row the way the health commission's system would (with personal columns)."""
    now = NOW()
    row = {"bgkid": key, "hzxm": "王某", "sfzh": "410101199001011234", "lxdh": "13800000000",
           "xzdm": code, "xzdz": name, "bgrq": local(reported or now) if reported is not False else None,
           "gxsj": local(updated or now), "zt": status}
    with sim.engine.begin() as c:
        c.execute(text("DELETE FROM bl_report WHERE bgkid = :k"), {"k": key})
        c.execute(text("INSERT INTO bl_report VALUES (:bgkid, :hzxm, :sfzh, :lxdh, :xzdm, :xzdz, :bgrq, :gxsj, :zt)"), row)


def facts(sessions) -> dict[str, CaseReport]:
    with sessions() as s:
        return {c.source_key: c for c in s.scalars(select(CaseReport))}


def quarantined(sessions) -> dict[str, list[str]]:
    with sessions() as s:
        return {q.source_key: q.reasons for q in s.scalars(select(Quarantine))}


@pytest.fixture
def poller(store, hc_source, gaz):
    _, sessions = store
    sim, src = hc_source
    p = SourcePoller(src, sessions, gaz)
    yield p
    p.close()


def test_incremental_load_and_rerun_changes_nothing(poller, hc_source, store):
    sim, _ = hc_source
    _, sessions = store
    for i in range(40):
        put(sim, f"K{i:03d}", updated=NOW() - timedelta(minutes=10) + timedelta(seconds=i))
    r = poller.poll()
    assert (r.read, r.inserted, r.updated, r.quarantined, r.error) == (40, 40, 0, 0, None)
    again = poller.poll()
    assert (again.inserted, again.updated, again.quarantined) == (0, 0, 0)
    assert again.read < 40  # only the overlap window is re-read, not the whole table
    put(sim, "K005", status="3")  # cured: an update moves gxsj forward
    r = poller.poll()
    assert (r.inserted, r.updated) == (0, 1)
    got = facts(sessions)
    assert len(got) == 40
    assert got["K005"].status == "cured"
    assert got["K000"].region == "410105" and got["K000"].prefecture == "410100" and got["K000"].province == "410000"


def test_report_times_are_stored_in_utc(poller, hc_source, store):
    sim, _ = hc_source
    put(sim, "T1", reported=datetime(2026, 11, 20, 2, 0))  # written as 10:00 Beijing time
    poller.poll()
    assert facts(store[1])["T1"].reported_at == datetime(2026, 11, 20, 2, 0)


def test_only_mapped_columns_are_read(poller, hc_source):
    sim, _ = hc_source
    put(sim, "P1")
    statements = []
    event.listen(poller.engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: statements.append(stmt.lower()))
    poller.poll()
    selects = [s for s in statements if "bl_report" in s]
    assert selects, "the poller did not query the source"
    for personal in ("hzxm", "sfzh", "lxdh", "*"):
        assert all(personal not in s for s in selects), f"{personal} was selected: {selects[0]}"


def test_late_commit_inside_overlap_is_picked_up(poller, hc_source, store):
    sim, src = hc_source
    for i in range(5):
        put(sim, f"A{i}")
    poller.poll()
    # A transaction that started earlier commits now, with an older update time.
    put(sim, "LATE", updated=NOW() - timedelta(seconds=src.overlap_seconds / 2))
    r = poller.poll()
    assert r.inserted == 1
    assert "LATE" in facts(store[1])


def test_key_updated_twice_between_polls_counts_once(poller, hc_source, store):
    sim, _ = hc_source
    put(sim, "D1", status="2")
    poller.poll()
    put(sim, "D1", status="1")
    put(sim, "D1", status="3")
    r = poller.poll()
    assert (r.inserted, r.updated) == (0, 1)
    assert facts(store[1])["D1"].status == "cured"


BAD_ROWS = [
    ("B_PLACE", dict(code="", name="火星市"), "unknown region '火星市'"),
    ("B_CODE", dict(code="419999", name=""), "unknown region '419999'"),
    ("B_PROVINCE", dict(code="410000", name=""), "whole province"),
    ("B_NODATE", dict(reported=False), "missing report time (column bgrq)"),
    ("B_FUTURE", dict(reported=NOW() + timedelta(days=3)), "in the future (column bgrq)"),
    ("B_OLD", dict(reported=datetime(2001, 1, 1)), "before 2019-12-01"),
    ("B_STATUS", dict(status="9"), "unknown status '9' (column zt)"),
]


def test_bad_rows_are_quarantined_with_every_reason(poller, hc_source, store):
    sim, _ = hc_source
    for key, kw, _ in BAD_ROWS:
        put(sim, key, **kw)
    put(sim, "B_TWO", code="", name="不详", status="X")
    put(sim, "GOOD")
    r = poller.poll()
    assert (r.inserted, r.quarantined) == (1, len(BAD_ROWS) + 1)
    q = quarantined(store[1])
    for key, _, reason in BAD_ROWS:
        assert any(reason in x for x in q[key]), (key, q[key])
    assert len(q["B_TWO"]) == 2  # every reason, not just the first
    with store[1]() as s:
        state = s.get(SourceState, "hc_cases")
    assert state.rows_quarantined == len(BAD_ROWS) + 1
    # A re-read of the same bad rows does not count them again; a fix moves the row into the facts.
    assert poller.poll().quarantined == 0
    put(sim, "B_PLACE", code="410102", name="郑州市中原区")
    r = poller.poll()
    assert r.inserted == 1
    assert "B_PLACE" not in quarantined(store[1]) and facts(store[1])["B_PLACE"].region == "410102"


def test_place_name_used_when_code_missing(poller, hc_source, store):
    sim, _ = hc_source
    put(sim, "N1", code="", name="洛阳市")
    put(sim, "N2", code="", name="Xi'an")
    poller.poll()
    got = facts(store[1])
    assert got["N1"].region == "410300" and got["N2"].prefecture == "610100"


def test_source_down_is_retried_with_backoff_then_catches_up(poller, hc_source, store):
    sim, src = hc_source
    put(sim, "UP1")
    poller.poll()
    with sim.engine.begin() as c:
        c.execute(text("ALTER TABLE bl_report RENAME TO bl_report_offline"))
    r = poller.poll()
    assert r.error and "bl_report" in r.error
    with store[1]() as s:
        state = s.get(SourceState, "hc_cases")
    assert state.failures == 1 and state.retry_at > state.last_error_at
    assert poller.poll().skipped  # backing off: no hammering of a sick source
    with sim.engine.begin() as c:
        c.execute(text("ALTER TABLE bl_report_offline RENAME TO bl_report"))
    for i in range(20):
        put(sim, f"UP{i + 2}")
    r = poller.poll(force=True)
    assert r.error is None and r.inserted == 20
    with store[1]() as s:
        state = s.get(SourceState, "hc_cases")
        assert state.failures == 0 and state.last_error is None
        assert s.scalar(select(func.count()).select_from(CaseReport)) == 21


def test_keyset_pages_through_many_rows(poller, hc_source, store):
    sim, src = hc_source
    poller.src = src.model_copy(update={"batch_size": 7})
    same_time = NOW() - timedelta(minutes=5)
    for i in range(30):  # many rows share one update time: the key breaks ties
        put(sim, f"S{i:02d}", updated=same_time)
    r = poller.poll()
    assert r.inserted == 30
    assert len(facts(store[1])) == 30
