"""The CLI never harms what it does not own: `sitroom drill` writes only into a database `sitroom demo`
made (marked in it), and `serve` / `demo` on a port in use say so in one line before writing anything."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import text

from loaders.demo.health_commission import HealthCommissionSim
from loaders.demo.marker import mark_demo

from conftest import REPO


def env(tmp_path, **extra) -> dict:
    return {**os.environ, "SITROOM_DATA_DIR": str(tmp_path), "SITROOM_CONFIG_DIR": str(REPO / "config"),
            "SITROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "PYTHONPATH": str(REPO), **extra}


def sitroom(tmp_path, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitroom", *args], env=env(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def drill(tmp_path) -> subprocess.CompletedProcess:
    return sitroom(tmp_path, "drill", "--region", "郑州", "--confirmed", "5")


@pytest.fixture
def hc_db(tmp_path, gaz):
    path = tmp_path / "sources" / "health_commission.db"
    path.parent.mkdir()
    sim = HealthCommissionSim(f"sqlite:///{path}", gaz, bad_share=0)
    sim.create()
    yield path, sim
    sim.engine.dispose()


def count(sim) -> int:
    with sim.engine.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM bl_report")).scalar()


def test_drill_refuses_a_source_database_the_demo_did_not_make(tmp_path, hc_db):
    path, sim = hc_db
    sim.engine.dispose()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = drill(tmp_path)
    assert r.returncode == 2 and "drill refused" in r.stderr and "sitroom_demo" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_drill_refuses_a_missing_database_and_does_not_create_it(tmp_path):
    r = drill(tmp_path)
    assert r.returncode == 2 and "drill refused" in r.stderr and "not found" in r.stderr, r.stderr
    assert not (tmp_path / "sources").exists()


def test_drill_writes_into_a_demo_database(tmp_path, hc_db):
    _, sim = hc_db
    mark_demo(sim.engine)
    r = drill(tmp_path)
    assert r.returncode == 0, r.stderr
    assert count(sim) == 5


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_is_said_in_one_line_before_anything_is_written(tmp_path, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = sitroom(tmp_path, command, "--port", str(port), timeout=180)
    assert r.returncode == 1
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert lines == [f"sitroom cannot listen on http://127.0.0.1:{port}/: the port is in use (another sitroom or "
                     "program); choose another with --port"], r.stderr
    assert not (tmp_path / "sources").exists()   # the demo wrote no history


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_ctrl_c_and_a_service_managers_stop(tmp_path, sig):
    import signal
    import time
    import urllib.error
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sitroom", "serve", "--port", str(port)], env=env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except urllib.error.HTTPError:   # 503 without loaders: it answers
                break
            except OSError:
                time.sleep(0.3)
        proc.send_signal(getattr(signal, sig))
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in out and "uncaptured" not in out, out[-2000:]


def test_the_demo_writes_nothing_into_a_database_it_did_not_make(tmp_path, hc_db):
    """A config whose health-commission source is someone else's database (tables, no mark): the demo
    refuses in one line naming the source and writes nothing into it, not even its mark."""
    path, sim = hc_db
    sim.engine.dispose()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = sitroom(tmp_path, "demo", "--port", str(port), timeout=180)
    assert r.returncode == 2, r.stderr
    assert "sitroom demo refused: source hc_cases:" in r.stderr and "sitroom_demo" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
