"""Hostile requests on the real app and a real store (Flask's test client): every API answer is JSON,
bad input is a 400 with the reason, never a 500; one validation for what people type; the headers."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sitroom.store.models import AlertEvent
from sitroom.validate import TextError, person_text

from conftest import runtime_with_a_firing_alert

BIG = "9223372036854775808"   # 2^63: one past a 64-bit integer


@pytest.fixture
def app_and_store(store, gaz, tmp_path):
    rt = runtime_with_a_firing_alert(store, gaz, tmp_path)
    from dashboard.app import create_app
    return create_app(rt, bound_host="127.0.0.1"), store[1]


@pytest.fixture
def client(app_and_store, login):
    return login(app_and_store[0], "admin")


def _alert_id(client) -> int:
    return client.get("/api/v1/alerts?state=firing").json[0]["id"]


def test_unknown_api_paths_and_methods_answer_json(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.is_json and "no such API route" in r.json["error"]
    r = client.post("/api/v1/summary", json={})
    assert r.status_code == 405 and r.is_json and r.headers["Allow"] == "GET"
    r = client.delete("/api/v1/alerts/1/ack")
    assert r.status_code == 405 and r.is_json and "POST" in r.json["error"]
    r = client.get("/geo/nowhere")
    assert r.status_code == 404 and r.is_json
    for path in (f"/api/v1/alerts/{BIG}", "/api/v1/alerts/abc", "/api/v1/alerts/0", f"/api/v1/alerts/{'9' * 30}",
                 f"/api/v1/quarantine?offset={BIG}", "/api/v1/quarantine?limit=1e3", "/api/v1/quarantine?offset=-1",
                 f"/api/v1/deliveries?alert={BIG}", "/api/v1/deliveries?limit=%EF%BC%95",   # a fullwidth 5
                 "/api/v1/quarantine?reason=a%00b", "/api/v1/deliveries?target=%1b[2J"):
        r = client.get(path)
        assert r.status_code == 400 and r.is_json and r.json["error"], path
    assert client.get("/api/v1/alerts/2147483648").status_code == 400   # ids are INTEGER: 32 bits on PostgreSQL
    assert client.get("/api/v1/alerts/2147483647").status_code == 404
    assert client.get(f"/api/v1/quarantine?offset={int(BIG) - 1}").status_code == 200
    r = client.post(f"/api/v1/alerts/{BIG}/ack", json={})
    assert r.status_code == 400 and "alert id" in r.json["error"]


def test_large_and_hostile_bodies(client):
    aid = _alert_id(client)
    r = client.post(f"/api/v1/alerts/{aid}/note", data=b"{" + b" " * 70_000 + b"}", content_type="application/json")
    assert r.status_code == 413 and r.is_json and "65,536" in r.json["error"]
    deep = "[" * 100_000 + "]" * 100_000   # 200 kB: over the limit before its depth matters
    r = client.post(f"/api/v1/alerts/{aid}/note", data=deep, content_type="application/json")
    assert r.status_code == 413 and r.is_json
    deep = '{"by": ' + "[" * 30_000 + "]" * 30_000 + "}"
    r = client.post(f"/api/v1/alerts/{aid}/note", data=deep, content_type="application/json")
    assert r.status_code == 400 and "deeper than" in r.json["error"]
    r = client.post(f"/api/v1/alerts/{aid}/note", data=b'{"by": "\xff\xfe"}', content_type="application/json")
    assert r.status_code == 400 and "UTF-8" in r.json["error"]
    # the note is checked like every person's text (the actor is the logged-in account, never a field)
    for body in ({"note": "a\udfffb"}, {"note": {"a": 1}}, {"note": "a\u2066b"}, {"note": " \u3000\ufeff"},
                 {"note": "\x1b[2J"}, {"note": "x" * 2001}):
        r = client.post(f"/api/v1/alerts/{aid}/note", data=json.dumps(body), content_type="application/json")
        assert r.status_code == 400 and r.json["field"] == "note", (body, r.json)
    r = client.post(f"/api/v1/alerts/{aid}/note", json={"by": "张三", "note": "x"})
    assert r.status_code == 400 and "'by' is not taken" in r.json["error"]
    r = client.post(f"/api/v1/alerts/{aid}/note", json={"note": "ok", "extra": 1})
    assert r.status_code == 400 and "unknown field" in r.json["error"]
    r = client.post(f"/api/v1/alerts/{aid}/note", json={"note": "第一行\n第二行"})
    assert r.status_code == 200
    [ev] = [e for e in client.get(f"/api/v1/alerts/{aid}").json["trail"] if e["kind"] == "noted"]
    assert (ev["by"], ev["note"]) == ("管理员", "第一行\n第二行")   # the logged-in admin's display name


def test_one_validation_function_for_people_text():
    assert person_text("by", "  李四 ") == "李四"
    assert person_text("note", None, required=False) is None
    assert person_text("note", "\u200b", required=False) is None      # only invisible: empty
    cases = {("by", "a\nb"): "control", ("by", "a\u200bb"): "control", ("to", "x\u202dy"): "bidi",
             ("reason", "\ud83d"): "surrogate", ("by", "SYSTEM"): "reserved", ("by", 7): "type",
             ("to", "队" * 101): "long", ("by", "\t"): "required", ("reason", "\x7f"): "control"}
    for (field, value), code in cases.items():
        with pytest.raises(TextError) as e:
            person_text(field, value)
        assert (e.value.field, e.value.code) == (field, code), (field, value)
    assert person_text("to", "system") == "system"   # only the actor's name is reserved
    # what draws nothing on its own: a variation selector, the grapheme joiner, a Hangul filler, tag characters
    for nothing in ("\ufe0f", "\u034f", "\u115f", "\U000e0041\U000e0042", " \u20dd "):
        for field in ("by", "note"):
            with pytest.raises(TextError) as e:
                person_text(field, nothing)
            assert e.value.code == "required", (field, nothing)
    assert person_text("note", "e\u0301") == "\xe9"     # a mark on a letter is text (NFC)


def test_dash_routes_never_answer_500(client):
    for path in ("/_dash-component-suites/dash/../../../etc/passwd", "/_dash-component-suites/dash/..%2f..%2fsetup.py",
                 "/_dash-component-suites/os/path.js", "/_dash-component-suites/sitroom/cli.py",
                 "/_dash-component-suites/dash/deps/react@0.0.0.min.js", "/_dash-component-suites/dash/%00.js"):
        r = client.get(path)
        assert r.status_code == 404, (path, r.status_code)
    client.get("/")  # Dash sets its callback map up on the first request
    bodies = [b"", b"null", b"[]", b"{}", b'{"output": 5}', b'{"output": "nope.children"}',
              b'{"output": "trend.figure", "inputs": "x"}', b'{"output": "trend.figure", "inputs": [1, 2]}',
              b'{"output": "trend.figure", "inputs": [], "state": []}', b"[" * 100_000, b"\xff",
              json.dumps({"output": "trend.figure", "outputs": {"id": "trend", "property": "figure"},
                          "inputs": [{"id": "wall-version", "property": "data", "value": 1},
                                     {"id": "wall-view", "property": "data", "value": {"x": [1]}}],
                          "state": [{"id": "wall-lang", "property": "data", "value": "fr"}],
                          "changedPropIds": ["wall-view.data"]}).encode()]
    for body in bodies:
        r = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert r.status_code < 500 and r.is_json or r.status_code in (200, 204), (body[:80], r.status_code, r.data[:200])


def test_security_headers_and_host_allow_list(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in \
        csp.split("script-src")[1].split(";")[0]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in r.headers
    assert client.get("/api/v1/summary").headers["X-Content-Type-Options"] == "nosniff"
    for host in ("localhost:8050", "127.0.0.1", "[::1]:8050"):
        assert client.get("/healthz", headers={"Host": host}).status_code != 400, host
    r = client.get("/api/v1/summary", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "evil.example" in r.json["error"]
    assert client.get("/", headers={"Host": "evil.example:8050"}).status_code == 400


def test_refused_text_is_never_stored(app_and_store, login):
    app, sessions = app_and_store
    client = login(app, "officer")
    aid = _alert_id(client)
    for by in ("x" * 101, "system", "\u202eevil", "a\x00"):
        assert client.post(f"/api/v1/alerts/{aid}/ack", json={"by": by}).status_code == 400
    with sessions() as s:
        assert not s.scalars(select(AlertEvent).where(AlertEvent.kind != "fired")).all()


def test_a_wildcard_bind_serves_this_machines_addresses_only():
    """Bound to 0.0.0.0, a screen may open the server by any of this machine's IP addresses
    (127.0.0.2 is one on Linux: all of 127/8 is local); an address of another machine is refused."""
    from dashboard.http_guard import allowed_hosts, host_allowed
    wildcard, loopback = allowed_hosts([], "0.0.0.0"), allowed_hosts([], "127.0.0.1")
    assert host_allowed("127.0.0.2", wildcard) and not host_allowed("127.0.0.2", loopback)
    assert not host_allowed("192.0.2.1", wildcard)       # TEST-NET-1 (RFC 5737): never this machine's
    assert not host_allowed("evil.example", wildcard)
    assert host_allowed("localhost", loopback)
    assert not host_allowed("127.0.0.2", allowed_hosts(["wall.example"], "0.0.0.0"))   # configured: only those
