"""A simulated fever-clinic monitoring system (发热门诊监测系统) — another department's schema.

Its tables and columns have Chinese names, times are local text with slashes
(2020/02/03 14:00:00), locations are WGS84 (phones' GPS, as such systems collect them; sitroom
draws GCJ-02), status is a word (开放/暂停/关闭), and the registry carries the person in
charge and a mobile number that sitroom never reads. Visits are hourly counts per clinic,
updated as patients arrive; in the hotspot prefectures they rise with the epidemic.
Bad rows: swapped coordinates, points outside the province, unknown 区划代码, negative counts.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, Table, Text, select

from sitroom.geo import gcj02_to_wgs84
from sitroom.regions import Gazetteer

from .base import CountyPoints, Simulator, to_local

metadata = MetaData()
clinics = Table(
    "发热门诊", metadata,
    Column("门诊编号", Text, primary_key=True),
    Column("门诊名称", Text),
    Column("地址", Text),
    Column("经度", Text),           # WGS84, as text: the system stores what the form sent
    Column("纬度", Text),
    Column("区划代码", Text),        # county code
    Column("运行状态", Text),        # 开放 / 暂停 / 关闭
    Column("日接诊能力", Integer),    # visits a day; empty when not declared
    Column("负责人", Text),          # person in charge (personal)
    Column("联系电话", Text),        # mobile (personal)
    Column("更新时间", Text, nullable=False, index=True),
)
visits = Table(
    "门诊就诊统计", metadata,
    Column("门诊编号", Text, nullable=False),
    Column("统计时段", Text, nullable=False),   # start of the hour, local
    Column("就诊人次", Integer),
    Column("发热人数", Integer),
    Column("转诊人数", Integer),
    Column("更新时间", Text, nullable=False, index=True),
    PrimaryKeyConstraint("门诊编号", "统计时段"),
)
OPEN, SUSPENDED, CLOSED = "开放", "暂停", "关闭"
HOSPITALS = ["人民医院", "中医院", "第一人民医院", "第二人民医院", "中心医院", "妇幼保健院", "骨科医院"]
ROADS = ["人民路", "建设路", "解放路", "中山路", "文化路", "和平路", "健康路", "长安路", "新华路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
# share of the day's visits in each local hour (a clinic is busiest mid-morning)
HOURLY = [0.015, 0.01, 0.01, 0.01, 0.01, 0.015, 0.025, 0.045, 0.07, 0.075, 0.07, 0.06,
          0.05, 0.055, 0.065, 0.065, 0.06, 0.055, 0.05, 0.045, 0.04, 0.035, 0.03, 0.02]
HOURLY = [h / sum(HOURLY) for h in HOURLY]
OUTSIDE = [(114.305, 30.593), (116.407, 39.904), (121.473, 31.230)]   # 武汉, 北京, 上海 (WGS84)


def text_time(local: datetime) -> str:
    return local.strftime("%Y/%m/%d %H:%M:%S")


class FeverClinicSim(Simulator):
    """Two clinics or so per county; hourly visit counts per clinic."""
    metadata = metadata
    label = "fever clinics"

    def __init__(self, url: str, gazetteer: Gazetteer, *, hotspots: tuple[str, ...] = ("410100", "610100"),
                 **kw):
        super().__init__(url, gazetteer, **kw)
        self.hotspots = set(hotspots)
        self._registry: dict[str, dict] | None = None

    # ---------------------------------------------------------------- registry
    def _clinic_rows(self, now_local: datetime) -> list[dict]:
        points = CountyPoints(self.gaz, self.provinces)
        rows = []
        for county in self.counties():
            pref = self.gaz.get(self.gaz.prefecture_of(county.adcode))
            province = self.gaz.get(self.gaz.province_of(county.adcode))
            for n, hospital in enumerate(self.rng.sample(HOSPITALS, self.rng.choice([1, 2, 2, 2, 3])), 1):
                lon, lat = gcj02_to_wgs84(*points.point(county.adcode, self.rng))
                place = pref.name + (county.name if county.adcode != pref.adcode else "")
                r = self.rng.random()
                rows.append({
                    "门诊编号": f"FR{county.adcode}{n:02d}",
                    "门诊名称": f"{county.name}{hospital}发热门诊",
                    "地址": f"{province.name}{place}{self.rng.choice(ROADS)}{self.rng.randint(1, 300)}号",
                    "经度": f"{lon:.6f}", "纬度": f"{lat:.6f}",
                    "区划代码": county.adcode,
                    "运行状态": SUSPENDED if r < 0.03 else CLOSED if r < 0.04 else OPEN,
                    "日接诊能力": None if self.rng.random() < 0.03 else self.rng.randrange(80, 420, 10),
                    **self._person(),
                    "更新时间": text_time(now_local - timedelta(days=self.rng.uniform(1, 40))),
                })
        return rows

    def _person(self) -> dict:
        return {"负责人": self.rng.choice(SURNAMES) + "某某",
                "联系电话": f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"}

    def _bad_clinic(self, n: int, now_local: datetime) -> dict:
        county = self.rng.choice(self.counties())
        lon, lat = gcj02_to_wgs84(county.lon, county.lat)
        kind = self.rng.choice(["swapped", "outside", "unknown_region"])
        code = county.adcode
        if kind == "swapped":          # 纬度 typed into 经度 and back
            lon, lat = lat, lon
        elif kind == "outside":        # the clinic's group headquarters, not the clinic
            lon, lat = self.rng.choice(OUTSIDE)
        else:                          # a code from a form that was never updated
            code = county.adcode[:4] + "99"
        return {"门诊编号": f"FRX{now_local:%y%m%d%H%M%S}{n:03d}", "门诊名称": f"{county.name}临时发热门诊",
                "地址": county.name, "经度": f"{lon:.6f}", "纬度": f"{lat:.6f}", "区划代码": code,
                "运行状态": OPEN, "日接诊能力": 100, **self._person(), "更新时间": text_time(now_local)}

    def registry(self) -> dict[str, dict]:
        """Clinic id -> its row (read once from the source, so a restarted demo continues)."""
        if self._registry is None:
            with self.engine.connect() as c:
                rows = c.execute(select(clinics)).mappings().all()
            self._registry = {r["门诊编号"]: dict(r) for r in rows if not r["门诊编号"].startswith("FRX")}
        return self._registry

    # ---------------------------------------------------------------- visits
    def _rate(self, clinic: dict, days_ago: float) -> float:
        """Expected visits a day at this clinic `days_ago` before now."""
        capacity = clinic["日接诊能力"] or 150
        surge = 0.9 if self._hot(clinic) else 0.0    # elsewhere clinics run at their usual load
        return capacity * (0.3 + surge * self.epidemic(days_ago))

    def _hot(self, clinic: dict) -> bool:
        return self.gaz.prefecture_of(clinic["区划代码"]) in self.hotspots

    def _counts(self, clinic: dict, hour_local: datetime, days_ago: float, share: float = 1.0) -> dict:
        n = self.poisson(self._rate(clinic, days_ago) * HOURLY[hour_local.hour] * share)
        fever_share = 0.3 + (0.4 * self.epidemic(days_ago) if self._hot(clinic) else 0)
        fever = sum(self.rng.random() < fever_share for _ in range(n))
        return {"就诊人次": n, "发热人数": fever, "转诊人数": sum(self.rng.random() < 0.06 for _ in range(fever))}

    def backfill(self, days: int = 7, now: datetime | None = None) -> int:
        """The registry and `days` of hourly visits up to now. Skipped if the registry has rows."""
        now = now or datetime.utcnow()
        now_local = to_local(now)
        with self.engine.connect() as c:
            if c.execute(select(clinics.c["门诊编号"]).limit(1)).first():
                return 0
        rows = self._clinic_rows(now_local)
        n_bad = self.poisson(len(rows) * self.bad_share)
        bad = [self._bad_clinic(i, now_local) for i in range(n_bad)]
        this_hour = now_local.replace(minute=0, second=0, microsecond=0)
        visit_rows = []
        for clinic in rows:
            if clinic["运行状态"] != OPEN:
                continue
            hour = this_hour - timedelta(days=days)
            while hour <= this_hour:
                days_ago = (this_hour - hour).total_seconds() / 86400
                share = (now_local - hour).total_seconds() / 3600 if hour == this_hour else 1.0
                counts = self._counts(clinic, hour, days_ago, share)
                if self.bad():
                    counts["就诊人次"] = -counts["就诊人次"] - 1   # sign lost in an export
                end = min(now_local, hour + timedelta(hours=1, minutes=self.rng.randint(0, 20)))
                visit_rows.append({"门诊编号": clinic["门诊编号"], "统计时段": text_time(hour), **counts,
                                   "更新时间": text_time(end)})
                hour += timedelta(hours=1)
        with self.engine.begin() as c:
            c.execute(clinics.insert(), rows + bad)
            for i in range(0, len(visit_rows), 20000):
                c.execute(visits.insert(), visit_rows[i:i + 20000])
        self._registry = {r["门诊编号"]: r for r in rows}
        self._last_tick = now   # history runs up to now: the first tick goes on from there
        return len(rows) + len(bad) + len(visit_rows)

    def tick(self, now: datetime | None = None) -> int:
        """Patients since the last tick add to the current hour's rows; now and then a clinic
        is suspended or reopens, and a bad value slips in."""
        now = now or datetime.utcnow()
        seconds = self.elapsed(now)
        now_local = to_local(now)
        hour = now_local.replace(minute=0, second=0, microsecond=0)
        stamp, period = text_time(now_local), text_time(hour)
        share = min(seconds, 3600) / 3600
        reg = self.registry()
        with self.engine.begin() as c:
            current = {r["门诊编号"]: dict(r) for r in c.execute(
                select(visits).where(visits.c["统计时段"] == period)).mappings()}
            inserts, updates = [], []
            for key, clinic in reg.items():
                if clinic["运行状态"] != OPEN:
                    continue
                add = self._counts(clinic, hour, 0, share)
                if not add["就诊人次"] and key in current:
                    continue
                row = current.get(key)
                if row is None:
                    inserts.append({"门诊编号": key, "统计时段": period, **add, "更新时间": stamp})
                else:
                    new = {k: max(row[k] or 0, 0) + v for k, v in add.items()}
                    updates.append({"k": key, **new})
            if inserts and self.bad():
                inserts[self.rng.randrange(len(inserts))]["发热人数"] = -1
            if inserts:
                c.execute(visits.insert(), inserts)
            for u in updates:
                c.execute(visits.update().where(visits.c["门诊编号"] == u["k"], visits.c["统计时段"] == period)
                          .values({"就诊人次": u["就诊人次"], "发热人数": u["发热人数"], "转诊人数": u["转诊人数"],
                                   "更新时间": stamp}))
            changes = 0
            for _ in range(self.poisson(len(reg) * 0.02 * seconds / 3600)):   # ~2% of clinics an hour
                key = self.rng.choice(sorted(reg))
                status = OPEN if reg[key]["运行状态"] != OPEN else self.rng.choice([SUSPENDED, SUSPENDED, CLOSED])
                reg[key]["运行状态"] = status
                c.execute(clinics.update().where(clinics.c["门诊编号"] == key)
                          .values({"运行状态": status, "更新时间": stamp}))
                changes += 1
            if self.rng.random() < self.bad_share * seconds / 60:   # about one bad clinic an hour at 2 %
                c.execute(clinics.insert(), [self._bad_clinic(0, now_local)])
                changes += 1
        return len(inserts) + len(updates) + changes

