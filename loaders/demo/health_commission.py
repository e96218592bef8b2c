"""A simulated health-commission case-report system (传染病报告系统) — another department's schema.

Its table and column names are its own (pinyin initials, as such systems use),
times are local text, status is a code, the place is a county code or a name, and
it carries personal columns (name, ID number, phone) that sitroom must never read.
The simulator grows an epidemic curve spread by population with a hotspot, moves
cases along (suspected -> confirmed -> cured/dead) and slips in a few bad rows.
"""
from __future__ import annotations

import logging
import math
import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine

from sitroom.regions import Gazetteer
from sitroom.store import make_engine

from .base import poisson

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS bl_report (
        bgkid TEXT PRIMARY KEY,   -- 报告卡编号 report card id
        hzxm TEXT,                -- 患者姓名 patient name (personal)
        sfzh TEXT,                -- 身份证号 ID number (personal)
        lxdh TEXT,                -- 联系电话 phone (personal)
        xzdm TEXT,                -- 现住址国标码 county code, sometimes empty
        xzdz TEXT,                -- 现住址 place name
        bgrq TEXT,                -- 报告日期 report time, local
        gxsj TEXT NOT NULL,       -- 更新时间 last update, local
        zt TEXT                   -- 1 确诊 2 疑似 3 治愈 4 死亡
    )""",
    "CREATE INDEX IF NOT EXISTS ix_bl_report_gxsj ON bl_report (gxsj, bgkid)",
]
CONFIRMED, SUSPECTED, CURED, DEAD = "1", "2", "3", "4"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
STREETS = ("花园路", "建设路", "人民路", "文化路", "解放路", "中州大道", "黄河路", "经三路")


def local(dt_utc: datetime) -> str:
    """UTC naive -> the source's local text form."""
    return dt_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


class HealthCommissionSim:
    def __init__(self, url: str, gazetteer: Gazetteer, *, confirmed_per_day: float = 600,
                 hotspot: str | None = "410100", hotspot_share: float = 0.4, bad_share: float = 0.02,
                 seed: int | None = None, provinces: tuple[str, ...] | None = None):
        self.engine: Engine = make_engine(url)
        self.gaz = gazetteer
        self.rate = confirmed_per_day
        self.bad_share = bad_share
        self.rng = random.Random(seed)
        # the demo reports Henan here and Shaanxi through its bulletin: one case source per region
        prefs = [p for prov in (provinces or gazetteer.province_codes) for p in gazetteer.prefectures(prov)]
        total = sum(p.population or 0 for p in prefs) or 1
        self.weights = {p.adcode: (1 - hotspot_share) * (p.population or 0) / total for p in prefs}
        if hotspot in self.weights:
            self.weights[hotspot] += hotspot_share
        self._seq = 0
        self._last_tick: datetime | None = None

    # ---------------------------------------------------------------- schema and rows
    def create(self) -> None:
        with self.engine.begin() as c:
            for stmt in SCHEMA:
                c.execute(text(stmt))

    def _key(self, now: datetime) -> str:
        self._seq += 1
        return f"{now:%Y%m%d%H%M%S}{self._seq:06d}{self.rng.randrange(1000):03d}"

    def _person(self) -> dict:
        r = self.rng
        return {"hzxm": r.choice(SURNAMES) + "某" * r.randint(1, 2),
                "sfzh": f"{r.randrange(110000, 660000)}{r.randrange(1940, 2020)}{r.randrange(1, 13):02d}"
                        f"{r.randrange(1, 29):02d}{r.randrange(10000):04d}",
                "lxdh": f"1{r.choice('3589')}{r.randrange(10**9):09d}"}

    def _address(self) -> str:
        """The street, number and flat of a home address (现住址), after its regions."""
        r = self.rng
        return f"{r.choice(STREETS)}{r.randint(1, 300)}号院{r.randint(1, 20)}号楼{r.randint(1, 6)}单元{r.randint(101, 2802)}"

    def _place(self, prefecture: str) -> dict:
        """The home address; its county code most of the time, sometimes only the address, as real reports come in."""
        counties = self.gaz.children(prefecture) or [self.gaz.get(prefecture)]
        county = self.rng.choice(counties)
        pref = self.gaz.get(prefecture)
        regions = pref.name + (county.name if county.adcode != pref.adcode else "")
        if self.rng.random() < 0.15:
            return {"xzdm": "", "xzdz": regions + self._address()}
        return {"xzdm": county.adcode, "xzdz": regions + self._address()}

    def _prefecture(self) -> str:
        codes, weights = zip(*self.weights.items())
        return self.rng.choices(codes, weights)[0]

    def _new_row(self, now: datetime, reported: datetime, status: str, prefecture: str | None = None) -> dict:
        return {"bgkid": self._key(now), **self._person(), **self._place(prefecture or self._prefecture()),
                "bgrq": local(reported), "gxsj": local(now), "zt": status}

    def _insert(self, rows: list[dict]) -> None:
        if rows:
            with self.engine.begin() as c:
                c.execute(text("INSERT INTO bl_report (bgkid, hzxm, sfzh, lxdh, xzdm, xzdz, bgrq, gxsj, zt) "
                               "VALUES (:bgkid, :hzxm, :sfzh, :lxdh, :xzdm, :xzdz, :bgrq, :gxsj, :zt)"), rows)

    def _bad_row(self, now: datetime) -> dict:
        row = self._new_row(now, now, self.rng.choice([CONFIRMED, SUSPECTED]))
        kind = self.rng.choice(["place", "missing_date", "future", "status"])
        if kind == "place":
            row.update(xzdm="", xzdz=self.rng.choice(["火星市", "不详", "外省"]) + self._address())
        elif kind == "missing_date":
            row["bgrq"] = None
        elif kind == "future":
            row["bgrq"] = local(now + timedelta(days=self.rng.randint(2, 30)))
        else:
            row["zt"] = self.rng.choice(["9", "阳", ""])
        return row

    # ---------------------------------------------------------------- the epidemic
    def backfill(self, days: int = 30, now: datetime | None = None, growth: float = 0.1) -> int:
        """History for the charts: exponential growth up to today's rate. Skipped if rows exist."""
        now = now or datetime.utcnow()
        with self.engine.connect() as c:
            if c.execute(text("SELECT COUNT(*) FROM bl_report")).scalar():
                return 0
        rows = []
        for d in range(days, -1, -1):
            expected = self.rate * math.exp(-growth * d)
            for _ in range(self._poisson(expected * 2)):  # about as many suspected as confirmed
                reported = now - timedelta(days=d, seconds=self.rng.uniform(0, 86400))  # d days ago: (d+1)..d days
                age = (now - reported).days
                status = self._evolve(age)
                row = self._new_row(now, reported, status)
                row["gxsj"] = local(min(now, reported + timedelta(days=min(age, self.rng.uniform(0, 14)))))
                rows.append(row)
        rows += [self._bad_row(now) for _ in range(self._poisson(len(rows) * self.bad_share))]
        self._insert(rows)
        return len(rows)

    def _evolve(self, age_days: int) -> str:
        r = self.rng.random()
        if age_days < 1:
            return SUSPECTED if r < 0.5 else CONFIRMED
        if age_days < 10:
            return SUSPECTED if r < 0.1 else CONFIRMED
        return DEAD if r < 0.003 else CURED if r < 0.6 else CONFIRMED

    def _poisson(self, lam: float) -> int:
        return poisson(self.rng, lam)

    def tick(self, now: datetime | None = None) -> int:
        """Events since the last tick: new reports, status changes, a few bad rows."""
        now = now or datetime.utcnow()
        elapsed = (now - (self._last_tick or now - timedelta(seconds=2))).total_seconds()
        self._last_tick = now
        per_second = self.rate / 86400
        rows = [self._new_row(now, now, CONFIRMED) for _ in range(self._poisson(per_second * elapsed))]
        rows += [self._new_row(now, now, SUSPECTED) for _ in range(self._poisson(per_second * elapsed))]
        rows += [self._bad_row(now) for _ in range(self._poisson(per_second * 2 * elapsed * self.bad_share))]
        self._insert(rows)
        moves = self._poisson(per_second * 1.5 * elapsed)
        with self.engine.begin() as c:
            for _ in range(moves):
                old, new = self.rng.choice([(SUSPECTED, CONFIRMED), (CONFIRMED, CURED), (CONFIRMED, CURED)])
                key = c.execute(text("SELECT bgkid FROM bl_report WHERE zt = :s ORDER BY random() LIMIT 1"),
                                {"s": old}).scalar()
                if key:
                    c.execute(text("UPDATE bl_report SET zt = :z, gxsj = :g WHERE bgkid = :k"),
                              {"z": new, "g": local(now), "k": key})
            if moves and self.rng.random() < 0.3:  # a row updated twice in quick succession
                key = c.execute(text("SELECT bgkid FROM bl_report ORDER BY gxsj DESC LIMIT 1")).scalar()
                c.execute(text("UPDATE bl_report SET gxsj = :g WHERE bgkid = :k"), {"g": local(now), "k": key})
        return len(rows) + moves

    def add_cases(self, prefecture_or_county: str, n: int, status: str = CONFIRMED,
                  now: datetime | None = None, reported: datetime | None = None) -> list[str]:
        """Rows for a drill: n cases reported now (or at `reported`, entered now) in one region, through
        the normal source path."""
        now = now or datetime.utcnow()
        region = self.gaz.get(prefecture_or_county)
        rows = []
        for _ in range(n):
            row = self._new_row(now, reported or now, status, self.gaz.prefecture_of(region.adcode))
            if region.level == "county":
                row.update(xzdm=region.adcode, xzdz=self.gaz.get(region.parent).name + region.name + self._address())
            rows.append(row)
        self._insert(rows)
        return [r["bgkid"] for r in rows]

    def run(self, stop: threading.Event, every: float = 2.0) -> None:
        while not stop.wait(every):
            try:
                self.tick()
            except Exception:  # the simulator must not take the demo down
                log.exception("simulator tick failed")
