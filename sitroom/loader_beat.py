"""The loaders' heartbeat: each loader process writes when it last beat and when it last stored a
batch; the web server reads it to tell "the loader service is stopped" from "a source is stale"."""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from .store.db import utcnow
from .store.models import LoaderBeat

BEAT_SECONDS = 5            # how often a loader process beats
STOPPED_AFTER_SECONDS = 20  # no beat for this long: the loader service is stopped (4 missed beats)


def process_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def beat(sessions: sessionmaker[Session], process: str, started_at: datetime, last_batch_at: datetime | None) -> None:
    with sessions.begin() as s:
        row = s.get(LoaderBeat, process) or LoaderBeat(process=process, started_at=started_at)
        row.beat_at, row.last_batch_at = utcnow(), last_batch_at
        s.add(row)
        # processes killed without a word leave their row: gone after a day
        s.execute(delete(LoaderBeat).where(LoaderBeat.beat_at < row.beat_at - timedelta(days=1)))


def forget(sessions: sessionmaker[Session], process: str) -> None:
    """A loader that stops on purpose takes its beat with it."""
    with sessions.begin() as s:
        s.execute(delete(LoaderBeat).where(LoaderBeat.process == process))


def status(s: Session, now: datetime | None = None) -> dict:
    """{"running": any process beat within STOPPED_AFTER_SECONDS, "processes": how many did,
    "last_beat", "last_batch": datetimes (UTC) or None}."""
    now = now or utcnow()
    rows = list(s.scalars(select(LoaderBeat)))
    fresh = [r for r in rows if now - r.beat_at <= timedelta(seconds=STOPPED_AFTER_SECONDS)]
    return {"running": bool(fresh), "processes": len(fresh),
            "last_beat": max((r.beat_at for r in rows), default=None),
            "last_batch": max((r.last_batch_at for r in rows if r.last_batch_at), default=None)}
