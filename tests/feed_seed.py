"""Store rows for the four feeds, written with the models (no loader): case aggregates with a
correction and province buckets, fever clinics and visits, supply points and stock, inflows.

Used by tests/test_feed_queries.py, the layers browser test, and by hand for screenshots:

    python tests/feed_seed.py sqlite:///DATA_DIR/sitroom.db [CONFIG_DIR] [--many]
    (upgrades the store first; with CONFIG_DIR, a copy of config/, adds the kinds and risk areas;
    --many adds clinics, supply points and inflows in every prefecture, for screenshots)

Every figure the tests expect is derived from the constants below (see EXPECTED).
"""
from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitroom.queries import local_today  # noqa: E402
from sitroom.store.db import bump_version, utcnow  # noqa: E402
from sitroom.store.models import (CaseDaily, CaseReport, Clinic, ClinicVisit, Inflow, SupplyPoint,  # noqa: E402
                                  SupplyStock)

SHAANXI, XIAN, XINCHENG, XIANYANG, QINDU = "610000", "610100", "610102", "610400", "610402"
HENAN, ZHENGZHOU, ZHONGYUAN, LUOYANG, XIGONG = "410000", "410100", "410102", "410300", "410303"

# config the layers need (sources.yaml supply_kinds / supply_items, regions.yaml risk_areas)
SUPPLY_KINDS = {"mask_pharmacy": {"zh": "口罩定点药店", "en": "Designated mask pharmacy"},
                "vegetable_outlet": {"zh": "储备菜投放点", "en": "Reserve vegetable outlet"},
                "medical_warehouse": {"zh": "医疗物资仓库", "en": "Medical supply warehouse"}}
SUPPLY_ITEMS = {"masks": {"title": {"zh": "口罩", "en": "Masks"}, "unit": {"zh": "只", "en": "pcs"}},
                "sanitizer": {"title": {"zh": "消毒液", "en": "Sanitizer"}, "unit": {"zh": "瓶", "en": "bottles"}},
                "vegetables": {"title": {"zh": "蔬菜", "en": "Vegetables"}, "unit": {"zh": "公斤", "en": "kg"}}}
RISK_AREAS = ["湖北省"]

# case_daily: (source, region, bucket, prefecture, counting, {days before today: confirmed}, cured)
AGGREGATES = [
    ("sx_agg", XINCHENG, None, XIAN, "cumulative", {4: 10, 3: 14, 2: 11, 1: 15, 0: 17}, 1),  # day -2: correction -3
    ("sx_agg", QINDU, None, XIANYANG, "new", {2: 3, 1: 5}, 0),
    ("sx_agg", SHAANXI, "outside", None, "cumulative", {2: 10, 1: 12}, 0),
    ("sx_agg", SHAANXI, "undetermined", None, "cumulative", {1: 3}, 0),
]
# case_reports (line list, Henan): (region, prefecture, status, hours ago)
LINE_LIST = [(ZHONGYUAN, ZHENGZHOU, "confirmed", 2), (ZHONGYUAN, ZHENGZHOU, "confirmed", 5),
             (ZHONGYUAN, ZHENGZHOU, "confirmed", 40), (ZHONGYUAN, ZHENGZHOU, "cured", 200),
             (ZHENGZHOU, ZHENGZHOU, "suspected", 1)]

# clinics: key -> (name, address, lon, lat, region, prefecture, status, capacity, [(hours ago, visits, fever)])
CLINICS = {
    "zz-1": ("郑州大学第一附属医院发热门诊", "郑州市二七区建设东路1号", 113.6660, 34.7530, "410103", ZHENGZHOU, "open", 100,
             [(2, 30, 6), (10, 20, 4), (30, 50, 9)]),                 # load 0.5
    "ly-1": ("洛阳市中心医院发热门诊", "洛阳市西工区中州中路288号", 112.4510, 34.6690, XIGONG, LUOYANG, "open", 40,
             [(3, 35, 12), (9, 25, 8)]),                             # load 1.5
    "xa-1": ("西安交通大学第一附属医院发热门诊", "西安市雁塔区雁塔西路277号", 108.9360, 34.2230, "610113", XIAN, "closed", 50, []),
    "xy-1": ("咸阳市第一人民医院发热门诊", "咸阳市秦都区人民西路10号", 108.7050, 34.3330, QINDU, XIANYANG, "open", None,
             [(4, 12, 3)]),                                          # capacity unknown
}
CLINIC_SOURCE = "clinics"

# supply points: key -> (name, kind, lon, lat, region, prefecture, status, {item: [(days before today, stock, consumption)]})
SUPPLY = {
    "p-1": ("二七区口罩定点药店", "mask_pharmacy", 113.6400, 34.7200, "410103", ZHENGZHOU, "open",
            {"masks": [(3, 800, 100), (1, 600, 100), (0, 500, 100)], "sanitizer": [(0, 30, 0)]}),   # 5 days; ∞
    "p-2": ("秦都区储备菜投放点", "vegetable_outlet", 108.6800, 34.3600, QINDU, XIANYANG, "open",
            {"vegetables": [(2, 60, 10), (0, 20, 10)]}),                                           # 2 days
    "p-3": ("宝鸡医疗物资仓库", "medical_warehouse", 107.2400, 34.3700, "610302", "610300", "closed", {}),
    "p-4": ("洛阳西工区口罩定点药店", "mask_pharmacy", 112.4200, 34.6800, XIGONG, LUOYANG, "open",
            {"masks": [(0, 2000, 100)]}),                                                          # 20 days
}
SUPPLY_SOURCE = "supply_points"

# inflows: (days before today, origin, destination county, prefecture, province, mode, stayed, count)
INFLOWS = [
    (1, "湖北省武汉市", ZHONGYUAN, ZHENGZHOU, HENAN, "rail", True, 100),
    (2, "湖北省武汉市", ZHONGYUAN, ZHENGZHOU, HENAN, "rail", False, 40),    # passed through: not a risk arrival
    (3, "湖北省武汉市", "410103", ZHENGZHOU, HENAN, "air", None, 10),       # stay not known: counts as risk
    (0, "北京市", ZHONGYUAN, ZHENGZHOU, HENAN, "road", None, 200),
    (5, "上海市", "410103", ZHENGZHOU, HENAN, "rail", None, 30),
    (15, "湖北省武汉市", ZHONGYUAN, ZHENGZHOU, HENAN, "rail", True, 999),   # older than 14 days
    (2, "广东省广州市", QINDU, XIANYANG, SHAANXI, "air", None, 60),
]

EXPECTED = {
    "shaanxi_confirmed": 17 + 8 + 12 + 3, "shaanxi_new_24h": 2 + 5 + 2,
    "xian_confirmed": 17, "xian_new_24h": 2, "xian_cured": 1, "xianyang_confirmed": 8, "xianyang_new_24h": 5,
    "buckets": {"outside": 12, "undetermined": 3},
    "zhengzhou_confirmed": 4, "zhengzhou_active": 3, "zhengzhou_new_24h": 2, "zhengzhou_suspected": 1,
    "correction": {"region": XINCHENG, "days_ago": 2, "metric": "confirmed", "delta": -3},
    "clinic_load": {"zz-1": 0.5, "ly-1": 1.5, "xa-1": 0.0, "xy-1": None},
    "cover": {"p-1": 5.0, "p-2": 2.0, "p-3": None, "p-4": 20.0},
    "zhengzhou_arrivals": 100 + 40 + 10 + 200 + 30, "zhengzhou_risk": 110,
    "zhengzhou_top": [("北京市", 200), ("湖北省武汉市", 150), ("上海市", 30)],
    "zhengzhou_modes": {"rail": 170, "air": 10, "road": 200},
}


def _at(now: datetime, day: date) -> datetime:
    """Noon local time of `day`, as naive UTC."""
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=4)


def seed(session, now: datetime | None = None, bump: bool = True) -> None:
    """Insert every row above relative to `now` (naive UTC) in the caller's transaction."""
    now = now or utcnow()
    today = local_today(now)
    stamp = {"source_updated_at": now, "loaded_at": now}
    for src, region, bucket, pref, counting, by_day, cured in AGGREGATES:
        for ago, confirmed in by_day.items():
            day = today - timedelta(days=ago)
            session.add(CaseDaily(source=src, source_key=f"{bucket or region}|{day}", region=region, bucket=bucket,
                                  prefecture=pref, province=region[:2] + "0000", day=day, counting=counting,
                                  confirmed=confirmed, suspected=None, asymptomatic=None,
                                  cured=cured if counting == "cumulative" else 0, dead=0, **stamp))
    for i, (region, pref, status, hours) in enumerate(LINE_LIST):
        session.add(CaseReport(source="hc_seed", source_key=f"seed-{i}", status=status, region=region, prefecture=pref,
                               province=region[:2] + "0000", reported_at=now - timedelta(hours=hours),
                               imported_from=None, **stamp))
    for key, (name, addr, lon, lat, region, pref, status, cap, visits) in CLINICS.items():
        session.add(Clinic(source=CLINIC_SOURCE, source_key=key, name=name, address=addr, lon=lon, lat=lat,
                           region=region, prefecture=pref, province=region[:2] + "0000", status=status,
                           capacity=cap, **stamp))
        for hours, n, fever in visits:
            at = (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
            session.add(ClinicVisit(source="clinic_visits", source_key=f"{key}|{at}", clinic_source=CLINIC_SOURCE,
                                    clinic=key, at=at, visits=n, fever=fever, referred=fever // 3, **stamp))
    for key, (name, kind, lon, lat, region, pref, status, items) in SUPPLY.items():
        session.add(SupplyPoint(source=SUPPLY_SOURCE, source_key=key, name=name, kind=kind, lon=lon, lat=lat,
                                region=region, prefecture=pref, province=region[:2] + "0000", status=status, **stamp))
        for item, rows in items.items():
            for ago, stock, cons in rows:
                day = today - timedelta(days=ago)
                session.add(SupplyStock(source="supply_stock", source_key=f"{key}|{item}|{day}",
                                        point_source=SUPPLY_SOURCE, point=key, item=item, day=day,
                                        at=_at(now, day), stock=stock, daily_consumption=cons, **stamp))
    for i, (ago, origin, region, pref, prov, mode, stayed, n) in enumerate(INFLOWS):
        session.add(Inflow(source="inflows", source_key=f"seed-{i}", day=today - timedelta(days=ago), origin=origin,
                           region=region, prefecture=pref, province=prov, mode=mode, stayed=stayed, count=n, **stamp))
    if bump:
        bump_version(session)


def seed_many(session, gaz, now: datetime | None = None, seed: int = 1) -> None:
    """A province-sized picture for screenshots: clinics, supply points and inflows in every prefecture."""
    import random
    rnd = random.Random(seed)
    now = now or utcnow()
    today = local_today(now)
    stamp = {"source_updated_at": now, "loaded_at": now}
    origins = ["湖北省武汉市", "湖北省孝感市", "北京市", "上海市", "广东省广州市", "浙江省杭州市", "山西省太原市",
               "四川省成都市", "河北省石家庄市", "山东省济南市"]
    kinds = list(SUPPLY_KINDS)
    for pref in gaz.prefectures():
        counties = gaz.children(pref.adcode) or [pref]
        for i in range(rnd.randint(2, 6)):
            c = rnd.choice(counties)
            key = f"m-{pref.adcode}-{i}"
            cap = rnd.choice([60, 80, 120, 200, None]) if i else 150
            status = "closed" if rnd.random() < 0.08 else "open"
            session.add(Clinic(source=CLINIC_SOURCE, source_key=key, name=f"{c.name}第{i + 1}发热门诊",
                               address=f"{pref.name}{c.name}", lon=c.lon + rnd.uniform(-.05, .05),
                               lat=c.lat + rnd.uniform(-.05, .05), region=c.adcode if c is not pref else pref.adcode,
                               prefecture=pref.adcode, province=pref.parent, status=status, capacity=cap, **stamp))
            base = (cap or 100) * rnd.choice([0.2, 0.4, 0.6, 0.9, 1.2]) / 6
            for h in range(0, 24 * 7, 4):
                at = (now - timedelta(hours=h)).replace(minute=0, second=0, microsecond=0)
                n = 0 if status != "open" else max(0, int(rnd.gauss(base, base / 4)))
                fever = n // rnd.randint(3, 6)
                session.add(ClinicVisit(source="clinic_visits", source_key=f"{key}|{at}", clinic_source=CLINIC_SOURCE,
                                        clinic=key, at=at, visits=n, fever=fever, referred=fever // 4, **stamp))
        for i in range(rnd.randint(1, 4)):
            c = rnd.choice(counties)
            key = f"m-{pref.adcode}-{i}"
            kind = kinds[i % len(kinds)]
            session.add(SupplyPoint(source=SUPPLY_SOURCE, source_key=key, name=f"{c.name}{SUPPLY_KINDS[kind]['zh']}",
                                    kind=kind, lon=c.lon + rnd.uniform(-.08, .08), lat=c.lat + rnd.uniform(-.08, .08),
                                    region=c.adcode if c is not pref else pref.adcode, prefecture=pref.adcode,
                                    province=pref.parent, status="open", **stamp))
            item = {"mask_pharmacy": "masks", "vegetable_outlet": "vegetables", "medical_warehouse": "sanitizer"}[kind]
            use = rnd.choice([50, 100, 200])
            stock = use * rnd.choice([2, 5, 10, 20, 30])
            for ago in range(13, -1, -1):
                day = today - timedelta(days=ago)
                session.add(SupplyStock(source="supply_stock", source_key=f"{key}|{item}|{day}", point_source=SUPPLY_SOURCE,
                                        point=key, item=item, day=day, at=_at(now, day),
                                        stock=stock + use * ago * 0.6, daily_consumption=use, **stamp))
        for ago in range(14):
            for o in rnd.sample(origins, 4):
                c = rnd.choice(counties)
                session.add(Inflow(source="inflows", source_key=f"m-{pref.adcode}-{ago}-{o}", day=today - timedelta(days=ago),
                                   origin=o, region=c.adcode if c is not pref else pref.adcode, prefecture=pref.adcode,
                                   province=pref.parent, mode=rnd.choice(["rail", "air", "road", None]),
                                   stayed=rnd.choice([True, False, None]), count=rnd.randint(5, 120), **stamp))
    bump_version(session)


def add_feed_config(config_dir: Path) -> None:
    """Write the supply kinds and items and the risk areas these rows need into a copy of config/."""
    import yaml
    sources = config_dir / "sources.yaml"
    doc = yaml.safe_load(sources.read_text(encoding="utf-8"))
    doc["supply_kinds"], doc["supply_items"] = SUPPLY_KINDS, SUPPLY_ITEMS
    sources.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    regions = config_dir / "regions.yaml"
    doc = yaml.safe_load(regions.read_text(encoding="utf-8"))
    doc["risk_areas"] = RISK_AREAS
    regions.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rules = config_dir / "rules.yaml"  # only rules on items these rows have: the rest would not check
    doc = yaml.safe_load(rules.read_text(encoding="utf-8"))
    doc["rules"] = [r for r in doc["rules"] if "item" not in r or r["item"] in SUPPLY_ITEMS]
    rules.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main(url: str, config_dir: str | None = None, many: bool = False) -> None:
    from sitroom.regions import load_gazetteer
    from sitroom.store import make_engine, session_factory, upgrade
    if config_dir:
        add_feed_config(Path(config_dir))
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine).begin() as s:
        seed(s)
        if many:
            seed_many(s, load_gazetteer((HENAN, SHAANXI)))
    engine.dispose()
    print(f"seeded {url}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--many"]
    main(*args[:2], many="--many" in sys.argv)
