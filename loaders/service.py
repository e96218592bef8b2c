"""The loader process: one APScheduler job per source, rules evaluated after each changing batch."""
from __future__ import annotations

import logging
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import DBAPIError, IntegrityError

from sitroom import loader_beat, notify, rule_inputs, silences
from sitroom.alerts import Evaluation, evaluate
from sitroom.config import Config
from sitroom.regions import Gazetteer
from sitroom.rules_load import RulesWatcher
from sitroom.store import bump_version, make_engine, session_factory
from sitroom.store.db import utcnow
from sitroom.store.health import reopen_when_read_only

from .poller import PollResult, SourcePoller

log = logging.getLogger(__name__)
RULES_EVERY_SECONDS = 30  # windows slide even when no row arrives: re-evaluate on a clock too
RULES_RELOAD_SECONDS = 5  # how soon an edit of rules.yaml runs (or is reported as invalid)
DEFER_BUMP_SECONDS = 0.3  # a batch's facts wait for its rules' evaluation (one version) while it takes this at most
SILENCES_EVERY_SECONDS = 2  # how soon after its end a silence's expiry is in the trail (and pushed to screens)


class LoaderService:
    def __init__(self, config: Config, gazetteer: Gazetteer, database_url: str):
        self.config = config
        self.gaz = gazetteer
        self.engine = make_engine(database_url)
        reopen_when_read_only(self.engine)   # a store made writable again is written again
        self.sessions = session_factory(self.engine)
        self.pollers = {src.name: SourcePoller(src, self.sessions, gazetteer, config.sources)
                        for src in config.sources.sources}
        self._rules_lock = threading.Lock()
        self.rules = RulesWatcher.for_config(config, gazetteer, self.sessions)
        self.scheduler: BackgroundScheduler | None = None
        self.process, self.started_at = loader_beat.process_name(), utcnow()
        self.last_batch_at = None   # when any source's batch last committed (the heartbeat tells it)
        self._eval_seconds: dict[str, float] = {}   # per source: how long the evaluations after its batches take
        # A batch's facts committed before the version moves (its rules' evaluation moves it): owed until
        # a commit moves it. Owed at start too: a process killed between the two owed it to the screens.
        self._bump_owed = True

    def poll(self, name: str, force: bool = False) -> PollResult:
        # A batch's facts and the alerts they raise reach the screens as one data version (one redraw,
        # never the cases without their warning) unless this source's evaluations are slow: then the
        # facts are not kept waiting for them.
        defer = self._eval_seconds.get(name, 0.0) <= DEFER_BUMP_SECONDS
        result = self.pollers[name].poll(force=force, defer_bump=defer)
        if result.error is None and not result.skipped:
            self.last_batch_at = utcnow()
        if result.changed or result.owes_bump:   # at once, and only the rules this source's facts feed
            started = time.monotonic()
            self.evaluate_rules(rule_inputs.written_by(self.pollers[name].src), bump=result.owes_bump)
            took = time.monotonic() - started
            self._eval_seconds[name] = took if name not in self._eval_seconds else \
                0.7 * self._eval_seconds[name] + 0.3 * took
        return result

    def evaluate_rules(self, inputs: set[str] | None = None, bump: bool = False) -> Evaluation:
        """Every rule; with `inputs` (rule_inputs.written_by a batch's source), those it can move.
        `bump`: that batch left the data version to this evaluation's commit (moved on its own when
        nothing commits here)."""
        owed = [bump or self._bump_owed]
        try:
            return self._evaluate(inputs, owed)
        finally:
            if owed[0]:
                try:
                    with self.sessions.begin() as s:
                        bump_version(s)
                    owed[0] = False
                except DBAPIError as e:   # the store is away: the next evaluation (the clock's) pays it
                    log.warning("data version not moved: %s", str(e.orig).splitlines()[0] if e.orig else e)
            self._bump_owed = owed[0]

    def _evaluate(self, inputs: set[str] | None, owed: list[bool]) -> Evaluation:
        if self.rules.current.loaded_at is None:
            # rules.yaml has not been valid since start: judge nothing. An empty rule set would resolve
            # every open alert as "rule removed" on a restart with a bad edit.
            return Evaluation()
        with self._rules_lock:
            rules = self.rules.current if inputs is None else rule_inputs.moved_by(self.rules.current, inputs)
            if not rules.rules:
                return Evaluation()
            try:
                with self.sessions.begin() as s:
                    ev = evaluate(s, rules, self.gaz, partial=inputs is not None)
                    if owed[0] and not ev.changed:   # (a change moved the version already)
                        bump_version(s)
                owed[0] = False
                return ev
            except IntegrityError:  # another loader process fired the same alert first
                log.info("rules: lost a race with another evaluator; next run catches up")
                return Evaluation()

    def beat(self) -> None:
        """The heartbeat the web server reads (/healthz, the wall): this process runs, its last batch."""
        try:
            loader_beat.beat(self.sessions, self.process, self.started_at, self.last_batch_at)
        except DBAPIError as e:  # the store is down or read-only: the web server tells that itself
            log.warning("heartbeat not written: %s", str(e.orig).splitlines()[0] if e.orig else e)

    def reload_rules(self) -> bool:
        """Pick up an edited rules.yaml (an invalid one keeps the running rules; see rules_status)."""
        if self.rules.check():
            self.evaluate_rules()
            return True
        return False

    def run_once(self) -> list[PollResult]:
        results = [self.pollers[name].poll(force=True) for name in self.pollers]
        if any(r.changed for r in results):
            self.evaluate_rules()
        return results

    def start(self) -> BackgroundScheduler:
        sched = BackgroundScheduler(timezone="UTC", job_defaults={"max_instances": 1, "coalesce": True,
                                                                  "misfire_grace_time": 30})
        for src in self.config.sources.sources:
            sched.add_job(self.poll, "interval", args=[src.name], seconds=src.poll_seconds, id=f"poll:{src.name}",
                          next_run_time=_now())
        sched.add_job(self.evaluate_rules, "interval", seconds=RULES_EVERY_SECONDS, id="rules", next_run_time=_now())
        sched.add_job(self.reload_rules, "interval", seconds=RULES_RELOAD_SECONDS, id="rules-reload")
        sched.add_job(self.beat, "interval", seconds=loader_beat.BEAT_SECONDS, id="beat", next_run_time=_now())
        sched.add_job(silences.expire_job, "interval", args=[self.sessions], seconds=SILENCES_EVERY_SECONDS,
                      id="silences", next_run_time=_now())
        notify.schedule(sched, self.config.notify, self.sessions, self.gaz,
                        rules=lambda: [r.config for r in self.rules.current.rules],
                        path=self.config.dir / "notify.yaml" if self.config.dir else None)
        # While a source catches up, its next runs are skipped (max_instances=1): expected, not a warning.
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        sched.start()
        self.scheduler = sched
        return sched

    def stop(self) -> None:
        for p in self.pollers.values():
            p.stopping.set()
        if self.scheduler:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            try:
                loader_beat.forget(self.sessions, self.process)
            except DBAPIError:
                pass  # the beat grows old instead
        for p in self.pollers.values():
            p.close()
        self.engine.dispose()


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
