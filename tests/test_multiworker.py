"""Several `sitroom serve` processes and a loader on one store (SQLite file or PostgreSQL), and
duty officers acknowledging the same alert through every worker at once: exactly one wins,
every other is told who did, and the trail holds one acknowledgement.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loaders.demo.health_commission import SUSPECTED
from sitroom.store import make_engine, session_factory
from sitroom.store.models import AlertEvent

from stack import Http, Stack, _free_port, add_account

WORKERS = 3
OFFICERS_PER_WORKER = 2
PREFECTURES = ("410100", "410300", "610100")   # 郑州, 洛阳, 西安: one race each
BUSY = ("410500", "410700", "411300", "610300", "610400", "610500")  # suspected cases keep the loader writing


class MultiStack(Stack):
    """The test stack on the store under test with WORKERS web servers."""

    def __init__(self, root: Path, database_url: str):
        super().__init__(root, backfill_days=3, database_url=database_url)
        self.ports: list[int] = []

    def start_servers(self) -> None:
        for i in range(WORKERS):
            port = _free_port()
            self.ports.append(port)
            self.spawn(f"serve{i}", "serve", "--port", str(port))
        for port in self.ports:
            self.url = f"http://127.0.0.1:{port}"
            self.wait_for(lambda: self.get("/healthz").get("status") == "ok", 60, f"/healthz on {port}")


def post(client: Http, path: str, body: dict) -> tuple[int, dict]:
    try:
        return 200, client.post(path, body, timeout=30)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def multistack(tmp_path, store_url):
    s = MultiStack(tmp_path, store_url)
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_one_acknowledgement_wins_across_workers_while_the_loader_writes(multistack):
    s = multistack
    stop = threading.Event()

    def keep_the_loader_busy():
        i = 0
        while not stop.wait(0.2):
            s.sim.add_cases(BUSY[i % len(BUSY)], 1, status=SUSPECTED)  # never a warning
            i += 1

    busy = threading.Thread(target=keep_the_loader_busy, daemon=True)
    busy.start()
    engine = make_engine(s.store_url())
    try:
        for region in PREFECTURES:
            s.sim.add_cases(region, 320)
            alert = s.wait_for(lambda: s.alert_for(region, "firing"), 30, f"the alert for {region} to fire")
            officers = [(port, f"值班员{port % 1000}-{k}") for port in s.ports for k in range(OFFICERS_PER_WORKER)]
            clients = {}
            for port, name in officers:   # each officer logged in on one worker
                add_account(s.store_url(), name, "officer", display=name)
                clients[name] = Http(f"http://127.0.0.1:{port}", name)
            barrier = threading.Barrier(len(officers))
            results: list[tuple[str, int, dict]] = []
            lock = threading.Lock()

            def acknowledge(port: int, name: str):
                barrier.wait()
                status, body = post(clients[name], f"/api/v1/alerts/{alert['id']}/ack", {})
                with lock:
                    results.append((name, status, body))

            threads = [threading.Thread(target=acknowledge, args=o) for o in officers]
            for th in threads:
                th.start()
            for th in threads:
                th.join(60)
            statuses = sorted(status for _, status, _ in results)
            assert statuses == [200] + [409] * (len(officers) - 1), results
            winner = next(name for name, status, _ in results if status == 200)
            for name, status, body in results:
                if status == 409:
                    assert f"already acknowledged by {winner}" in body["error"], body
                    assert body["alert"]["acked_by"] == winner
            # every worker shows the same owner, and the trail holds one acknowledgement
            for port in s.ports:
                s.url = f"http://127.0.0.1:{port}"
                got = s.get(f"/api/v1/alerts/{alert['id']}")
                assert (got["state"], got["acked_by"]) == ("acknowledged", winner)
                assert [e["by"] for e in got["trail"] if e["kind"] == "acknowledged"] == [winner]
            with session_factory(engine)() as db:
                acks = db.scalar(select(func.count()).select_from(AlertEvent)
                                 .where(AlertEvent.alert_id == alert["id"], AlertEvent.kind == "acknowledged"))
            assert acks == 1
    finally:
        stop.set()
        busy.join(5)
        engine.dispose()
    s.check_alive()
    loader_log = s.logs["loaders"].read_text()
    assert "Traceback" not in loader_log, loader_log[-3000:]
