"""A simulated transport and supply platform (交通物资保障平台) — English schema, UTC timestamps.

Three tables, as a vendor-built system names them: `supply_points` (designated mask
pharmacies, reserve-vegetable outlets, medical-supply warehouses; GCJ-02 locations from the
platform's map picker), `stock_levels` (one row per point, item and day, recounted during the
day; masks in units of 10,000, vegetables in tonnes), and `travel_records` (one row per
arrival in Henan: a pseudonymous traveller reference that sitroom never reads, where they
came from, how long they stayed there, and how they travelled, R/A/D).
Bad rows: a point at (0, 0) or with an unknown county or category, a negative stock, a
record for an unknown county, an arrival in the future, a negative stay.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, func, select

from sitroom.regions import Gazetteer

from .base import CountyPoints, Simulator, to_local, to_utc

metadata = MetaData()
points = Table(
    "supply_points", metadata,
    Column("point_id", String(16), primary_key=True),
    Column("point_name", Text),
    Column("category", String(32)),          # MASK_PHARMACY / VEG_OUTLET / MED_WAREHOUSE
    Column("longitude", Float),              # GCJ-02
    Column("latitude", Float),
    Column("county_code", String(6)),
    Column("is_open", Integer),              # 1 / 0
    Column("updated_at", DateTime, nullable=False, index=True),   # UTC
)
stock = Table(
    "stock_levels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("point_id", String(16), nullable=False),
    Column("item_code", String(16), nullable=False),   # N95 / SURGICAL_MASK / VEG
    Column("qty", Float),                    # masks: units of 10,000; vegetables: tonnes
    Column("daily_use", Float),              # same unit, per day
    Column("counted_at", DateTime),          # UTC; one row per point, item and local day
    Column("updated_at", DateTime, nullable=False, index=True),
)
travel = Table(
    "travel_records", metadata,
    Column("record_id", Integer, primary_key=True, autoincrement=False),
    Column("traveller_ref", String(32)),     # pseudonymous person key (personal: never read)
    Column("from_place", Text),              # e.g. 湖北省武汉市
    Column("to_county", String(6)),          # county code in Henan
    Column("arrival_time", DateTime),        # UTC
    Column("minutes_in_origin", Integer),    # time spent in the origin; empty when not known
    Column("transport", String(1)),          # R rail / A air / D road
    Column("updated_at", DateTime, nullable=False, index=True),
)
# what each kind of point stocks: item -> (stock range, daily use range), in the source's units
STOCKS = {
    "MASK_PHARMACY": {"N95": ((0.05, 0.6), (0.01, 0.08)), "SURGICAL_MASK": ((0.3, 3.0), (0.05, 0.4))},
    "VEG_OUTLET": {"VEG": ((5.0, 60.0), (1.0, 8.0))},
    "MED_WAREHOUSE": {"N95": ((10.0, 120.0), (0.5, 4.0)), "SURGICAL_MASK": ((50.0, 400.0), (2.0, 15.0))},
}
CHAINS = ["老百姓大药房", "大参林", "张仲景大药房", "益丰大药房", "国药控股大药房", "海王星辰"]
ORIGINS = {"湖北省武汉市": 0.10, "湖北省孝感市": 0.03, "湖北省黄冈市": 0.03, "北京市朝阳区": 0.07,
           "北京市海淀区": 0.04, "上海市浦东新区": 0.06, "广东省深圳市": 0.10, "广东省广州市": 0.08,
           "浙江省温州市": 0.04, "浙江省杭州市": 0.05, "江苏省苏州市": 0.06, "陕西省西安市": 0.07,
           "山东省济南市": 0.05, "河北省石家庄市": 0.05, "安徽省合肥市": 0.05, "河南省郑州市": 0.12}
MODES = {"R": 0.5, "D": 0.35, "A": 0.15}


def second(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


class TransportSupplySim(Simulator):
    """Supply points in every county of the given provinces; arrivals into Henan."""
    metadata = metadata
    label = "transport and supply"

    def __init__(self, url: str, gazetteer: Gazetteer, *, travel_province: str = "410000",
                 travel_per_second: float = 3.0, backfill_travel_per_day: float = 15000, **kw):
        super().__init__(url, gazetteer, **kw)
        self.travel_per_second = travel_per_second
        self.backfill_travel_per_day = backfill_travel_per_day
        prefs = gazetteer.prefectures(travel_province)
        self.destinations = {}
        for p in prefs:
            counties = gazetteer.children(p.adcode) or [p]
            for c in counties:
                self.destinations[c.adcode] = (p.population or 0) / len(counties)
        self._next_id: int | None = None
        self._points: dict[str, dict] | None = None

    # ---------------------------------------------------------------- supply points
    def _point_rows(self, now: datetime) -> list[dict]:
        where = CountyPoints(self.gaz, self.provinces)
        rows, n = [], 0

        def add(region, category, name):
            nonlocal n
            n += 1
            lon, lat = where.point(region.adcode, self.rng)
            rows.append({"point_id": f"SP{n:06d}", "point_name": name, "category": category,
                         "longitude": lon, "latitude": lat, "county_code": region.adcode,
                         "is_open": 0 if self.rng.random() < 0.04 else 1,
                         "updated_at": second(now - timedelta(days=self.rng.uniform(15, 60)))})

        for pref in self.prefectures():
            counties = self.gaz.children(pref.adcode) or [pref]
            add(counties[0], "MED_WAREHOUSE", f"{pref.name}医疗物资储备库")
            for county in counties:
                for chain in self.rng.sample(CHAINS, self.rng.choice([1, 2, 2])):
                    add(county, "MASK_PHARMACY", f"{chain}（{county.short_name}店）")
                add(county, "VEG_OUTLET", f"{county.name}储备蔬菜投放点")
        return rows

    def _bad_point(self, now: datetime) -> dict:
        county = self.rng.choice(self.counties())
        row = {"point_id": f"SPX{now:%m%d%H%M%S}", "point_name": f"{county.name}临时投放点",
               "category": "VEG_OUTLET", "longitude": county.lon, "latitude": county.lat,
               "county_code": county.adcode, "is_open": 1, "updated_at": second(now)}
        kind = self.rng.choice(["null_island", "county", "category"])
        if kind == "null_island":       # the map picker was never touched
            row.update(longitude=0.0, latitude=0.0)
        elif kind == "county":
            row.update(county_code="999999")
        else:
            row.update(category="TEST_POINT")
        return row

    def supply_points(self) -> dict[str, dict]:
        if self._points is None:
            with self.engine.connect() as c:
                self._points = {r["point_id"]: dict(r) for r in c.execute(select(points)).mappings()
                                if not r["point_id"].startswith("SPX")}
        return self._points

    # ---------------------------------------------------------------- stock
    def _initial_stock(self, point: dict) -> dict[str, list[float]]:
        """item -> [qty, daily_use] for a point's first day."""
        out = {}
        for item, ((lo, hi), (ulo, uhi)) in STOCKS[point["category"]].items():
            out[item] = [self.rng.uniform(lo, hi), self.rng.uniform(ulo, uhi)]
        return out

    def _next_day(self, point: dict, item: str, qty: float, use: float) -> tuple[float, float]:
        (lo, hi), _ = STOCKS[point["category"]][item]
        used = use * self.rng.uniform(0.7, 1.3)
        qty = qty - used
        if qty < lo or self.rng.random() < 0.15:      # a delivery
            qty += self.rng.uniform(lo, hi)
        return max(qty, 0.0), max(use * self.rng.uniform(0.95, 1.08), 0.001)

    # ---------------------------------------------------------------- travel
    def _ids(self, c) -> int:
        if self._next_id is None:
            self._next_id = (c.execute(select(func.max(travel.c.record_id))).scalar() or 0) + 1
        n = self._next_id
        self._next_id += 1
        return n

    def _traveller(self, record_id: int) -> str:
        return hashlib.sha1(f"traveller-{record_id}-{self.rng.random()}".encode()).hexdigest()[:16].upper()

    def _stay(self, origin: str) -> int:
        r = self.rng.random()
        if r < 0.1 or origin.startswith("湖北") and r < 0.25:
            return self.rng.randint(15, 110)              # a transfer: passed through
        return int(self.rng.lognormvariate(8.5, 1.0))      # lived or stayed there: days to months

    def _record(self, c, arrived: datetime, updated: datetime) -> dict:
        rid = self._ids(c)
        origins, ow = zip(*ORIGINS.items())
        counties, cw = zip(*self.destinations.items())
        origin = self.rng.choices(origins, ow)[0]
        return {"record_id": rid, "traveller_ref": self._traveller(rid), "from_place": origin,
                "to_county": self.rng.choices(counties, cw)[0], "arrival_time": second(arrived),
                "minutes_in_origin": self._stay(origin), "transport": self.rng.choices(list(MODES), MODES.values())[0],
                "updated_at": second(updated)}

    def _spoil(self, row: dict, now: datetime) -> dict:
        kind = self.rng.choice(["county", "future", "stay", "no_stay"])
        if kind == "no_stay":                             # not asked at the checkpoint; filled in later
            row["minutes_in_origin"] = None
        elif kind == "county":
            row["to_county"] = row["to_county"][:4] + "99"
        elif kind == "future":                            # the device's clock was a year ahead
            row["arrival_time"] = second(now + timedelta(days=365))
        else:
            row["minutes_in_origin"] = -self.rng.randint(1, 600)
        return row

    # ---------------------------------------------------------------- history and ticks
    def backfill(self, days: int = 14, now: datetime | None = None) -> int:
        """Points, `days` of daily stock rows and of travel records. Skipped if points exist."""
        now = now or datetime.utcnow()
        with self.engine.connect() as c:
            if c.execute(select(points.c.point_id).limit(1)).first():
                return 0
        rows = self._point_rows(now)
        bad_points = [self._bad_point(now - timedelta(seconds=i)) for i in range(self.poisson(len(rows) * self.bad_share))]
        today = to_local(now).date()
        stock_rows = []
        for p in rows:
            levels = self._initial_stock(p)
            for d in range(days, -1, -1):
                day = today - timedelta(days=d)
                counted = to_utc(datetime.combine(day, datetime.min.time()) + timedelta(hours=self.rng.uniform(7, 10)))
                counted = min(counted, now)
                for item, (qty, use) in levels.items():
                    bad = self.bad()
                    stock_rows.append({"point_id": p["point_id"], "item_code": item,
                                       "qty": round(-qty if bad else qty, 3), "daily_use": round(use, 3),
                                       "counted_at": second(counted), "updated_at": second(counted)})
                    levels[item] = list(self._next_day(p, item, qty, use))
        with self.engine.begin() as c:
            c.execute(points.insert(), rows + bad_points)
            c.execute(stock.insert(), stock_rows)
            trips = []
            start = now - timedelta(days=days)
            n = self.poisson(self.backfill_travel_per_day * days)
            for t in sorted(self.rng.uniform(0, days * 86400) for _ in range(n)):
                arrived = start + timedelta(seconds=t)
                row = self._record(c, arrived, min(now, arrived + timedelta(minutes=self.rng.uniform(1, 30))))
                trips.append(self._spoil(row, now) if self.bad() else row)
                if len(trips) >= 20000:
                    c.execute(travel.insert(), trips)
                    trips = []
            if trips:
                c.execute(travel.insert(), trips)
        self._points = {p["point_id"]: p for p in rows}
        self._last_tick = now   # history runs up to now: the first tick goes on from there
        return len(rows) + len(bad_points) + len(stock_rows) + n

    def tick(self, now: datetime | None = None) -> int:
        """New arrivals; a missing stay filled in later on some records; points recount stock (a new row
        when the local day turns); now and then a point opens or closes."""
        now = now or datetime.utcnow()
        seconds = self.elapsed(now)
        changed = 0
        pts = self.supply_points()
        with self.engine.begin() as c:
            trips = []
            for _ in range(self.poisson(self.travel_per_second * seconds)):
                arrived = now - timedelta(seconds=self.rng.uniform(0, min(seconds, 3600)))
                row = self._record(c, arrived, now)
                trips.append(self._spoil(row, now) if self.bad() else row)
            if trips:
                c.execute(travel.insert(), trips)
            late = c.execute(select(travel.c.record_id).where(travel.c.minutes_in_origin.is_(None))
                             .order_by(travel.c.record_id.desc()).limit(max(1, round(seconds / 10)))).scalars().all()
            for rid in late[:self.poisson(len(late) * 0.5)]:
                c.execute(travel.update().where(travel.c.record_id == rid)
                          .values(minutes_in_origin=int(self.rng.lognormvariate(8.5, 1.0)), updated_at=second(now)))
            changed += len(trips) + len(late)

            # stock: each point recounts about every 10 minutes
            day_start = to_utc(datetime.combine(to_local(now).date(), datetime.min.time()))
            recount = self.rng.sample(sorted(pts), min(len(pts), self.poisson(len(pts) * seconds / 600)))
            for pid in recount:
                p = pts[pid]
                for item in STOCKS[p["category"]]:
                    latest = c.execute(select(stock).where(stock.c.point_id == pid, stock.c.item_code == item)
                                       .order_by(stock.c.counted_at.desc()).limit(1)).mappings().first()
                    qty, use = (abs(latest["qty"] or 0), latest["daily_use"] or 0.01) if latest else \
                        self._initial_stock(p)[item]
                    if latest is None or latest["counted_at"] < day_start:
                        qty, use = self._next_day(p, item, qty, use)
                        c.execute(stock.insert(), [{"point_id": pid, "item_code": item, "qty": round(qty, 3),
                                                    "daily_use": round(use, 3), "counted_at": second(now),
                                                    "updated_at": second(now)}])
                    else:
                        hours = (now - latest["counted_at"]).total_seconds() / 3600
                        qty = max(qty - use * hours / 24 * self.rng.uniform(0.5, 1.5), 0.0)
                        c.execute(stock.update().where(stock.c.id == latest["id"])
                                  .values(qty=round(qty, 3), counted_at=second(now), updated_at=second(now)))
                    changed += 1
            for _ in range(self.poisson(len(pts) * 0.01 * seconds / 3600)):   # ~1 % of points an hour
                pid = self.rng.choice(sorted(pts))
                pts[pid]["is_open"] = 1 - (pts[pid]["is_open"] or 0)
                c.execute(points.update().where(points.c.point_id == pid)
                          .values(is_open=pts[pid]["is_open"], updated_at=second(now)))
                changed += 1
            if self.rng.random() < self.bad_share * seconds / 600:
                c.execute(points.insert(), [self._bad_point(now)])
                changed += 1
        return changed
