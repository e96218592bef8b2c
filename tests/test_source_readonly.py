"""sitroom never writes to a source: SQLite files keep their bytes and journal mode and are never
created; server sources are read in read-only transactions."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from loaders.demo.health_commission import SCHEMA, local
from loaders.poller import SourcePoller
from sitroom.store.models import SourceState

ROW = "INSERT INTO bl_report (bgkid, xzdm, xzdz, bgrq, gxsj, zt) VALUES (?, '410105', '郑州市金水区', ?, ?, '1')"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def src_cfg(hc_source):
    return hc_source[1]


def test_sqlite_source_bytes_and_journal_mode_unchanged(tmp_path, store, gaz, src_cfg):
    path = tmp_path / "department.db"
    con = sqlite3.connect(path)   # the department's own system, in rollback-journal mode
    for stmt in SCHEMA:
        con.execute(stmt)
    now = datetime.utcnow() - timedelta(minutes=1)
    con.executemany(ROW, [(f"K{i}", local(now), local(now)) for i in range(20)])
    con.commit()
    con.close()
    before = _digest(path)
    p = SourcePoller(src_cfg.model_copy(update={"url": f"sqlite:///{path}"}), store[1], gaz)
    try:
        r = p.poll(force=True)
        assert (r.error, r.inserted) == (None, 20)
        p.poll(force=True)
    finally:
        p.close()
    assert _digest(path) == before
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith("department")) == ["department.db"]


def test_missing_sqlite_source_is_an_error_naming_the_path_and_is_not_created(tmp_path, store, gaz, src_cfg):
    path = tmp_path / "elsewhere" / "department.db"
    p = SourcePoller(src_cfg.model_copy(update={"url": f"sqlite:///{path}"}), store[1], gaz)
    try:
        r = p.poll(force=True)
    finally:
        p.close()
    assert r.error and str(path) in r.error, r.error
    assert not path.parent.exists()
    with store[1]() as s:
        assert s.get(SourceState, src_cfg.name).last_error == r.error


def test_server_source_is_read_in_read_only_transactions(store, gaz, hc_source):
    sim, src = hc_source
    if not src.url.startswith("postgresql"):
        pytest.skip("a server source: PostgreSQL")
    p = SourcePoller(src, store[1], gaz)
    try:
        assert p.poll(force=True).error is None
        with p.engine.connect() as c:
            assert c.execute(text("SHOW transaction_read_only")).scalar() == "on"
            with pytest.raises(Exception, match="read-only"):
                c.execute(text("INSERT INTO bl_report (bgkid, gxsj) VALUES ('W1', '2026-01-01')"))
    finally:
        p.close()
    with sim.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM bl_report")).scalar() == 0
