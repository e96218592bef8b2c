"""Engines, sessions, migrations and the data version."""
from __future__ import annotations

import fcntl
import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from .models import DataVersion

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)  # readable, and searchable with LIKE in any language


def make_engine(url: str, **kw) -> Engine:
    """An engine; SQLite files get WAL (readers never block the loader) and a busy timeout."""
    kw.setdefault("json_serializer", _json)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True, **kw)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the store's schema up to date (Alembic)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        # The loaders and the web server may start together: one migrates, the other waits.
        # (PostgreSQL takes an advisory lock in migrations/env.py instead.)
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{u.database}.migrate-lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def bump_version(session: Session) -> None:
    """Mark that something on screen changed; commits with the caller's transaction."""
    session.execute(update(DataVersion).where(DataVersion.id == 1)
                    .values(version=DataVersion.version + 1, changed_at=utcnow()))


# SQLSTATE classes of a store that is unavailable rather than a statement that is wrong (PostgreSQL manual,
# Appendix A): 08 connection exception, 25 invalid transaction state (read-only), 53 insufficient
# resources (disk full), 55 object not in prerequisite state (lock not available), 57 operator intervention.
_FAULT_CLASSES = ("08", "25", "53", "55", "57")


def store_fault(exc: BaseException) -> bool:
    """Whether an error raised by the store means it is unavailable (locked, read-only, unreachable,
    full) — trouble of the store, not of the data written."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or ""
        return exc.connection_invalidated or state[:2] in _FAULT_CLASSES
    return False
