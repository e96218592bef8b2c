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
