"""What the demo simulators share: a seeded random source, Poisson counts, the run loop,
local-time text, the epidemic's shape, and points inside a county (GCJ-02)."""
from __future__ import annotations

import logging
import math
import random
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from sitroom.regions import Gazetteer
from sitroom.store import make_engine

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: how many events of a rate happen in an interval."""
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation is plenty for a simulator
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def to_local(dt_utc: datetime) -> datetime:
    """UTC naive -> local (Asia/Shanghai) naive."""
    return dt_utc.replace(tzinfo=UTC).astimezone(TZ).replace(tzinfo=None)


def to_utc(dt_local: datetime) -> datetime:
    return dt_local.replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


class Simulator:
    """Base of a simulated department database: subclasses define `metadata` (their tables),
    `backfill(days, now)` and `tick(now)`."""
    metadata: MetaData
    label = "simulator"

    def __init__(self, url: str, gazetteer: Gazetteer, *, provinces: tuple[str, ...] | None = None,
                 bad_share: float = 0.02, seed: int | None = None, growth: float = 0.1):
        self.engine: Engine = make_engine(url)
        self.gaz = gazetteer
        self.provinces = tuple(provinces or gazetteer.province_codes)
        self.bad_share = bad_share
        self.rng = random.Random(seed)
        self.growth = growth          # daily exponential growth of the epidemic
        self._last_tick: datetime | None = None

    def create(self) -> None:
        self.metadata.create_all(self.engine)

    def prefectures(self) -> list:
        return [p for prov in self.provinces for p in self.gaz.prefectures(prov)]

    def counties(self) -> list:
        """Every county-level region (a prefecture without counties counts as its own)."""
        return [c for p in self.prefectures() for c in (self.gaz.children(p.adcode) or [p])]

    def epidemic(self, days_ago: float) -> float:
        """Relative size of the epidemic `days_ago` before now (1.0 now)."""
        return math.exp(-self.growth * max(days_ago, 0))

    def elapsed(self, now: datetime) -> float:
        """Seconds since the previous tick (2 s for the first)."""
        seconds = (now - self._last_tick).total_seconds() if self._last_tick else 2.0
        self._last_tick = now
        return max(seconds, 0.0)

    def poisson(self, lam: float) -> int:
        return poisson(self.rng, lam)

    def bad(self) -> bool:
        return self.bad_share > 0 and self.rng.random() < self.bad_share

    def tick(self, now: datetime | None = None) -> int:
        raise NotImplementedError

    def run(self, stop: threading.Event, every: float = 2.0) -> None:
        while not stop.wait(every):
            try:
                self.tick()
            except Exception:  # a simulator must not take the demo down
                log.exception("%s: tick failed", self.label)


class CountyPoints:
    """Random points well inside each county's boundary (GCJ-02, the gazetteer's datum)."""

    def __init__(self, gazetteer: Gazetteer, provinces: tuple[str, ...]):
        self.shapes = {}
        for prov in provinces:
            for f in gazetteer.boundaries(prov, level="county")["features"]:
                shape = shapely.geometry.shape(f["geometry"])
                inner = shape.buffer(-0.02)  # ~2 km from the edge: no doubt which county it is in
                self.shapes[f["id"]] = inner if not inner.is_empty else shape

    def point(self, county: str, rng: random.Random) -> tuple[float, float]:
        shape = self.shapes[county]
        west, south, east, north = shape.bounds
        for _ in range(200):
            pt = shapely.Point(rng.uniform(west, east), rng.uniform(south, north))
            if shape.contains(pt):
                return round(pt.x, 6), round(pt.y, 6)
        pt = shape.representative_point()
        return round(pt.x, 6), round(pt.y, 6)

