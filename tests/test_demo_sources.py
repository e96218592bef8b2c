"""The demo's simulated source systems: their own schemas, deterministic history, live ticks,
personal columns that the config never maps, and what the loader makes of them."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from loaders.demo import bulletin as bt
from loaders.demo import fever_clinics as fc
from loaders.demo import transport_supply as ts
from loaders.demo.bulletin import BulletinSim
from loaders.demo.provincial_feed import ProvincialFeedSim
from loaders.demo.fever_clinics import FeverClinicSim
from loaders.demo.health_commission import HealthCommissionSim
from loaders.demo.transport_supply import TransportSupplySim
from sitroom.config import load_config

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2020, 2, 3, 6, 30)          # 14:30 local
CONFIG = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"})


def columns(sim, table: str) -> list[str]:
    return [c["name"] for c in inspect(sim.engine).get_columns(table)]


def dump(sim, table) -> list[tuple]:
    with sim.engine.connect() as c:
        return [tuple(r) for r in c.execute(select(table).order_by(*table.primary_key.columns))]


def mapped(name: str) -> set[str]:
    return set(CONFIG.source(name).columns.mapped().values())


def make(cls, make_source_url, gaz, seed=5, **kw):
    sim = cls(make_source_url(cls.__name__), gaz, seed=seed, bad_share=0, **kw)
    sim.create()
    return sim


# ---------------------------------------------------------------- fever clinics
def test_fever_clinics_chinese_schema_deterministic_history_and_ticks(make_source_url, gaz):
    a = make(FeverClinicSim, make_source_url, gaz)
    assert columns(a, "发热门诊") == ["门诊编号", "门诊名称", "地址", "经度", "纬度", "区划代码", "运行状态",
                                  "日接诊能力", "负责人", "联系电话", "更新时间"]
    assert columns(a, "门诊就诊统计") == ["门诊编号", "统计时段", "就诊人次", "发热人数", "转诊人数", "更新时间"]
    n = a.backfill(2, NOW)
    assert n > 0 and a.backfill(2, NOW) == 0          # a second backfill leaves the history alone
    b = make(FeverClinicSim, make_source_url, gaz)
    b.backfill(2, NOW)
    assert dump(a, fc.clinics) == dump(b, fc.clinics) and dump(a, fc.visits) == dump(b, fc.visits)

    clinics = dump(a, fc.clinics)
    counties = {c.adcode for p in gaz.prefectures() for c in (gaz.children(p.adcode) or [p])}
    assert {row[5] for row in clinics} == counties      # every county of both provinces has a clinic
    assert 1.5 <= len(clinics) / len(counties) <= 2.5
    assert {row[6] for row in clinics} <= {"开放", "暂停", "关闭"}
    with a.engine.connect() as c:
        visits = c.execute(select(func.count()).select_from(fc.visits)).scalar()
        negative = c.execute(select(func.count()).select_from(fc.visits).where(fc.visits.c["就诊人次"] < 0)).scalar()
        hot, cold = (c.execute(text(
            "SELECT AVG(v.就诊人次 * 1.0 / m.日接诊能力) FROM 门诊就诊统计 v JOIN 发热门诊 m USING (门诊编号) "
            "WHERE m.日接诊能力 > 0 AND substr(m.区划代码, 1, 4) " + op + " '4101'")).scalar() for op in ("=", "<>"))
    assert negative == 0                                 # bad_share=0: no bad rows
    assert float(hot) > 1.5 * float(cold)                             # the hotspot's clinics are busier

    assert a.tick(NOW + timedelta(hours=1, minutes=5)) > 0          # 15:35 local: the 15:00 rows begin
    with a.engine.connect() as c:
        after = c.execute(select(func.count()).select_from(fc.visits)).scalar()
    assert after > visits
    assert a.tick(NOW + timedelta(hours=1, minutes=25)) > 0         # 15:55 local: patients add to them
    with a.engine.connect() as c:
        updated = c.execute(select(fc.visits.c["统计时段"]).where(
            fc.visits.c["更新时间"] == "2020/02/03 15:55:00")).scalars().all()
    assert updated and set(updated) == {"2020/02/03 15:00:00"}


def test_fever_clinics_wgs84_points_fall_in_their_county(make_source_url, gaz):
    import shapely

    from sitroom.geo import wgs84_to_gcj02
    sim = make(FeverClinicSim, make_source_url, gaz)
    sim.backfill(0, NOW)
    shapes = {f["id"]: shapely.geometry.shape(f["geometry"])
              for p in gaz.province_codes for f in gaz.boundaries(p, level="county")["features"]}
    rows = dump(sim, fc.clinics)
    for row in rows:
        lon, lat = wgs84_to_gcj02(float(row[3]), float(row[4]))
        assert shapes[row[5]].contains(shapely.Point(lon, lat)), row
    # WGS84 is visibly off GCJ-02 (hundreds of metres), so a wrong datum would show on the map
    assert all(abs(wgs84_to_gcj02(float(r[3]), float(r[4]))[0] - float(r[3])) > 0.001 for r in rows)


# ---------------------------------------------------------------- bulletin
def test_bulletin_aggregates_buckets_and_a_correction(make_source_url, gaz):
    a = make(BulletinSim, make_source_url, gaz)
    assert columns(a, "yiqing_tongbao") == ["tongbao_riqi", "diqu", "leiji_quezhen", "leiji_zhiyu", "leiji_siwang",
                                            "tianbao_ren", "lianxi_dianhua", "gengxin_shijian"]
    assert columns(a, "renyuan_liuru") == ["tongji_riqi", "laiyuan_di", "mudi_quxian", "jiaotong_fangshi", "renshu",
                                           "gengxin_shijian"]
    a.backfill(20, NOW)
    b = make(BulletinSim, make_source_url, gaz)
    b.backfill(20, NOW)
    assert dump(a, bt.bulletin) == dump(b, bt.bulletin) and dump(a, bt.inflows) == dump(b, bt.inflows)

    rows = dump(a, bt.bulletin)
    places = {r[1] for r in rows}
    assert {"外省输入", "待确认"} <= places
    assert places & {"西安", "宝鸡", "咸阳"} and places & {"西安市", "宝鸡市", "咸阳市"} \
        and any(p.isdigit() for p in places)            # short names, full names and codes
    series: dict[str, list[tuple[str, int]]] = {}
    for day, place, confirmed, *_ in rows:
        series.setdefault(a._canonical(place), []).append((day, confirmed))
    assert len(series) == 12 and all(len(s) == 21 for s in series.values())   # 10 prefectures + 2 buckets
    drops = [(p, s[i][0]) for p, s in series.items() for i in range(1, len(s)) if s[i][1] < s[i - 1][1]]
    assert drops                                         # at least one correction

    flows = dump(a, bt.inflows)
    assert {r[3] for r in flows} == {"铁路", "民航", "公路"}
    assert {r[2][:2] for r in flows} == {"61"} and all(r[4] > 0 for r in flows)

    today = (NOW + timedelta(hours=8)).date().isoformat()
    before = {r[1]: r[2] for r in rows if r[0] == today}
    assert a.tick(NOW + timedelta(hours=3)) > 0
    after = {r[1]: r[2] for r in dump(a, bt.bulletin) if r[0] == today}
    assert sum(after.values()) > sum(before.values())    # today's totals grow during the day
    assert len(dump(a, bt.inflows)) > len(flows)


def test_bulletin_new_day_starts_from_yesterday(make_source_url, gaz):
    sim = make(BulletinSim, make_source_url, gaz, correction_share=0)
    sim.backfill(3, NOW)
    sim.tick(NOW + timedelta(days=1))
    rows = dump(sim, bt.bulletin)
    days = sorted({r[0] for r in rows})
    assert len(days) == 5
    last, prev = ({sim._canonical(r[1]): r[2] for r in rows if r[0] == d} for d in days[-1:-3:-1])
    assert set(last) == set(prev) and all(last[p] >= prev[p] for p in last)


# ---------------------------------------------------------------- transport and supply
def test_transport_supply_english_schema_and_ticks(make_source_url, gaz):
    a = make(TransportSupplySim, make_source_url, gaz, backfill_travel_per_day=2000)
    assert columns(a, "supply_points") == ["point_id", "point_name", "category", "longitude", "latitude",
                                           "county_code", "is_open", "updated_at"]
    assert columns(a, "stock_levels") == ["id", "point_id", "item_code", "qty", "daily_use", "counted_at",
                                          "updated_at"]
    assert columns(a, "travel_records") == ["record_id", "traveller_ref", "from_place", "to_county", "arrival_time",
                                            "minutes_in_origin", "transport", "updated_at"]
    a.backfill(3, NOW)
    b = make(TransportSupplySim, make_source_url, gaz, backfill_travel_per_day=2000)
    b.backfill(3, NOW)
    for table in (ts.points, ts.stock, ts.travel):
        assert dump(a, table) == dump(b, table)

    points = dump(a, ts.points)
    assert {r[2] for r in points} == {"MASK_PHARMACY", "VEG_OUTLET", "MED_WAREHOUSE"}
    assert len([r for r in points if r[2] == "MED_WAREHOUSE"]) == len(gaz.prefectures())
    trips = dump(a, ts.travel)
    assert 5000 < len(trips) < 7000                     # 3 days at 2,000 a day
    assert {r[3][:2] for r in trips} == {"41"} and {r[6] for r in trips} == {"R", "A", "D"}
    assert any(r[2] == "湖北省武汉市" for r in trips) and all(r[5] is not None and r[5] >= 0 for r in trips)
    stock = dump(a, ts.stock)
    assert all(r[3] >= 0 and r[4] > 0 for r in stock)

    a.tick(NOW + timedelta(seconds=1))
    changed = a.tick(NOW + timedelta(seconds=601))
    later = NOW + timedelta(seconds=601)
    with a.engine.connect() as c:
        new_trips = c.execute(select(func.count()).select_from(ts.travel)
                              .where(ts.travel.c.record_id > max(r[0] for r in trips))).scalar()
        recounted = c.execute(select(func.count()).select_from(ts.stock).where(ts.stock.c.updated_at == later)).scalar()
    assert changed > 0 and 1000 < new_trips < 2600      # ~3 a second
    assert recounted > 0 and len(dump(a, ts.stock)) == len(stock)   # same day: rows updated, none added


# ---------------------------------------------------------------- all of them
@pytest.mark.parametrize("sim_cls, sources, personal", [
    (FeverClinicSim, ("fc_clinics", "fc_visits"), {"负责人", "联系电话"}),
    (BulletinSim, ("sx_inflows",), {"tianbao_ren", "lianxi_dianhua"}),
    (TransportSupplySim, ("ts_points", "ts_travel"), {"traveller_ref"}),
    (HealthCommissionSim, ("hc_cases",), {"hzxm", "sfzh", "lxdh"}),
])
def test_personal_columns_exist_but_are_never_mapped(make_source_url, gaz, sim_cls, sources, personal):
    sim = sim_cls(make_source_url(sim_cls.__name__), gaz, seed=1, bad_share=0)
    sim.create()
    in_source = {c for t in inspect(sim.engine).get_table_names() for c in columns(sim, t)}
    assert personal <= in_source
    for name in sources:
        cols = mapped(name)
        assert cols <= in_source and not cols & personal, name


def test_stock_sources_select_only_mapped_columns():
    for name in ("ts_stock_masks", "ts_stock_veg"):
        assert "traveller_ref" not in CONFIG.source(name).query and mapped(name) == {
            "point_id", "item_code", "qty", "daily_use", "counted_at", "updated_at"}


def test_health_commission_restricted_to_henan(make_source_url, gaz):
    sim = HealthCommissionSim(make_source_url("hc"), gaz, seed=2, bad_share=0, provinces=("410000",))
    sim.create()
    sim.backfill(5, NOW)
    with sim.engine.connect() as c:
        codes = c.execute(text("SELECT xzdm FROM bl_report WHERE xzdm <> ''")).scalars().all()
    assert codes and {c[:2] for c in codes} == {"41"}


# ---------------------------------------------------------------- into the store
def test_every_demo_source_loads_into_the_store(store, make_source_url, gaz):
    """The shipped config maps the simulators' schemas: with no bad rows, nothing is quarantined,
    and what lands is in sitroom's terms (regions, buckets, GCJ-02, units, arrivals counted)."""
    from loaders.poller import SourcePoller
    from sitroom.geo import wgs84_to_gcj02
    from sitroom.store.models import CaseDaily, Clinic, ClinicVisit, Inflow, Quarantine, SupplyPoint, SupplyStock

    _, sessions = store
    sims = {"bulletin": make(BulletinSim, make_source_url, gaz), "fever": make(FeverClinicSim, make_source_url, gaz),
            "transport": make(TransportSupplySim, make_source_url, gaz, backfill_travel_per_day=1000),
            "feed": make(ProvincialFeedSim, make_source_url, gaz)}
    for sim in sims.values():
        sim.backfill(2, NOW)
    url = {"sx": sims["bulletin"], "fc": sims["fever"], "ts": sims["transport"], "pr": sims["feed"]}
    srcs = [s.model_copy(update={"url": url[s.name[:2]].engine.url.render_as_string(hide_password=False)})
            for s in CONFIG.sources.sources if s.name[:2] in url]
    cfg = CONFIG.sources.model_copy(update={"sources": srcs})
    results = {}
    for s in srcs:
        poller = SourcePoller(s, sessions, gaz, cfg)
        results[s.name] = poller.poll(now=NOW + timedelta(seconds=1), force=True)
        poller.close()
    assert all(r.error is None and r.quarantined == 0 and r.read > 0 for r in results.values()), results

    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Quarantine)) == 0
        buckets = s.execute(select(CaseDaily.bucket, CaseDaily.region, CaseDaily.prefecture)
                            .where(CaseDaily.bucket.is_not(None))).all()
        assert {b for b, _, _ in buckets} == {"outside", "undetermined"}
        assert {(r, p) for _, r, p in buckets} == {("610000", None)}
        assert {r for r, in s.execute(select(CaseDaily.prefecture).where(CaseDaily.bucket.is_(None)))} == \
            {p.adcode for p in gaz.prefectures("610000")}
        clinic = s.execute(select(Clinic).where(Clinic.source_key == "FR41010201")).scalar_one()
        raw = next(r for r in dump(sims["fever"], fc.clinics) if r[0] == "FR41010201")
        assert (clinic.lon, clinic.lat) == pytest.approx(wgs84_to_gcj02(float(raw[3]), float(raw[4])), abs=1e-6)
        assert s.scalar(select(func.count()).select_from(ClinicVisit)) == len(dump(sims["fever"], fc.visits))
        kinds = {k for k, in s.execute(select(SupplyPoint.kind))}
        assert kinds == {"mask_pharmacy", "veg_outlet", "med_warehouse"}
        n95 = s.execute(select(SupplyStock).where(SupplyStock.item == "n95").limit(1)).scalar_one()
        raw_qty = next(r[3] for r in dump(sims["transport"], ts.stock)
                       if r[1] == n95.point and r[2] == "N95" and r[5] == n95.at)
        assert n95.stock == pytest.approx(raw_qty * 10000)               # 万只 -> pieces
        veg = s.execute(select(SupplyStock).where(SupplyStock.item == "vegetables").limit(1)).scalar_one()
        assert veg.stock == pytest.approx(next(r[3] for r in dump(sims["transport"], ts.stock)
                                               if r[1] == veg.point and r[2] == "VEG" and r[5] == veg.at))
        by_source = dict(s.execute(select(Inflow.source, func.sum(Inflow.count)).group_by(Inflow.source)).all())
        assert by_source["ts_travel"] == len(dump(sims["transport"], ts.travel))   # every record counted once
        assert by_source["sx_inflows"] == sum(r[4] for r in dump(sims["bulletin"], bt.inflows))
        assert s.scalar(select(func.count()).select_from(Inflow).where(
            Inflow.source == "ts_travel", Inflow.origin == "湖北省武汉市", Inflow.stayed.is_(False))) > 0
