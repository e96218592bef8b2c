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

import pytest
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


# ------------------------------------------------------------------ adversarial rows
# Property: no single row, whatever it holds (any type, any length, a cursor value in the future or
# unreadable, NUL, text that is not UTF-8), stops a source or keeps a later good row out.
class NotUtf8(bytes):
    """Text whose bytes are not UTF-8 (SQLite stores such text as it is given)."""


GARBAGE_TIMES = ["N/A", "2099-01-01 00:00:00", "9999-12-31 23:59:59", "2026-13-45 25:61:00", "", "  ", "0",
                 "20261123", "昨天", "2026/11/23 08:30", "1970-01-01 00:00:00", "<img src=x onerror=alert(1)>"]
TEXTS = st.one_of(st.text(max_size=30), st.text(min_size=190, max_size=320), st.just("长" * 5000),
                  st.sampled_from(["N/A", "确诊", "410105", "郑州市金水区花园路12号", "null", "-1", "1e308", "NaN"]))
ANY = st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.floats(), TEXTS, st.binary(max_size=24),
                st.binary(min_size=1, max_size=12).map(lambda b: NotUtf8(b"\xe9\x83" + b)),
                st.text(max_size=10).map(lambda s: s + "\x00" + s))
WHEN = st.one_of(ANY, st.sampled_from(GARBAGE_TIMES),
                 st.integers(-3 * 86400, 400 * 86400).map(lambda s: ("ahead", s)))   # seconds from now
ADV_COLS = {"adv": ("kh", "zt", "qx", "bgsj", "gxsj"), "advflow": ("day", "origin", "dest", "mode", "n", "updated")}


def adversarial_row(table: str):
    cols = ADV_COLS[table]
    return st.fixed_dictionaries({c: WHEN if c in ("gxsj", "bgsj", "updated", "day") else ANY for c in cols})


class Adversary:
    """Two sources of untyped columns (a keyed case line list, a key-less arrival count) and the store."""

    def __init__(self, source_url: str, store_url: str, gaz):
        self.sqlite = source_url.startswith("sqlite")
        self.src = FeedSource(source_url)
        kind = "" if self.sqlite else " TEXT"   # SQLite keeps any type; PostgreSQL only text
        with self.src.engine.begin() as c:
            from sqlalchemy import text
            for table, cols in ADV_COLS.items():
                c.execute(text(f"CREATE TABLE {table} ({', '.join(col + kind for col in cols)})"))
        raw = sources_dict(source_url)
        base = {s["name"]: s for s in raw["sources"]}
        cases = {**base["cases"], "name": "adv", "table": "adv", "batch_size": 3}
        flow = {**base["flow"], "name": "advflow", "table": "advflow", "batch_size": 3,
                "columns": {**base["flow"]["columns"], "region_name": None, "region_code": "dest"}}
        self.cfg = SourcesConfig.model_validate({**raw, "sources": [cases, flow]})
        upgrade(store_url)
        self.engine = make_engine(store_url)
        self.sessions = session_factory(self.engine)
        self.gaz = gaz

    def reset(self) -> None:
        from sqlalchemy import delete
        from sitroom.store.models import Quarantine, SourceState
        self.src.sql("DELETE FROM adv")
        self.src.sql("DELETE FROM advflow")
        with self.sessions.begin() as s:
            for model in (CaseReport, Inflow, Quarantine, SourceState):
                s.execute(delete(model))

    def value(self, v, now: datetime):
        if isinstance(v, tuple):        # ("ahead", seconds): a local time that far from now
            v = local(now + timedelta(seconds=v[1]))
        if self.sqlite:
            return v
        if v is None:
            return None
        if isinstance(v, bytes):        # PostgreSQL: text only, never NUL or broken UTF-8
            v = v.decode("utf-8", "replace")
        return str(v).replace("\x00", "")

    def put(self, table: str, rows: list[dict]) -> None:
        from sqlalchemy import text
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with self.src.engine.begin() as c:
            for row in rows:
                vals = {k: self.value(v, now) for k, v in row.items()}
                marks = ", ".join(f"CAST(:{k} AS TEXT)" if isinstance(v, NotUtf8) else f":{k}" for k, v in vals.items())
                c.execute(text(f"INSERT INTO {table} ({', '.join(vals)}) VALUES ({marks})"),
                          {k: bytes(v) if isinstance(v, NotUtf8) else v for k, v in vals.items()})

    def poll(self) -> None:
        for s in self.cfg.sources:
            p = SourcePoller(s, self.sessions, self.gaz, self.cfg)
            try:
                r = p.poll(force=True)
            finally:
                p.close()
            assert r.error is None, (s.name, r.error)

    def good(self, n0: int, n: int, minutes_ago: float) -> tuple[list[dict], list[dict]]:
        t = local(datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=minutes_ago))
        cases = [{"kh": f"G{i}", "zt": "确诊", "qx": "410105", "bgsj": t, "gxsj": t} for i in range(n0, n0 + n)]
        flows = [{"day": "2026-11-22", "origin": f"G-{i}", "dest": "410102", "mode": "铁路", "n": str(i + 1),
                  "updated": t} for i in range(n0, n0 + n)]
        return cases, flows

    def check(self, n: int) -> None:
        with self.sessions() as s:
            cases = {r.source_key: (r.status, r.region) for r in s.scalars(select(CaseReport))
                     if r.source_key.startswith("G")}
            flows = {r.origin: r.count for r in s.scalars(select(Inflow)) if r.origin.startswith("G-")}
        assert cases == {f"G{i}": ("confirmed", "410105") for i in range(n)}
        assert flows == {f"G-{i}": i + 1 for i in range(n)}

    def close(self) -> None:
        self.engine.dispose()
        self.src.close()


ADVERSARIAL_EXAMPLES = 40   # about 15 s on SQLite, 45 s on PostgreSQL on this machine (`--hypothesis-show-statistics`)


@pytest.fixture
def adversary(make_source_url, gaz):
    a = Adversary(make_source_url("adv_source"), make_source_url("adv_store"), gaz)
    yield a
    a.close()


@settings(max_examples=ADVERSARIAL_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(bad_cases=st.lists(adversarial_row("adv"), min_size=1, max_size=8),
       bad_flows=st.lists(adversarial_row("advflow"), min_size=1, max_size=8),
       before=st.integers(0, 4))
def test_no_row_stops_a_source_or_keeps_a_later_good_row_out(adversary, bad_cases, bad_flows, before):
    a = adversary
    a.reset()
    cases, flows = a.good(0, before, minutes_ago=20)
    a.put("adv", cases + [r for r in bad_cases if not str(r["kh"]).strip().startswith("G")])
    a.put("advflow", flows + [r for r in bad_flows if not str(r["origin"]).strip().startswith("G-")])
    a.poll()
    cases, flows = a.good(before, 4, minutes_ago=0.1)   # written after the bad rows, dated before some of them
    a.put("adv", cases)
    a.put("advflow", flows)
    a.poll()
    a.poll()
    a.check(before + 4)
