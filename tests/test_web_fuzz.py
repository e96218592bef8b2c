"""Fuzz the running web server (real `sitroom loaders` and `sitroom serve` processes on the store under
test): the JSON API from its own OpenAPI description with schemathesis, and every Dash callback the
app registers (read from the app's callback map, /_dash-dependencies) with values no browser of ours
sends. Target: 0 answers of 500 or more; what people type is stored only when it passes
sitroom.validate. The tally of inputs tried is printed at the end (run with -s to see it)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, select

import pgcluster
from stack import Stack
from sitroom.alerts import SYSTEM
from sitroom.store.models import AlertEvent
from sitroom.validate import TextError, person_text

TALLY: Counter = Counter()


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    url = None
    if pgcluster.test_store_backend() == "postgresql":
        server = request.getfixturevalue("pg_server")
        url = server.create_database(server.unique_name("store", "web_fuzz"))
    s = Stack(tmp_path_factory.mktemp("fuzz"), backfill_days=3, database_url=url)
    try:
        s.start()
        s.sim.add_cases("410100", 200)   # a firing alert for the officers' actions to act on
        s.wait_for(lambda: s.alert_for("410100", "firing"), 60, "the drill's alert")
        yield s
    finally:
        s.stop()
    print(f"\nweb fuzz: {dict(TALLY)}")


def send(live, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"):
    """As the stack's admin (every route and callback is open to it), from one of sitroom's pages."""
    req = urllib.request.Request(live.url + path, data=body, method=method,
                                 headers={"Content-Type": ctype, **live.login("admin").headers()})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
    except urllib.error.URLError as e:
        # a body over max_callback_bytes: the server answers 413 and closes while it is still being sent
        # (test_a_body_too_large_is_refused_before_it_is_sent reads that answer)
        if isinstance(e.reason, (BrokenPipeError, ConnectionResetError)) and body and len(body) > 262_144:
            return 413, b"", {}
        raise


# ------------------------------------------------------------------------------ the JSON API
@pytest.fixture(scope="module")
def api_schema(live):
    schema = schemathesis.openapi.from_url(live.url + "/api/v1/openapi.json")
    schema.config.update(base_url=live.url, headers=live.login("admin").headers())   # as the admin
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
                                    max_examples=25)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_fuzz(case):
    """Everything the description allows and much it does not: never a 5xx, every answer JSON."""
    response = case.call()
    TALLY["api requests"] += 1
    TALLY["api 5xx"] += response.status_code >= 500
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    ctype = (response.headers.get("content-type") or [""])[0]
    csv = case.method == "GET" and case.formatted_path.endswith(".csv") and response.status_code == 200
    want = "csv" if csv else "json"
    assert want in ctype, (case.method, case.formatted_path, response.status_code, ctype)


# ------------------------------------------------------------------------------ Dash callbacks
BAD_VALUES = [None, "fr", 10 ** 30, -1, 0, "", "x" * 5000, [], {}, {"a": {"b": [1]}}, [None, 1, "a"], True, 1.5,
              "\ud800", "<img src=x onerror=alert(1)>", "9223372036854775808", "../../etc/passwd", "\x00\x1b[2J"]
PATTERN_VALUES = {"alert": [10 ** 30, -1, "x", None, [1], 1.5], "action": ["drop", None, 5, ["ack"]]}


def _split_output(output: str) -> list[tuple[str, str]]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for p in parts:
        ident, prop = p.split("@")[0].rsplit(".", 1)
        out.append((ident, prop))
    return out


def _id(ident: str):
    return json.loads(ident) if ident.startswith("{") else ident


def _prop_id(ident, prop: str) -> str:
    return (json.dumps(ident, sort_keys=True, separators=(",", ":")) if isinstance(ident, dict) else ident) + "." + prop


class CallbackCall:
    """A callback request as the renderer sends it, with what a browser of ours would send in it."""

    def __init__(self, dep: dict, alert_id: int):
        self.dep, self.alert_id = dep, alert_id
        self.slots = dep["inputs"] + dep["state"]

    def concrete(self, ident: str, **over):
        raw = _id(ident)
        if not isinstance(raw, dict):
            return raw
        fill = {"alert": self.alert_id, "action": "note"}
        return {k: (over.get(k, fill.get(k, "x")) if v == ["ALL"] else v) for k, v in raw.items()}

    def normal(self, slot: dict, ident):
        prop, name = slot["property"], ident if isinstance(ident, str) else ident.get("type")
        if prop in ("n_intervals", "n_clicks"):
            return 1
        if name.endswith("-lang"):
            return "zh"
        if name.endswith("-version"):
            return -1
        if name == "ack-name":
            return "值班员测试"
        if prop == "id":
            return ident
        if name == "al-field":
            return "已处置"
        if name == "al-selected":
            return self.alert_id
        return None

    def body(self, replace: int | None = None, value=None, pattern: dict | None = None,
             values: dict[int, object] | None = None) -> bytes:
        """The request, every slot as a browser of ours fills it except slot `replace` (= value), or
        each slot in `values`."""
        given = dict(values or {})
        if replace is not None:
            given[replace] = value

        def item(i, slot):
            if _id(slot["id"]) != slot["id"] and isinstance(_id(slot["id"]), dict) and ["ALL"] in _id(slot["id"]).values():
                ident = self.concrete(slot["id"], **(pattern or {}))
                v = given[i] if i in given else self.normal(slot, ident)
                return [{"id": ident, "property": slot["property"], "value": v}]
            ident = _id(slot["id"])
            return {"id": ident, "property": slot["property"],
                    "value": given[i] if i in given else self.normal(slot, ident)}
        items = [item(i, s) for i, s in enumerate(self.slots)]
        n = len(self.dep["inputs"])
        first = items[0][0] if isinstance(items[0], list) else items[0]
        outs = [{"id": self.concrete(i), "property": p} for i, p in _split_output(self.dep["output"])]
        return json.dumps({"output": self.dep["output"], "outputs": outs if self.dep["output"].startswith("..") else outs[0],
                           "inputs": items[:n], "state": items[n:],
                           "changedPropIds": [_prop_id(first["id"], first["property"])]}).encode()


@pytest.fixture(scope="module")
def callbacks(live):
    send(live, "GET", "/")   # Dash sets its callback map up on the first request
    status, deps, _ = send(live, "GET", "/_dash-dependencies")
    assert status == 200
    server_side = [d for d in json.loads(deps) if not d.get("clientside_function")]
    assert len(server_side) >= 15, [d["output"] for d in server_side]
    alert_id = live.alert_for("410100", "all")["id"]   # the API fuzz may have acknowledged or resolved it
    return [CallbackCall(d, alert_id) for d in server_side]


def _post_callback(live, body: bytes, what: str) -> int:
    status, answer, _ = send(live, "POST", "/_dash-update-component", body)
    TALLY["callback requests"] += 1
    TALLY["callback 5xx"] += status >= 500
    TALLY[f"callback {status}"] += 1
    assert status < 500, (what, status, answer[:400])
    return status


def test_every_callback_with_values_no_browser_sends(live, callbacks):
    for cb in callbacks:
        assert _post_callback(live, cb.body(), cb.dep["output"]) in (200, 204), cb.dep["output"]
        for i, slot in enumerate(cb.slots):
            for value in BAD_VALUES:
                status = _post_callback(live, cb.body(i, value), f"{cb.dep['output']} {slot} = {value!r:.60}")
                ident = slot["id"]
                if value == "fr" and ident.endswith("-lang"):   # a language: the page's default instead
                    assert status in (200, 204), (cb.dep["output"], slot)
                if ident == "al-selected" and value == 10 ** 30:  # reachable from /alerts?alert=...
                    assert status in (200, 204), cb.dep["output"]
        for key, values in PATTERN_VALUES.items():
            if any(f'"{key}":["ALL"]' in s["id"] for s in cb.slots):
                for v in values:
                    _post_callback(live, cb.body(pattern={key: v}), f"{cb.dep['output']} {key}={v!r}")
    # the page router itself, with page arguments no link of ours makes
    router = next(cb for cb in callbacks if cb.dep["output"].startswith(".._pages_content"))
    for search in ("?alert=1" + "0" * 30, "?alert=-5", "?lang=fr", "?state=%00", "?metric=x&layers=%ff",
                   "?level=I,,X", "?rule=", "?alert=1&alert=2", "?" + "a=" * 2000):
        for path in ("/", "/alerts", "/sources", "/nowhere"):
            body = json.loads(router.body())
            body["inputs"][0]["value"], body["inputs"][1]["value"] = path, search
            assert _post_callback(live, json.dumps(body).encode(), f"page {path}{search[:40]}") in (200, 204)


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                 st.text(max_size=40), st.sampled_from(BAD_VALUES[:8])),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                       max_leaves=8)


def test_every_callback_fuzzed_with_generated_values(live, callbacks):
    """Every callback (the writers too: row and bulk Acknowledge, silences, resync), any subset of its
    inputs and states replaced by generated JSON, as a broken or hostile page would send it: never a 5xx."""
    for cb in callbacks:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(values=st.dictionaries(st.integers(0, len(cb.slots) - 1), JSONISH, min_size=1, max_size=3))
        def one(values):
            _post_callback(live, cb.body(values=values), f"{cb.dep['output']} {values!r:.120}")
        one()
    _assert_only_valid_text_stored(live)


def _writers(callbacks) -> list[CallbackCall]:
    """The callbacks that write: the officer's buttons (the banner's Acknowledge, /alerts' actions; the
    actor is the logged-in account, so only the typed text is fuzzed)."""
    found = [cb for cb in callbacks if any('"ack-btn"' in str(s["id"]) or '"al-act"' in str(s["id"])
                                           for s in cb.dep["inputs"])]
    assert len(found) >= 2, [cb.dep["output"] for cb in found]
    return found


TEXT = st.one_of(st.none(), st.text(max_size=300), st.text(min_size=90, max_size=2200),
                 st.sampled_from(["system", "SYSTEM", " \u200b ", "a\u202eb", "\ud800", "x" * 200_000, "x" * 1_000_000]),
                 st.integers(), st.lists(st.text(max_size=5), max_size=3))


def test_state_changing_callbacks_fuzzed(live, callbacks):
    for cb in _writers(callbacks):
        field_slot = next((i for i, s in enumerate(cb.slots) if '"al-field"' in s["id"] and s["property"] == "value"),
                          None)

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(typed=TEXT, action=st.sampled_from(["ack", "note", "assign", "resolve"]))
        def one(typed, action):
            body = json.loads(cb.body(pattern={"action": action}))
            if field_slot is not None:
                n = len(cb.dep["inputs"])
                body["state"][field_slot - n][0]["value"] = typed
            _post_callback(live, json.dumps(body).encode(), f"{cb.dep['output']} {action}")
        one()
    _assert_only_valid_text_stored(live)


def _assert_only_valid_text_stored(live):
    engine = create_engine(live.store_url())
    try:
        with engine.connect() as c:
            events = c.execute(select(AlertEvent.kind, AlertEvent.by, AlertEvent.note)).all()
    finally:
        engine.dispose()
    people = [e for e in events if e.by != SYSTEM]
    TALLY["officer events stored"] = len(people)
    for kind, by, note in people:
        try:
            assert person_text("by", by) == by
            if note is not None:
                assert person_text("to" if kind == "assigned" else "note", note) == note
        except TextError as e:
            raise AssertionError(f"stored although refused: {kind} by {by!r:.80} note {note!r:.80}: {e}") from None


def test_a_body_too_large_is_refused_before_it_is_sent(live):
    """Over the largest body the app takes (max_callback_bytes), only the headers go out: the server
    answers 413 without waiting for the body. Over max_body_bytes, an API body is refused unparsed."""
    import socket
    for path, length, body in (("/api/v1/alerts/1/note", 70_000, b"{" + b" " * 69_998 + b"}"),
                               ("/api/v1/alerts/1/note", 100_000_000, b""), ("/_dash-update-component", 300_000, b"")):
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {length}\r\n\r\n".encode() + body)
            answer = b""
            while b"}" not in answer and (got := sock.recv(4096)):   # the server closes after its answer
                answer += got
            answer = answer.decode("utf-8")
        TALLY["oversized bodies"] += 1
        assert answer.startswith("HTTP/1.1 413"), (path, length, answer[:200])
        head, _, said = answer.partition("\r\n\r\n")
        assert "content-type: application/json" in head.lower(), (path, length, answer[:300])
        assert json.loads(said)["error"], (path, length, said)
