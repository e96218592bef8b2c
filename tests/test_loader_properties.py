"""Property: whatever happens (inserts, updates, late commits, outages, restarts, kill -9 mid-batch),
once the loader catches up the store holds exactly the source's truth: nothing lost, nothing doubled."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from loaders.poller import SourcePoller
from sitroom.store import make_engine, session_factory, upgrade
from sitroom.store.models import CaseReport, Inflow

from feed_sources import FeedSource, sources_dict
from sitroom.config import SourcesConfig

HERE = Path(__file__).resolve().parent
COUNTIES = ["410102", "410105", "410302", "610102", "610402"]
STATUS = {"确诊": "confirmed", "疑似": "suspected", "治愈": "cured"}
ORIGINS = ["湖北省武汉市", "北京市", "上海市"]
OVERLAP = 30   # seconds: the sources' overlap window; late commits stay inside it

OPS = st.one_of(
    st.tuples(st.just("cases"), st.integers(1, 40)),
    st.tuples(st.just("update"), st.integers(1, 10)),
    st.tuples(st.just("late_cases"), st.integers(1, 10)),
    st.tuples(st.just("trips"), st.integers(1, 60)),
    st.tuples(st.just("late_trips"), st.integers(1, 10)),
    st.tuples(st.just("poll"), st.just(0)),
    st.tuples(st.just("outage"), st.just(0)),
    st.tuples(st.just("restart"), st.just(0)),
    st.tuples(st.just("kill"), st.integers(0, 400)),     # SIGKILL the loader process after this many ms
)


def local(dt: datetime) -> str:
    return (dt + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S.%f")


class World:
    """The source, the loader (in-process or a separate process) and what the truth is."""

    def __init__(self, tmp: Path, source_url: str, store_url: str, gaz, seed: int):
        self.tmp, self.gaz, self.rng = tmp, gaz, random.Random(seed)
        self.src = FeedSource(source_url)
        raw = sources_dict(source_url)
        raw["sources"] = [s for s in raw["sources"] if s["name"] in ("cases", "trip")]
        for s in raw["sources"]:
            s.update(batch_size=7, overlap_seconds=OVERLAP)
        self.cfg_path = tmp / "sources.json"
        self.cfg_path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
        self.cfg = SourcesConfig.model_validate(raw)
        self.bad_cfg = SourcesConfig.model_validate(
            {**raw, "sources": [{**s, "url": "sqlite:///" + str(tmp / "gone" / "x.db")} for s in raw["sources"]]})
        upgrade(store_url)
        self.store_url = store_url
        self.engine = make_engine(store_url)
        self.sessions = session_factory(self.engine)
        self.n = 0
        self.restart()

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(tzinfo=None)

    def restart(self, cfg=None) -> None:
        cfg = cfg or self.cfg
        self.pollers = [SourcePoller(s, self.sessions, self.gaz, cfg) for s in cfg.sources]

    def poll(self) -> None:
        for p in self.pollers:
            p.poll(force=True)

    # ------------------------------------------------------------- what happens at the source
    def cases(self, n: int, late: bool = False) -> None:
        rows = []
        for _ in range(n):
            self.n += 1
            t = self.now() - timedelta(seconds=self.rng.uniform(1, OVERLAP - 10) if late else 0)
            rows.append({"kh": f"K{self.n:05d}", "zt": self.rng.choice(list(STATUS)),
                         "qx": self.rng.choice(COUNTIES), "bgsj": local(t - timedelta(hours=1)), "gxsj": local(t)})
        self.src.put("cases", *rows)

    def update(self, n: int) -> None:
        for _ in range(n):
            if self.n:
                self.src.sql("UPDATE cases SET zt = :z, gxsj = :g WHERE kh = :k", z=self.rng.choice(list(STATUS)),
                             g=local(self.now()), k=f"K{self.rng.randint(1, self.n):05d}")

    def trips(self, n: int, late: bool = False) -> None:
        rows = []
        for _ in range(n):
            self.n += 1
            t = self.now() - timedelta(seconds=self.rng.uniform(1, OVERLAP - 10) if late else 0)
            rows.append({"rid": f"R{self.n:05d}", "person": "P", "origin": self.rng.choice(ORIGINS),
                         "dest": self.rng.choice(COUNTIES), "arrived": local(t - timedelta(hours=5)),
                         "minutes": str(self.rng.choice([30, 200])), "mode": self.rng.choice("RAD"),
                         "updated": local(t)})
        self.src.put("trip", *rows)

    def outage(self) -> None:
        """Polls while the source is unreachable fail and are recorded; nothing is lost."""
        self.restart(self.bad_cfg)
        self.poll()
        assert all(p.poll(force=True).error for p in self.pollers)
        self.restart()

    def kill(self, after_ms: int) -> None:
        p = subprocess.Popen([sys.executable, str(HERE / "poll_forever.py"), str(self.cfg_path), self.store_url,
                              "cases", "trip"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        p.stdout.readline()   # "polling": started, past imports
        time.sleep(after_ms / 1000)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.restart()

    # ------------------------------------------------------------- the truth
    def check(self) -> None:
        time.sleep(0.01)
        self.restart()
        self.poll()
        with self.src.engine.connect() as c:
            from sqlalchemy import text
            cases = {k: (STATUS[z], q) for k, z, q in c.execute(text("SELECT kh, zt, qx FROM cases"))}
            trips = Counter()
            for o, d, m, mins in c.execute(text("SELECT origin, dest, mode, minutes FROM trip")):
                trips[(o, d, {"R": "rail", "A": "air", "D": "road"}[m], int(mins) >= 120)] += 1
        with self.sessions() as s:
            got_cases = {r.source_key: (r.status, r.region) for r in s.scalars(select(CaseReport))}
            got_trips = Counter()
            for r in s.scalars(select(Inflow)):
                got_trips[(r.origin, r.region, r.mode, r.stayed)] += r.count
        assert got_cases == cases
        assert got_trips == trips

    def close(self) -> None:
        for p in self.pollers:
            p.close()
        self.engine.dispose()
        self.src.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(ops=st.lists(OPS, min_size=3, max_size=10), seed=st.integers(0, 2**16))
def test_store_equals_source_truth(ops, seed, tmp_path_factory, make_source_url, gaz):
    tmp = tmp_path_factory.mktemp("prop")
    w = World(tmp, make_source_url("prop_source"), make_source_url("prop_store"), gaz, seed)
    try:
        for op, n in ops:
            {"cases": lambda: w.cases(n), "update": lambda: w.update(n), "late_cases": lambda: w.cases(n, late=True),
             "trips": lambda: w.trips(n), "late_trips": lambda: w.trips(n, late=True), "poll": w.poll,
             "outage": w.outage, "restart": w.restart, "kill": lambda: w.kill(n)}[op]()
        w.check()
    finally:
        w.close()
