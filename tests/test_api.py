"""The JSON API on the real app and a real store (Flask's test client: no socket, nothing mocked)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from sitroom.alerts import evaluate
from sitroom.store.models import CaseReport

from conftest import REPO, runtime_on


@pytest.fixture
def app(store, gaz, tmp_path):
    url, sessions = store
    rt = runtime_on(url, gaz, tmp_path)
    now = datetime.utcnow()
    with sessions.begin() as s:
        s.execute(insert(CaseReport), [
            {"source": "hc_cases", "source_key": f"k{i}", "status": st, "region": "410102", "prefecture": "410100",
             "province": "410000", "reported_at": now - timedelta(hours=h), "source_updated_at": now, "loaded_at": now}
            for i, (st, h) in enumerate([("confirmed", 1)] * 160 + [("cured", 50)] * 5 + [("suspected", 2)] * 7)])
        evaluate(s, list(rt.config.rules.rules), gaz)
    from dashboard.app import create_app
    return create_app(rt)


@pytest.fixture
def client(app, login):
    return login(app, "admin")


def test_healthz_and_summary(client):
    r = client.get("/healthz")   # no loader process beats here
    assert r.status_code == 503 and r.json["store"]["writable"] and not r.json["loaders"]["running"]
    body = client.get("/api/v1/summary").json
    assert body["totals"]["confirmed"] == 165 and body["totals"]["new_24h"] == 160
    assert body["totals"]["suspected"] == 7 and body["totals"]["cured"] == 5
    zz = body["regions"]["410100"]
    assert zz["per_100k"] == round(165 / 12600574 * 1e5, 2)
    assert len(body["regions"]) == 28


def test_regions_filtering_and_bad_parameters(client):
    prefs = client.get("/api/v1/regions?level=prefecture&parent=河南").json
    assert len(prefs) == 18 and {"adcode": "419001"}.items() <= next(r for r in prefs if r["adcode"] == "419001").items()
    counties = client.get("/api/v1/regions?parent=Zhengzhou").json
    assert all(r["parent"] == "410100" for r in counties) and len(counties) == 12
    r = client.get("/api/v1/regions?level=village")
    assert r.status_code == 400 and "level must be one of" in r.json["error"]
    r = client.get("/api/v1/regions?parent=火星")
    assert r.status_code == 400 and "火星" in r.json["error"]


def test_alert_listing_and_acknowledge_answers(client, app, login):
    zhang = login(app, "officer", name="zhangsan", display="张三")
    li = login(app, "officer", name="lisi", display="李四")
    [a] = client.get("/api/v1/alerts?state=firing").json
    assert (a["region"], a["level"], a["value"]) == ("410100", "II", 160)
    assert client.get("/api/v1/alerts?state=bogus").status_code == 400
    r = zhang.post(f"/api/v1/alerts/{a['id']}/ack", data="not json", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.json["error"]
    r = zhang.post(f"/api/v1/alerts/{a['id']}/ack", json={"note": 42})
    assert r.status_code == 400 and "'note' must be text" in r.json["error"]
    assert zhang.post("/api/v1/alerts/99999/ack", json={}).status_code == 404
    # the actor is the logged-in account: a body cannot name another
    r = zhang.post(f"/api/v1/alerts/{a['id']}/ack", json={"by": "王五", "note": "已派流调组"})
    assert r.status_code == 400 and "'by' is not taken" in r.json["error"]
    r = zhang.post(f"/api/v1/alerts/{a['id']}/ack", json={"note": "已派流调组"})
    assert r.status_code == 200 and r.json["acked_by"] == "张三" and r.json["state"] == "acknowledged"
    r = li.post(f"/api/v1/alerts/{a['id']}/ack", json={})
    assert r.status_code == 409 and "张三" in r.json["error"]
    [got] = client.get("/api/v1/alerts?state=acknowledged").json
    assert got["ack_note"] == "已派流调组"


def test_concurrent_acks_through_the_api(client, app, login):
    [a] = client.get("/api/v1/alerts").json
    codes, barrier = [], threading.Barrier(4)
    officers = [login(app, "officer", name=f"officer{i}") for i in range(4)]

    def officer(i):
        barrier.wait()
        codes.append(officers[i].post(f"/api/v1/alerts/{a['id']}/ack", json={}).status_code)

    threads = [threading.Thread(target=officer, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(codes) == [200, 409, 409, 409]


def test_sources_and_boundaries(client):
    assert client.get("/api/v1/sources").json[0]["name"] == "hc_cases"
    geo = client.get("/geo/410100.json")
    assert geo.status_code == 200 and len(geo.json["features"]) == 12
    assert client.get("/geo/999999.json").status_code == 404


def test_quarantine_browse_and_filter(client, store):
    from sitroom.store.models import Quarantine
    now = datetime.utcnow()
    with store[1].begin() as s:
        s.add_all([Quarantine(source="hc_cases", source_key=f"q{i}", row={"xzdz": "火星市"},
                              reasons=[r], first_seen=now, last_seen=now + timedelta(seconds=i))
                   for i, r in enumerate(["unknown region '火星市' (column xzdz)", "missing report time (column bgrq)",
                                          "unknown region '不详' (column xzdz)"])])
    body = client.get("/api/v1/quarantine").json
    assert body["total"] == 3 and body["rows"][0]["source_key"] == "q2"  # newest first
    got = client.get("/api/v1/quarantine", query_string={"reason": "火星"}).json
    assert [r["source_key"] for r in got["rows"]] == ["q0"] and got["rows"][0]["row"] == {"xzdz": "火星市"}
    assert client.get("/api/v1/quarantine", query_string={"reason": "unknown region"}).json["total"] == 2
    assert client.get("/api/v1/quarantine", query_string={"reason": "100%_"}).json["total"] == 0
    r = client.get("/api/v1/quarantine?source=nope")
    assert r.status_code == 400 and "unknown source 'nope'" in r.json["error"]
    assert client.get("/api/v1/quarantine?limit=0").status_code == 400
    assert client.get("/api/v1/quarantine?limit=x").status_code == 400


def test_note_assign_resolve_and_the_trail(client, app, login):
    zhang = login(app, "officer", name="zhangsan", display="张三")
    li = login(app, "officer", name="lisi", display="李四")
    wang = login(app, "officer", name="wangwu", display="王五")
    [a] = client.get("/api/v1/alerts").json
    url = f"/api/v1/alerts/{a['id']}"
    assert zhang.post(f"{url}/note", json={}).json["error"] == "'note' is required"
    assert zhang.post(f"{url}/note", json={"note": "已电话核实"}).status_code == 200
    r = zhang.post(f"{url}/assign", json={"to": "郑州市疾控流调组"})
    assert r.status_code == 200 and r.json["assignee"] == "郑州市疾控流调组"
    assert zhang.post(f"{url}/escalate", json={}).status_code == 404
    r = li.post(f"{url}/resolve", json={"reason": "聚集性疫情已控制"})
    assert r.status_code == 200 and (r.json["state"], r.json["resolved_by"]) == ("resolved", "李四")
    r = wang.post(f"{url}/resolve", json={"reason": "again"})
    assert r.status_code == 409 and "already resolved by 李四" in r.json["error"]
    assert wang.post(f"{url}/assign", json={"to": "x"}).status_code == 409
    detail = client.get(url).json
    assert [(e["kind"], e["by"]) for e in detail["trail"]] == [
        ("fired", "system"), ("noted", "张三"), ("assigned", "张三"), ("resolved", "李四")]
    assert detail["trail"][1]["note"] == "已电话核实"
    assert client.get("/api/v1/alerts/424242").status_code == 404


def test_resolving_while_the_condition_holds_is_kept_in_the_trail(client, app, login, store):
    """160 cases in 24 h (level II) still hold: resolved, the trail says so (it fires again); an
    alert whose value is between the recover value (20) and level IV (30) does not hold."""
    from sqlalchemy import update

    from sitroom.store.models import Alert
    officer = login(app, "officer")
    [a] = client.get("/api/v1/alerts").json
    r = officer.post(f"/api/v1/alerts/{a['id']}/resolve", json={"reason": "演练结束"})
    assert r.status_code == 200 and r.json["state"] == "resolved"
    last = client.get(f"/api/v1/alerts/{a['id']}").json["trail"][-1]
    assert (last["kind"], last["note"], last["held"]) == ("resolved", "演练结束", True)

    _, sessions = store
    with sessions.begin() as s:   # the rule fires again at the next evaluation; its value then eases to 25
        evaluate(s, list(app.server.config["SITROOM_DATA"].rt.config.rules.rules),
                 app.server.config["SITROOM_DATA"].gaz)
        [again] = [x for x in s.query(Alert).filter(Alert.state == "firing", Alert.rule == a["rule"])]
        s.execute(update(Alert).where(Alert.id == again.id).values(value=25.0))
    app.server.config["SITROOM_DATA"].forget()
    assert officer.post(f"/api/v1/alerts/{again.id}/resolve", json={"reason": "已回落"}).status_code == 200
    last = client.get(f"/api/v1/alerts/{again.id}").json["trail"][-1]
    assert (last["kind"], last["held"]) == ("resolved", False)


def test_rules_status_and_pending(client, store):
    from sitroom.store import bump_version
    from sitroom.store.models import RulePending, RulesStatus
    assert client.get("/api/v1/rules/status").json["ok"] is None  # no loader has reported yet
    # the fixture's 160 cases are Zhengzhou's first report: no detector has a baseline for them (grey),
    # the 24 h count fired at once, and nothing else waits out its for_minutes
    assert client.get("/api/v1/alerts?state=pending").json == []
    _, sessions = store
    now = datetime.utcnow().replace(microsecond=0)
    with sessions.begin() as s:
        s.add(RulesStatus(name="rules", file="rules.yaml", ok=False, problems=["rules.yaml: rules[0].recover: bad"],
                          warnings=[], digest=None, rules=12, loaded_at=now - timedelta(hours=1), checked_at=now))
        s.add(RulePending(rule="confirmed_7d_per_100k", region="410300", since=now, fires_at=now + timedelta(minutes=30),
                          level="III", value=30.5, threshold=25, updated_at=now))
        bump_version(s)
    client.application.config["SITROOM_DATA"].forget()  # as if the heartbeat's 0.5 s had passed
    st = client.get("/api/v1/rules/status").json
    assert (st["ok"], st["problems"], st["rules"]) == (False, ["rules.yaml: rules[0].recover: bad"], 12)
    assert st["loaded_at"] == (now - timedelta(hours=1)).isoformat() + "Z"
    [p] = [p for p in client.get("/api/v1/alerts?state=pending").json if p["region"] == "410300"]
    assert (p["rule"], p["region_name"], p["level"], p["value"], p["state"]) == (
        "confirmed_7d_per_100k", "洛阳市", "III", 30.5, "pending")
    assert p["rule_title"]["en"] == "New confirmed in 7 days per 100,000"
    assert p["fires_at"] == (now + timedelta(minutes=30)).isoformat() + "Z"


def test_web_process_follows_rules_yaml_and_keeps_the_last_valid(store, gaz, tmp_path, login):
    import shutil
    import time as _time

    from dashboard.app import create_app
    url, sessions = store
    config_dir = tmp_path / "config"
    shutil.copytree(REPO / "config", config_dir)
    rt = runtime_on(url, gaz, tmp_path, config_dir)
    now = datetime.utcnow()
    with sessions.begin() as s:
        s.execute(insert(CaseReport), [
            {"source": "hc_cases", "source_key": f"k{i}", "status": "confirmed", "region": "410102",
             "prefecture": "410100", "province": "410000", "reported_at": now, "source_updated_at": now,
             "loaded_at": now} for i in range(40)])
        evaluate(s, rt.rules(), gaz)
    client = login(create_app(rt), "leader")
    title = lambda: client.get("/api/v1/alerts").json[0]["rule_title"]["zh"]  # noqa: E731
    assert title() == "24小时新增确诊病例"
    path = config_dir / "rules.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("24小时新增确诊病例", "24小时新增确诊（新）"), encoding="utf-8")
    _time.sleep(1.1)  # rules.yaml is looked at no more than once a second
    assert title() == "24小时新增确诊（新）"
    path.write_text(original.replace("24小时新增确诊病例", "无效").replace("IV: 30, III: 80", "IV: 90, III: 80"),
                    encoding="utf-8")
    _time.sleep(1.1)
    assert title() == "24小时新增确诊（新）"  # an invalid file: the last valid rules are kept


def test_alert_evidence_is_the_rules_own_figure_and_its_rows(client):
    [a] = client.get("/api/v1/alerts?state=firing").json
    ev = client.application.config["SITROOM_DATA"].alert_evidence(a["id"])
    assert ev["history"]["points"][-1][1] == 160  # now: the 24 h count the rule fired on
    assert ev["history"]["points"][0][1] == 0     # four days ago: nothing yet
    rows = ev["rows"]
    assert rows["kind"] == "case" and len(rows["rows"]) == 50 and rows["more"]
    assert {r["status"] for r in rows["rows"]} == {"confirmed"} and rows["rows"][0]["source"] == "hc_cases"


def test_summary_per_province_and_every_figure_route_answers_csv(client):
    body = client.get("/api/v1/summary").json
    henan, shaanxi = body["provinces"]["410000"], body["provinces"]["610000"]
    assert henan["total"]["confirmed"] == 165 and henan["regions"]["confirmed"] == 165
    assert henan["unplaced"]["confirmed"] == 0 and henan["buckets"] == {}
    assert shaanxi["total"]["confirmed"] == 0
    assert sum(p["total"]["confirmed"] for p in body["provinces"].values()) == body["totals"]["confirmed"]
    prefs = client.get("/api/v1/regions?level=prefecture&parent=410000&figures=1").json
    assert next(r for r in prefs if r["adcode"] == "410100")["confirmed"] == 165
    assert client.get("/api/v1/regions?level=province&figures=1").json[0]["confirmed"] == 165
    for url in ("/api/v1/summary?format=csv", "/api/v1/summary.csv"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "text/csv"
        lines = r.get_data(as_text=True).lstrip("\ufeff").splitlines()
        assert lines[0].startswith("province,name,part,confirmed")
        assert "410000,河南省,total,165" in "\n".join(lines)
    r = client.get("/api/v1/regions.csv?level=prefecture&parent=410000&figures=1")
    assert r.mimetype == "text/csv" and len(r.get_data(as_text=True).splitlines()) == 19
    assert client.get("/api/v1/totals_check.csv").status_code == 200
    r = client.get("/api/v1/summary?format=xml")
    assert r.status_code == 400 and "format must be json or csv" in r.json["error"]
