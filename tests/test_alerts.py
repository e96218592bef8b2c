"""Rule levels and the alert lifecycle, on a real store."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select

from sitroom.alerts import AlertConflict, AlertNotFound, acknowledge, evaluate, trail
from sitroom.config import Text, ThresholdRule, Thresholds
from sitroom.store.models import Alert, CaseReport

RULE = ThresholdRule(id="new_confirmed_24h", title=Text(zh="24小时新增确诊", en="new 24h"), kind="threshold",
                     metric="new_confirmed", window_hours=24, thresholds=Thresholds(IV=10, III=20, II=40, I=80),
                     recover=8)
NOW = datetime(2026, 11, 23, 12, 0)


@pytest.mark.parametrize("value,level", [(0, None), (9.9, None), (10, "IV"), (19, "IV"), (20, "III"),
                                         (40, "II"), (79, "II"), (80, "I"), (10_000, "I")])
def test_threshold_levels(value, level):
    assert RULE.thresholds.level_for(value) == level


def test_thresholds_must_rise():
    with pytest.raises(ValueError, match="rise strictly"):
        Thresholds(IV=10, III=5, II=40, I=80)
    assert Thresholds(IV=7, III=5, II=3, I=1).level_for(2, "below") == "II"  # falling: lower is worse


def cases(sessions, prefecture: str, n: int, *, hours_ago: float = 1, status: str = "confirmed", tag: str = "c"):
    with sessions.begin() as s:
        s.execute(insert(CaseReport), [
            {"source": "t", "source_key": f"{tag}{prefecture}-{i}", "status": status, "region": prefecture,
             "prefecture": prefecture, "province": prefecture[:2] + "0000",
             "reported_at": NOW - timedelta(hours=hours_ago), "source_updated_at": NOW, "loaded_at": NOW}
            for i in range(n)])


def run(sessions, gaz, now=NOW):
    with sessions.begin() as s:
        return evaluate(s, [RULE], gaz, now)


def open_alerts(sessions):
    with sessions() as s:
        return list(s.scalars(select(Alert).where(Alert.state != "resolved")))


def test_fires_once_escalates_without_duplicate_and_resolves_with_hysteresis(store, gaz):
    _, sessions = store
    cases(sessions, "410100", 12)
    cases(sessions, "410300", 9)                 # below IV: nothing
    cases(sessions, "610100", 5, hours_ago=30)   # outside the 24-hour window
    assert run(sessions, gaz).fired == 1
    assert run(sessions, gaz).fired == 0         # re-evaluation does not duplicate
    [a] = open_alerts(sessions)
    assert (a.region, a.level, a.state, a.value) == ("410100", "IV", "firing", 12)
    cases(sessions, "410100", 30, tag="more")    # 42 -> level II
    ev = run(sessions, gaz)
    assert (ev.fired, ev.escalated) == (0, 1)
    [a] = open_alerts(sessions)
    assert a.level == "II" and a.threshold == 40
    # Falls to 9: below IV's threshold but above recover_below -> stays open (no flapping).
    with sessions.begin() as s:
        s.execute(delete(CaseReport).where(CaseReport.source_key.like("more%")))
        s.execute(delete(CaseReport).where(CaseReport.source_key == "c410100-0"))
        s.execute(delete(CaseReport).where(CaseReport.source_key == "c410100-1"))
        s.execute(delete(CaseReport).where(CaseReport.source_key == "c410100-2"))
    run(sessions, gaz)
    [a] = open_alerts(sessions)
    assert a.value == 9 and a.state == "firing" and a.level == "II"
    # A day later the window is empty: resolved by the system, with the trail kept.
    assert run(sessions, gaz, NOW + timedelta(hours=25)).resolved == 1
    assert open_alerts(sessions) == []
    with sessions() as s:
        assert [e.kind for e in trail(s, a.id)] == ["fired", "escalated", "resolved"]
    # And a new rise is a new alert.
    cases(sessions, "410100", 15, hours_ago=-24, tag="new")
    assert run(sessions, gaz, NOW + timedelta(hours=25)).fired == 1


def test_acknowledge_records_who_and_when_and_survives_a_new_session(store, gaz):
    url, sessions = store
    cases(sessions, "410100", 25)
    run(sessions, gaz)
    [a] = open_alerts(sessions)
    with sessions.begin() as s:
        acknowledge(s, a.id, "张三", "已通知郑州市疾控", now=NOW)
    from sitroom.store import make_engine, session_factory
    fresh = session_factory(make_engine(url))  # as after a restart
    with fresh() as s:
        got = s.get(Alert, a.id)
        assert (got.state, got.acked_by, got.acked_at, got.ack_note) == ("acknowledged", "张三", NOW, "已通知郑州市疾控")
        assert [e.kind for e in trail(s, a.id)] == ["fired", "acknowledged"]
    with pytest.raises(AlertConflict, match="already acknowledged by 张三"):
        with sessions.begin() as s:
            acknowledge(s, a.id, "李四")
    with pytest.raises(AlertNotFound):
        with sessions.begin() as s:
            acknowledge(s, 999_999, "李四")
    # Acknowledged stays acknowledged on re-evaluation; a rise to a higher level alerts again.
    run(sessions, gaz)
    assert open_alerts(sessions)[0].state == "acknowledged"
    cases(sessions, "410100", 30, tag="rise")
    run(sessions, gaz)
    [a] = open_alerts(sessions)
    assert (a.state, a.level) == ("firing", "II")


def test_concurrent_acknowledgements_exactly_one_wins(store, gaz):
    _, sessions = store
    cases(sessions, "410100", 25)
    run(sessions, gaz)
    [a] = open_alerts(sessions)
    results, barrier = [], threading.Barrier(6)

    def officer(name):
        barrier.wait()
        try:
            with sessions.begin() as s:
                acknowledge(s, a.id, name)
            results.append(("ok", name))
        except AlertConflict as e:
            results.append(("conflict", str(e)))

    threads = [threading.Thread(target=officer, args=(f"值班员{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r[0] == "ok"]
    assert len(winners) == 1, results
    assert all(winners[0][1] in r[1] for r in results if r[0] == "conflict")


def test_queue_order_level_then_unacknowledged_then_newest(store, gaz):
    from sitroom.queries import alerts as queue
    _, sessions = store
    cases(sessions, "410100", 85)                # I
    cases(sessions, "410300", 85)                # I, will be acknowledged
    cases(sessions, "410500", 15)                # IV
    run(sessions, gaz)
    cases(sessions, "610100", 85)                # I, fired later
    run(sessions, gaz, NOW + timedelta(minutes=5))
    with sessions.begin() as s:
        ack_id = next(a.id for a in queue(s) if a.region == "410300")
        acknowledge(s, ack_id, "张三")
    cases(sessions, "410300", 3, tag="bump")     # the acknowledged one's value moves: must not jump the queue
    run(sessions, gaz, NOW + timedelta(minutes=6))
    with sessions() as s:
        assert [a.region for a in queue(s, "active")] == ["610100", "410100", "410300", "410500"]


def test_unacknowledged_alert_escalates_once_and_acknowledged_does_not(store, gaz):
    _, sessions = store
    cases(sessions, "410100", 15)
    cases(sessions, "410300", 15)
    run(sessions, gaz)
    with sessions.begin() as s:
        acknowledge(s, next(a.id for a in open_alerts(sessions) if a.region == "410300"), "张三", now=NOW)
    rule_wait = timedelta(minutes=RULE.escalate_after_minutes)
    assert run(sessions, gaz, NOW + rule_wait - timedelta(seconds=1)).escalated == 0
    assert run(sessions, gaz, NOW + rule_wait).escalated == 1
    assert run(sessions, gaz, NOW + rule_wait * 3).escalated == 0          # recorded once per level
    by_region = {a.region: a for a in open_alerts(sessions)}
    assert by_region["410100"].escalated_at == NOW + rule_wait and by_region["410300"].escalated_at is None
    with sessions() as s:
        events = trail(s, by_region["410100"].id)
    assert [e.kind for e in events] == ["fired", "escalated"] and "unacknowledged for 15 min" in events[1].note
