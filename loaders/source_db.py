"""Connections to other departments' databases: read-only, always.

sitroom never writes to a source. An SQLite source is opened with a `mode=ro` URI (no
journal-mode change, no file created: a missing file is an error naming the path); a
server source gets read-only transactions (PostgreSQL `default_transaction_read_only`,
MySQL `SET SESSION TRANSACTION READ ONLY`). The account should still have SELECT on the
mapped table only: the session setting guards against mistakes, grants against everything.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


class SourceMissing(OSError):
    """An SQLite source file that does not exist (sitroom does not create it)."""


def source_engine(url: str, **kw) -> Engine:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return _sqlite(u.database or "")
    if backend == "postgresql":
        args = dict(kw.pop("connect_args", {}))
        args["options"] = (args.get("options", "") + " -c default_transaction_read_only=on").strip()
        return create_engine(url, pool_pre_ping=True, connect_args=args, **kw)
    engine = create_engine(url, pool_pre_ping=True, **kw)
    if backend in ("mysql", "mariadb"):
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.close()
    return engine


def _sqlite(path: str) -> Engine:
    if not path or path == ":memory:" or path.startswith("file:"):
        raise ValueError(f"an SQLite source must be a database file path, not {path!r}")
    file = Path(path)

    def connect():
        if not file.is_file():  # checked at each connection: a file can go away while sitroom runs
            raise SourceMissing(f"source database file not found: {file}")
        return sqlite3.connect(f"file:{quote(str(file.resolve()))}?mode=ro", uri=True, timeout=30,
                               check_same_thread=False)
    return create_engine(f"sqlite:///{file}", creator=connect)  # the URL picks the dialect and pool
