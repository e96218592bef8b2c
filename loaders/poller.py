"""Incremental polling of one source into the store.

Keyset pagination on (updated_at, key); each poll starts `overlap_seconds` before
the stored cursor so rows that commit late with an older updated_at are still
seen. Every batch commits its facts, quarantine and cursor in ONE store
transaction: a loader killed mid-batch re-reads that batch and, because the
upsert is keyed on (source, source_key) and compares values, counts nothing twice.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import gc
from collections import Counter
import hashlib
import json
import re
import sqlite3
import threading

from sqlalchemy import (LargeBinary, Text, and_, cast, column, delete, false, literal, or_, select, table, text,
                        update)
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from sitroom.config import SourcesConfig
from sitroom.regions import Gazetteer
from sitroom.store import bump_version
from sitroom.store.db import store_fault, utcnow
from sitroom.store.models import Publication, Quarantine, SourceState

from .feeds import FEEDS
from .limits import store_key
from .mapping import DIGESTED_KEYS, PERSON_LEVEL, RowMapper, record_digest
from .source_db import source_engine
from .timeparse import decode_cursor, encode_cursor, shift_raw, text_layout, to_utc
from .travel import TravelLedger
from .writes import insert_rows, record_places, update_rows

log = logging.getLogger(__name__)
_COLUMNS = re.compile(r"\(column ([^)]*)\)")   # the columns a reason names: (column a) or (column a / b)
IN_CHUNK = 900  # stay under SQLite's bound-parameter limit
LAYOUT_SAMPLE = 100   # update times read to tell how a source writes them (see SourcePoller._start)
ANALYZE_AFTER = 20_000


@contextmanager
def gc_paused():
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Overtaken(Exception):
    """Another loader process committed a batch of this source meanwhile."""


class SourceError(Exception):
    """Reading the source failed; the cause is the source's own error."""


@dataclass
class PollResult:
    source: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    superseded: int = 0        # earlier versions of a key that a later one replaced
    error: str | None = None
    skipped: bool = False      # backing off after failures
    store_fault: bool = False  # the store was unavailable: not the source's failure
    owes_bump: bool = False    # its last batch changed facts and left the data version to the caller (defer_bump)
    regions: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.quarantined)


class SourcePoller:
    def __init__(self, src, sessions: sessionmaker[Session], gazetteer: Gazetteer,
                 sources: SourcesConfig | None = None):
        self.src = src
        self.sessions = sessions
        self.mapper = RowMapper(src, gazetteer, sources)
        self.feed = FEEDS[src.kind]
        self.ledger = TravelLedger(src.name) if src.kind == "travel_records" else None
        # aggregate feeds: each publication (rows of one update time) and the publisher's totals are kept
        self.track_publications = src.kind == "case_aggregate" and bool(src.snapshot or src.check_totals)
        self._pubs: dict = {}
        self._expect: str | None = None   # the cursor this poller last saw committed
        self._hint: tuple[str, str] | None = None   # how the source writes its times, while there is no cursor
        self._grown = 0                    # rows inserted since the last ANALYZE
        self._defer_bump = False           # poll(defer_bump=True): the last batch leaves the version to the caller
        self.stopping = threading.Event()  # set on shutdown: stop between batches, not after catching up
        self._engine: Engine | None = None
        self._scrubbed = False             # quarantine cut to what is kept of a person's row (once)
        cols = self.mapper.selected_columns
        if src.table:
            self.table = table(src.table, *(column(c) for c in cols))
        else:  # a SQL query, polled as a subquery with the same keyset as a table
            self.table = text(src.query).columns(*(column(c) for c in cols)).subquery("source_query")
        self.ts_col = self.table.c[src.columns.updated_at]
        key = self.mapper.cols.get("source_key")
        self.key_col = self.table.c[key] if key else None   # the keyset's tie-breaker, when there is one

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            kw = {} if self.src.url.startswith("sqlite") else {"pool_size": 2}
            self._engine = source_engine(self.src.url, **kw)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------ polling
    def poll(self, now: datetime | None = None, force: bool = False, defer_bump: bool = False) -> PollResult:
        """Read what is new and store it. `defer_bump`: the last batch does not move the data version
        (result.owes_bump), the caller does, with the rules it evaluates next (one version on screens)."""
        now = now or utcnow()
        result = PollResult(self.src.name)
        self._defer_bump = defer_bump
        try:
            state = self._state()
            if not force and state.retry_at and now < state.retry_at:
                result.skipped = True
                return result
            self._expect = state.cursor
            if not self._scrubbed:
                self._scrub_quarantine()
            self._read_all(self._start(state.cursor), result)
        except Overtaken:
            log.info("source %s: another loader moved this source on; this poll stops", self.src.name)
            result.skipped = True
        except Exception as e:
            if self.ledger is not None:
                self.ledger.reset()
            if not isinstance(e, SourceError) and store_fault(e):
                # The store's trouble, not the source's: nothing is recorded against the source and it
                # gets no backoff, so loading resumes at the next poll once the store is back.
                result.error, result.store_fault = f"store: {_line(e)}", True
                log.warning("source %s: the store is unavailable (%s); the next poll retries", self.src.name, _line(e))
                return result
            result.error = _line(e.__cause__ if isinstance(e, SourceError) else e)
            log.warning("source %s: %s", self.src.name, result.error)
            self.close()  # a fresh connection next time
            try:
                self._record_failure(result.error)
            except Exception as fault:
                if not store_fault(fault):
                    raise
                result.store_fault = True
                log.warning("source %s: cannot record its failure, the store is unavailable (%s)",
                            self.src.name, _line(fault))
        return result

    def _scrub_quarantine(self) -> None:
        """Cut what an older sitroom kept of a person's bad rows (all their columns, a whole address) to
        what is kept now (see RowMapper.for_quarantine); once per process, rows already cut stay as they are."""
        if self.src.kind in PERSON_LEVEL:
            now = utcnow()
            with self.sessions.begin() as s:
                for q in s.scalars(select(Quarantine).where(Quarantine.source == self.src.name)):
                    named = {c.strip() for r in q.reasons for m in _COLUMNS.findall(r) for c in m.split("/")}
                    # The columns the mapper finds wrong too: a reason names one column, but a row is kept
                    # with every column at fault (a blank code beside an unknown address), as a batch keeps it.
                    wrong = named | self.mapper.map(q.row, now)[2]
                    row, reasons = self.mapper.for_quarantine(q.row, q.reasons, wrong)
                    if row != q.row or reasons != q.reasons:
                        q.row, q.reasons = row, reasons
        self._scrubbed = True

    def _state(self) -> SourceState:
        with self.sessions() as s:
            state = s.get(SourceState, self.src.name)
            if state is None:
                state = SourceState(name=self.src.name, failures=0, rows_read=0, rows_inserted=0, rows_superseded=0,
                                    rows_updated=0, rows_quarantined=0)
                s.add(state)
                s.commit()
            return state

    def _start(self, stored: str | None):
        """Where a poll starts reading: the cursor less the overlap, and less however far the cursor is
        ahead of now (a row inside the future tolerance must not hide rows the source writes before its
        time comes). None: from the beginning.

        A text cursor orders the source only if the source writes its times as the cursor is written:
        in a text column '2026/11/23 08:30' sorts after every '2026-12-01 …'. A source's first rows may
        be written otherwise than the rest (one odd row alone at the first poll becomes the cursor), so
        each poll looks at the times written since the start, on both sides of it: if most of them are
        written in another layout, the cursor is dropped and the source read again from the beginning
        (idempotent) in that layout, rather than rows of the source's own layout being hidden or
        quarantined for ever."""
        self._hint = None
        if stored is None:
            self._hint = self._sampled_layout(None)
            return None
        try:
            raw = decode_cursor(stored)[0]
            ahead = (to_utc(raw, self.mapper.tz) - utcnow()).total_seconds()
            start = shift_raw(raw, self.src.overlap_seconds + max(0.0, ahead))
        except (ValueError, TypeError, OverflowError, KeyError, IndexError) as e:
            # A cursor an older sitroom took from a bad row ('N/A'): read from the beginning (idempotent).
            log.warning("source %s: stored cursor %r is unusable (%s); reading from the start",
                        self.src.name, stored[:100], e)
            self._drop_cursor(stored)
            self._hint = self._sampled_layout(None)
            return None
        layout = text_layout(raw)
        if layout is not None:
            hint = self._sampled_layout(start, layout)
            if hint is not None:
                log.warning("source %s: most update times written since the cursor %r are written like %r; "
                            "reading from the start in that layout", self.src.name, stored[:100], hint[1][:40])
                self._drop_cursor(stored)
                self._hint = hint
                return None
        return start

    def _drop_cursor(self, stored: str) -> None:
        with self.sessions.begin() as s:
            s.execute(update(SourceState).where(SourceState.name == self.src.name,
                                                SourceState.cursor == stored).values(cursor=None))
        self._expect = None

    def _sampled_layout(self, start, layout: str | None = None) -> tuple[str, str] | None:
        """(layout, an example) of most of the source's text update times that read as times; None when
        there is none, or when the cursor's `layout` is not outnumbered (a tie keeps it).

        Without a start: of the first LAYOUT_SAMPLE rows. With one, of the LAYOUT_SAMPLE rows before the
        start and twice as many from it, in the source's order: each such time dated from the start on
        counts (written since), and each before the start written like the cursor counts for it (what was
        read before). A few rows written otherwise lately do not outweigh the source's history; rows of
        the source's own layout hidden before an odd cursor are seen and counted; and a source that
        changes how it writes its times is followed once more rows are written the new way than the old."""
        ts = self.ts_col
        one = select(ts).limit(LAYOUT_SAMPLE)
        since = None
        if start is None:
            sample = [(r[ts.name], False) for r in self._fetch(one.order_by(ts))]
        else:
            try:
                since = to_utc(start, self.mapper.tz)
            except (ValueError, TypeError, OverflowError):
                return None
            sample = [(r[ts.name], True) for r in self._fetch(one.where(ts < _bindable(start)).order_by(ts.desc()))]
            since_start = select(ts).where(ts >= _bindable(start)).order_by(ts).limit(2 * LAYOUT_SAMPLE)
            sample += [(r[ts.name], False) for r in self._fetch(since_start)]
        now, seen, example = utcnow(), Counter(), {}
        for v, before in sample:
            if v.__class__ is not str or not self.mapper.plain_time(v, now):
                continue
            written = text_layout(v)
            if since is None or to_utc(v, self.mapper.tz) >= since or (before and written == layout):
                seen[written] += 1
                example.setdefault(written, v.strip())
        if not seen:
            return None
        top, n = seen.most_common(1)[0]
        if layout is not None and seen[layout] >= n:
            return None
        return top, example[top]

    def _read_all(self, start, result: PollResult) -> None:
        key = self.key_col
        query = select(*self.table.c).order_by(self.ts_col, *([key] if key is not None else [])) \
            .limit(self.src.batch_size)
        stmt = query.where(self.ts_col >= start) if start is not None else query
        while True:
            with gc_paused():  # a batch makes many short-lived objects and no cycles: the collector only slows it
                rows, page, full = self._read_and_store(stmt, result)
            if not full or self.stopping.is_set():
                return
            stmt = query.where(self._after_page(*page))

    def _read_and_store(self, stmt, result: PollResult):
        """One batch: read it, store it; (rows, where the next page starts, whether the batch was full).

        The next page starts after the last row read, whatever it holds; the cursor moves only to the
        last row whose update time is readable and not in the future, so a row dated 2099 or 'N/A'
        (which sorts after every real one) is quarantined, and neither stalls the pages nor hides
        later rows."""
        key, ts = self.key_col, self.ts_col.name
        rows = self._fetch(stmt)
        full = len(rows) == self.src.batch_size
        if full and key is None:
            # Without a key column there is no tie-breaker: finish the last time stamp in this batch.
            last_ts = rows[-1][ts]
            rows = [r for r in rows if r[ts] != last_ts] + \
                self._fetch(select(*self.table.c).where(_same(self.ts_col, last_ts)))
        page = (rows[-1][ts], rows[-1][key.name] if key is not None else None) if rows else None
        self.mapper.layout = self._layout(rows)
        self._store_batch(rows, self._cursor_of(rows), result, final=not full)
        return rows, page, full

    def _layout(self, rows: list[dict]) -> tuple[str, str] | None:
        """How this source writes its update times as text: as the stored cursor is written, else as most
        of this batch. A row written otherwise is quarantined and never becomes the cursor: in a text column
        it sorts after every later row ('2026/11/28' > '2026-12-01') and would hide them all."""
        ts = self.ts_col.name
        if self._expect is not None:
            try:
                raw = decode_cursor(self._expect)[0]
                return (text_layout(raw), raw) if text_layout(raw) is not None else None
            except (ValueError, TypeError, KeyError, IndexError):
                pass
        if self._hint is not None:
            return self._hint
        now = utcnow()   # only times say how times are written: '0' or 'N/A' says nothing
        times = [r[ts] for r in rows if r[ts].__class__ is str and self.mapper.plain_time(r[ts], now)]
        seen = Counter(text_layout(v) for v in times)
        if not seen:
            return None
        layout = seen.most_common(1)[0][0]
        return layout, next(v.strip() for v in times if text_layout(v) == layout)

    def _cursor_of(self, rows: list[dict]):
        """(update time, key) of the last row that may move the cursor, or None."""
        now, ts, key = utcnow(), self.ts_col.name, self.key_col
        for raw in reversed(rows):
            if self.mapper.cursor_time(raw, now) is not None:
                return raw[ts], _jsonable(raw[key.name]) if key is not None else None
        return None

    def _after_page(self, t, k):
        """Rows after (t, k) in the page order, NULLs included where the source sorts them
        (first on SQLite, last on PostgreSQL), so a page ending in a NULL does not end the poll."""
        nulls_first = self.engine.dialect.name in ("sqlite", "mysql", "mariadb")

        def later(col, v):
            if v is None:
                return col.is_not(None) if nulls_first else false()
            return col > _bindable(v) if nulls_first else or_(col > _bindable(v), col.is_(None))
        if self.key_col is None:
            return later(self.ts_col, t)
        return or_(later(self.ts_col, t), and_(_same(self.ts_col, t), later(self.key_col, k)))

    def _fetch(self, stmt) -> list[dict]:
        try:
            return self._read(stmt)
        except Exception as e:  # anything the source says or does is the source's trouble
            raise SourceError(self.src.name) from e

    def _read(self, stmt) -> list[dict]:
        with self.engine.connect() as conn:
            try:
                result = conn.execute(stmt)
                rows = result.cursor.fetchall()
            except (OperationalError, sqlite3.OperationalError) as e:  # raw cursor errors are not wrapped
                if "decode" not in str(e):
                    raise
                # SQLite text that is not UTF-8: read this batch again with the bad bytes surfaced as
                # surrogates, which the mapper quarantines (instead of the error stopping the source).
                conn.rollback()
                raw = conn.connection.dbapi_connection
                raw.text_factory = _lenient_text
                try:
                    result = conn.execute(stmt)
                    rows = result.cursor.fetchall()
                finally:
                    raw.text_factory = str
            keys = list(result.keys())
            # The driver's tuples as they are (the columns are untyped: SQLAlchemy would only wrap them).
            return [dict(zip(keys, row)) for row in rows]

    def _sort(self, rows: list[dict], now) -> tuple[dict, dict, int]:
        """Map a batch: ({key: (values, store row)} for good rows, {key: (row as read, reasons, stored fact
        stays)} for bad ones, how many rows an later version of their key superseded).

        Several rows of one key in one read are versions (a bulletin re-published during the day): the
        latest `version` (or `updated_at`) wins, the earlier ones are superseded, not quarantined. Rows of one
        key with the same latest time that differ are a conflict: quarantined naming what differs, and the
        fact already stored stays (which one is right is unknown)."""
        groups: dict[str, list] = {}
        digested = self.src.kind in DIGESTED_KEYS
        for raw in rows:
            values, reasons, bad_cols = self.mapper.map(raw, now)
            key = self.mapper.key_of(raw) or (self.feed.natural_key(values) if self.feed.natural_key else None) \
                or "row:" + hashlib.blake2b(json.dumps(_jsonable_row(raw), sort_keys=True).encode(),
                                            digest_size=12).hexdigest()
            if digested:  # the record's id is not kept, only its digest
                key = "record:" + record_digest(self.src.name, key)
            groups.setdefault(store_key(key), []).append((raw, values, reasons, bad_cols))
        good, bad, superseded = {}, {}, 0
        self._pubs = self._publications(groups) if self.track_publications else {}
        for key, entries in groups.items():
            keep = True          # whether a fact already stored for the key stays
            if len(entries) > 1:
                top = max(_rank(e[1]) for e in entries)
                latest = [e for e in entries if _rank(e[1]) == top]
                superseded += len(entries) - len(latest)
                rows_ = [None if e[2] else self.feed.row(self.src, e[1]) for e in latest]
                if len(latest) > 1 and (None in rows_ or any(_facts(r) != _facts(rows_[0]) for r in rows_)):
                    raw = latest[-1][0]
                    reasons = [self._conflict(key, latest, rows_)]
                    bad_cols = set().union(*(e[3] for e in latest)) | self._differing_columns(latest)
                    raw, reasons = self.mapper.for_quarantine(raw, reasons, bad_cols)
                    bad[key] = (_jsonable_row(raw), reasons, keep)
                    continue
                superseded += len(latest) - 1     # identical copies: one row
                entries = latest
            raw, values, reasons, bad_cols = entries[-1]
            if not reasons:
                good[key] = (values, self.feed.row(self.src, values))
                continue
            keep = False         # the latest version went bad: the store mirrors the source's valid rows
            raw, reasons = self.mapper.for_quarantine(raw, reasons, bad_cols)
            bad[key] = (_jsonable_row(raw), reasons, keep)
        return good, bad, superseded

    def _publications(self, groups: dict) -> dict[tuple, dict]:
        """(scope, update time) -> rows and the publisher's province totals, from every good row read
        (superseded versions too: each was part of its publication)."""
        from sitroom.queries import snapshot_scope
        pubs: dict[tuple, dict] = {}
        metrics = list(getattr(self.src, "check_totals", {}))
        for entries in groups.values():
            for _raw, values, reasons, _bad in entries:
                if reasons:
                    continue
                prov = values.get("province")
                scope = snapshot_scope(self.src.snapshot, prov) or ""
                p = pubs.setdefault((scope, values["updated_at"]), {"rows": 0, "totals": {}})
                p["rows"] += 1
                for m in metrics:
                    if values.get(f"total_{m}") is not None and prov:
                        p["totals"].setdefault(prov, {})[m] = values[f"total_{m}"]
        return pubs

    def _record_publications(self, s: Session, now) -> None:
        for (scope, at), p in self._pubs.items():
            old = s.get(Publication, (self.src.name, scope, at))
            if old is None:
                s.add(Publication(source=self.src.name, scope=scope, published_at=at, rows=p["rows"],
                                  totals=p["totals"], loaded_at=now))
            else:
                merged = {prov: {**old.totals.get(prov, {}), **t} for prov, t in {**old.totals, **p["totals"]}.items()}
                old.rows, old.totals, old.loaded_at = max(old.rows, p["rows"]), merged, now

    def _differing_columns(self, entries) -> set[str]:
        cols = self.mapper.selected_columns
        return {c for c in cols if len({repr(e[0].get(c)) for e in entries}) > 1}

    def _conflict(self, key: str, entries, rows_) -> str:
        """'2 rows of key K with the same update time T differ: confirmed (column ljqz) 12 / 15; ...'"""
        fields = {col: f for f, col in self.mapper.cols.items()}
        parts = []
        for col in sorted(self._differing_columns(entries), key=self.mapper.selected_columns.index):
            shown = " / ".join(_shown(e[0].get(col)) for e in entries)
            if self.src.kind in PERSON_LEVEL and col in self.mapper._place_cols:
                shown = "(a person's place: not shown)"
            parts.append(f"{fields.get(col, col).replace('_', ' ')} (column {col}) {shown}")
        when = entries[-1][1].get("updated_at")
        at = f" {when:%Y-%m-%d %H:%M:%S} UTC" if isinstance(when, datetime) else ""
        return (f"conflict: {len(entries)} rows of key {key!r} with the same update time{at} differ: "
                + ("; ".join(parts) or "in how they read") + "; the stored figure is kept")

    def _store_batch(self, rows: list[dict], last, result: PollResult, final: bool = True) -> None:
        now = utcnow()
        good, bad, superseded = self._sort(rows, now)
        name = self.src.name
        model = self.feed.model
        with self.sessions.begin() as s:
            # Compare-and-set on the cursor: if another loader process committed a batch of this
            # source since this one read its cursor, stop rather than count rows twice.
            same = SourceState.cursor.is_(None) if self._expect is None else SourceState.cursor == self._expect
            if not s.execute(update(SourceState).where(SourceState.name == name, same).values(last_poll=now)
                             .execution_options(synchronize_session=False)).rowcount:
                raise Overtaken()
            state = s.get(SourceState, name, populate_existing=True)
            keys = list(good) + list(bad)
            any_held = s.scalar(select(Quarantine.id).where(Quarantine.source == name).limit(1))
            held = self._existing(s, Quarantine, keys) if any_held else {}
            inserts, updates, gone = 0, 0, []
            if self.src.kind == "travel_records":
                inserts = self.ledger.count(s, self.src, good, last, now, result.regions)
            else:
                existing = self._existing(s, model, keys)
                new_rows, changed = [], []
                # A row older than the version already stored (an overlap re-read) is superseded.
                older = {k for k, (values, _row) in good.items() if k in existing and
                         _rank(values) < _stored_rank(existing[k])}
                older |= {k for k, (_row, _r, keep) in bad.items() if not keep and k in existing and
                          _rank_of_bad(self.mapper, bad[k][0], now) < _stored_rank(existing[k])}
                for k in older:
                    good.pop(k, None)
                    bad.pop(k, None)
                superseded += len(older)
                for key, (_values, row) in good.items():
                    old = existing.get(key)
                    if old is None:
                        new_rows.append({"source": name, "source_key": key, "loaded_at": now, **row})
                    elif any(getattr(old, k) != v for k, v in row.items()):
                        changed.append({"id": old.id, "loaded_at": now, **row})
                        result.regions.add(_where(old))
                    result.regions.add(row.get("prefecture") or row.get("province"))
                insert_rows(s, model, new_rows)
                update_rows(s, model, changed)
                inserts, updates = len(new_rows), len(changed)
                # A row that went bad leaves the facts: the store mirrors the source's valid rows. A conflict
                # (an ambiguous row) never removes what is stored.
                gone = [existing[k] for k, (_row, _r, keep) in bad.items() if k in existing and not keep]
                if gone:
                    s.execute(delete(model).where(model.id.in_([g.id for g in gone])))
                    result.regions.update(_where(g) for g in gone)
            record_places(s, name, *self.mapper.take_seen(), now)
            self._record_publications(s, now)
            cleared = [held[k].id for k in good if k in held]
            if cleared:
                s.execute(delete(Quarantine).where(Quarantine.id.in_(cleared)))
            quarantined = 0
            for key, (row, reasons, _keep) in bad.items():
                old = held.get(key)
                if old is None:
                    s.add(Quarantine(source=name, source_key=key, row=row, reasons=reasons,
                                     first_seen=now, last_seen=now))
                    quarantined += 1
                elif old.row != row or old.reasons != reasons:
                    old.row, old.reasons, old.last_seen = row, reasons, now
                    quarantined += 1
            if last is not None:
                prev = decode_cursor(state.cursor)
                if prev is None or _after(last, prev):
                    state.cursor = encode_cursor(*last)
            updated = updates + len(gone)
            result.read += len(rows)
            result.inserted += inserts
            result.updated += updated
            result.quarantined += quarantined
            result.superseded += superseded
            state.rows_superseded = (state.rows_superseded or 0) + superseded
            state.rows_read += len(rows)
            state.rows_inserted += inserts
            state.rows_updated += updated
            state.rows_quarantined += quarantined
            state.last_poll = state.last_success = now
            recovered = state.failures > 0
            state.failures, state.retry_at, state.last_error = 0, None, None
            if inserts or updated or cleared or quarantined or recovered:
                state.last_change = now
                if final and self._defer_bump:
                    result.owes_bump = True
                else:
                    bump_version(s)
        self._expect = state.cursor
        self._keep_statistics(inserts)

    def _keep_statistics(self, inserted: int) -> None:
        """On PostgreSQL, ANALYZE a table a catch-up has grown: without statistics the planner takes a
        table it last saw empty for tiny and scans it for every key lookup (minutes at a million rows)."""
        self._grown += inserted
        if self._grown < ANALYZE_AFTER or self.sessions.kw["bind"].dialect.name != "postgresql":
            return
        self._grown = 0
        with self.sessions.begin() as s:
            for model in {self.feed.model, Quarantine}:
                s.execute(text(f"ANALYZE {model.__tablename__}"))

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
    if isinstance(v, str):  # undecodable source bytes arrive as surrogates: store them visibly replaced
        return v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(v, (int, float, bool)) or v is None:
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _jsonable_row(raw: dict) -> dict:
    return {k: _jsonable(v) for k, v in raw.items()}


def _facts(row: dict) -> dict:
    """A store row without when the source last touched it: copies that differ only there agree."""
    return {k: v for k, v in row.items() if k != "source_updated_at"}


def _rank(values: dict) -> tuple:
    """Order of versions of one key: the `version` column if mapped, then the update time."""
    v, t = values.get("version"), values.get("updated_at")
    return (float("-inf") if v is None else v, t or datetime.min)


def _stored_rank(fact) -> tuple:
    v = getattr(fact, "source_version", None)
    return (float("-inf") if v is None else v, getattr(fact, "source_updated_at", None) or datetime.min)


def _rank_of_bad(mapper, row: dict, now) -> tuple:
    """A bad row's rank, from what of it could be read (unreadable: older than anything). A time written
    unlike the source's others is still that time: the row is the key's latest version, not an older one."""
    values = {}
    layout, mapper.layout = mapper.layout, None
    try:
        for f, col, parse in mapper._readers:
            if f.name in ("updated_at", "version") and row.get(col) is not None:
                try:
                    values[f.name] = parse(row[col], now, None)
                except ValueError:
                    pass
    finally:
        mapper.layout = layout
    return _rank(values)


def _shown(v) -> str:
    text = "(empty)" if v is None else str(_jsonable(v))
    return text if len(text) <= 40 else text[:39] + "…"


def _where(fact) -> str | None:
    return getattr(fact, "prefecture", None) or getattr(fact, "province", None)


def _lenient_text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _line(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}".splitlines()[0][:500]


def _utf8(v: str) -> bool:
    try:
        v.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _bindable(v):
    """A value read from the source as a parameter of the next page's query. Text that is not UTF-8
    (read with its bytes as surrogates) goes back as those bytes cast to text, so it compares the same."""
    if isinstance(v, str) and not _utf8(v):
        return cast(literal(v.encode("utf-8", "surrogateescape"), LargeBinary), Text)
    return v


def _same(col, v):
    return col.is_(None) if v is None else col == _bindable(v)
