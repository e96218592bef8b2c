"""Access control on the real app and a real store: every route and callback the app has, by role;
region scope over every JSON route and layer; sessions, lockout, wall devices, API tokens, CSRF
(same-origin) and the audit log. Flask's test client: no socket, nothing mocked."""
from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from sitroom.alerts import evaluate
from sitroom.auth import accounts, credentials
from sitroom.auth.models import ApiToken, AuditEntry, Wall
from sitroom.runtime import Runtime
from sitroom.store.models import Alert, CaseReport

import feed_seed
from conftest import REPO, runtime_on
from stack import ACCOUNTS, PASSWORD, add_account

ROLES = ("wall", "leader", "officer", "admin")
ORIGIN = "http://localhost"


@pytest.fixture
def runtime(store, gaz, tmp_path):
    url, sessions = store
    config_dir = tmp_path / "config"
    shutil.copytree(REPO / "config", config_dir)

    rt = runtime_on(url, gaz, tmp_path, config_dir)
    now = datetime.utcnow()
    with sessions.begin() as s:
        feed_seed.seed(s)   # figures, clinics, supply points, arrivals in Zhengzhou, Luoyang, Xi'an, Xianyang
        # 160 confirmed in Zhengzhou's and in Xi'an's city districts: one alert in each
        s.execute(insert(CaseReport), [
            {"source": "hc_cases", "source_key": f"{pref}-{i}", "status": "confirmed", "region": county,
             "prefecture": pref, "province": pref[:2] + "0000", "reported_at": now - timedelta(hours=1),
             "source_updated_at": now, "loaded_at": now}
            for pref, county in (("410100", "410102"), ("610100", "610102")) for i in range(160)])
        evaluate(s, list(rt.config.rules.rules), gaz)
    return rt


def make_app(rt, allowed_hosts=None, **auth):
    """The app, with dashboard.yaml `auth:` settings (and allowed_hosts) changed as given."""
    from dashboard.app import create_app
    if auth or allowed_hosts:
        auth_cfg = type(rt.config.dashboard.auth).model_validate({**rt.config.dashboard.auth.model_dump(), **auth})
        dash_cfg = rt.config.dashboard.model_copy(update={"auth": auth_cfg,   # as dashboard.yaml would say it
                                                          "allowed_hosts": allowed_hosts or []})
        rt = Runtime(rt.settings, rt.config.model_copy(update={"dashboard": dash_cfg}), rt.gazetteer, rt.live_rules)
    return create_app(rt)


@pytest.fixture
def app(runtime):
    return make_app(runtime)


def _alert(sessions, prefecture: str) -> int:
    with sessions() as s:
        return s.scalar(select(Alert.id).where(Alert.region == prefecture))


def _audit(sessions, action: str | None = None) -> list[AuditEntry]:
    with sessions() as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        return list(s.scalars(q.where(AuditEntry.action == action) if action else q))


# ------------------------------------------------------------------ the role x action matrix
# Who may call what, written here independently of dashboard/access.py's tables: the lowest role.
MIN_ROLE = {"api.alert_action": "officer", "api.silence_create": "officer", "api.silence_lift": "officer",
            "api.quarantine": "admin",
            "trends_export.export_csv": "leader", "trends_export.export_png": "leader",
            "admin.index": "admin", "admin.audit": "admin", "admin.audit_csv": "admin"}
PUBLIC = {"static", "_dash_assets.static", "/_favicon.ico", "sitroom_plotly_js", "api.openapi_json", "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
          "api.healthz", "access.login", "access.wall_login"}
CALLBACK_MIN_ROLE = {"_acknowledge_clicked": "officer", "act": "officer", "queue_ack": "officer", "silence_act": "officer", "quarantine_table": "admin",
                     "resync_clicked": "admin"}
SAMPLE_ARGS = {"alert_id": None, "silence_id": 1, "action": "ack", "name": "clinics", "parent": "410100", "path": "alerts",
               "filename": "sitroom.css", "package_name": "dash", "fingerprinted_path": "dcc/dash_core_components.v1m1.js", "token": "w_nope"}


def _url(rule, alert_id: int) -> str:
    url = rule.rule
    for arg in rule.arguments:
        value = alert_id if arg == "alert_id" else SAMPLE_ARGS[arg]
        url = url.replace(f"<{arg}>", str(value)).replace(f"<int:{arg}>", str(value))
        url = url.replace(f"<path:{arg}>", str(value)).replace(f"<string:{arg}>", str(value))
    return url


def _allowed(role: str, need: str) -> bool:
    return ROLES.index(role) >= ROLES.index(need)


def _callbacks(app) -> dict[str, dict]:
    """The app's own server-side callbacks (output key -> entry), by its function's name."""
    client = app.server.test_client()
    client.get("/healthz")  # the first request sets Dash up
    return {k: v for k, v in app.callback_map.items() if v.get("callback") is not None}


def test_every_route_and_callback_is_declared(app):
    from dashboard.access import CALLBACKS, ROUTES
    routes = {r.endpoint for r in app.server.url_map.iter_rules()}
    assert routes - set(ROUTES) == set(), "routes the access table does not declare"
    names = {f"{v['callback'].__module__}.{v['callback'].__qualname__}" for v in _callbacks(app).values()}
    assert names - set(CALLBACKS) == set(), "callbacks the access table does not declare"
    assert len(names) >= 19


def test_the_api_description_covers_every_api_route_and_asks_for_no_actor(app):
    """What the fuzzer tries is what the description says: a route it leaves out is never fuzzed."""
    import re

    from dashboard.openapi import openapi
    doc = openapi()
    described = set(doc["paths"])
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.server.url_map.iter_rules()
              if r.rule.startswith("/api/v1/")}
    routes -= {"/api/v1/push"}  # an event stream that stays open: test_push*.py
    routes = {re.sub(r"/\{action\}$", "/ack", r) for r in routes}  # one action stands for the others
    assert routes - described == set(), "API routes the OpenAPI description leaves out"
    for path, ops in doc["paths"].items():
        body = ops.get("post", {}).get("requestBody")
        if body:
            assert "by" not in body["content"]["application/json"]["schema"]["properties"], path


def test_role_matrix_over_every_flask_route(app, login, store):
    alert_id = _alert(store[1], "410100")
    clients = {role: login(app, role) for role in ROLES}
    anonymous = app.server.test_client()
    checked = 0
    for rule in app.server.url_map.iter_rules():
        if rule.endpoint in ("/_dash-update-component", "access.logout", "/_reload-hash"):
            continue  # callbacks: below; logout: test_logout; the reload hash is for debug mode only
        method = "GET" if "GET" in rule.methods else "POST"
        url = _url(rule, alert_id)
        kw = {"json": {"note": "matrix"}} if method == "POST" else {}
        got = anonymous.open(url, method=method, **kw)
        if rule.endpoint in PUBLIC:
            assert got.status_code not in (401, 403), (url, got.status_code)
            continue
        if url.startswith(("/api/", "/geo/", "/_dash", "/trends/export")) or rule.endpoint == "admin.audit_csv":
            assert got.status_code == 401 and got.json["error"] == "login required", (url, got.status_code)
        else:
            assert got.status_code == 302 and got.headers["Location"].startswith("/login?next="), (url, got.status_code)
        need = MIN_ROLE.get(rule.endpoint, "leader" if rule.rule.endswith(".csv") else "wall")   # a .csv: an export
        if rule.endpoint == "push.push_stream":
            continue   # an endless event stream once logged in: refused above without a login
        for role, client in clients.items():
            got = client.open(url, method=method, **kw)
            if _allowed(role, need):
                assert got.status_code not in (401, 403), (role, url, got.status_code, got.data[:200])
            else:
                assert got.status_code == 403, (role, url, got.status_code)
        checked += 1
    assert checked >= 15


def _outputs(output: str):
    """The renderer's "outputs" of a callback, from its output key ("a.b" or "..a.b...c.d..")."""
    def one(part: str) -> dict:
        ident, prop = part.split("@")[0].rsplit(".", 1)
        return {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop}
    if output.startswith(".."):
        return [one(p) for p in output[2:-2].split("...")]
    return one(output)


def _body(output: str, entry: dict) -> dict:
    """A request for the callback as the renderer would send it, every input empty."""
    def spec(dep):
        wild = isinstance(dep["id"], dict) or str(dep["id"]).startswith("{")
        return {"id": dep["id"], "property": dep["property"], "value": [] if wild else None}
    body = {"output": output, "outputs": _outputs(output), "inputs": [spec(d) for d in entry.get("inputs", [])],
            "state": [spec(d) for d in entry.get("state", [])], "changedPropIds": []}
    for dep in body["state"]:
        if str(dep["id"]).endswith("-lang"):
            dep["value"] = "zh"
    return body


def test_role_matrix_over_every_dash_callback(app, login):
    clients = {role: login(app, role) for role in ROLES}
    anonymous = app.server.test_client()
    callbacks = _callbacks(app)
    for output, entry in callbacks.items():
        fn = entry["callback"].__qualname__
        need = CALLBACK_MIN_ROLE.get(fn, "wall")
        body = _body(output, entry)
        assert anonymous.post("/_dash-update-component", json=body, headers={"Origin": ORIGIN}).status_code == 401
        for role, client in clients.items():
            got = client.post("/_dash-update-component", json=body)
            if _allowed(role, need):
                assert got.status_code not in (401, 403), (role, fn, got.status_code)
            else:
                assert got.status_code == 403, (role, fn, got.status_code)


def test_pages_by_role_and_the_page_router(app, login):
    """The page router callback renders a page only for who may open it; /sources hides the
    quarantine from all but admins."""
    callbacks = _callbacks(app)
    router = next(k for k, v in callbacks.items() if v["callback"].__qualname__.endswith("router_sync.<locals>.update"))
    body = _body(router, callbacks[router])
    body["inputs"][0]["value"], body["inputs"][1]["value"] = "/sources", ""
    for role in ROLES:
        got = login(app, role).post("/_dash-update-component", json=body)
        assert got.status_code == 200, (role, got.data[:300])
        assert ('"quarantine"' in got.get_data(as_text=True)) == (role == "admin"), role


def test_a_route_or_callback_added_later_is_refused_until_declared(runtime, login):
    from dash import Input, Output
    app = make_app(runtime)

    @app.server.get("/api/v1/secret")
    def secret():
        return {"figures": 1}

    @app.callback(Output("nowhere", "children"), Input("nothing", "value"))
    def undeclared(_v):
        return "leak"

    admin = login(app, "admin")
    got = admin.get("/api/v1/secret")
    assert got.status_code == 403 and "not declared" in got.json["error"]
    got = admin.post("/_dash-update-component", json={
        "output": "nowhere.children", "outputs": {"id": "nowhere", "property": "children"},
        "inputs": [{"id": "nothing", "property": "value", "value": 1}], "changedPropIds": ["nothing.value"]})
    assert got.status_code == 403 and "not declared" in got.json["error"]


def test_unauthenticated_answers(app):
    c = app.server.test_client()
    assert c.get("/healthz").status_code in (200, 503) and c.get("/healthz").is_json  # 503: no loader runs here
    assert c.get("/login").status_code == 200 and "登录" in c.get("/login").get_data(as_text=True)
    assert "Log in" in c.get("/login?lang=en").get_data(as_text=True)
    assert c.get("/assets/sitroom.css").status_code == 200
    for page in ("/", "/alerts?state=all", "/sources", "/admin"):
        got = c.get(page)
        assert got.status_code == 302 and got.headers["Location"].startswith("/login?next=/"), page
    for api in ("/api/v1/summary", "/api/v1/alerts", "/geo/all.json", "/_dash-layout", "/api/v1/layers/clinics.geojson"):
        got = c.get(api)
        assert got.status_code == 401 and got.is_json, api


# ------------------------------------------------------------------ region scope
SHAANXI_NAMES = ("西安", "咸阳", "宝鸡", "秦都", "新城", "Xi'an", "Xianyang", "Baoji")


def _leaks(body: str) -> list[str]:
    """Shaanxi region codes (61xxxx) or names in a response of a Zhengzhou account."""
    import re
    return re.findall(r'"61\d{4}"', body) + [n for n in SHAANXI_NAMES if n in body]


# Query strings each JSON/CSV route is also asked with: every figure, level and region it takes.
LEAK_ARGS = {
    "api.regions": ["", "?figures=1", "?figures=1&format=csv", "?level=prefecture&figures=1",
                    "?parent=610000&figures=1", "?parent=西安&figures=1", "?level=county&figures=1"],
    "api.boundaries": {"parent": ["all", "410000", "410100", "610000", "610100"]},
    "api.layer": ["?parent=all", "?parent=410000", "?parent=610000", "?parent=610100"],
    "api.alerts": [f"?state={s}" for s in ("active", "all", "firing", "pending", "resolved")],
    "api.summary": ["", "?format=csv"], "api.totals_check": ["", "?format=csv"],
    "trends_export.export_csv": ["?what=chart", "?what=table", "?what=chart&regions=610100,410100",
                                 "?what=table&level=county", "?what=table&level=province"],
    "trends_export.export_png": ["?what=chart&regions=610100", "?what=table"],
}
NOT_DATA = {"static", "_dash_assets.static", "/_favicon.ico", "sitroom_plotly_js", "push.push_stream",
            "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>", "access.login",
            "access.wall_login", "access.logout", "/", "/<path:path>", "admin.index", "admin.audit"}


def test_the_wall_says_when_a_publishers_total_and_ours_differ(app, login, store):
    """The one signal that a figure on the wall is wrong (issue 10): shown under the tiles, per province,
    with the difference and the source; and only to an account that sees that province."""
    import re

    from sitroom.store import bump_version
    from sitroom.store.models import Publication
    now = datetime.utcnow()
    wall = login(app, "wall")
    callbacks = _callbacks(app)
    kpis = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "kpis")

    def notes(client, view="all") -> str:
        body = _body(kpis, callbacks[kpis])
        body["inputs"] = [{**body["inputs"][0], "value": 1}, {**body["inputs"][1], "value": view}]
        got = client.post("/_dash-update-component", json=body)
        assert got.status_code == 200, got.data[:300]
        return json.dumps(got.json["response"]["kpi-notes"], ensure_ascii=False)

    assert "与发布总数相差" not in notes(wall)   # no publication yet: nothing to compare
    with store[1].begin() as s:
        s.add(Publication(source="prov_feed", scope="", published_at=now, rows=2, loaded_at=now,
                          totals={"610000": {"confirmed": 4321}}))
        bump_version(s)   # as a loader's batch does: the screens read anew
    deadline = time.monotonic() + 5   # the screens read the data version at most every HEARTBEAT_TTL
    while "note-mismatch" not in (shown := notes(wall)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "note-mismatch" in shown and re.search(r"陕西省累计确诊与发布总数相差 -\d[\d,]*（", shown), shown
    assert "与发布总数相差" in notes(wall, "610100")   # a prefecture of that province: still told
    assert "与发布总数相差" not in notes(wall, "410000")   # another province's figures are not in question
    zz = login(app, "officer", regions=["410100"], name="zz-officer", display="郑州值班员")
    assert "与发布总数相差" not in notes(zz)


def test_a_zhengzhou_officer_never_sees_a_xian_figure_alert_or_clinic(app, login, store):
    """Every GET route of the app's URL map that answers data (JSON, CSV, GeoJSON, PNG), with each of
    its arguments: nothing of Shaanxi in any answer of a Zhengzhou account."""
    from sitroom.store.models import PlaceName, Publication
    now = datetime.utcnow()
    with store[1].begin() as s:   # the publisher's province totals, and how sources wrote places (/sources)
        s.add(Publication(source="prov_feed", scope="", published_at=now, rows=2, loaded_at=now,
                          totals={"610000": {"confirmed": 4321}, "410000": {"confirmed": 1234}}))
        for raw, region, rule in (("西安市雁塔区", "610113", "alias"), ("长安", None, "unknown"),
                                  ("郑州市中原区", "410102", "alias")):
            s.add(PlaceName(source="hc_cases", raw=raw, region=region, province=region and region[:2] + "0000",
                            rule=rule, rows=3, first_seen=now, last_seen=now))
    zz = login(app, "officer", regions=["410100"], name="zz-officer", display="郑州值班员")
    xian_alert, zz_alert = _alert(store[1], "610100"), _alert(store[1], "410100")
    assert "西安" in login(app, "admin").get("/api/v1/totals_check").get_data(as_text=True) or \
        "610000" in login(app, "admin").get("/api/v1/totals_check").get_data(as_text=True)
    checked = []
    for rule in app.server.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_DATA:
            continue
        extra = LEAK_ARGS.get(rule.endpoint, [""])
        if isinstance(extra, dict):   # path arguments
            urls = [rule.rule.replace("<parent>", p) for p in extra["parent"]]
        else:
            urls = [_url(rule, zz_alert) + q for q in extra]
        for url in urls:
            got = zz.get(url)
            assert got.status_code in (200, 400, 403, 404) or url == "/healthz", (url, got.status_code)
            body = got.get_data(as_text=True) if not got.mimetype.startswith("image/") else ""
            assert not _leaks(body), (url, _leaks(body))
            checked.append((rule.endpoint, url, got.status_code))
    # the /sources feed checks (place names, the publishers' totals): a Dash callback
    callbacks = _callbacks(app)
    checks = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "feed_checks")
    body = _body(checks, callbacks[checks])
    body["inputs"][0]["value"] = 1
    shown = zz.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert "郑州市中原区" in shown and not _leaks(shown) and "长安" not in shown and "4321" not in shown
    assert "西安市雁塔区" in login(app, "admin").post("/_dash-update-component", json=body).get_data(as_text=True)
    endpoints = {e for e, _, _ in checked}
    assert {"api.regions", "api.boundaries", "api.summary", "trends_export.export_csv", "/_dash-layout"} <= endpoints
    assert len(checked) >= 40
    # its own geography and figures are there: Zhengzhou's outline and figures, the province it is in
    regions = zz.get("/api/v1/regions?figures=1").json
    assert {r["adcode"] for r in regions} >= {"410100", "410102"} and all(r["adcode"][:4] == "4101" for r in regions)
    assert next(r for r in regions if r["adcode"] == "410100")["confirmed"] > 0
    top = zz.get("/geo/all.json").json["features"]
    assert [f["id"] for f in top] == ["410100"]
    assert {f["id"] for f in zz.get("/geo/410100.json").json["features"]} >= {"410102", "410103"}
    assert zz.get("/geo/610100.json").status_code == 404 and zz.get("/geo/610000.json").status_code == 404
    assert len(zz.get("/geo/410000.json").json["features"]) == 1
    # the Zhengzhou officer's own: its alert, its clinic, its prefecture's totals as the province's
    assert zz.get(f"/api/v1/alerts/{zz_alert}").status_code == 200
    clinics = zz.get("/api/v1/layers/clinics.geojson").json["features"]
    assert [f["properties"]["id"] for f in clinics] == ["zz-1"] or len(clinics) == 1
    summary = zz.get("/api/v1/summary").json
    assert set(summary["regions"]) == {"410100"}
    assert summary["totals"]["confirmed"] == feed_seed.EXPECTED["zhengzhou_confirmed"] + 160
    # an out-of-scope id is as if it did not exist: 404, for reading and for acting alike
    assert zz.get(f"/api/v1/alerts/{xian_alert}").status_code == 404
    got = zz.post(f"/api/v1/alerts/{xian_alert}/ack", json={})
    assert got.status_code == 404 and got.json == {"error": f"no alert {xian_alert}"}
    assert zz.get(f"/api/v1/deliveries?alert={xian_alert}").status_code == 404
    with store[1]() as s:
        assert s.get(Alert, xian_alert).state == "firing"


def test_the_scope_is_applied_before_the_alert_lists_limit(app, login, store):
    """200 more severe, newer Xi'an alerts (the lists' limit) before Zhengzhou's: a Zhengzhou
    account still sees its own alert and delivery, in the API and on the officer's queue."""
    from sitroom.store.models import AlertEvent, NotifyDelivery
    zz_alert = _alert(store[1], "410100")
    now = datetime.utcnow()
    with store[1].begin() as s:
        s.get(Alert, zz_alert).level = "IV"
        event = s.scalar(insert(AlertEvent).values(alert_id=zz_alert, kind="fired", at=now).returning(AlertEvent.id))
        s.execute(insert(NotifyDelivery).values(event_id=event, alert_id=zz_alert, kind="fired", target="t",
                                                payload={}, status="delivered", next_attempt_at=now, created_at=now))
        for i in range(200):
            a = s.scalar(insert(Alert).values(rule=f"flood-{i}", region="610102", level="I", state="firing",
                                              value=1, threshold=1, fired_at=now, updated_at=now).returning(Alert.id))
            e = s.scalar(insert(AlertEvent).values(alert_id=a, kind="fired", at=now).returning(AlertEvent.id))
            s.execute(insert(NotifyDelivery).values(event_id=e, alert_id=a, kind="fired", target="t", payload={},
                                                    status="delivered", next_attempt_at=now, created_at=now))
    zz = login(app, "officer", regions=["410100"], name="zz-officer")
    for state in ("active", "all", "firing"):
        assert [a["id"] for a in zz.get(f"/api/v1/alerts?state={state}").json] == [zz_alert], state
    assert [r["alert_id"] for r in zz.get("/api/v1/deliveries").json] == [zz_alert]
    callbacks = _callbacks(app)
    queue = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "queue")
    body = _body(queue, callbacks[queue])
    for spec, value in zip(body["inputs"] + body["state"], [1, "all", [], None, None, None, "zh"]):
        spec["value"] = value
    shown = zz.post("/_dash-update-component", json=body).get_data(as_text=True)
    assert f'"alert": {zz_alert}' in shown.replace('"alert":', '"alert": ') and "郑州市" in shown


def test_scoped_callbacks_and_province_totals(app, login, store):
    """The wall's KPIs and the banner of a Zhengzhou account: its prefecture's totals, its alerts."""
    zz = login(app, "leader", regions=["410100"], name="zz-leader")
    admin = login(app, "admin")
    callbacks = _callbacks(app)
    kpis = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "kpis")
    banner = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "_refresh")

    def call(client, output, values):
        entry = callbacks[output]
        body = _body(output, entry)
        for spec, value in zip(body["inputs"] + body["state"], values):
            spec["value"] = value
        got = client.post("/_dash-update-component", json=body)
        assert got.status_code == 200, got.data[:300]
        return got.get_data(as_text=True)

    mine = call(zz, kpis, [1, "all", "zh"])
    everyone = call(admin, kpis, [1, "all", "zh"])
    assert f'"{feed_seed.EXPECTED["zhengzhou_confirmed"] + 160:,}"' in mine
    assert mine != everyone and not _leaks(mine)
    shown = call(zz, banner, [1, -1, "zh"])
    assert "郑州市" in shown and not _leaks(shown)
    assert "西安市" in call(admin, banner, [1, -1, "zh"])


def test_a_scoped_wall_opens_on_its_regions(app, login, gaz):
    """The wall of a Zhengzhou account: its map fits Zhengzhou, its title names Henan only, and a
    ?view= of another place shows its own overview (that place's outlines would answer 404)."""
    zz = login(app, "leader", regions=["410100"], name="zz-leader")
    callbacks = _callbacks(app)
    router = next(k for k, v in callbacks.items() if v["callback"].__qualname__.endswith("router_sync.<locals>.update"))
    body = _body(router, callbacks[router])
    for search in ("", "?view=610100", "?view=610000"):
        body["inputs"][0]["value"], body["inputs"][1]["value"] = "/", search
        page = zz.post("/_dash-update-component", json=body).get_data(as_text=True).replace("\\u002f", "/")
        assert json.dumps(gaz.bounds("410100")).replace(" ", "") in page.replace(" ", ""), search
        assert "/geo/all.json" in page and "陕西" not in page and "河南省" in page, search


def test_a_scoped_map_colours_its_regions(app, login):
    """The wall's map of a Zhengzhou account: Zhengzhou's value as everyone's map has it, not "no data"."""
    callbacks = _callbacks(app)
    k = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "colour_map")
    body = _body(k, callbacks[k])
    for spec, value in zip(body["inputs"] + body["state"], [1, "new_24h", "all", ["cases"], "zh"]):
        spec["value"] = value

    def values(client):
        got = client.post("/_dash-update-component", json=body).json
        return got["response"]["regions-geo"]["hideout"]["values"]
    everyone = values(login(app, "admin"))
    assert values(login(app, "leader", regions=["410100"], name="zz-leader")) == {"410100": everyone["410100"]}
    assert everyone["410100"] > 0


def test_a_county_account_does_not_see_its_prefectures_other_counties(app, login, store):
    county = login(app, "leader", regions=["410102"], name="zhongyuan")   # 中原区 of 郑州
    regions = county.get("/api/v1/summary").json["regions"]
    assert set(regions) == set()  # a prefecture is more than the county: not shown
    clinics = county.get("/api/v1/layers/clinics.geojson").json["features"]
    assert clinics == []  # zz-1 is in 二七区 (410103), not 中原区


# ------------------------------------------------------------------ sessions, lockout, logout
def test_idle_session_expires_and_a_timer_poll_is_not_use(runtime, login, store):
    app = make_app(runtime, idle_minutes=1)
    client = login(app, "leader")
    assert client.get("/api/v1/summary").status_code == 200
    callbacks = _callbacks(app)
    tick = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "heartbeat")
    body = {**_body(tick, callbacks[tick]), "changedPropIds": ["wall-tick.n_intervals"]}
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 50
    assert client.post("/_dash-update-component", json=body).status_code == 200   # a poll: does not renew
    assert client.get("/api/v1/layers/clinics.geojson?v=1").status_code == 200   # the map's own fetch: neither
    with client.session_transaction() as sess:
        assert sess["seen"] <= int(time.time()) - 50
        sess["seen"] = int(time.time()) - 61
    got = client.get("/api/v1/summary")
    assert got.status_code == 401 and got.json["error"] == "session expired"
    assert client.get("/").headers["Location"].startswith("/login?next=")
    assert [e.detail for e in _audit(store[1], "logout")] == ["idle"]


def test_lockout_after_failed_logins(app, store):
    add_account(app.server.config["SITROOM_DATA"].rt.settings.database_url, "victim", "officer")
    c = app.server.test_client()
    for _ in range(5):
        got = c.post("/login", data={"name": "victim", "password": "wrong password"})
        assert got.status_code == 200 and "账号或密码不正确" in got.get_data(as_text=True)
    got = c.post("/login", data={"name": "victim", "password": PASSWORD})   # right, but locked now
    assert got.status_code == 200 and "暂时锁定" in got.get_data(as_text=True)
    assert c.get("/api/v1/summary").status_code == 401
    # another account from the same address is not locked
    add_account(app.server.config["SITROOM_DATA"].rt.settings.database_url, "bystander", "leader")
    assert c.post("/login", data={"name": "bystander", "password": PASSWORD}).status_code == 302
    failed = _audit(store[1], "login_failed")
    assert [e.detail for e in failed] == ["bad password or name"] * 5 + ["locked"]
    assert all(e.actor == "victim" and e.address == "127.0.0.1" and not e.ok for e in failed)


def test_idle_time_in_seconds_ends_a_session_its_page_polls(runtime, login, store):
    """An open page's timer keeps the cookie but is no use: the session ends after the idle time
    (given in seconds here; the session's clock counts whole seconds)."""
    app = make_app(runtime, idle_minutes=0.05)   # 3 s
    client = login(app, "leader")
    assert client.get("/api/v1/summary").status_code == 200
    callbacks = _callbacks(app)
    tick = next(k for k, v in callbacks.items() if v["callback"].__qualname__ == "heartbeat")
    body = {**_body(tick, callbacks[tick]), "changedPropIds": ["push-status.data"]}
    t0, answers = time.monotonic(), []
    while time.monotonic() - t0 < 5:   # the page's callbacks as pushed messages trigger them
        got = client.post("/_dash-update-component", json=body)
        answers.append((got.status_code, got.json.get("error") if got.status_code == 401 else None))
        time.sleep(0.3)
    assert answers[0] == (200, None) and answers[-1][0] == 401
    assert (401, "session expired") in answers   # the page goes to /login?expired=1 (access.js)
    assert client.get("/api/v1/summary").status_code == 401
    assert "长时间未操作" in client.get("/login?expired=1").get_data(as_text=True)
    assert [e.detail for e in _audit(store[1], "logout")] == ["idle"]


def test_a_lockout_ends_after_its_time(runtime, store):
    """The lockout is counted from the audit log: once its time has passed, the right password works."""
    app = make_app(runtime, lockout_failures=2, lockout_minutes=0.1)   # 6 s (each password check takes a while)
    add_account(runtime.settings.database_url, "victim", "officer")
    c = app.server.test_client()
    for _ in range(2):
        c.post("/login", data={"name": "victim", "password": "wrong password"})
    got = c.post("/login", data={"name": "victim", "password": PASSWORD})
    assert got.status_code == 200 and "暂时锁定" in got.get_data(as_text=True)
    time.sleep(6.1)   # the last failure (the refused attempt while locked) is older than the lockout now
    assert c.post("/login", data={"name": "victim", "password": PASSWORD}).status_code == 302
    assert c.get("/api/v1/summary").status_code == 200
    assert [(e.action, e.detail) for e in _audit(store[1]) if e.actor == "victim"] == [
        ("login_failed", "bad password or name")] * 2 + [("login_failed", "locked"), ("login", None)]


def test_too_many_failures_from_one_address_are_throttled(runtime, store):
    app = make_app(runtime, ip_failures_per_minute=3)
    c = app.server.test_client()
    for i in range(3):
        assert "账号或密码不正确" in c.post("/login", data={"name": f"guess{i}", "password": "x"}).get_data(as_text=True)
    got = c.post("/login", data={"name": "guess9", "password": "x"})
    assert "此地址登录尝试过多" in got.get_data(as_text=True)
    assert [e.detail for e in _audit(store[1], "login_failed")][-1] == "throttled"


def test_disabled_or_reset_account_loses_its_session(app, login, store):
    client = login(app, "officer")
    assert client.get("/api/v1/alerts").status_code == 200
    with store[1].begin() as s:
        accounts.reset(s, ACCOUNTS["officer"][0], "a new password 1")
    time.sleep(0.6)  # the guard re-reads an account at least every 0.5 s
    assert client.get("/api/v1/alerts").status_code == 401
    c2 = app.server.test_client()
    c2.post("/login", data={"name": ACCOUNTS["officer"][0], "password": "a new password 1"})
    with store[1].begin() as s:
        accounts.disable(s, ACCOUNTS["officer"][0])
    time.sleep(0.6)
    assert c2.get("/api/v1/alerts").status_code == 401
    got = app.server.test_client().post("/login", data={"name": ACCOUNTS["officer"][0], "password": "a new password 1"})
    assert got.status_code == 200 and "停用" in got.get_data(as_text=True)


def test_logout(app, login, store):
    client = login(app, "leader")
    copied = client.get_cookie("sitroom_session").value   # as someone at the same PC might have kept it
    other = login(app, "leader")   # the same account logged in elsewhere
    assert client.post("/logout").status_code == 200
    assert client.get("/api/v1/summary").status_code == 401
    replay = app.server.test_client()
    replay.set_cookie("sitroom_session", copied)
    assert replay.get("/api/v1/summary").status_code == 401   # the login is over on the server, not only here
    assert other.get("/api/v1/summary").status_code == 200    # the other browser's login is its own
    assert [e.actor for e in _audit(store[1], "logout")] == [ACCOUNTS["leader"][0]]


def test_session_cookie_flags(app, store):
    add_account(app.server.config["SITROOM_DATA"].rt.settings.database_url, "cookie", "leader")
    got = app.server.test_client().post("/login", data={"name": "cookie", "password": PASSWORD})
    cookie = next(h for h in got.headers.getlist("Set-Cookie") if h.startswith("sitroom_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    got = app.server.test_client().post("/login", data={"name": "cookie", "password": PASSWORD},
                                        base_url="https://localhost")
    cookie = next(h for h in got.headers.getlist("Set-Cookie") if h.startswith("sitroom_session="))
    assert "Secure" in cookie   # served over TLS


def test_no_open_redirect_after_login(app, store):
    add_account(app.server.config["SITROOM_DATA"].rt.settings.database_url, "redir", "leader")
    for nxt in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        got = app.server.test_client().post("/login", data={"name": "redir", "password": PASSWORD, "next": nxt})
        assert got.headers["Location"] == "/", nxt
    got = app.server.test_client().post("/login", data={"name": "redir", "password": PASSWORD, "next": "/alerts?state=all"})
    assert got.headers["Location"] == "/alerts?state=all"


def test_figures_as_csv_are_an_export_for_leaders_and_audited(app, login, store):
    """A wall's URL is shown on a public screen: it shows figures, it does not hand them out as files."""
    wall, leader = login(app, "wall"), login(app, "leader")
    for url in ("/api/v1/summary.csv", "/api/v1/regions?figures=1&format=csv", "/api/v1/totals_check.csv"):
        assert wall.get(url).status_code == 403, url
        got = leader.get(url)
        assert got.status_code == 200 and got.mimetype == "text/csv", url
    assert wall.get("/api/v1/summary").status_code == 200   # the JSON the screens draw from
    exports = [(e.actor, e.target) for e in _audit(store[1], "export")]
    assert exports == [(ACCOUNTS["leader"][0], u) for u in (
        "/api/v1/summary.csv", "/api/v1/regions?figures=1&format=csv", "/api/v1/totals_check.csv")]


def test_behind_a_proxy_that_ends_tls_pages_work_and_cookies_are_secure(runtime, store):
    """The centre's proxy serves https and forwards plain http: a page's callbacks (Origin https://…) are
    its own, the session cookie is Secure; the same headers from anyone else change nothing."""
    app = make_app(runtime, trusted_proxies=["10.0.0.5"], allowed_hosts=["sitroom.centre.example", "localhost"])
    add_account(runtime.settings.database_url, "tls-user", "officer")
    via_proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sitroom.centre.example"}
    origin = {"Origin": "https://sitroom.centre.example"}
    c = app.server.test_client()
    got = c.post("/login", data={"name": "tls-user", "password": PASSWORD}, headers=via_proxy,
                 environ_base={"REMOTE_ADDR": "10.0.0.5"})
    cookie = next(h for h in got.headers.getlist("Set-Cookie") if h.startswith("sitroom_session="))
    assert "Secure" in cookie
    alert_id = _alert(store[1], "410100")
    got = c.post(f"/api/v1/alerts/{alert_id}/note", json={"note": "经代理"}, headers={**via_proxy, **origin},
                 environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert got.status_code == 200, got.get_json()
    got = c.post(f"/api/v1/alerts/{alert_id}/note", json={"note": "冒充代理"}, headers={**via_proxy, **origin},
                 environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert got.status_code == 403   # not the proxy: its forwarded scheme and host are not believed


def test_trusted_header_only_from_the_configured_proxy(runtime, store):
    app = make_app(runtime, trusted_header="X-Remote-User", trusted_proxies=["10.0.0.5"])
    add_account(runtime.settings.database_url, "sso-user", "leader")
    c = app.server.test_client()
    got = c.get("/api/v1/summary", headers={"X-Remote-User": "sso-user"}, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert got.status_code == 200
    got = c.get("/api/v1/summary", headers={"X-Remote-User": "sso-user"}, environ_base={"REMOTE_ADDR": "10.0.0.6"})
    assert got.status_code == 401   # the header from anywhere else is not believed
    got = app.server.test_client().get("/api/v1/summary", headers={"X-Remote-User": "nobody"},
                                       environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert got.status_code == 401   # only accounts that exist
    assert [e.detail for e in _audit(store[1], "login")] == ["single sign-on (X-Remote-User)"]


def test_behind_the_configured_proxy_the_forwarded_address_is_the_clients(runtime, store):
    """The audit log and the login throttle take the address X-Forwarded-For carries from a configured
    proxy (read from the right: what a client wrote in front is not believed), and the peer's own
    address from anyone else; the single sign-on header is still believed from the proxy only."""
    app = make_app(runtime, trusted_proxies=["10.0.0.0/30"], ip_failures_per_minute=2,
                   trusted_header="X-Remote-User")
    add_account(runtime.settings.database_url, "sso-user", "leader")
    c = app.server.test_client()
    names = iter(f"guess{i}" for i in range(10))   # not one account's lockout: the address's throttle

    def fail(peer: str, forwarded: str | None) -> str:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        page = c.post("/login", data={"name": next(names), "password": "x"}, headers=headers,
                      environ_base={"REMOTE_ADDR": peer}).get_data(as_text=True)
        return "throttled" if "此地址登录尝试过多" in page else "bad"

    assert fail("10.0.0.1", "203.0.113.7") == "bad"
    assert fail("10.0.0.1", "198.51.100.1, 203.0.113.7, 10.0.0.2") == "bad"   # through two proxies
    assert fail("10.0.0.1", "203.0.113.8") == "bad"   # another client of the same proxy: its own count
    assert fail("10.0.0.2", "203.0.113.7") == "throttled"
    assert fail("192.0.2.9", "203.0.113.8") == "bad"   # not a proxy: its header is not believed
    assert fail("10.0.0.1", "not-an-address") == "bad"
    rows = [(e.address, e.detail) for e in _audit(store[1], "login_failed")]
    assert rows == [("203.0.113.7", "bad password or name"), ("203.0.113.7", "bad password or name"),
                    ("203.0.113.8", "bad password or name"), ("203.0.113.7", "throttled"),
                    ("192.0.2.9", "bad password or name"), ("10.0.0.1", "bad password or name")]
    got = c.get("/api/v1/summary", headers={"X-Remote-User": "sso-user", "X-Forwarded-For": "203.0.113.7"},
                environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert got.status_code == 200
    assert [e.address for e in _audit(store[1], "login")] == ["203.0.113.7"]
    got = app.server.test_client().get("/api/v1/summary", headers={"X-Remote-User": "sso-user",
                                       "X-Forwarded-For": "10.0.0.1"}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert got.status_code == 401   # a forwarded proxy address from elsewhere does not make a proxy


# ------------------------------------------------------------------ wall devices and API tokens
def test_wall_device_survives_a_restart_and_revoke_takes_effect_within_a_refresh(runtime, store):
    app = make_app(runtime)
    with store[1].begin() as s:
        _, token = credentials.add_wall(s, "hall-1", ["410100"], "cases,clinics")
    c = app.server.test_client()
    got = c.get(f"/wall/{token}")
    assert got.status_code == 302 and got.headers["Location"] == "/?layers=cases%2Cclinics"
    cookie = next(h for h in got.headers.getlist("Set-Cookie") if h.startswith("sitroom_wall="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=315360000" in cookie
    assert c.get("/api/v1/summary").status_code == 200
    assert set(c.get("/api/v1/summary").json["regions"]) == {"410100"}   # the wall's region
    assert c.post(f"/api/v1/alerts/{_alert(store[1], '410100')}/ack", json={}, headers={"Origin": ORIGIN}).status_code == 403
    # a restart: a new app on the same store knows the screen by its cookie
    c2 = make_app(runtime).server.test_client()
    c2.set_cookie("sitroom_wall", token)
    assert c2.get("/api/v1/summary").status_code == 200
    with store[1]() as s:
        assert s.scalar(select(Wall.last_seen_at).where(Wall.name == "hall-1")) is not None
    with store[1].begin() as s:
        credentials.revoke_wall(s, "hall-1")
    time.sleep(0.6)   # < one refresh (1 s)
    assert c2.get("/api/v1/summary").status_code == 401
    assert c2.get("/").headers["Location"].startswith("/login")
    assert "此大屏已被停用" in c2.get("/login").get_data(as_text=True)
    assert c.get(f"/wall/{token}").status_code == 404


def _stream_end(resp, seconds: float = 8) -> bytes:
    """What an open push stream sends until it ends by itself (AssertionError if it does not in time)."""
    deadline, got = time.monotonic() + seconds, b""
    for chunk in resp.response:
        got += chunk
        assert time.monotonic() < deadline, f"the stream is still open after {seconds} s: {got[-200:]!r}"
    return got


def test_an_open_push_stream_ends_when_its_login_does(runtime, login, store):
    """A revoked wall's (or a disabled account's) open stream ends with a `denied` event within a
    refresh (push.js then goes to the login page); an idle session's ends quietly."""
    app = make_app(runtime, idle_minutes=1)
    with store[1].begin() as s:
        _, token = credentials.add_wall(s, "hall-2", [], None)
    screen = app.server.test_client()
    screen.get(f"/wall/{token}")
    officer = login(app, "officer")
    streams = {who: c.get("/api/v1/push", buffered=False) for who, c in (("wall", screen), ("officer", officer))}
    for resp in streams.values():
        assert resp.status_code == 200 and next(iter(resp.response)).startswith(b"retry:")
    with store[1].begin() as s:
        credentials.revoke_wall(s, "hall-2")
        accounts.disable(s, ACCOUNTS["officer"][0])
    for resp in streams.values():   # within a few seconds (a beat is 5 s; without the check: never)
        assert _stream_end(resp).endswith(b'event: denied\ndata: {"login":"/login"}\n\n')
    leader = login(app, "leader")
    with leader.session_transaction() as sess:
        sess["seen"] = int(time.time()) - 58
    resp = leader.get("/api/v1/push", buffered=False)
    assert resp.status_code == 200 and b"denied" not in _stream_end(resp)   # ends: the browser asks again
    assert leader.get("/api/v1/summary").json["error"] == "session expired"   # the stream did not renew it


def test_api_tokens(app, store, login):
    add_account(app.server.config["SITROOM_DATA"].rt.settings.database_url, "robot", "officer", display="接口机器人")
    with store[1].begin() as s:
        read_row, read = credentials.create_token(s, "robot", "read", None)
        _, act = credentials.create_token(s, "robot", "act", timedelta(days=30))
        _, old = credentials.create_token(s, "robot", "act", timedelta(minutes=1))
        s.get(ApiToken, _.id).expires_at = datetime.utcnow() - timedelta(seconds=1)
    c = app.server.test_client()
    alert_id = _alert(store[1], "410100")
    bearer = lambda tok: {"Authorization": f"Bearer {tok}"}  # noqa: E731
    assert c.get("/api/v1/alerts", headers=bearer(read)).status_code == 200
    assert c.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=bearer(read)).status_code == 403
    assert c.get("/api/v1/alerts", headers=bearer(old)).status_code == 401
    got = c.get("/api/v1/alerts", headers=bearer("st_not-a-token"))
    assert got.status_code == 401 and "token" in got.json["error"]
    # a token is not a cookie: no Origin needed, and the actor is its account
    got = c.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "自动确认"}, headers=bearer(act))
    assert got.status_code == 200 and got.json["acked_by"] == "接口机器人"
    with store[1]() as s:
        assert s.get(ApiToken, read_row.id).last_used_at is not None
        assert s.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.token_hash.contains(read[3:]))) == 0
    with store[1].begin() as s:
        credentials.revoke_token(s, str(read_row.id))
    time.sleep(0.6)
    assert c.get("/api/v1/alerts", headers=bearer(read)).status_code == 401


# ------------------------------------------------------------------ CSRF: same origin for what writes
def test_state_changing_requests_need_this_sites_origin(app, login, store):
    officer = login(app, "officer")
    alert_id = _alert(store[1], "410100")
    url = f"/api/v1/alerts/{alert_id}/ack"
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "", "Referer": "http://evil.example/x"}):
        got = officer.post(url, json={}, headers=headers)
        assert got.status_code == 403 and "did not come from this site" in got.json["error"], headers
    assert officer.post(url, json={}, headers={"Origin": ""}).status_code == 403   # neither Origin nor Referer
    with store[1]() as s:
        assert s.get(Alert, alert_id).state == "firing"
    assert len(_audit(store[1], "csrf_refused")) == 4
    got = officer.post(url, json={}, headers={"Origin": "", "Referer": f"{ORIGIN}/alerts"})
    assert got.status_code == 200   # a Referer of this site will do without an Origin


# ------------------------------------------------------------------ the audit log
def test_audit_rows_for_each_action_and_the_admin_page(app, login, store):
    officer = login(app, "officer")
    alert_id = _alert(store[1], "410100")
    base = f"/api/v1/alerts/{alert_id}"
    assert officer.post(f"{base}/ack", json={"note": "已派组"}).status_code == 200
    assert officer.post(f"{base}/note", json={"note": "核实中"}).status_code == 200
    assert officer.post(f"{base}/assign", json={"to": "流调一组"}).status_code == 200
    assert officer.post(f"{base}/resolve", json={"reason": "已控制"}).status_code == 200
    assert officer.post(f"{base}/resolve", json={"reason": "again"}).status_code == 409
    rows = [(e.actor, e.action, e.target, e.ok, e.detail) for e in _audit(store[1]) if e.action.startswith("alert.")]
    name = ACCOUNTS["officer"][0]
    assert rows[:4] == [(name, "alert.ack", f"alert {alert_id}", True, "已派组"),
                        (name, "alert.note", f"alert {alert_id}", True, "核实中"),
                        (name, "alert.assign", f"alert {alert_id}", True, "流调一组"),
                        (name, "alert.resolve", f"alert {alert_id}", True, "已控制")]
    assert rows[4][1:4] == ("alert.resolve", f"alert {alert_id}", False)
    admin = login(app, "admin")
    page = admin.get("/admin/audit?action=alert.&actor=" + name).get_data(as_text=True)
    assert page.count("<tr>") == 1 + 5 and "流调一组" in page
    csv_text = admin.get("/admin/audit.csv?action=login").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "at,actor,action,target,ok,address,detail"
    assert {line.split(",")[1] for line in csv_text.splitlines()[1:]} == {name, ACCOUNTS["admin"][0]}
    assert [e.target for e in _audit(store[1], "export")] == ["audit.csv"]
    assert admin.get("/admin/audit?since=yesterday").status_code == 200   # a bad date is said, not a 500
    assert "YYYY-MM-DD" in admin.get("/admin/audit?since=yesterday").get_data(as_text=True)


def test_the_audit_log_is_append_only(store):
    with store[1].begin() as s:
        from sitroom.auth import audit
        audit.record(s, "login", "someone", address="127.0.0.1")
    for sql in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with store[1].begin() as s:
                s.execute(text(sql))
    assert [e.actor for e in _audit(store[1])] == ["someone"]


def test_audit_csv_quotes_formulas(store):
    from sitroom.auth import audit
    with store[1].begin() as s:
        audit.record(s, "alert.note", "x", detail="=HYPERLINK(\"http://evil\")")
    with store[1]() as s:
        out = audit.to_csv(audit.entries(s))
    assert "'=HYPERLINK" in out


def test_admin_page_lists_walls_with_last_contact_and_tokens_with_last_use(app, login, store):
    with store[1].begin() as s:
        _, token = credentials.add_wall(s, "lobby", [], None)
        credentials.add_wall(s, "dark-screen", ["410100"], None)
    screen = app.server.test_client()
    screen.get(f"/wall/{token}")
    screen.get("/api/v1/summary")
    page = login(app, "admin").get("/admin").get_data(as_text=True)
    lobby = page[page.index("lobby"):].split("</tr>")[0]
    dark = page[page.index("dark-screen"):].split("</tr>")[0]
    assert "从未" not in lobby and "从未" in dark   # the dark screen is noticed
