"""Store trouble told as store trouble, on a real store held locked or made read-only: /healthz says
so (503), an officer's action answers 503 with the reason (nothing half-written), the pages' reads
still answer; the loaders' heartbeat (a real scheduler) tells a stopped loader service apart."""
from __future__ import annotations

import sqlite3
import subprocess
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from sitroom.store.models import AlertEvent, LoaderBeat

from conftest import runtime_on, runtime_with_a_firing_alert

HEALTH_WAIT = 2.2   # ScreenData looks at the store at most every HEALTH_TTL (2 s)


@pytest.fixture
def stack(store, gaz, tmp_path, login):
    url, sessions = store
    rt = runtime_with_a_firing_alert(store, gaz, tmp_path)
    with sessions.begin() as s:
        now = datetime.utcnow()
        s.add(LoaderBeat(process="test:1", started_at=now, beat_at=now, last_batch_at=now))
    from dashboard.app import create_app
    app = create_app(rt)
    client = login(app, "officer")
    aid = client.get("/api/v1/alerts?state=firing").json[0]["id"]
    return client, app.server.config["SITROOM_DATA"], url, sessions, aid


def _fresh_beat(sessions):
    with sessions.begin() as s:
        s.get(LoaderBeat, "test:1").beat_at = datetime.utcnow()


def _assert_store_fault(client, data, sessions, aid, fault: str):
    time.sleep(HEALTH_WAIT)
    r = client.get("/healthz")
    assert r.status_code == 503, r.json
    assert r.json["store"]["writable"] is False and r.json["store"]["fault"] == fault, r.json
    assert r.json["loaders"]["running"] is True
    from dashboard.components.store_trouble import store_trouble
    [line] = store_trouble(data.health(), "zh")
    assert line.children.startswith("数据库不可写"), line.children
    r = client.post(f"/api/v1/alerts/{aid}/ack", json={})
    assert r.status_code == 503 and r.json["store"] == fault and "not done" in r.json["error"], r.json
    for path in ("/api/v1/summary", f"/api/v1/alerts/{aid}", "/api/v1/sources", "/"):   # reads go on (stale)
        assert client.get(path).status_code == 200, path


def _assert_recovered(client, sessions, aid):
    _fresh_beat(sessions)
    time.sleep(HEALTH_WAIT)
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["status"] == "ok", r.json
    r = client.post(f"/api/v1/alerts/{aid}/ack", json={})
    assert r.status_code == 200, r.json
    with sessions() as s:
        assert [e.by for e in s.scalars(select(AlertEvent).where(AlertEvent.kind == "acknowledged"))] == ["值班员甲"]  # the logged-in officer


def test_a_locked_store(stack):
    client, data, url, sessions, aid = stack
    if make_url(url).get_backend_name() == "sqlite":
        holder = sqlite3.connect(make_url(url).database, timeout=1, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        release = holder.rollback
    else:
        holder = create_engine(url).connect()
        holder.execute(text("LOCK TABLE alerts, alert_events, data_version IN EXCLUSIVE MODE"))
        release = holder.rollback
    try:
        _assert_store_fault(client, data, sessions, aid, "locked")
    finally:
        release()
        holder.close()
    _assert_recovered(client, sessions, aid)


def test_a_read_only_store(stack, request):
    client, data, url, sessions, aid = stack
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        # root writes any file whatever its mode; an immutable file (ext4's i attribute) it cannot
        path = u.database
        if subprocess.run(["chattr", "+i", path], capture_output=True).returncode:
            pytest.skip("no chattr +i on this filesystem")
        data.engine.dispose()
        sessions.kw["bind"].dispose()   # no connection opened before keeps the file writable
        undo = lambda: subprocess.run(["chattr", "-i", path], check=True)  # noqa: E731
    else:
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{u.database}" SET default_transaction_read_only = on'))
        data.engine.dispose()   # new connections take the setting up

        def undo():
            with admin.connect() as c:
                c.execute(text(f'ALTER DATABASE "{u.database}" SET default_transaction_read_only = off'))
            data.engine.dispose()
    try:
        _assert_store_fault(client, data, sessions, aid, "read_only")
    finally:
        undo()
    _assert_recovered(client, sessions, aid)


def test_the_loaders_heartbeat_tells_a_stopped_loader_service(store, gaz, tmp_path, hc_source, login):
    from dashboard.app import create_app
    from loaders.service import LoaderService
    from sitroom import loader_beat
    url, sessions = store
    rt = runtime_on(url, gaz, tmp_path)
    client = login(create_app(rt), "officer")
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["loaders"]["running"] is False
    assert any("loader service is stopped" in p for p in r.json["problems"])
    _sim, src = hc_source   # a real source database, so that batches are stored
    config = rt.config.model_copy(update={"sources": rt.config.sources.model_copy(update={"sources": [src]})})
    svc = LoaderService(config, gaz, url)
    svc.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as s:
                beats = list(s.scalars(select(LoaderBeat)))
            if beats and beats[0].last_batch_at:
                break
            time.sleep(0.2)
        assert beats and beats[0].process == svc.process and beats[0].last_batch_at, beats
        time.sleep(HEALTH_WAIT)
        r = client.get("/healthz")
        assert r.status_code == 200 and r.json["loaders"]["running"] and r.json["loaders"]["last_batch"], r.json
    finally:
        svc.stop()
    with sessions() as s:
        assert not s.scalars(select(LoaderBeat)).all()   # a loader that stops takes its beat with it
    # a loader killed without a word: its beat grows old
    with sessions.begin() as s:
        old = datetime.utcnow() - timedelta(seconds=loader_beat.STOPPED_AFTER_SECONDS + 1)
        s.add(LoaderBeat(process="gone:9", started_at=old, beat_at=old, last_batch_at=old))
    time.sleep(HEALTH_WAIT)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["loaders"]["running"] is False and r.json["loaders"]["last_beat"]
    from dashboard.components.store_trouble import store_trouble
    [line] = store_trouble(client.application.config["SITROOM_DATA"].health(), "zh")
    assert line.children.startswith("数据加载服务停止"), line.children
