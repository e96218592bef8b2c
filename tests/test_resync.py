"""`sitroom sources resync NAME` re-reads a source from the start: what a schema change left stale is
read again, nothing is doubled, and travel records are not counted twice."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select, text

from loaders.demo.health_commission import local
from loaders.poller import SourcePoller
from sitroom.source_actions import resync
from sitroom.store.models import CaseReport, Inflow, SourceState

from conftest import REPO
from feed_sources import FeedSource, sources_config
from test_bad_values import GOOD

OLD = datetime.utcnow() - timedelta(hours=2)   # far outside the overlap window


def statuses(sessions) -> Counter:
    with sessions() as s:
        return Counter(s.scalars(select(CaseReport.status)))


def test_a_dropped_and_readded_column_is_read_again_after_resync(store, hc_source, gaz):
    sim, src = hc_source
    _, sessions = store
    with sim.engine.begin() as c:
        for i in range(12):
            c.execute(text("INSERT INTO bl_report (bgkid, xzdm, xzdz, bgrq, gxsj, zt) "
                           "VALUES (:k, '410105', '郑州市金水区', :t, :t, '1')"),
                      {"k": f"K{i}", "t": local(OLD if i else datetime.utcnow() - timedelta(seconds=1))})
    p = SourcePoller(src.model_copy(update={"batch_size": 5}), sessions, gaz)
    try:
        assert p.poll(force=True).inserted == 12
        with sim.engine.begin() as c:   # the department drops the status column (renames it away) ...
            c.execute(text("ALTER TABLE bl_report RENAME COLUMN zt TO zt_old"))
        r = p.poll(force=True)
        assert r.error and "zt" in r.error   # failing, the column named
        with sim.engine.begin() as c:   # ... and adds it back, filled in without touching the update time
            c.execute(text("ALTER TABLE bl_report ADD COLUMN zt TEXT"))
            c.execute(text("UPDATE bl_report SET zt = '3'"))
        assert p.poll(force=True).updated == 1   # only the newest row, inside the overlap window, is re-read
        assert statuses(sessions) == {"confirmed": 11, "cured": 1}   # the rest stay stale
        with sessions.begin() as s:
            assert resync(s, sources_config("sqlite:///x.db").model_copy(update={"sources": [src]}), src.name).from_start
        r = p.poll()   # the next poll (no backoff left from the failure)
        assert (r.skipped, r.error, r.inserted, r.updated) == (False, None, 0, 11)
        assert statuses(sessions) == {"cured": 12}
        with sessions.begin() as s:
            resync(s, sources_config("sqlite:///x.db").model_copy(update={"sources": [src]}), src.name)
        r = p.poll(force=True)
        assert (r.inserted, r.updated, r.quarantined) == (0, 0, 0)   # idempotent
        assert sum(statuses(sessions).values()) == 12
    finally:
        p.close()


def test_travel_records_are_not_counted_twice_after_resync(store, make_source_url, gaz):
    _, sessions = store
    src = FeedSource(make_source_url("trips"))
    cfg = sources_config(src.url)
    trip = next(s for s in cfg.sources if s.name == "trip")
    days_ago = datetime.utcnow() - timedelta(days=3)   # older than the ledger remembers (remember_days: 1)
    src.put("trip", *[{**GOOD["trip"], "rid": f"R{i}", "updated": local(days_ago + timedelta(minutes=i))}
                      for i in range(9)])
    p = SourcePoller(trip, sessions, gaz, cfg)

    def arrivals() -> int:
        with sessions() as s:
            return sum(s.scalars(select(Inflow.count)))
    try:
        assert p.poll(force=True).inserted == 9
        src.put("trip", {**GOOD["trip"], "rid": "NEW", "updated": local(datetime.utcnow())})
        assert p.poll(force=True).inserted == 1   # its batch moves the ledger's horizon past the old ones
        with sessions.begin() as s:
            done = resync(s, cfg, "trip")
        assert not done.from_start and done.days > 0.9   # remember_days: 1 in this config
        p.poll()
        assert arrivals() == 10
    finally:
        p.close()
        src.close()


def test_the_cli_resyncs_a_source_and_names_the_known_ones(store, tmp_path):
    url, sessions = store
    with sessions.begin() as s:
        s.add(SourceState(name="hc_cases", cursor='["2026-11-23 11:00:00", "K1"]', failures=0, rows_read=0,
                          rows_inserted=0, rows_updated=0, rows_quarantined=0))
    env = {**os.environ, "SITROOM_DATABASE_URL": url, "SITROOM_DATA_DIR": str(tmp_path),
           "SITROOM_CONFIG_DIR": str(REPO / "config"), "PYTHONPATH": str(REPO)}
    ok = subprocess.run([sys.executable, "-m", "sitroom", "sources", "resync", "hc_cases"], env=env,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "from the start" in ok.stdout, ok.stderr
    with sessions() as s:
        assert s.get(SourceState, "hc_cases").cursor is None
    bad = subprocess.run([sys.executable, "-m", "sitroom", "sources", "resync", "nope"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no source 'nope'" in bad.stderr and "hc_cases" in bad.stderr
    assert "Traceback" not in bad.stderr
