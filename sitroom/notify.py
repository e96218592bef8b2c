"""Webhook notifications of alert events: an outbox read from the append-only alert trail.

Two steps, each safe with several loader processes on one store:
- `queue`: every alert event not yet seen gets a NotifySeen mark and one NotifyDelivery per
  target that wants it, in one transaction; the mark's primary key makes a second process's
  attempt fail and roll back, so an event is queued once.
- `deliver`: a due delivery is claimed with a conditional UPDATE (attempts + 1, next attempt =
  a lease) that exactly one process wins, POSTed with urllib, and its outcome recorded only if
  the claim is still ours. A process killed mid-attempt leaves the lease to expire, then the
  attempt is retried (the X-Sitroom-Delivery header lets the gateway drop a repeat).
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import file_status
from .config.load import load_file
from .config.notify import NotifyConfig, TargetConfig
from .config.watch import FileWatch
from .regions import Gazetteer
from .store import bump_version
from .store.db import utcnow
from .silences import silenced_at
from .store.models import Alert, AlertEvent, NotifyDelivery, NotifySeen, Silence

log = logging.getLogger(__name__)

EVERY_SECONDS = 2         # how often the loader process queues and sends
LEASE_MARGIN = 10         # seconds past a target's timeout before an attempt under way counts as lost
PER_RUN = 50              # deliveries one run sends to one target at most (the rest: next run)
QUEUE_BATCH = 500
RETRY_STATUSES = {408, 425, 429}  # besides 5xx; any other answer will not change if the same body is sent again
# The alert's state an event leaves it in (other kinds keep the state it has).
STATE_AFTER = {"fired": "firing", "escalated": "firing", "acknowledged": "acknowledged", "resolved": "resolved"}


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None   # HTTP status, if the gateway answered
    error: str | None = None
    retry: bool = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):  # a redirected POST would silently become a GET
        return None


# Straight to the gateway: no proxy from the environment, no redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST a JSON body; never raises. The error text never contains the URL (it may hold a token)."""
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "sitroom", **headers})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            r.read(65536)
            return Outcome(True, r.status)
    except urllib.error.HTTPError as e:
        return Outcome(False, e.code, f"HTTP {e.code} {e.reason}", retry=e.code >= 500 or e.code in RETRY_STATUSES)
    except urllib.error.URLError as e:
        return Outcome(False, None, _describe(e.reason), retry=True)
    except (OSError, http.client.HTTPException) as e:  # timeouts, resets, garbled answers
        return Outcome(False, None, _describe(e), retry=True)


def _describe(e) -> str:
    if isinstance(e, TimeoutError):
        return "timed out"
    text = str(e) or type(e).__name__
    return text if isinstance(e, str) else f"{type(e).__name__}: {text}"


def iso_utc(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt else None


def payload(event: AlertEvent, alert: Alert, gaz: Gazetteer, rule_title: dict | None,
            silence: Silence | None = None) -> dict:
    """The JSON body a target receives; fixed when queued, so a retry sends the same facts."""
    region = gaz.regions.get(alert.region)
    return {
        # a silence's entries: until when (silenced), or its end (lifted, expired); None otherwise
        "silenced_until": iso_utc(silence.ends) if silence is not None else None,
        "event_id": event.id, "event": event.kind, "by": event.by, "at": iso_utc(event.at), "note": event.note,
        "alert_id": alert.id, "rule": alert.rule, "rule_title": rule_title,
        "region": alert.region, "region_name": region.name if region else alert.region,
        "region_name_en": region.name_en if region else alert.region,
        "level": event.level or alert.level, "state": STATE_AFTER.get(event.kind, alert.state),
        "value": event.value if event.value is not None else alert.value, "threshold": alert.threshold,
        "link": f"/alerts?alert={alert.id}",
    }


def _silences_of(s: Session, keys: set[tuple[str, str]]) -> dict:
    """{(rule, region): [its silences]} of the events' alerts, and {("id", id): silence}."""
    if not keys:
        return {}
    out: dict = {}
    for x in s.scalars(select(Silence).where(Silence.rule.in_(sorted({k[0] for k in keys})),
                                             Silence.region.in_(sorted({k[1] for k in keys})))):
        out.setdefault((x.rule, x.region), []).append(x)
        out[("id", x.id)] = x
    return out


def _told_as(event: AlertEvent, alert: Alert, silences: list[Silence]) -> tuple[str, ...]:
    """The event kinds a target may subscribe to for this event to reach it: none for an event of a
    silenced (rule, region) (its own silence entries aside); the end of a silence while the alert is
    still unacknowledged also counts as its firing, as Alertmanager notifies an alert still firing
    once its silence ends (it may have fired during the silence, unheard)."""
    if event.kind in ("silence_lifted", "silence_expired"):
        return (event.kind, "fired") if alert.state == "firing" else (event.kind,)
    if event.kind == "silenced" or not silenced_at(silences, event.at):
        return (event.kind,)
    return ()


class Notifier:
    def __init__(self, cfg: NotifyConfig, sessions: sessionmaker[Session], gaz: Gazetteer,
                 rules: Callable[[], Iterable] = lambda: (), clock: Callable[[], datetime] = utcnow,
                 path: Path | None = None):
        self.cfg = cfg
        self.sessions = sessions
        self.gaz = gaz
        self.rules = rules      # a callable: rules may be reloaded while the loader runs
        self.clock = clock
        self.watch = FileWatch(path) if path else None  # notify.yaml, re-read when it changes
        self._gone = False      # the file was missing at the last look
        self._retired = False
        self._loaded_at = clock()
        if self.watch:
            self._report([])

    def reload(self) -> bool:
        """Take up an edited notify.yaml; an invalid one keeps the targets running. True when taken up.

        The file is optional: once it has been missing at two looks in a row (not just for the
        moment an editor deletes and rewrites it), there are no targets, and what was still
        pending for the old ones fails.
        """
        if self.watch is None:
            return False
        if not self.watch.changed():
            if not (self._gone and not self.watch.path.exists()):
                return False
            cfg, problems = NotifyConfig(), []
        elif not self.watch.path.exists():
            self._gone = True
            log.warning("notify.yaml is gone; if it is still missing at the next look, nothing is sent any more")
            return False
        else:
            cfg, problems = load_file(self.watch.path, NotifyConfig, dict(os.environ))
        self._gone = False
        if cfg is None:
            log.error("notify.yaml changed but is invalid; the previous targets keep running:\n  %s",
                      "\n  ".join(problems))
            self._report(problems)
            return False
        self.cfg, self._retired, self._loaded_at = cfg, False, self.clock()
        log.info("notify.yaml reloaded: %d targets", len(cfg.targets))
        self._report([])
        return True

    def _report(self, problems: list[str]) -> None:
        """For the alerts page, which says when the file on disk is not what is running."""
        file_status.record(self.sessions, "notify", self.watch.path, problems, [], len(self.cfg.targets),
                           self._loaded_at)

    # ------------------------------------------------------------------ queue
    def queue(self) -> int:
        """Mark unseen alert events as seen and queue a delivery per interested target; returns how many."""
        now = self.clock()
        seen = select(NotifySeen.event_id).where(NotifySeen.event_id == AlertEvent.id)
        with self.sessions() as s:
            rows = s.execute(select(AlertEvent, Alert).join(Alert, Alert.id == AlertEvent.alert_id)
                             .where(~seen.exists()).order_by(AlertEvent.id).limit(QUEUE_BATCH)).all()
            titles = {r.id: r.title.model_dump() for r in self.rules()}
            quiet = _silences_of(s, {(a.rule, a.region) for _, a in rows})
            deliveries = [
                {"event_id": e.id, "alert_id": a.id, "kind": e.kind, "level": e.level or a.level, "target": t.name,
                 "payload": payload(e, a, self.gaz, titles.get(a.rule), quiet.get(("id", e.silence_id))),
                 "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
                for e, a in rows
                for kinds in [_told_as(e, a, quiet.get((a.rule, a.region), []))]
                for t in self.cfg.targets if any(t.wants(k, e.level or a.level) for k in kinds)]
        if not rows:
            return 0
        try:
            with self.sessions.begin() as s:
                s.execute(insert(NotifySeen), [{"event_id": e.id, "seen_at": now} for e, _ in rows])
                if deliveries:
                    s.execute(insert(NotifyDelivery), deliveries)
                    bump_version(s)
        except IntegrityError:
            log.info("notify: another process queued these events first")
            return 0
        return len(deliveries)

    def retire_unknown_targets(self) -> int:
        """Pending deliveries to a target no longer in notify.yaml fail, saying why (not wait forever)."""
        names = [t.name for t in self.cfg.targets]
        with self.sessions.begin() as s:
            n = s.execute(update(NotifyDelivery)
                          .where(NotifyDelivery.status == "pending", NotifyDelivery.target.not_in(names))
                          .values(status="failed", last_error="target is no longer in notify.yaml")
                          .execution_options(synchronize_session=False)).rowcount
            if n:
                bump_version(s)
        return n

    # ------------------------------------------------------------------ deliver
    def deliver(self) -> dict[str, int]:
        """Send what is due, targets in parallel (a hanging gateway delays only itself); sent per target."""
        if not self.cfg.targets:
            return {}
        with ThreadPoolExecutor(max_workers=min(8, len(self.cfg.targets)), thread_name_prefix="notify") as pool:
            return dict(zip((t.name for t in self.cfg.targets), pool.map(self._drain, self.cfg.targets)))

    def _drain(self, target: TargetConfig) -> int:
        sent = 0
        for _ in range(PER_RUN):
            claim = self._claim(target)
            if claim is None:
                return sent
            delivery_id, attempt, body = claim
            outcome = post_json(target.url, body, {**target.headers, "X-Sitroom-Delivery": str(delivery_id)},
                                target.timeout_seconds)
            self._record(target, delivery_id, attempt, outcome)
            if not outcome.delivered:
                return sent  # a failing gateway: the rest wait for the next run
            sent += 1
        return sent

    def _claim(self, target: TargetConfig) -> tuple[int, int, bytes] | None:
        """The oldest due delivery for the target, won with a conditional UPDATE; None when nothing is due."""
        for _ in range(5):  # lost races: another process took that one, try the next
            now = self.clock()
            with self.sessions() as s:
                due = s.execute(select(NotifyDelivery.id, NotifyDelivery.attempts, NotifyDelivery.payload)
                                .where(NotifyDelivery.target == target.name, NotifyDelivery.status == "pending",
                                       NotifyDelivery.next_attempt_at <= now)
                                .order_by(NotifyDelivery.id).limit(1)).first()
            if due is None:
                return None
            lease = now + timedelta(seconds=target.timeout_seconds + LEASE_MARGIN)
            with self.sessions.begin() as s:
                won = s.execute(update(NotifyDelivery)
                                .where(NotifyDelivery.id == due.id, NotifyDelivery.status == "pending",
                                       NotifyDelivery.attempts == due.attempts, NotifyDelivery.next_attempt_at <= now)
                                .values(attempts=due.attempts + 1, next_attempt_at=lease, last_attempt_at=now)
                                .execution_options(synchronize_session=False)).rowcount
            if won:
                return due.id, due.attempts + 1, json.dumps(due.payload, ensure_ascii=False).encode()
        return None

    def _record(self, target: TargetConfig, delivery_id: int, attempt: int, outcome: Outcome) -> None:
        now = self.clock()
        values = {"last_status": outcome.status, "last_error": outcome.error}
        if outcome.delivered:
            values |= {"status": "delivered", "delivered_at": now}
        elif outcome.retry and attempt < target.max_attempts:
            values |= {"next_attempt_at": now + timedelta(seconds=target.backoff(attempt))}
        else:
            values |= {"status": "failed"}
        with self.sessions.begin() as s:
            mine = s.execute(update(NotifyDelivery)
                             .where(NotifyDelivery.id == delivery_id, NotifyDelivery.attempts == attempt,
                                    NotifyDelivery.status == "pending")
                             .values(**values).execution_options(synchronize_session=False)).rowcount
            if mine:
                bump_version(s)  # the alert's detail shows each attempt
        if not mine:
            log.warning("notify: delivery %s attempt %s outlived its lease; outcome %s not recorded",
                        delivery_id, attempt, outcome)
        elif not outcome.delivered:
            log.warning("notify: delivery %s to %s, attempt %s/%s: %s", delivery_id, target.name, attempt,
                        target.max_attempts, outcome.error)

    # ------------------------------------------------------------------ the scheduler job
    def run(self) -> None:
        """One scheduler tick: queue new events, then send what is due. Never raises (logs)."""
        try:
            self.reload()
            if not self._retired:  # once per version of notify.yaml is enough
                self.retire_unknown_targets()
                self._retired = True
            self.queue()
            self.deliver()
        except Exception:  # a bad tick must not stop the next one
            log.exception("notify: run failed")


def schedule(scheduler, cfg: NotifyConfig, sessions: sessionmaker[Session], gaz: Gazetteer,
             rules: Callable[[], Iterable] = lambda: (), path: Path | None = None) -> Notifier:
    """Add the notify job to an APScheduler scheduler (the loader process); `path`: notify.yaml to follow."""
    notifier = Notifier(cfg, sessions, gaz, rules, path=path)
    scheduler.add_job(notifier.run, "interval", seconds=EVERY_SECONDS, id="notify",
                      next_run_time=datetime.now(timezone.utc))
    return notifier


# ---------------------------------------------------------------------- read side (API, alerts page)
def deliveries(s: Session, alert_id: int | None = None, status: str | None = None, target: str | None = None,
               limit: int = 100, regions=None) -> list[NotifyDelivery]:
    """Newest first; of alerts in `regions` only when given (a scope, applied before the limit)."""
    q = select(NotifyDelivery)
    if regions is not None:
        q = q.where(NotifyDelivery.alert_id.in_(select(Alert.id).where(Alert.region.in_(sorted(regions)))))
    if alert_id is not None:
        q = q.where(NotifyDelivery.alert_id == alert_id)
    if status:
        q = q.where(NotifyDelivery.status == status)
    if target:
        q = q.where(NotifyDelivery.target == target)
    return list(s.scalars(q.order_by(NotifyDelivery.id.desc()).limit(limit)))


def delivery_dict(d: NotifyDelivery) -> dict:
    return {"id": d.id, "event_id": d.event_id, "alert_id": d.alert_id, "event": d.kind, "level": d.level,
            "target": d.target, "status": d.status, "attempts": d.attempts, "last_status": d.last_status,
            "last_error": d.last_error, "created_at": iso_utc(d.created_at),
            "last_attempt_at": iso_utc(d.last_attempt_at),
            "next_attempt_at": iso_utc(d.next_attempt_at) if d.status == "pending" else None,
            "delivered_at": iso_utc(d.delivered_at)}
