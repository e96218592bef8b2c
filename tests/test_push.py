"""The push of the data version (dashboard/push.py) on the real app and a real store, and against a
real `sitroom serve` with 50 streams open."""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest

from sitroom.store import bump_version

from conftest import runtime_on
from dashboard.push import data_key


@pytest.fixture
def app(store, gaz, tmp_path):
    url, sessions = store
    rt = runtime_on(url, gaz, tmp_path)
    from dashboard.app import create_app
    app = create_app(rt, push_streams=2)
    yield app, sessions
    app.server.extensions["sitroom_push"].stop()


class Events:
    """The messages of one open stream, read as they come (each read waits for the next one)."""

    def __init__(self, body):
        self.text, self._buf, self._chunks = "", "", iter(body)

    def next(self) -> dict:
        while True:
            if "\n\n" in self._buf:
                block, self._buf = self._buf.split("\n\n", 1)
                data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
                if data:
                    return json.loads(data[0])
                continue
            chunk = next(self._chunks)
            chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
            self.text += chunk
            self._buf += chunk

    def wait(self, cond, timeout: float = 8.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next()
            if cond(m):
                return m
        raise AssertionError(f"no such message within {timeout} s")


def test_a_new_version_is_pushed_to_an_open_stream(app, login):
    dash_app, sessions = app
    client = login(dash_app, "leader")   # a logged-in screen
    resp = client.get("/api/v1/push", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert "no-cache" in resp.headers["Cache-Control"] and "Content-Encoding" not in resp.headers
    events = Events(resp.response)
    first = events.next()
    version = int(first["key"].split(".")[0])
    assert set(first) == {"key", "status", "as_of"}
    assert events.text.startswith("retry: ")          # the browser reconnects by itself after a drop
    with sessions.begin() as s:
        bump_version(s)
    moved = events.wait(lambda m: int(m["key"].split(".")[0]) == version + 1)
    assert moved["key"].split(".")[1:] == first["key"].split(".")[1:]
    # the page drawn after the push reads the new version even if a heartbeat was taken just before
    assert dash_app.server.config["SITROOM_DATA"].heartbeat()["version"] == version + 1
    resp.close()


def test_streams_over_the_limit_are_refused_and_a_closed_one_frees_its_place(app, login):
    dash_app, _ = app
    client = login(dash_app, "leader")   # a logged-in screen
    hub = dash_app.server.extensions["sitroom_push"]
    a = client.get("/api/v1/push", buffered=False)
    b = client.get("/api/v1/push", buffered=False)
    Events(a.response).next()
    Events(b.response).next()
    assert hub.streams == 2
    refused = client.get("/api/v1/push")
    assert refused.status_code == 503 and "--push-streams" in refused.json["error"]
    assert refused.headers["Retry-After"]
    a.close()   # what the server does when the screen went away (its next write failed)
    assert hub.streams == 1
    c = client.get("/api/v1/push", buffered=False)
    assert c.status_code == 200
    c.close()
    b.close()


def test_pages_have_no_polling_interval_and_follow_the_pushed_key(app, login):
    import dash
    from dash import dcc
    dash_app, _ = app
    client = login(dash_app, "leader")   # a logged-in screen
    key = dash_app.server.extensions["sitroom_push"].key()
    assert key and len(key.split(".")) == 3

    def walk(c):
        yield c
        kids = getattr(c, "children", None)
        for k in (kids if isinstance(kids, (list, tuple)) else [kids] if kids is not None else []):
            if hasattr(k, "to_plotly_json"):
                yield from walk(k)

    for page in dash.page_registry.values():
        with dash_app.server.test_request_context(page["path"]):
            tree = list(walk(page["layout"]()))
        # (the kiosk's rotation tick, off unless ?kiosk=1, runs in the browser only: see below)
        assert not [c for c in tree if isinstance(c, dcc.Interval) and not c.disabled], page["path"]
        followers = [c for c in tree if isinstance(c, dcc.Store) and c.id.endswith("-version")]
        def same(k):  # the minute may have turned meanwhile on a slow machine; /trends follows by day
            return k.split(".")[::2] == key.split(".")[::2] or k == data_key(key)
        assert followers and all(same(c.data) for c in followers), (page["path"], [(c.id, c.data) for c in followers])
    deps = client.get("/_dash-dependencies").json
    polled = [d["output"] for d in deps if not d.get("clientside_function")
              and any(i["property"] == "n_intervals" for i in d["inputs"])]
    assert not polled, f"server callbacks on a timer: {polled}"
    assert "push-version" in json.dumps(deps)


def test_a_page_of_whole_days_follows_new_data_and_the_local_day_not_the_minute():
    """/trends follows data_key: a new version redraws it, a turned minute or reloaded rules do not,
    local midnight (16:00 UTC) does."""
    slot = int(datetime(2026, 12, 1, 15, 58, tzinfo=timezone.utc).timestamp()) // 60
    assert data_key(f"7.{slot}.abc") == data_key(f"7.{slot + 1}.def")               # 15:59 UTC: 23:59 local
    assert data_key(f"7.{slot}.abc") != data_key(f"7.{slot + 2}.abc")               # 16:00 UTC: the next local day
    assert data_key(f"7.{slot}.abc") != data_key(f"8.{slot}.abc")
    assert data_key(f"7.{slot}.abc").split(".")[0] == "7"


# ------------------------------------------------------------------------- a real `sitroom serve`
def open_stream(port: int, cookie: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(f"GET /api/v1/push HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
              f"Cookie: {cookie}\r\n\r\n".encode())
    return s


def read_until(s: socket.socket, needle: bytes, got: bytes = b"") -> bytes:
    while needle not in got:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError(f"stream closed; got {got[-300:]!r}")
        got += chunk
    return got


def answers(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:   # an answer too (/healthz says 503 when the loaders lag)
        return e.code


def versions_in(text: bytes) -> list[int]:
    return [int(v) for v in re.findall(rb'"key":"(\d+)\.', text)]


def test_the_server_answers_with_50_streams_open_and_pushes_to_every_one(stack):
    cookie = stack.login("leader").headers()["Cookie"]
    streams = [open_stream(stack.port, cookie) for _ in range(50)]
    try:
        seen = [read_until(s, b"data: ") for s in streams]
        assert all(b" 200 " in x.split(b"\r\n", 1)[0] for x in seen)
        version = max(v for x in seen for v in versions_in(x))
        t0 = time.monotonic()
        for path in ("/healthz", "/api/v1/summary", "/", "/_dash-dependencies"):
            assert answers(stack.url + path) in (200, 401, 503), path   # 401: asked without a login
        assert time.monotonic() - t0 < 10
        # a new version: every open stream is told
        stack.sim.add_cases(stack.gaz.resolve("开封"), 5)
        for i, s in enumerate(streams):
            s.settimeout(30)
            got = seen[i]
            while not any(v > version for v in versions_in(got)):
                chunk = s.recv(4096)
                assert chunk, f"stream {i} closed before it was told of the new version"
                got += chunk
    finally:
        for s in streams:
            s.close()
