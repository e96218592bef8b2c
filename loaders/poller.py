"""Incremental polling of one source into the store.

Keyset pagination on (updated_at, key); each poll starts `overlap_seconds` before
the stored cursor so rows that commit late with an older updated_at are still
seen. Every batch commits its facts, quarantine and cursor in ONE store
transaction: a loader killed mid-batch re-reads that batch and, because the
upsert is keyed on (source, source_key) and compares values, counts nothing twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, column, delete, insert, or_, select, table, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from sitroom.config import SourceConfig
from sitroom.regions import Gazetteer
from sitroom.store import bump_version, make_engine
from sitroom.store.db import utcnow
from sitroom.store.models import CaseReport, Quarantine, SourceState

from .mapping import CaseFact, CaseMapper
from .timeparse import decode_cursor, encode_cursor, shift_raw

log = logging.getLogger(__name__)
FACT_FIELDS = ("status", "region", "prefecture", "province", "reported_at", "source_updated_at")
IN_CHUNK = 900  # stay under SQLite's bound-parameter limit


@dataclass
class PollResult:
    source: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    error: str | None = None
    skipped: bool = False      # backing off after failures
    regions: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.quarantined)


class SourcePoller:
    def __init__(self, src: SourceConfig, sessions: sessionmaker[Session], gazetteer: Gazetteer):
        self.src = src
        self.sessions = sessions
        self.mapper = CaseMapper(src, gazetteer)
        self._engine: Engine | None = None
        cols = self.mapper.selected_columns
        self.table = table(src.table, *(column(c) for c in cols))
        self.ts_col = self.table.c[src.columns.updated_at]
        self.key_col = self.table.c[src.columns.source_key]

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.src.url, pool_size=2) if not self.src.url.startswith("sqlite") \
                else make_engine(self.src.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------ polling
    def poll(self, now: datetime | None = None, force: bool = False) -> PollResult:
        now = now or utcnow()
        result = PollResult(self.src.name)
        with self.sessions() as s:
            state = s.get(SourceState, self.src.name)
            if state is None:
                state = SourceState(name=self.src.name, failures=0, rows_read=0, rows_inserted=0,
                                    rows_updated=0, rows_quarantined=0)
                s.add(state)
                s.commit()
            if not force and state.retry_at and now < state.retry_at:
                result.skipped = True
                return result
            cursor = decode_cursor(state.cursor)
        try:
            self._read_all(cursor, result)
        except Exception as e:  # the source is down or erroring: record it, keep what committed
            result.error = f"{type(e).__name__}: {e}".splitlines()[0][:500]
            log.warning("source %s: %s", self.src.name, result.error)
            self._record_failure(result.error)
            self.close()  # a fresh connection next time
        return result

    def _read_all(self, cursor, result: PollResult) -> None:
        query = select(*self.table.c).order_by(self.ts_col, self.key_col).limit(self.src.batch_size)
        if cursor is not None:
            query_first = query.where(self.ts_col >= shift_raw(cursor[0], self.src.overlap_seconds))
        else:
            query_first = query
        stmt = query_first
        while True:
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(stmt)]
            last = (rows[-1][self.ts_col.name], rows[-1][self.key_col.name]) if rows else None
            self._store_batch(rows, last, result)
            if len(rows) < self.src.batch_size:
                return
            stmt = query.where(or_(self.ts_col > last[0], and_(self.ts_col == last[0], self.key_col > last[1])))

    def _store_batch(self, rows: list[dict], last, result: PollResult) -> None:
        now = utcnow()
        good: dict[str, CaseFact] = {}
        bad: dict[str, tuple[dict, list[str]]] = {}
        for raw in rows:  # a key seen twice in one batch: the later version wins
            fact, reasons = self.mapper.map(raw, now)
            key = self.mapper.key_of(raw) or f"row:{sorted((k, str(v)) for k, v in raw.items())}"[:128]
            good.pop(key, None)
            bad.pop(key, None)
            if fact:
                good[key] = fact
            else:
                bad[key] = ({k: _jsonable(v) for k, v in raw.items()}, reasons)
        name = self.src.name
        with self.sessions.begin() as s:
            state = s.get(SourceState, name, with_for_update=True)
            keys = list(good) + list(bad)
            existing = self._existing(s, CaseReport, keys)
            held = self._existing(s, Quarantine, keys)
            inserts, updates = [], []
            for key, f in good.items():
                old = existing.get(key)
                values = {k: getattr(f, k) for k in FACT_FIELDS}
                if old is None:
                    inserts.append({"source": name, "source_key": key, "loaded_at": now, **values})
                elif any(getattr(old, k) != v for k, v in values.items()):
                    updates.append({"id": old.id, "loaded_at": now, **values})
                    result.regions.add(old.prefecture)
                result.regions.add(f.prefecture)
            if inserts:
                s.execute(insert(CaseReport), inserts)
            if updates:
                s.execute(update(CaseReport), updates)
            cleared = [held[k].id for k in good if k in held]
            if cleared:
                s.execute(delete(Quarantine).where(Quarantine.id.in_(cleared)))
            # A row that went bad leaves the facts: the store mirrors the source's valid rows.
            gone = [existing[k] for k in bad if k in existing]
            if gone:
                s.execute(delete(CaseReport).where(CaseReport.id.in_([g.id for g in gone])))
                result.regions.update(g.prefecture for g in gone)
            quarantined = 0
            for key, (row, reasons) in bad.items():
                old = held.get(key)
                if old is None:
                    s.add(Quarantine(source=name, source_key=key, row=row, reasons=reasons,
                                     first_seen=now, last_seen=now))
                    quarantined += 1
                elif old.row != row or old.reasons != reasons:
                    old.row, old.reasons, old.last_seen = row, reasons, now
                    quarantined += 1
            if last is not None:
                new = encode_cursor(*last)
                prev = decode_cursor(state.cursor)
                if prev is None or _after(last, prev):
                    state.cursor = new
            result.read += len(rows)
            result.inserted += len(inserts)
            result.updated += len(updates) + len(gone)
            result.quarantined += quarantined
            state.rows_read += len(rows)
            state.rows_inserted += len(inserts)
            state.rows_updated += len(updates) + len(gone)
            state.rows_quarantined += quarantined
            state.last_poll = state.last_success = now
            recovered = state.failures > 0
            state.failures, state.retry_at, state.last_error = 0, None, None
            if inserts or updates or gone or quarantined or recovered:
                state.last_change = now
                bump_version(s)

    def _existing(self, s: Session, model, keys: list[str]) -> dict:
        found = {}
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i:i + IN_CHUNK]
            for obj in s.scalars(select(model).where(model.source == self.src.name, model.source_key.in_(chunk))):
                found[obj.source_key] = obj
        return found

    def _record_failure(self, error: str) -> None:
        now = utcnow()
        with self.sessions.begin() as s:
            state = s.get(SourceState, self.src.name, with_for_update=True)
            was_healthy = state.failures == 0
            state.failures += 1
            state.last_poll = state.last_error_at = now
            state.last_error = error
            backoff = min(self.src.poll_seconds * 2 ** (state.failures - 1), self.src.retry_max_seconds)
            state.retry_at = now + timedelta(seconds=backoff)
            if was_healthy:
                bump_version(s)  # the wall must show the source as unhealthy


def _after(a, b) -> bool:
    try:
        return tuple(a) > tuple(b)
    except TypeError:
        return True


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)
