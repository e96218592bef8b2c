"""Trouble of the store is not the source's: a locked store is not recorded against the source and
puts it in no backoff; the next poll after the store is back loads what it missed."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from loaders.demo.health_commission import local
from loaders.poller import SourcePoller
from sitroom.store import make_engine, session_factory
from sitroom.store.models import CaseReport, SourceState

WAIT_MS = 300   # how long the loader's store waits for a lock in this test (30 s in production)


def put(sim, key: str) -> None:
    with sim.engine.begin() as c:
        c.execute(text("INSERT INTO bl_report (bgkid, xzdm, xzdz, bgrq, gxsj, zt) "
                       "VALUES (:k, '410105', '郑州市金水区', :t, :t, '1')"),
                  {"k": key, "t": local(datetime.utcnow() - timedelta(seconds=5))})


@pytest.fixture
def impatient_store(store):
    """The same store, with a loader that waits WAIT_MS for a lock instead of 30 s."""
    url, _ = store
    if url.startswith("sqlite"):
        engine = make_engine(url)

        @event.listens_for(engine, "connect")
        def _short(dbapi_conn, _record):
            dbapi_conn.execute(f"PRAGMA busy_timeout={WAIT_MS}")
    else:
        engine = make_engine(url, connect_args={"options": f"-c lock_timeout={WAIT_MS}"})
    yield url, session_factory(engine)
    engine.dispose()


class StoreLock:
    """Another process holding the store's write lock (SQLite: the database; PostgreSQL: the facts table)."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.con = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.con.execute("BEGIN IMMEDIATE")
        else:
            self.engine = make_engine(self.url)
            self.con = self.engine.connect()
            self.con.execute(text("LOCK TABLE case_reports IN ACCESS EXCLUSIVE MODE"))
        return self

    def __exit__(self, *exc):
        if self.url.startswith("sqlite"):
            self.con.execute("ROLLBACK")
            self.con.close()
        else:
            self.con.rollback()
            self.con.close()
            self.engine.dispose()


def test_a_locked_store_is_not_the_sources_failure(impatient_store, hc_source, gaz):
    url, sessions = impatient_store
    sim, src = hc_source
    p = SourcePoller(src, sessions, gaz)
    try:
        put(sim, "A")
        assert p.poll(force=True).inserted == 1
        put(sim, "B")
        with StoreLock(url):
            r = p.poll()
        assert r.store_fault and r.error.startswith("store:"), r
        with sessions() as s:
            state = s.get(SourceState, src.name)
        assert (state.failures, state.retry_at, state.last_error) == (0, None, None)
        r = p.poll()   # not forced: no backoff holds it back
        assert (r.skipped, r.error, r.inserted) == (False, None, 1)
        with sessions() as s:
            assert set(s.scalars(select(CaseReport.source_key))) == {"A", "B"}
    finally:
        p.close()
