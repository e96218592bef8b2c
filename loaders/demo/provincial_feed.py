"""A simulated provincial bulletin site's published feed (各省卫健委通报, as aggregators scrape it).

One append-only table: every publication adds a row per place with the running totals (累计)
of its province, all stamped with the publication's time, and the publisher's own province
totals on every row. Several publications a day, as the bulletin is revised. What real feeds do
and this one does too:
- names short or full, as typed (西安 / 西安市), codes as floats (411500.0) or 0 for none;
- a county reported on its own beside its prefecture for some days (邓州, beside 南阳), then folded
  into it: the prefecture's row becomes 南阳（含邓州） and 邓州 is no longer published;
- a county-level city under its historical code and name (长垣县 410728, now 长垣市 410783);
- a place the gazetteer calls otherwise (杨凌示范区 is GB/T 2260 杨陵区: sources.yaml aliases);
- 待明确地区 rows in both provinces (Henan's are assigned to 郑州 after some days and vanish), and
  境外输入 (imported) in Shaanxi;
- one correction: a cumulative count that goes down (核减);
- a row that is no region at all (西咸新区（已计入西安）: already counted in Xi'an, so not in the
  province's total): the one kind of row sitroom must quarantine.

`publications()` makes the whole history (deterministic for a seed); `record()` writes it as the
test fixture, with what the last publication says per prefecture and province; the simulator
replays it into a database for the demo and publishes new ones as time goes on.
"""
from __future__ import annotations

import csv
import gzip
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, select

from sitroom.regions import Gazetteer

from .base import Simulator, poisson, to_local

metadata = MetaData()
area_stat = Table(
    "area_stat", metadata,
    Column("provinceName", Text),               # 河南省 or 河南
    Column("cityName", Text),                   # as published: 郑州, 郑州市, 南阳（含邓州）, 待明确地区 ...
    Column("city_zipCode", Text),               # GB/T 2260 code as the scraper stored it: 411500.0, 0 for none
    Column("city_confirmedCount", Integer),
    Column("city_curedCount", Integer),
    Column("city_deadCount", Integer),
    Column("province_confirmedCount", Integer),  # the publisher's own province totals, on every row
    Column("province_curedCount", Integer),
    Column("province_deadCount", Integer),
    Column("updateTime", Text, index=True),     # the publication's local time, YYYY-MM-DD HH:MM:SS
)
COLUMNS = [c.name for c in area_stat.columns]
UNDETERMINED, IMPORTED, XIXIAN = "待明确地区", "境外输入", "西咸新区（已计入西安）"
# extra places beside the prefectures: name -> (code as published, the region it is, its prefecture)
HENAN_EXTRA = {"邓州": ("411381", "411381", "411300"), "长垣县": ("410728", "410783", "410700")}
SHAANXI_EXTRA = {"杨凌示范区": ("0", "610403", "610400")}
FOLD_DAY = 10          # 邓州 folded into 南阳 from this day on
ASSIGN_DAY = 13        # Henan's 待明确地区 assigned to 郑州 from this day on
CORRECTION_DAY = 18    # 渭南 revised down by 2 in Shaanxi's first publication of this day
XIXIAN_FROM = 5        # Shaanxi lists 西咸新区 from this day on


@dataclass
class Place:
    name: str                 # as published (the simulator varies short and full names)
    code: str                 # the code column as published
    region: str | None        # the region sitroom should resolve it to (None: a bucket or no region)
    prefecture: str | None    # where it counts (None: the province itself)
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])   # confirmed, cured, dead
    in_total: bool = True
    weight: float = 1.0


class FeedHistory:
    """The running state of both provinces' bulletins, publication by publication."""

    def __init__(self, gaz: Gazetteer, provinces=("410000", "610000"), seed: int = 7, rate: float = 60.0):
        self.gaz, self.rng, self.rate = gaz, random.Random(seed), rate
        self.provinces = tuple(provinces)
        self.places: dict[str, dict[str, Place]] = {}
        for prov in self.provinces:
            places = {}
            for p in gaz.prefectures(prov):
                places[p.adcode] = Place(p.short_name, p.adcode, p.adcode, p.adcode, weight=(p.population or 1e6) / 1e6)
            extra = HENAN_EXTRA if prov == "410000" else SHAANXI_EXTRA if prov == "610000" else {}
            for name, (code, region, pref) in extra.items():
                places[name] = Place(name, code, region, pref, weight=0.8)
            places[UNDETERMINED] = Place(UNDETERMINED, "0", None, None, weight=0.3)
            if prov == "610000":
                places[IMPORTED] = Place(IMPORTED, "0", None, None, weight=0.4)
            self.places[prov] = places

    def _spell(self, p: Place) -> tuple[str, str]:
        """(name, code) as this publication writes them."""
        if p.region is None or p.region != p.prefecture or p.name != self.gaz.get(p.region).short_name:
            return p.name, p.code
        r = self.gaz.get(p.region)
        name = self.rng.choice([r.short_name, r.short_name, r.name])
        code = self.rng.choice([f"{r.adcode}.0", r.adcode, "0"])
        return name, code

    def publish(self, prov: str, day_index: int, at: datetime, share: float) -> list[dict]:
        """One publication of `prov` at local time `at`: every place grows by its share of a day."""
        places = self.places[prov]
        rng = self.rng
        if prov == "410000" and day_index >= FOLD_DAY and "邓州" in places:
            dz, ny = places.pop("邓州"), places["411300"]
            ny.counts = [a + b for a, b in zip(ny.counts, dz.counts)]
            ny.name, ny.code = "南阳（含邓州）", "0"   # the note says so; the scraper lost the code
        if prov == "410000" and day_index >= ASSIGN_DAY and UNDETERMINED in places:
            un, zz = places.pop(UNDETERMINED), places["410100"]
            zz.counts = [a + b for a, b in zip(zz.counts, un.counts)]
        if prov == "610000" and day_index >= XIXIAN_FROM and XIXIAN not in places:
            places[XIXIAN] = Place(XIXIAN, "0", None, None, in_total=False, weight=0.2)
        growth = 1.1 ** (day_index - 27)          # the epidemic grows ~10 % a day
        for key, p in places.items():
            new = poisson(rng, self.rate * growth * share * p.weight / 6)
            c = p.counts
            c[0] += new
            c[2] = min(c[2] + poisson(rng, c[0] * 0.0006 * share), c[0])
            c[1] = min(c[1] + poisson(rng, c[0] * 0.05 * share), c[0] - c[2])
        if prov == "610000" and day_index == CORRECTION_DAY and not getattr(self, "_corrected", False):
            wn = places["610500"]
            if wn.counts[0] >= 3:
                wn.counts[0] -= 2                       # 核减: two cases found not to be cases
                wn.counts[1] = min(wn.counts[1], wn.counts[0] - wn.counts[2])
                self._corrected = True
        totals = [sum(p.counts[i] for p in places.values() if p.in_total) for i in range(3)]
        pname = self.gaz.get(prov).name
        stamp = at.strftime("%Y-%m-%d %H:%M:%S")
        rows = []
        for p in places.values():
            name, code = self._spell(p)
            rows.append({"provinceName": rng.choice([pname, pname, self.gaz.get(prov).short_name]),
                         "cityName": name, "city_zipCode": code, "city_confirmedCount": p.counts[0],
                         "city_curedCount": p.counts[1], "city_deadCount": p.counts[2],
                         "province_confirmedCount": totals[0], "province_curedCount": totals[1],
                         "province_deadCount": totals[2], "updateTime": stamp})
        return rows

    def expected(self) -> dict:
        """What the last publication says: confirmed per prefecture and, per province, the publisher's total."""
        pref: dict[str, int] = {}
        prov: dict[str, dict] = {}
        for code, places in self.places.items():
            for p in places.values():
                if p.in_total and p.prefecture:
                    pref[p.prefecture] = pref.get(p.prefecture, 0) + p.counts[0]
            prov[code] = {m: sum(p.counts[i] for p in places.values() if p.in_total)
                          for i, m in enumerate(("confirmed", "cured", "dead"))}
        return {"prefectures": dict(sorted(pref.items())), "provinces": prov}


def schedule(first: date, days: int, rng: random.Random, province_index: int) -> list[tuple[int, datetime]]:
    """(day index, local time) of each publication: 3 to 5 a day, at the bulletin's usual hours."""
    out = []
    for d in range(days):
        day = first + timedelta(days=d)
        hours = sorted(rng.sample([7, 9, 12, 15, 18, 21, 23], rng.randint(3, 5)))
        for h in hours:
            out.append((d, datetime.combine(day, datetime.min.time()) + timedelta(
                hours=h, minutes=rng.randrange(60) if province_index else rng.randrange(0, 60, 5))))
    return out


def publications(gaz: Gazetteer, first: date, days: int = 28, seed: int = 7,
                 provinces=("410000", "610000")) -> tuple[list[list[dict]], dict]:
    """Every publication of both provinces in time order, and what the last ones say."""
    hist = FeedHistory(gaz, provinces, seed)
    rng = random.Random(seed + 1)
    timeline = sorted((at, i, d, prov) for i, prov in enumerate(provinces)
                      for d, at in schedule(first, days, rng, i))
    last: dict[str, datetime] = {}
    pubs = []
    for at, _i, d, prov in timeline:
        share = (at - last[prov]).total_seconds() / 86400 if prov in last else 0.5
        last[prov] = at
        pubs.append(hist.publish(prov, d, at, share))
    return pubs, hist.expected()


def record(path: Path, gaz: Gazetteer, first: date, days: int = 28, seed: int = 7) -> dict:
    """Write the history as a gzipped CSV (one row per published line) and the expected figures beside it."""
    pubs, expected = publications(gaz, first, days, seed)
    path = Path(path)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for rows in pubs:
            w.writerows(rows)
    meta = {"made_by": "loaders/demo/provincial_feed.py record()", "first_day": first.isoformat(), "days": days,
            "seed": seed, "publications": len(pubs), "rows": sum(len(p) for p in pubs), **expected}
    path.with_name(path.name.replace(".csv.gz", ".expected.json")).write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


def read_recorded(path: Path) -> list[list[dict]]:
    """The recorded publications, in order (rows of one publication share province and update time)."""
    pubs: list[list[dict]] = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            row = {k: (int(v) if k.endswith("Count") else v) for k, v in row.items()}
            key = (row["updateTime"], row["provinceName"][:2])
            if not pubs or (pubs[-1][0]["updateTime"], pubs[-1][0]["provinceName"][:2]) != key:
                pubs.append([])
            pubs[-1].append(row)
    return pubs


class ProvincialFeedSim(Simulator):
    """The demo's fifth source: the history of the last `days` days, then a new publication of each
    province every `every_seconds` (the demo's clock runs fast: a bulletin day in minutes)."""
    metadata = metadata
    label = "provincial_feed"

    def __init__(self, url: str, gazetteer: Gazetteer, *, provinces=("610000",), every_seconds: float = 60, **kw):
        super().__init__(url, gazetteer, provinces=tuple(provinces), **kw)
        self.every = every_seconds
        self.hist = FeedHistory(gazetteer, self.provinces, seed=kw.get("seed") or 7)
        self._next: datetime | None = None
        self._day = 0

    def backfill(self, days: int = 28, now: datetime | None = None) -> int:
        now = now or datetime.utcnow()
        with self.engine.connect() as c:
            if c.execute(select(area_stat.c.updateTime).limit(1)).first():
                return 0
        today = to_local(now).date()
        rng = random.Random(self.rng.random())
        rows: list[dict] = []
        last: dict[str, datetime] = {}
        timeline = sorted((at, i, d, prov) for i, prov in enumerate(self.provinces)
                          for d, at in schedule(today - timedelta(days=days), days, rng, i))
        for at, _i, d, prov in timeline:
            share = (at - last[prov]).total_seconds() / 86400 if prov in last else 0.5
            last[prov] = at
            rows += self.hist.publish(prov, d, at, share)
        with self.engine.begin() as c:
            c.execute(area_stat.insert(), rows)
        self._day = days
        self._next = now
        return len(rows)

    def tick(self, now: datetime | None = None) -> int:
        now = now or datetime.utcnow()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + timedelta(seconds=self.every)
        rows = []
        for prov in self.provinces:
            rows += self.hist.publish(prov, self._day, to_local(now), self.every / 3600)
        with self.engine.begin() as c:
            c.execute(area_stat.insert(), rows)
        return len(rows)


if __name__ == "__main__":   # python -m loaders.demo.provincial_feed OUT.csv.gz: record the test fixture
    import sys

    from sitroom.regions import load_gazetteer
    out = record(Path(sys.argv[1]), load_gazetteer(["410000", "610000"]), date(2026, 10, 26))
    print(json.dumps({k: out[k] for k in ("publications", "rows")}))
