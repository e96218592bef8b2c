"""Webhook notifications against a real local HTTP server and a real store (SQLite or PostgreSQL).

The server answers 200, 500, 500-then-200, or hangs past the target's timeout; what is
asserted is what the gateway received and what the store recorded for each delivery.
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from sqlalchemy import func, insert, select

from sitroom import file_status, notify
from sitroom.alerts import acknowledge, add_note, assign, resolve
from sitroom.config import ConfigError, load_config
from sitroom.config.notify import NotifyConfig
from sitroom.store import make_engine, session_factory, upgrade
from sitroom.store.models import Alert, AlertEvent, NotifyDelivery

from conftest import REPO, runtime_on

ZHENGZHOU, LUOYANG, XIAN = "410100", "410300", "610100"


# ------------------------------------------------------------------ a gateway on localhost
class Gateway:
    """/ok answers 200, /fail 500, /flaky 500 twice then 200, /hang sleeps past any timeout here."""

    def __init__(self):
        self.received: list[tuple[str, dict, dict]] = []  # (path, headers, body)
        self.lock = threading.Lock()
        self.flaky_left = 2
        gw = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gw.lock:
                    gw.received.append((self.path, dict(self.headers), body))
                    flaky_fail = self.path == "/flaky" and gw.flaky_left > 0
                    if flaky_fail:
                        gw.flaky_left -= 1
                if self.path == "/hang":
                    time.sleep(3)
                code = 500 if self.path == "/fail" or flaky_fail else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"{}")
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [b for p, _, b in self.received if path is None or p == path]


@pytest.fixture
def gateway():
    gw = Gateway()
    yield gw
    gw.server.shutdown()
    gw.server.server_close()


def targets(gw: Gateway, *specs: dict) -> NotifyConfig:
    return NotifyConfig.model_validate({"targets": [
        {"backoff_seconds": 2, "timeout_seconds": 1, **spec, "url": gw.url + spec["url"]} for spec in specs]})


class Clock:
    """The notifier's clock, moved by the test: backoff is checked without sleeping through it."""

    def __init__(self):
        self.now = datetime.utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fire(s, region: str, level: str, value: float, threshold: float, rule: str = "new_cases_24h") -> int:
    """A firing alert and its 'fired' event, as the rules engine writes them."""
    now = datetime.utcnow()
    # a Core insert names only these columns, so it also runs on a store at an older revision
    alert_id = s.execute(insert(Alert).values(rule=rule, region=region, level=level, state="firing", value=value,
                                              threshold=threshold, fired_at=now, updated_at=now, firing_since=now)
                         .returning(Alert.id)).scalar_one()
    s.execute(insert(AlertEvent).values(alert_id=alert_id, kind="fired", at=now, by="system", level=level, value=value))
    return alert_id


def rows(sessions, **where) -> list[NotifyDelivery]:
    with sessions() as s:
        q = select(NotifyDelivery).order_by(NotifyDelivery.id)
        for k, v in where.items():
            q = q.where(getattr(NotifyDelivery, k) == v)
        return list(s.scalars(q))


# ------------------------------------------------------------------ tests
def test_delivered_once_with_the_alerts_facts(store, gaz, gateway):
    _, sessions = store
    n = notify.Notifier(targets(gateway, {"name": "duty", "url": "/ok"}), sessions, gaz)
    with sessions.begin() as s:
        alert_id = fire(s, ZHENGZHOU, "II", 180, 150)
    assert n.queue() == 1
    assert n.deliver() == {"duty": 1}
    (path, headers, body), = gateway.received
    assert path == "/ok" and headers["Content-Type"].startswith("application/json")
    assert {k: body[k] for k in ("alert_id", "event", "by", "region", "region_name", "level", "state", "value",
                                 "threshold", "link")} == {
        "alert_id": alert_id, "event": "fired", "by": "system", "region": ZHENGZHOU, "region_name": "郑州市",
        "level": "II", "state": "firing", "value": 180, "threshold": 150, "link": f"/alerts?alert={alert_id}"}
    assert body["rule"] == "new_cases_24h" and body["at"].endswith("Z") and body["note"] is None
    d, = rows(sessions)
    assert (d.status, d.attempts, d.last_status, d.last_error, d.target) == ("delivered", 1, 200, None, "duty")
    assert d.delivered_at is not None and headers["X-Sitroom-Delivery"] == str(d.id)
    # nothing new: nothing queued, nothing sent again
    assert n.queue() == 0 and n.deliver() == {"duty": 0}
    assert len(gateway.received) == 1


def test_retries_with_exponential_backoff_then_records_the_failure(store, gaz, gateway):
    _, sessions = store
    clock = Clock()
    cfg = targets(gateway, {"name": "down", "url": "/fail", "max_attempts": 4, "backoff_seconds": 2})
    n = notify.Notifier(cfg, sessions, gaz, clock=clock)
    with sessions.begin() as s:
        fire(s, ZHENGZHOU, "I", 400, 300)
    n.queue()
    waits = []
    for attempt in range(1, 5):
        n.deliver()
        d, = rows(sessions)
        assert d.attempts == attempt and d.last_status == 500 and d.last_error.startswith("HTTP 500")
        if attempt < 4:
            assert d.status == "pending"
            wait = (d.next_attempt_at - clock.now).total_seconds()
            waits.append(wait)
            clock.advance(wait - 0.5)      # not yet due: nothing is sent
            n.deliver()
            assert len(gateway.bodies()) == attempt
            clock.advance(0.5)
    assert waits == [2, 4, 8]              # doubling from backoff_seconds
    d, = rows(sessions)
    assert (d.status, d.attempts, d.delivered_at) == ("failed", 4, None)
    clock.advance(3600)
    n.deliver()
    assert len(gateway.bodies("/fail")) == 4  # a failed delivery is final


def test_a_flaky_gateway_gets_it_on_the_third_attempt(store, gaz, gateway):
    _, sessions = store
    clock = Clock()
    n = notify.Notifier(targets(gateway, {"name": "flaky", "url": "/flaky", "backoff_seconds": 1}), sessions, gaz,
                        clock=clock)
    with sessions.begin() as s:
        fire(s, LUOYANG, "III", 60, 50)
    n.queue()
    for _ in range(3):
        n.deliver()
        clock.advance(10)
    d, = rows(sessions)
    assert (d.status, d.attempts, d.last_status) == ("delivered", 3, 200)
    bodies = gateway.bodies("/flaky")
    assert len(bodies) == 3 and all(b == bodies[0] for b in bodies)  # every attempt sends the same body


def test_a_hanging_gateway_times_out_and_does_not_hold_up_the_others(store, gaz, gateway):
    _, sessions = store
    clock = Clock()
    cfg = targets(gateway, {"name": "hang", "url": "/hang", "timeout_seconds": 0.5, "max_attempts": 2},
                  {"name": "ok", "url": "/ok"})
    n = notify.Notifier(cfg, sessions, gaz, clock=clock)
    with sessions.begin() as s:
        fire(s, ZHENGZHOU, "II", 200, 150)
    n.queue()
    started = time.monotonic()
    assert n.deliver() == {"hang": 0, "ok": 1}
    assert time.monotonic() - started < 2.5
    hang = rows(sessions, target="hang")[0]
    assert (hang.status, hang.attempts, hang.last_status, hang.last_error) == ("pending", 1, None, "timed out")
    clock.advance(2)
    n.deliver()
    hang = rows(sessions, target="hang")[0]
    assert (hang.status, hang.attempts, hang.last_error) == ("failed", 2, "timed out")
    assert rows(sessions, target="ok")[0].status == "delivered"


def test_level_and_kind_filters(store, gaz, gateway):
    _, sessions = store
    cfg = targets(gateway, {"name": "leaders", "url": "/ok", "min_level": "II", "events": ["fired", "resolved"]},
                  {"name": "duty", "url": "/ok", "events": ["fired", "acknowledged", "noted", "assigned"]})
    n = notify.Notifier(cfg, sessions, gaz)
    with sessions.begin() as s:
        minor = fire(s, LUOYANG, "IV", 12, 10)
        major = fire(s, ZHENGZHOU, "I", 350, 300)
    with sessions.begin() as s:
        acknowledge(s, major, "值班员甲")
        add_note(s, major, "值班员甲", "已通知郑州市疾控")
        assign(s, minor, "值班员乙", "洛阳流调一组")
        resolve(s, major, "值班员甲", "演练结束")
    n.queue()
    n.deliver()
    got = {(d.target, d.alert_id, d.kind) for d in rows(sessions)}
    assert got == {("leaders", major, "fired"), ("leaders", major, "resolved"),
                   ("duty", minor, "fired"), ("duty", major, "fired"), ("duty", major, "acknowledged"),
                   ("duty", major, "noted"), ("duty", minor, "assigned")}
    assert all(d.status == "delivered" for d in rows(sessions))
    ack = next(b for b in gateway.bodies() if b["event"] == "acknowledged")
    assert (ack["by"], ack["state"], ack["level"]) == ("值班员甲", "acknowledged", "I")
    assigned = next(b for b in gateway.bodies() if b["event"] == "assigned")
    assert (assigned["note"], assigned["region_name"]) == ("洛阳流调一组", "洛阳市")


def test_two_processes_send_each_event_exactly_once_and_a_restart_sends_nothing_again(store, gaz, gateway):
    """Two notifiers with their own engines (two loader processes) race to queue and send."""
    url, sessions = store
    cfg = targets(gateway, {"name": "duty", "url": "/ok"})
    with sessions.begin() as s:
        ids = [fire(s, r.adcode, "III", 60, 50) for r in gaz.prefectures()[:12]]
    engines = [make_engine(url) for _ in range(2)]
    notifiers = [notify.Notifier(cfg, session_factory(e), gaz) for e in engines]
    barrier = threading.Barrier(2)

    def run(n):
        barrier.wait()
        for _ in range(5):
            n.run()

    threads = [threading.Thread(target=run, args=(n,)) for n in notifiers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    sent = sorted(b["alert_id"] for b in gateway.bodies())
    assert sent == sorted(ids)
    assert [d.status for d in rows(sessions)] == ["delivered"] * 12 and {d.attempts for d in rows(sessions)} == {1}
    for e in engines:
        e.dispose()
    # a restart: a new process, a new engine; the store says everything went out
    engine = make_engine(url)
    again = notify.Notifier(cfg, session_factory(engine), gaz)
    again.run()
    engine.dispose()
    assert len(gateway.bodies()) == 12


def test_an_attempt_cut_short_by_a_crash_is_retried_after_its_lease(store, gaz, gateway):
    _, sessions = store
    clock = Clock()
    cfg = targets(gateway, {"name": "duty", "url": "/ok", "timeout_seconds": 5})
    with sessions.begin() as s:
        fire(s, ZHENGZHOU, "II", 200, 150)
    crashed = notify.Notifier(cfg, sessions, gaz, clock=clock)
    crashed.queue()
    assert crashed._claim(cfg.targets[0]) is not None  # claimed, then the process died before sending
    restarted = notify.Notifier(cfg, sessions, gaz, clock=clock)
    restarted.run()
    assert gateway.received == []  # the lease still holds: it might have been under way
    clock.advance(5 + notify.LEASE_MARGIN)
    restarted.run()
    d, = rows(sessions)
    assert (d.status, d.attempts, len(gateway.received)) == ("delivered", 2, 1)


def test_history_before_the_upgrade_is_not_sent(store_url, gaz, gateway):
    upgrade(store_url, "0005")
    engine = make_engine(store_url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        old = fire(s, ZHENGZHOU, "II", 200, 150)
    upgrade(store_url)
    with sessions.begin() as s:
        new = fire(s, LUOYANG, "III", 60, 50)
    n = notify.Notifier(targets(gateway, {"name": "duty", "url": "/ok"}), sessions, gaz)
    n.run()
    engine.dispose()
    assert [b["alert_id"] for b in gateway.bodies()] == [new] and old != new


def test_a_target_removed_from_the_config_fails_its_pending_deliveries(store, gaz, gateway):
    _, sessions = store
    clock = Clock()
    with sessions.begin() as s:
        fire(s, ZHENGZHOU, "II", 200, 150)
    old = notify.Notifier(targets(gateway, {"name": "gone", "url": "/fail"}), sessions, gaz, clock=clock)
    old.run()
    assert rows(sessions)[0].status == "pending"
    notify.Notifier(NotifyConfig(), sessions, gaz, clock=clock).run()
    d, = rows(sessions)
    assert (d.status, d.last_error) == ("failed", "target is no longer in notify.yaml")


def test_the_loader_service_delivers_on_its_schedule(store, gaz, gateway, tmp_path):
    from loaders.service import LoaderService
    url, sessions = store
    config = load_config(REPO / "config", {"SITROOM_DATA_DIR": str(tmp_path)})
    config = config.model_copy(update={"notify": targets(gateway, {"name": "duty", "url": "/ok"}),
                                       "sources": config.sources.model_copy(update={"sources": []})})
    svc = LoaderService(config, gaz, url)
    svc.start()
    try:
        with sessions.begin() as s:
            alert_id = fire(s, ZHENGZHOU, "I", 400, 300)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not gateway.bodies():
            time.sleep(0.2)
    finally:
        svc.stop()
    # the service's first rules run may also resolve the alert (its rule is not in rules.yaml): that
    # event is delivered too when it wins the race, so only the firing is counted here
    assert [b["alert_id"] for b in gateway.bodies() if b["event"] == "fired"] == [alert_id]
    assert rows(sessions)[0].status == "delivered"


def test_an_edited_notify_yaml_is_taken_up_and_an_invalid_one_keeps_the_targets(store, gaz, gateway, tmp_path,
                                                                                  caplog):
    _, sessions = store
    path = tmp_path / "notify.yaml"

    def write(text: str) -> None:
        time.sleep(0.02)  # past the file system's mtime granularity
        path.write_text(text, encoding="utf-8")

    def sent_to(target: str) -> list[int]:
        return [d.alert_id for d in rows(sessions, target=target)]

    write(f"targets:\n  - {{name: first, url: '{gateway.url}/ok'}}\n")
    n = notify.Notifier(NotifyConfig.model_validate(yaml.safe_load(path.read_text())), sessions, gaz, path=path)
    with sessions.begin() as s:
        a = fire(s, ZHENGZHOU, "II", 200, 150)
    n.run()
    assert sent_to("first") == [a]

    write("targets:\n  - {name: Second, url: 'ftp://nowhere'}\n")  # invalid: the running target stays
    with sessions.begin() as s:
        b = fire(s, LUOYANG, "II", 200, 150)
    n.run()
    assert sent_to("first") == [a, b]
    assert "notify.yaml changed but is invalid" in caplog.text
    assert "notify.yaml: targets[0].name" in caplog.text and "targets[0].url" in caplog.text
    with sessions() as s:   # and the alerts page is told, with the file's name and the key
        st = file_status.status(s, "notify")
    assert (st["ok"], st["count"], st["file"]) == (False, 1, "notify.yaml")
    assert any(p.startswith("notify.yaml: targets[0].name") for p in st["problems"]), st["problems"]

    write(f"targets:\n  - {{name: second, url: '{gateway.url}/ok'}}\n")  # fixed: the new target takes over
    with sessions.begin() as s:
        c = fire(s, ZHENGZHOU, "I", 400, 300, rule="other_rule")
    n.run()
    assert sent_to("second") == [c] and sent_to("first") == [a, b]
    with sessions() as s:
        assert file_status.status(s, "notify")["ok"] is True
    assert all(d.status == "delivered" for d in rows(sessions))

    path.unlink()  # gone for a moment (an editor rewriting it): the targets stay
    with sessions.begin() as s:
        d = fire(s, LUOYANG, "I", 400, 300, rule="other_rule")
    n.run()
    assert sent_to("second") == [c, d]
    assert "notify.yaml is gone" in caplog.text
    with sessions.begin() as s:   # still gone at the next look: the file is optional, nothing is sent
        fire(s, XIAN, "I", 400, 300, rule="other_rule")
    n.run()
    assert len(rows(sessions)) == 4
    assert [b["alert_id"] for b in gateway.bodies()] == [a, b, c, d]


# ------------------------------------------------------------------ config and the read side
def _conf(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    return d


def test_notify_yaml_is_optional(tmp_path):
    d = _conf(tmp_path)
    (d / "notify.yaml").unlink()
    assert load_config(d, {"SITROOM_DATA_DIR": "/d"}).notify.targets == []


def test_an_invalid_notify_yaml_names_file_and_key(tmp_path):
    d = _conf(tmp_path)
    (d / "notify.yaml").write_text(yaml.safe_dump({"targets": [
        {"name": "gw", "url": "ftp://gw.internal/x", "min_level": "V", "events": ["fired", "exploded"]},
        {"name": "gw", "url": "http://gw.internal/${GW_TOKEN}", "max_attempts": 0}]}), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(d, {"SITROOM_DATA_DIR": "/d"})
    text = "\n".join(e.value.problems)
    path = str(d / "notify.yaml")
    for where in ("targets[0].url: must be an http:// or https:// URL", "targets[0].min_level:",
                  "targets[0].events[1]:", "targets[1].max_attempts:",
                  "targets[1].url: environment variable GW_TOKEN is not set"):
        assert f"{path}: {where}" in text, text
    d2 = _conf(tmp_path / "again")
    (d2 / "notify.yaml").write_text(yaml.safe_dump({"targets": [
        {"name": "gw", "url": "http://a.internal/"}, {"name": "gw", "url": "http://b.internal/"}]}), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(d2, {"SITROOM_DATA_DIR": "/d"})
    assert any("notify.yaml: targets: target names must be unique; repeated: gw" in p for p in e.value.problems)


def test_deliveries_api(store, gaz, gateway, tmp_path, login):
    from dashboard.app import create_app
    url, sessions = store
    clock = Clock()
    n = notify.Notifier(targets(gateway, {"name": "duty", "url": "/ok"}, {"name": "down", "url": "/fail"}),
                        sessions, gaz, clock=clock)
    with sessions.begin() as s:
        alert_id = fire(s, ZHENGZHOU, "II", 200, 150)
        other = fire(s, LUOYANG, "III", 60, 50)
    n.run()
    client = login(create_app(runtime_on(url, gaz, tmp_path)), "leader")
    got = client.get(f"/api/v1/deliveries?alert={alert_id}").json
    assert {(d["target"], d["status"], d["attempts"], d["last_status"]) for d in got} == {
        ("duty", "delivered", 1, 200), ("down", "pending", 1, 500)}
    down = next(d for d in got if d["target"] == "down")
    assert down["next_attempt_at"].endswith("Z") and down["last_error"].startswith("HTTP 500")
    assert {d["alert_id"] for d in client.get("/api/v1/deliveries").json} == {alert_id, other}
    assert len(client.get("/api/v1/deliveries?status=delivered").json) == 2
    assert client.get("/api/v1/deliveries?status=lost").status_code == 400
    assert "whole number" in client.get("/api/v1/deliveries?alert=x").json["error"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(NotifyDelivery)) == 4
