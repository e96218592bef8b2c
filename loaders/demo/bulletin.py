"""A simulated provincial epidemic-bulletin database (陕西省疫情通报) — aggregates only.

No line list: one row per place and day with cumulative counts, as the daily bulletin
publishes them, keyed by whatever the clerk typed for the place — a short name (西安), a
full name (西安市) or a code (610100) — plus rows that are not regions: 外省输入 (cases
from outside the province) and 待确认 (place not yet determined). Now and then a cumulative
count goes down: a correction (核减), e.g. cases reassigned to another place. A second table
counts arrivals per origin, destination county, day and mode (铁路/民航/公路).
Column names are full pinyin; times are local text; the clerk's name and phone ride along.
Bad rows: an unknown place (西咸新区 has no GB/T 2260 code), a negative count, no date.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, Table, Text, select

from sitroom.regions import Gazetteer

from .base import Simulator, to_local

metadata = MetaData()
bulletin = Table(
    "yiqing_tongbao", metadata,
    Column("tongbao_riqi", Text),                 # 通报日期 YYYY-MM-DD
    Column("diqu", Text),                         # 地区: name, short name or code; or a bucket
    Column("leiji_quezhen", Integer),             # 累计确诊
    Column("leiji_zhiyu", Integer),               # 累计治愈
    Column("leiji_siwang", Integer),              # 累计死亡
    Column("tianbao_ren", Text),                  # 填报人 clerk (personal)
    Column("lianxi_dianhua", Text),               # 联系电话 (personal)
    Column("gengxin_shijian", Text, nullable=False, index=True),   # 更新时间, local
    PrimaryKeyConstraint("tongbao_riqi", "diqu"),
)
inflows = Table(
    "renyuan_liuru", metadata,
    Column("tongji_riqi", Text),                  # 统计日期
    Column("laiyuan_di", Text),                   # 来源地 e.g. 湖北省武汉市
    Column("mudi_quxian", Text),                  # 目的县区 county code
    Column("jiaotong_fangshi", Text),             # 交通方式 铁路 / 民航 / 公路
    Column("renshu", Integer),                    # 人数
    Column("gengxin_shijian", Text, nullable=False, index=True),
    PrimaryKeyConstraint("tongji_riqi", "laiyuan_di", "mudi_quxian", "jiaotong_fangshi"),
)
OUTSIDE, UNDETERMINED = "外省输入", "待确认"
MODES = {"铁路": 0.5, "公路": 0.35, "民航": 0.15}
ORIGINS = {"湖北省武汉市": 0.12, "湖北省孝感市": 0.03, "湖北省十堰市": 0.04, "北京市朝阳区": 0.07,
           "上海市浦东新区": 0.05, "广东省深圳市": 0.1, "广东省广州市": 0.08, "浙江省温州市": 0.04,
           "浙江省杭州市": 0.05, "河南省郑州市": 0.1, "四川省成都市": 0.08, "甘肃省兰州市": 0.06,
           "山西省运城市": 0.05, "江苏省南京市": 0.05, "新疆维吾尔自治区乌鲁木齐市": 0.04}
CLERKS = ["王某", "李某", "张某", "刘某"]


def day_text(d: date) -> str:
    return d.isoformat()


def stamp(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M:%S")


class BulletinSim(Simulator):
    """Shaanxi's prefectures plus the two buckets, cumulative per day; arrivals per county."""
    metadata = metadata
    label = "bulletin"

    def __init__(self, url: str, gazetteer: Gazetteer, *, province: str = "610000",
                 confirmed_per_day: float = 80, hotspot: str | None = "610100", hotspot_share: float = 0.4,
                 arrivals_per_day: float = 20000, correction_share: float = 0.01, **kw):
        super().__init__(url, gazetteer, provinces=(province,), **kw)
        self.province = province
        self.rate = confirmed_per_day
        self.arrivals = arrivals_per_day
        self.correction_share = correction_share
        prefs = self.prefectures()
        total = sum(p.population or 0 for p in prefs) or 1
        w = {p.adcode: (1 - hotspot_share) * (p.population or 0) / total for p in prefs}
        if hotspot in w:
            w[hotspot] += hotspot_share
        # 8 % of cases came from outside the province; 3 % wait for their place to be settled
        self.weights = {**{k: v * 0.89 for k, v in w.items()}, OUTSIDE: 0.08, UNDETERMINED: 0.03}
        counties = self.counties()
        pop = {p.adcode: (p.population or 0) / max(len(self.gaz.children(p.adcode)), 1) for p in prefs}
        self.county_weights = {c.adcode: pop[self.gaz.prefecture_of(c.adcode)] for c in counties}

    # ---------------------------------------------------------------- places
    def _place_text(self, place: str) -> str:
        """How the clerk wrote the place: short name, full name or code."""
        if place in (OUTSIDE, UNDETERMINED):
            return place
        r = self.gaz.get(place)
        return self.rng.choice([r.short_name, r.short_name, r.name, r.adcode])

    def _spellings(self, place: str) -> list[str]:
        if place in (OUTSIDE, UNDETERMINED):
            return [place]
        r = self.gaz.get(place)
        return [r.short_name, r.name, r.adcode]

    def _clerk(self) -> dict:
        return {"tianbao_ren": self.rng.choice(CLERKS),
                "lianxi_dianhua": f"029-{self.rng.randrange(10**7, 10**8)}"}

    # ---------------------------------------------------------------- cases
    def _day_rows(self, day: date, cum: dict[str, list[int]], news: dict[str, float], updated: datetime,
                  corrections: bool) -> list[dict]:
        """One row per place for `day`, moving `cum` ([confirmed, cured, dead]) forward."""
        rows = []
        for place in self.weights:
            c = cum.setdefault(place, [0, 0, 0])
            if corrections and c[0] > 3 and self.rng.random() < self.correction_share:
                c[0] -= self.rng.randint(1, 3)     # 核减: cases reassigned or found not to be cases
            else:
                c[0] += self.poisson(news[place])
            c[1] = min(c[0] - c[2], c[1] + self.poisson(c[0] * 0.06))
            c[2] += self.poisson(c[0] * 0.0008)
            c[1] = max(min(c[1], c[0] - c[2]), 0)
            rows.append({"tongbao_riqi": day_text(day), "diqu": self._place_text(place),
                         "leiji_quezhen": c[0], "leiji_zhiyu": c[1], "leiji_siwang": c[2], **self._clerk(),
                         "gengxin_shijian": stamp(updated)})
        return rows

    def _bad_case_row(self, day: date, updated: datetime) -> dict:
        row = {"tongbao_riqi": day_text(day), "diqu": "西咸新区", "leiji_quezhen": self.rng.randint(1, 20),
               "leiji_zhiyu": 0, "leiji_siwang": 0, **self._clerk(), "gengxin_shijian": stamp(updated)}
        kind = self.rng.choice(["place", "negative", "no_date"])
        county = self.gaz.get(self.rng.choice(list(self.county_weights)))
        place = self.gaz.get(county.parent).name + county.name if county.level == "county" else county.name
        if kind == "negative":
            row.update(diqu=place, leiji_quezhen=-row["leiji_quezhen"])
        elif kind == "no_date":
            row.update(diqu=place, tongbao_riqi="")
        return row

    # ---------------------------------------------------------------- arrivals
    def _arrival_cells(self, n: int) -> dict[tuple[str, str, str], int]:
        cells: dict[tuple[str, str, str], int] = {}
        origins, ow = zip(*ORIGINS.items())
        counties, cw = zip(*self.county_weights.items())
        modes, mw = zip(*MODES.items())
        for o, c, m in zip(self.rng.choices(origins, ow, k=n), self.rng.choices(counties, cw, k=n),
                           self.rng.choices(modes, mw, k=n)):
            cells[(o, c, m)] = cells.get((o, c, m), 0) + 1
        return cells

    def _bad_inflow(self, day: date, updated: datetime) -> dict:
        county = self.rng.choice(list(self.county_weights))
        row = {"tongji_riqi": day_text(day), "laiyuan_di": self.rng.choice(list(ORIGINS)),
               "mudi_quxian": county, "jiaotong_fangshi": self.rng.choice(list(MODES)), "renshu": -self.rng.randint(1, 9),
               "gengxin_shijian": stamp(updated)}
        if self.rng.random() < 0.5:      # a county code from before the 2021 changes, or a typo
            row.update(mudi_quxian=county[:4] + "99", renshu=-row["renshu"])
        return row

    # ---------------------------------------------------------------- history and ticks
    def backfill(self, days: int = 30, now: datetime | None = None) -> int:
        """Bulletins for `days` days up to today and `min(days, 14)` days of arrivals. Skipped if rows exist."""
        now = now or datetime.utcnow()
        now_local = to_local(now)
        today = now_local.date()
        with self.engine.connect() as c:
            if c.execute(select(bulletin.c.diqu).limit(1)).first():
                return 0
        cum: dict[str, list[int]] = {}
        rows: list[dict] = []
        for d in range(days, -1, -1):
            day = today - timedelta(days=d)
            share = (now_local - datetime.combine(day, datetime.min.time())).total_seconds() / 86400 if d == 0 else 1
            news = {p: self.rate * self.epidemic(d) * w * share for p, w in self.weights.items()}
            updated = now_local if d == 0 else datetime.combine(day, datetime.min.time()) + timedelta(
                hours=20, minutes=self.rng.randint(0, 180))
            rows += self._day_rows(day, cum, news, updated, corrections=d < days)
            rows += [self._bad_case_row(day, updated) for _ in range(self.poisson(len(self.weights) * self.bad_share))]
        if days >= 1 and not self._has_correction(rows):
            self._force_correction(rows)
        flows: list[dict] = []
        for d in range(min(days, 14), -1, -1):
            day = today - timedelta(days=d)
            share = (now_local - datetime.combine(day, datetime.min.time())).total_seconds() / 86400 if d == 0 else 1
            updated = now_local if d == 0 else datetime.combine(day + timedelta(days=1), datetime.min.time()) \
                + timedelta(hours=1, minutes=self.rng.randint(0, 120))
            cells = self._arrival_cells(self.poisson(self.arrivals * share))
            for (o, c, m), n in cells.items():
                flows.append({"tongji_riqi": day_text(day), "laiyuan_di": o, "mudi_quxian": c,
                              "jiaotong_fangshi": m, "renshu": n, "gengxin_shijian": stamp(updated)})
            flows += [self._bad_inflow(day, updated) for _ in range(self.poisson(len(cells) * self.bad_share))]
        rows = list({(r["tongbao_riqi"], r["diqu"]): r for r in rows}.values())
        flows = list({(f["tongji_riqi"], f["laiyuan_di"], f["mudi_quxian"], f["jiaotong_fangshi"]): f
                      for f in flows}.values())
        with self.engine.begin() as c:
            c.execute(bulletin.insert(), rows)
            if flows:
                c.execute(inflows.insert(), flows)
        self._last_tick = now   # history runs up to now: the first tick goes on from there
        return len(rows) + len(flows)

    def _has_correction(self, rows: list[dict]) -> bool:
        last: dict[str, int] = {}
        for r in rows:
            place = self._canonical(r["diqu"])
            if r["tongbao_riqi"] and isinstance(r["leiji_quezhen"], int) and r["leiji_quezhen"] >= 0:
                if place in last and r["leiji_quezhen"] < last[place]:
                    return True
                last[place] = r["leiji_quezhen"]
        return False

    def _force_correction(self, rows: list[dict]) -> None:
        """Make sure a demo shows one: the hotspot's latest full day is revised down by 2."""
        good = [r for r in rows if r["tongbao_riqi"] and self._canonical(r["diqu"]) in self.weights]
        days = sorted({r["tongbao_riqi"] for r in good})
        if len(days) < 3:
            days = days + days[-1:]
        place = max(self.weights, key=lambda p: self.weights[p])
        prev = next(r for r in good if r["tongbao_riqi"] == days[-3] and self._canonical(r["diqu"]) == place)
        for r in good:
            if r["tongbao_riqi"] == days[-2] and self._canonical(r["diqu"]) == place:
                r["leiji_quezhen"] = max(prev["leiji_quezhen"] - 2, 0)
                r["leiji_zhiyu"] = min(r["leiji_zhiyu"], r["leiji_quezhen"] - r["leiji_siwang"])

    def _canonical(self, text: str) -> str:
        if text in (OUTSIDE, UNDETERMINED):
            return text
        try:
            return self.gaz.resolve(text)
        except ValueError:
            return text

    def _today_rows(self, c, today: date, now_local: datetime) -> dict[str, dict]:
        """place -> today's row, created from the latest day's figures when the day turns."""
        rows = {self._canonical(r["diqu"]): dict(r) for r in c.execute(
            select(bulletin).where(bulletin.c.tongbao_riqi == day_text(today))).mappings()}
        if any(p in rows for p in self.weights):
            return rows
        latest = c.execute(select(bulletin.c.tongbao_riqi).where(bulletin.c.tongbao_riqi < day_text(today))
                           .where(bulletin.c.tongbao_riqi != "")
                           .order_by(bulletin.c.tongbao_riqi.desc()).limit(1)).scalar()
        cum = {}
        if latest:
            for r in c.execute(select(bulletin).where(bulletin.c.tongbao_riqi == latest)).mappings():
                place = self._canonical(r["diqu"])
                if place in self.weights and (r["leiji_quezhen"] or 0) >= 0:
                    cum[place] = [r["leiji_quezhen"] or 0, r["leiji_zhiyu"] or 0, r["leiji_siwang"] or 0]
        new = self._day_rows(today, cum, {p: 0 for p in self.weights}, now_local, corrections=True)
        c.execute(bulletin.insert(), new)
        return {self._canonical(r["diqu"]): r for r in new}

    def tick(self, now: datetime | None = None) -> int:
        """Today's rows grow as cases are reported (a new day starts from yesterday's figures,
        sometimes corrected down); arrivals add to today's cells."""
        now = now or datetime.utcnow()
        seconds = self.elapsed(now)
        now_local = to_local(now)
        today = now_local.date()
        changed = 0
        with self.engine.begin() as c:
            rows = self._today_rows(c, today, now_local)
            for place, w in self.weights.items():
                if place not in rows:
                    continue
                r = rows[place]
                new = self.poisson(self.rate * w * seconds / 86400)
                cured = self.poisson((r["leiji_quezhen"] or 0) * 0.06 * seconds / 86400)
                if not (new or cured):
                    continue
                r["leiji_quezhen"] += new
                r["leiji_zhiyu"] = min(r["leiji_zhiyu"] + cured, r["leiji_quezhen"] - r["leiji_siwang"])
                c.execute(bulletin.update().where(bulletin.c.tongbao_riqi == r["tongbao_riqi"],
                                                  bulletin.c.diqu == r["diqu"])
                          .values(leiji_quezhen=r["leiji_quezhen"], leiji_zhiyu=r["leiji_zhiyu"],
                                  gengxin_shijian=stamp(now_local)))
                changed += 1
            if self.rng.random() < self.bad_share * seconds / 600:
                bad = self._bad_case_row(today, now_local)
                if not c.execute(select(bulletin.c.diqu).where(bulletin.c.tongbao_riqi == bad["tongbao_riqi"],
                                                               bulletin.c.diqu == bad["diqu"])).first():
                    c.execute(bulletin.insert(), [bad])
                    changed += 1
            cells = self._arrival_cells(self.poisson(self.arrivals * seconds / 86400))
            if cells:
                existing = {(r.laiyuan_di, r.mudi_quxian, r.jiaotong_fangshi): r.renshu for r in c.execute(
                    select(inflows).where(inflows.c.tongji_riqi == day_text(today)))}
                for (o, county, m), n in cells.items():
                    key = (o, county, m)
                    if key in existing:
                        c.execute(inflows.update().where(
                            inflows.c.tongji_riqi == day_text(today), inflows.c.laiyuan_di == o,
                            inflows.c.mudi_quxian == county, inflows.c.jiaotong_fangshi == m)
                            .values(renshu=max(existing[key], 0) + n, gengxin_shijian=stamp(now_local)))
                    else:
                        c.execute(inflows.insert(), [{"tongji_riqi": day_text(today), "laiyuan_di": o,
                                                      "mudi_quxian": county, "jiaotong_fangshi": m, "renshu": n,
                                                      "gengxin_shijian": stamp(now_local)}])
                    changed += 1
        return changed
