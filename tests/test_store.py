"""The store's schema: migrations, and processes that start at the same time."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import inspect

from sitroom.store import make_engine


def test_concurrent_starts_migrate_once(store_url, tmp_path):
    env = {**os.environ, "SITROOM_DATABASE_URL": store_url, "SITROOM_DATA_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-m", "sitroom", "db", "upgrade"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in outcomes), outcomes
    engine = make_engine(store_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"case_reports", "quarantine", "sources", "alerts", "alert_events", "data_version",
            "alembic_version"} <= tables


def test_upgrade_keys_long_source_keys_as_the_loader_now_does(store_url):
    """A fact stored before 0012 with a key of 129-200 characters (kept whole then) is re-keyed to
    what the loader now looks it up by, so its next read updates it instead of adding a second row."""
    from datetime import date, datetime

    from sqlalchemy import select

    from loaders.limits import KEY_LIMIT, store_key
    from sitroom.store import session_factory, upgrade
    from sitroom.store.models import CaseDaily
    upgrade(store_url, "0011")
    long_key, short_key = "2026-11-30|" + "郑州市某某区" * 25, "2026-11-30|410102"
    assert KEY_LIMIT < len(long_key) <= 200
    engine = make_engine(store_url)
    try:
        with session_factory(engine).begin() as s:
            for key in (long_key, short_key):
                s.add(CaseDaily(source="feed", source_key=key, source_updated_at=datetime(2026, 11, 30),
                                loaded_at=datetime(2026, 11, 30), region="410102", province="410000",
                                day=date(2026, 11, 30), counting="new", confirmed=3))
        upgrade(store_url)
        with session_factory(engine)() as s:
            keys = set(s.scalars(select(CaseDaily.source_key)))
    finally:
        engine.dispose()
    assert keys == {store_key(long_key), short_key} and store_key(long_key) != long_key
