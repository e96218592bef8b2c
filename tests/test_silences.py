"""Silences of a (rule, region) on the real app, the real rules engine, a real store (SQLite or PostgreSQL),
the loaders' real scheduler and a webhook gateway on localhost: who may silence, where, with what; the
trail; lifting; expiry by itself; and that a silenced alert is evaluated but tells nobody until its end."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from sitroom import notify, silences
from sitroom.alerts import evaluate
from sitroom.auth.models import AuditEntry
from sitroom.store.models import Alert, AlertEvent, CaseReport, DataVersion, Silence

from conftest import runtime_on
from test_notify import gateway, rows, targets  # noqa: F401 (gateway: the fixture)

RULE, ZHENGZHOU, XIAN = "new_confirmed_24h", "410100", "610100"


def add_cases(sessions, county: str, n: int, tag: str) -> None:
    """`n` confirmed cases in a county this past hour (its prefecture's new_confirmed_24h)."""
    now = datetime.utcnow()
    with sessions.begin() as s:
        s.execute(insert(CaseReport), [
            {"source": "hc_cases", "source_key": f"{tag}-{i}", "status": "confirmed", "region": county,
             "prefecture": county[:4] + "00", "province": county[:2] + "0000", "reported_at": now - timedelta(hours=1),
             "source_updated_at": now, "loaded_at": now} for i in range(n)])


@pytest.fixture
def rt(store, gaz, tmp_path):
    return runtime_on(store[0], gaz, tmp_path)


@pytest.fixture
def app(rt, store, gaz):
    """Level II alerts of new_confirmed_24h in Zhengzhou and in Xi'an."""
    sessions = store[1]
    add_cases(sessions, "410102", 160, "zz")
    add_cases(sessions, "610102", 160, "xa")
    with sessions.begin() as s:
        evaluate(s, list(rt.config.rules.rules), gaz)
    from dashboard.app import create_app
    return create_app(rt)


def _alert(client, region: str) -> dict:
    return next(a for a in client.get("/api/v1/alerts").json if a["region"] == region and a["rule"] == RULE)


def _silence(client, **body):
    return client.post("/api/v1/silences", json={"rule": RULE, "region": ZHENGZHOU, "minutes": 60,
                                                 "reason": "数据补报，已核实", **body})


def test_only_officers_and_admins_silence_and_only_their_regions(app, login):
    leader, wall = login(app, "leader"), login(app, "wall")
    zz = login(app, "officer", regions=[ZHENGZHOU], name="zz-officer", display="郑州值班员")
    admin = login(app, "admin")
    assert _silence(leader).status_code == 403 and _silence(wall).status_code == 403
    assert leader.get("/api/v1/silences").status_code == 200   # seeing them is for every role
    # a region outside the account's answers as one that does not exist
    r = _silence(zz, region=XIAN)
    assert r.status_code == 404 and r.json["error"] == "no region 610100"
    assert _silence(zz, region="999999").status_code == 404
    xian = _silence(admin, region=XIAN)
    assert xian.status_code == 201 and xian.json["created_by"] == "管理员"
    assert zz.post(f"/api/v1/silences/{xian.json['id']}/lift").status_code == 404
    assert [x["region"] for x in zz.get("/api/v1/silences").json] == []
    mine = _silence(zz)
    assert mine.status_code == 201, mine.json
    assert [x["region"] for x in zz.get("/api/v1/silences").json] == [ZHENGZHOU]
    assert {x["region"] for x in admin.get("/api/v1/silences").json} == {ZHENGZHOU, XIAN}
    assert leader.post(f"/api/v1/silences/{mine.json['id']}/lift").status_code == 403


@pytest.mark.parametrize("body, field, code", [
    ({"reason": None}, "reason", "required"), ({"reason": "   "}, "reason", "required"),
    ({"reason": "x" * 2001}, "reason", "long"), ({"reason": "a\u202eb"}, "reason", "bidi"),
    ({"minutes": None}, "minutes", "required"), ({"minutes": 0}, "minutes", "range"),
    ({"minutes": 1441}, "minutes", "range"), ({"minutes": "一小时"}, "minutes", "type"),
    ({"minutes": True}, "minutes", "type"), ({"minutes": 60.5}, "minutes", "type"),
])
def test_bad_input_is_a_400_naming_the_field(app, login, body, field, code):
    r = _silence(login(app, "officer"), **body)
    assert r.status_code == 400 and (r.json["field"], r.json["code"]) == (field, code), r.json
    assert f"'{field}'" in r.json["error"]


def test_bad_requests_say_what_is_wrong(app, login):
    officer = login(app, "officer")
    for body, words in [({"rule": "no_such_rule"}, "no rule 'no_such_rule'"),
                        ({"region": "410102"}, "does not watch region 410102"),   # a county: the rule watches prefectures
                        ({"by": "王五"}, "'by' is not taken"), ({"until": "tomorrow"}, "unknown field 'until'")]:
        r = _silence(officer, **body)
        assert r.status_code == 400 and words in r.json["error"], (body, r.json)
    r = officer.post("/api/v1/silences", json={"region": ZHENGZHOU, "minutes": 60, "reason": "x"})
    assert r.status_code == 400 and "'rule' is required" in r.json["error"]
    r = officer.post("/api/v1/silences", data="[1", content_type="application/json")
    assert r.status_code == 400 and "not JSON" in r.json["error"]
    assert officer.post("/api/v1/silences/abc/lift").status_code == 400
    assert officer.post("/api/v1/silences/1/lift", json={"by": "x"}).status_code == 400
    assert officer.post("/api/v1/silences/99999/lift").status_code == 404
    assert officer.get("/api/v1/silences").json == []   # nothing was silenced by any of it


def test_silence_in_the_trail_then_lifted_by_another_officer(app, login, store):
    zhang = login(app, "officer", name="zhangsan", display="张三")
    li = login(app, "officer", name="lisi", display="李四")
    alert = _alert(zhang, ZHENGZHOU)
    assert alert["silenced_until"] is None
    made = _silence(zhang, minutes=90)
    assert made.status_code == 201
    got = made.json
    ends = datetime.fromisoformat(got["ends"].removesuffix("Z"))
    assert ends - datetime.fromisoformat(got["starts"].removesuffix("Z")) == timedelta(minutes=90)
    assert (got["created_by"], got["reason"], got["region_name"]) == ("张三", "数据补报，已核实", "郑州市")
    now = zhang.get(f"/api/v1/alerts/{alert['id']}").json
    assert now["state"] == "firing" and now["silenced_until"] == got["ends"]   # still there, still firing
    assert now["silence"] == {"id": got["id"], "ends": got["ends"], "created_by": "张三", "reason": "数据补报，已核实"}
    entry = now["trail"][-1]
    assert (entry["kind"], entry["by"], entry["note"], entry["silenced_until"]) == (
        "silenced", "张三", "数据补报，已核实", got["ends"])
    # one silence at a time per (rule, region): the second is told whose is in force
    again = _silence(li)
    assert again.status_code == 409 and "张三" in again.json["error"] and again.json["silence"]["id"] == got["id"]
    lifted = li.post(f"/api/v1/silences/{got['id']}/lift")
    assert lifted.status_code == 200 and (lifted.json["lifted_by"], lifted.json["ended_at"] is not None) == ("李四", True)
    after = li.get(f"/api/v1/alerts/{alert['id']}").json
    assert after["silenced_until"] is None and li.get("/api/v1/silences").json == []
    assert (after["trail"][-1]["kind"], after["trail"][-1]["by"]) == ("silence_lifted", "李四")
    r = zhang.post(f"/api/v1/silences/{got['id']}/lift")
    assert r.status_code == 409 and "李四" in r.json["error"]
    with store[1]() as s:
        audit = [(e.actor, e.action, e.ok) for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action.like("silence.%")).order_by(AuditEntry.id))]
    assert audit == [("zhangsan", "silence.add", True), ("lisi", "silence.add", False),
                     ("lisi", "silence.lift", True), ("zhangsan", "silence.lift", False)]
    # a new silence once the last one is lifted
    assert _silence(zhang).status_code == 201


def test_a_silence_expires_by_itself_in_the_running_loaders(app, login, store, rt, gaz):
    """The loader process's scheduler records the end in the trail and moves the data version;
    the API stops calling the alert silenced, without a restart of anything."""
    from loaders.service import LoaderService
    url, sessions = store
    officer = login(app, "officer")
    alert = _alert(officer, ZHENGZHOU)
    made = _silence(officer, minutes=5).json
    with sessions.begin() as s:   # five minutes are long for a test: its end comes in 2 s
        s.execute(update(Silence).where(Silence.id == made["id"]).values(ends=datetime.utcnow() + timedelta(seconds=2)))
        version = s.scalar(select(DataVersion.version))
    config = rt.config.model_copy(update={"sources": rt.config.sources.model_copy(update={"sources": []})})
    svc = LoaderService(config, gaz, url)
    svc.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with sessions() as s:
                if s.scalar(select(Silence.ended_at).where(Silence.id == made["id"])):
                    break
            time.sleep(0.2)
    finally:
        svc.stop()
    with sessions() as s:
        silence = s.get(Silence, made["id"])
        assert silence.ended_at is not None and silence.lifted_by is None
        assert s.scalar(select(DataVersion.version)) > version
    body = officer.get(f"/api/v1/alerts/{alert['id']}").json
    assert body["silenced_until"] is None and officer.get("/api/v1/silences").json == []
    entry = body["trail"][-1]
    until = silence.ends.isoformat(timespec="seconds") + "Z"
    assert (entry["kind"], entry["by"], entry["silenced_until"], entry["at"]) == ("silence_expired", "system", until, until)


# ------------------------------------------------------------------ the engine and notifications
def _kinds(sessions, alert_id: int) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(AlertEvent.kind).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))


def test_a_silenced_alert_is_evaluated_but_tells_nobody_until_its_silence_ends(store, gaz, rt, gateway):
    _, sessions = store
    rules = list(rt.config.rules.rules)
    n = notify.Notifier(targets(gateway, {"name": "duty", "url": "/ok"}), sessions, gaz)   # the default kinds
    add_cases(sessions, "410102", 160, "a")
    with sessions.begin() as s:
        evaluate(s, rules, gaz)
        alert_id = s.scalar(select(Alert.id).where(Alert.rule == RULE, Alert.region == ZHENGZHOU))
    assert n.queue() == 1 and n.deliver() == {"duty": 1}          # fired: told

    t0 = datetime.utcnow()
    with sessions.begin() as s:
        silence = silences.create(s, RULE, ZHENGZHOU, 30, "补报数据，核实中", "值班员甲", "t-officer", now=t0)
    add_cases(sessions, "410102", 200, "b")                        # 360: a rise to level I while silenced
    with sessions.begin() as s:
        ev = evaluate(s, rules, gaz, now=t0 + timedelta(minutes=5))
        assert ev.escalated == 1
        alert = s.get(Alert, alert_id)
        assert (alert.level, alert.state) == ("I", "firing")       # evaluated as ever
    assert _kinds(sessions, alert_id) == ["fired", "silenced", "escalated"]
    assert n.queue() == 0 and n.deliver() == {"duty": 0}           # the trail has it; nobody is told
    assert [b["event"] for b in gateway.bodies()] == ["fired"]

    with sessions.begin() as s:                                    # its time is up
        assert silences.expire_due(s, now=silence.ends + timedelta(seconds=1)) == 1
    assert _kinds(sessions, alert_id)[-1] == "silence_expired"
    assert n.queue() == 1 and n.deliver() == {"duty": 1}           # still firing: told now, at its level
    last = gateway.bodies()[-1]
    assert (last["event"], last["state"], last["level"], last["by"]) == ("silence_expired", "firing", "I", "system")
    assert last["silenced_until"].startswith(silence.ends.isoformat(timespec="seconds"))
    with sessions.begin() as s:                                    # and everything after it, as before
        from sitroom.alerts import acknowledge
        acknowledge(s, alert_id, "值班员甲", now=silence.ends + timedelta(minutes=1))
    assert n.queue() == 1 and n.deliver() == {"duty": 1}
    assert gateway.bodies()[-1]["event"] == "acknowledged"
    assert [d.kind for d in rows(sessions)] == ["fired", "silence_expired", "acknowledged"]


def test_an_alert_that_fires_during_a_silence_says_so_and_is_told_once_it_is_lifted(store, gaz, rt, gateway):
    _, sessions = store
    n = notify.Notifier(targets(gateway, {"name": "duty", "url": "/ok", "events": ["fired", "silenced"]}),
                        sessions, gaz)
    with sessions.begin() as s:   # silenced before anything fired (a correction announced in advance)
        silence = silences.create(s, RULE, ZHENGZHOU, 60, "预告补报", "值班员甲", "t-officer")
    add_cases(sessions, "410102", 160, "a")
    with sessions.begin() as s:
        evaluate(s, list(rt.config.rules.rules), gaz)
        alert_id = s.scalar(select(Alert.id).where(Alert.rule == RULE, Alert.region == ZHENGZHOU))
        entry = s.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)).all()[-1]
        assert (entry.kind, entry.by, entry.note, entry.silence_id) == ("silenced", "值班员甲", "预告补报", silence.id)
    assert n.queue() == 1 and n.deliver() == {"duty": 1}
    assert [b["event"] for b in gateway.bodies()] == ["silenced"]   # subscribed to; the firing itself is not told
    with sessions.begin() as s:
        silences.lift(s, silence.id, "值班员乙")
    assert n.queue() == 1 and n.deliver() == {"duty": 1}
    last = gateway.bodies()[-1]
    assert (last["event"], last["state"], last["by"]) == ("silence_lifted", "firing", "值班员乙")


def test_one_silence_in_force_per_rule_and_region_by_the_database(store):
    _, sessions = store
    with sessions.begin() as s:
        silences.create(s, RULE, ZHENGZHOU, 60, "a", "甲", "a")
    with pytest.raises(silences.SilenceConflict):
        with sessions.begin() as s:
            silences.create(s, RULE, ZHENGZHOU, 60, "b", "乙", "b")
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):   # a racing writer that did not see the first one
        with sessions.begin() as s:
            s.add(Silence(rule=RULE, region=ZHENGZHOU, starts=datetime.utcnow(), ends=datetime.utcnow(),
                          reason="c", created_by="丙", account="c"))
    with sessions.begin() as s:   # one whose end has passed does not stand in the way of the next
        s.execute(update(Silence).values(ends=datetime.utcnow() - timedelta(seconds=1)))
    with sessions.begin() as s:
        silences.create(s, RULE, ZHENGZHOU, 60, "d", "丁", "d")
    with sessions() as s:
        assert [(x.reason, x.ended_at is not None) for x in s.scalars(select(Silence).order_by(Silence.id))] == [
            ("a", True), ("d", False)]
