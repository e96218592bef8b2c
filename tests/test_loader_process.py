"""The real loader processes: `sitroom load --once`, and `sitroom loaders` killed with -9 mid-load."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from loaders.demo.health_commission import local
from sitroom.store import make_engine, session_factory
from sitroom.store.models import CaseReport, Quarantine, SourceState

REPO = Path(__file__).resolve().parent.parent
VALID, BAD = 12_000, 300


@pytest.fixture
def setup(tmp_path, store_url, make_source_url, gaz):
    """A config dir pointing at a fresh source DB filled with VALID good and BAD bad rows."""
    conf = tmp_path / "config"
    shutil.copytree(REPO / "config", conf)
    source_url = make_source_url("hc")
    path = conf / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sources"] = [data["sources"][0]]   # the health commission alone
    data["sources"][0].update(url=source_url, batch_size=50, poll_seconds=0.2)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    from loaders.demo.health_commission import HealthCommissionSim
    sim = HealthCommissionSim(source_url, gaz, seed=3)
    sim.create()
    base = datetime.utcnow() - timedelta(hours=2)
    rows = []
    for i in range(VALID + BAD):
        bad = i % ((VALID + BAD) // BAD) == 0
        rows.append({"bgkid": f"R{i:06d}", "hzxm": "某", "sfzh": "x", "lxdh": "x",
                     "xzdm": "" if bad else "410102", "xzdz": "火星市" if bad else "郑州市中原区",
                     "bgrq": local(base), "gxsj": local(base + timedelta(milliseconds=i * 100)), "zt": "1"})
    sim._insert(rows)
    sim.engine.dispose()
    env = {**os.environ, "SITROOM_DATABASE_URL": store_url, "SITROOM_DATA_DIR": str(tmp_path / "data"),
           "SITROOM_CONFIG_DIR": str(conf)}
    return env, store_url


def sitroom(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "sitroom", *args], env=env, capture_output=True, text=True,
                          timeout=300, **kw)


def counts(store_url):
    engine = make_engine(store_url)
    try:
        with session_factory(engine)() as s:
            return (s.scalar(select(func.count()).select_from(CaseReport)),
                    s.scalar(select(func.count()).select_from(Quarantine)),
                    s.get(SourceState, "hc_cases"))
    finally:
        engine.dispose()


def test_load_once_prints_counts_and_a_rerun_changes_nothing(setup):
    env, store_url = setup
    p = sitroom(env, "load", "--once")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"hc_cases: read {VALID + BAD} inserted {VALID} updated 0 quarantined {BAD}"
    p = sitroom(env, "load", "--once")
    assert " inserted 0 updated 0 quarantined 0" in p.stdout
    facts, held, _ = counts(store_url)
    assert (facts, held) == (VALID, BAD)


def test_killed_mid_load_then_restarted_gives_exact_counts(setup):
    env, store_url = setup
    assert sitroom(env, "db", "upgrade").returncode == 0
    for _ in range(2):  # kill it twice, part-way through
        proc = subprocess.Popen([sys.executable, "-m", "sitroom", "loaders"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                facts, _, state = counts(store_url)
                if facts and facts > (VALID // 3 if _ == 0 else VALID // 2):
                    break
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        facts, _, _ = counts(store_url)
        assert 0 < facts < VALID, "the kill must land part-way through the load"
    p = sitroom(env, "load", "--once")
    assert p.returncode == 0, p.stderr
    facts, held, state = counts(store_url)
    assert (facts, held) == (VALID, BAD)
    # The counters moved in the same transactions as the facts: nothing counted twice.
    assert (state.rows_inserted, state.rows_quarantined, state.rows_updated) == (VALID, BAD, 0)
    engine = make_engine(store_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT COUNT(DISTINCT source_key) FROM case_reports")).scalar() == VALID
    engine.dispose()
