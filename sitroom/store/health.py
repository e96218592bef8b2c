"""Is the store there and can it be written? Told as store trouble, in words a person can act on.

`fault_code(exc)` and `fault_text(exc)` name what a database error means (locked, read-only, unreachable, full);
`probe(engine)` asks the store itself, cheaply and within a bounded time, without writing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

PROBE_BUSY_MS = 2000   # an SQLite write lock held longer than this is "locked", not a loader's batch

# PostgreSQL SQLSTATEs (Appendix A of its manual) -> fault code
_PG_CODES = {"25006": "read_only", "55P03": "locked", "40P01": "locked", "57014": "locked",
             "53100": "full", "53200": "full", "57P01": "unreachable", "57P02": "unreachable",
             "57P03": "unreachable", "08000": "unreachable", "08001": "unreachable", "08003": "unreachable",
             "08006": "unreachable"}
# SQLite error texts (sqlite3 result codes SQLITE_BUSY, _READONLY, _CANTOPEN, _FULL, _IOERR)
_SQLITE_TEXTS = (("locked", "locked"), ("busy", "locked"), ("readonly", "read_only"), ("read-only", "read_only"),
                 ("unable to open", "unreachable"), ("disk is full", "full"), ("disk i/o", "unreachable"))
MESSAGES = {"locked": "the store is locked by another process", "read_only": "the store is read-only",
            "unreachable": "the store cannot be reached", "full": "the store's disk is full",
            "error": "the store answered an error"}


def fault_code(exc: BaseException) -> str:
    """locked | read_only | unreachable | full | error."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    if state in _PG_CODES:
        return _PG_CODES[state]
    msg = str(orig).lower()
    for needle, code in _SQLITE_TEXTS:
        if needle in msg:
            return code
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    if "connection" in msg or "could not connect" in msg or "server closed" in msg:
        return "unreachable"
    return "error"


def fault_text(exc: BaseException) -> str:
    """One line for a person: what the fault is, and the database's own words."""
    first = str(getattr(exc, "orig", exc)).strip().splitlines()
    return f"{MESSAGES[fault_code(exc)]} ({first[0][:200] if first else type(exc).__name__})"


@dataclass(frozen=True)
class StoreHealth:
    reachable: bool
    writable: bool
    fault: str | None = None     # code, see fault_code
    error: str | None = None     # the one line for a person

    def as_dict(self) -> dict:
        return {"reachable": self.reachable, "writable": self.writable, "fault": self.fault, "error": self.error}


def reopen_when_read_only(engine: Engine) -> None:
    """An SQLite file found read-only stays so for the connection that opened it, even once fixed:
    such an error drops the pool's connections, so the next use opens the file afresh."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "handle_error")
    def _read_only(ctx):
        if fault_code(ctx.original_exception) == "read_only":
            ctx.is_disconnect = True


def probe(engine: Engine) -> StoreHealth:
    """Read one row, then ask whether a write would go through (nothing is written)."""
    health = _probe(engine)
    if health.fault == "read_only" and engine.dialect.name == "sqlite":
        engine.dispose()   # see reopen_when_read_only: a pooled connection may be read-only from before
        health = _probe(engine)
    return health


def _probe(engine: Engine) -> StoreHealth:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT version FROM data_version WHERE id = 1")).first()
            if engine.dialect.name == "sqlite":
                return _sqlite_writable(conn)
            read_only = conn.execute(text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
                                          )).scalar()
            if read_only:
                conn.rollback()
                return StoreHealth(True, False, "read_only", MESSAGES["read_only"])
            # The mode every writer takes: waits only on a lock someone took explicitly (LOCK TABLE ...),
            # never on the loaders' batches; released at once by the rollback.
            conn.execute(text(f"SET LOCAL lock_timeout = {PROBE_BUSY_MS}"))
            conn.execute(text("LOCK TABLE data_version, alerts, alert_events IN ROW EXCLUSIVE MODE"))
            conn.rollback()
            return StoreHealth(True, True)
    except DBAPIError as e:
        code = fault_code(e)
        reachable = code not in ("unreachable",)
        return StoreHealth(reachable, False, code, fault_text(e))


def _sqlite_writable(conn) -> StoreHealth:
    """BEGIN IMMEDIATE takes the write lock (waiting at most PROBE_BUSY_MS) and is rolled back at once;
    a file opened read-only refuses it."""
    raw = conn.connection.dbapi_connection
    old = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute(f"PRAGMA busy_timeout={PROBE_BUSY_MS}")
    try:
        if raw.in_transaction:
            raw.rollback()
        raw.execute("BEGIN IMMEDIATE")
        # A read-only file may let BEGIN IMMEDIATE through; an UPDATE (of nothing, rolled back) not.
        raw.execute("UPDATE data_version SET version = version WHERE id = 1")
        raw.rollback()
        return StoreHealth(True, True)
    except Exception as e:  # the sqlite3 module's own errors: not wrapped by SQLAlchemy here
        if raw.in_transaction:
            raw.rollback()
        code = fault_code(e)
        return StoreHealth(code != "unreachable", False, code, f"{MESSAGES[code]} ({str(e)[:200]})")
    finally:
        raw.execute(f"PRAGMA busy_timeout={old}")
