"""Every source kind, from a source database in another department's style into the store."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from loaders.poller import Overtaken, PollResult, SourcePoller
from sitroom.geo import wgs84_to_gcj02
from sitroom.store.models import (CaseDaily, Clinic, ClinicVisit, Inflow, Quarantine, SupplyPoint, SupplyStock,
                                  TravelSeen)

from feed_sources import NOW, FeedSource, sources_config, ts

@pytest.fixture
def feeds(store, make_source_url, gaz):
    _, sessions = store
    src = FeedSource(make_source_url("feeds"))
    cfg = sources_config(src.url)
    pollers = {s.name: SourcePoller(s, sessions, gaz, cfg) for s in cfg.sources}

    def poll(name):
        return pollers[name].poll(now=NOW, force=True)
    yield src, sessions, poll, pollers
    for p in pollers.values():
        p.close()
    src.close()


def rows(sessions, model):
    with sessions() as s:
        return list(s.scalars(select(model).order_by(model.source_key)))


def test_case_aggregates_keep_buckets_and_corrections_as_reported(feeds):
    src, sessions, poll, _ = feeds
    src.put("agg",
            {"diqu": "西安", "riqi": "2026-11-21", "ljqz": "10", "ljzy": "1", "gxsj": ts(60)},
            {"diqu": "610100", "riqi": "2026-11-22", "ljqz": "9", "ljzy": "2", "gxsj": ts(50)},   # a correction
            {"diqu": "外省输入", "riqi": "2026-11-22", "ljqz": "4", "ljzy": None, "gxsj": ts(40)},
            {"diqu": "待确认", "riqi": "20261122", "ljqz": "1,204", "ljzy": "0", "gxsj": ts(30)})
    r = poll("agg")
    assert (r.read, r.inserted, r.quarantined, r.error) == (4, 4, 0, None)
    got = {(c.region, c.bucket, str(c.day)): (c.confirmed, c.cured, c.prefecture, c.province, c.counting)
           for c in rows(sessions, CaseDaily)}
    assert got == {
        ("610100", None, "2026-11-21"): (10, 1, "610100", "610000", "cumulative"),
        ("610100", None, "2026-11-22"): (9, 2, "610100", "610000", "cumulative"),   # stored as reported
        ("610000", "outside", "2026-11-22"): (4, None, None, "610000", "cumulative"),
        ("610000", "undetermined", "2026-11-22"): (1204, 0, None, "610000", "cumulative"),
    }
    # The same region and day under its code and its name is one row, updated in place.
    src.put("agg", {"diqu": "西安市", "riqi": "2026-11-22", "ljqz": "11", "ljzy": "2", "gxsj": ts(20)})
    r = poll("agg")
    assert (r.inserted, r.updated, r.quarantined) == (0, 1, 0)
    assert [c.confirmed for c in rows(sessions, CaseDaily) if str(c.day) == "2026-11-22" and not c.bucket] == [11]


def test_clinics_in_wgs84_are_stored_in_the_maps_datum_with_their_visits(feeds):
    src, sessions, poll, _ = feeds
    src.put("clinic", {"id": "C1", "mc": "郑州市第一人民医院发热门诊", "dz": "郑州市中原区", "jd": "113.64",
                       "wd": "34.75", "qh": "410102", "zt": "开放", "nl": "200", "gxsj": ts(30)})
    src.put("visit", {"mzid": "C1", "sd": ts(120), "rc": "35", "fr": "12", "zz": "2", "gxsj": ts(10)},
            {"mzid": "C1", "sd": ts(60), "rc": "41", "fr": "15", "zz": None, "gxsj": ts(5)})
    assert poll("clinic").inserted == 1 and poll("visit").inserted == 2
    (c,) = rows(sessions, Clinic)
    lon, lat = wgs84_to_gcj02(113.64, 34.75)
    assert (round(c.lon, 5), round(c.lat, 5)) == (round(lon, 5), round(lat, 5))
    assert abs(c.lon - 113.64) > 0.004          # the few-hundred-metre offset was applied
    assert (c.status, c.capacity, c.prefecture) == ("open", 200, "410100")
    visits = rows(sessions, ClinicVisit)
    assert [(v.clinic_source, v.clinic, v.visits, v.fever, v.referred) for v in visits] == \
        [("clinic", "C1", 35, 12, 2), ("clinic", "C1", 41, 15, None)]
    assert visits[0].at == NOW - timedelta(minutes=120)


def test_supply_stock_in_source_units_becomes_sitrooms_units(feeds):
    src, sessions, poll, _ = feeds
    src.put("point", {"pid": "P1", "pname": "大药房(二七店)", "cat": "MASK", "lng": "113.63", "lat": "34.72",
                      "county": "410103", "open": "1", "updated": ts(30)})
    src.put("stock", {"pid": "P1", "item": "N95", "qty": "1.5", "use_per_day": "0.3", "counted": ts(40),
                      "updated": ts(20)})
    assert poll("point").inserted == 1 and poll("stock").inserted == 1
    (p,) = rows(sessions, SupplyPoint)
    assert (p.kind, p.status, p.lon, p.prefecture) == ("mask_pharmacy", "open", 113.63, "410100")
    (st,) = rows(sessions, SupplyStock)
    assert (st.point_source, st.point, st.item, st.stock, st.daily_consumption, st.day) == \
        ("point", "P1", "n95", 15000, 3000, date(2026, 11, 23))


def test_inflow_counts_by_origin_destination_day_and_mode(feeds):
    src, sessions, poll, _ = feeds
    src.put("flow", {"day": "2026-11-22", "origin": "湖北省武汉市", "dest": "郑州", "mode": "铁路", "n": "120",
                     "updated": ts(30)},
            {"day": "2026-11-22", "origin": "湖北省武汉市", "dest": "郑州", "mode": "民航", "n": "30",
             "updated": ts(30)})
    assert poll("flow").inserted == 2
    assert sorted((i.origin, i.region, i.mode, i.count, i.stayed) for i in rows(sessions, Inflow)) == \
        [("湖北省武汉市", "410100", "air", 30, None), ("湖北省武汉市", "410100", "rail", 120, None)]


def test_travel_records_are_counted_once_and_never_stored(feeds, store):
    src, sessions, poll, pollers = feeds
    trips = [{"rid": f"R{i}", "person": f"P{i % 3}", "origin": "湖北省武汉市", "dest": "410105",
              "arrived": ts(300 + i), "minutes": str(60 + 60 * (i % 3)), "mode": "R", "updated": ts(2 + i / 60)}
             for i in range(9)]
    src.put("trip", *trips)
    assert poll("trip").inserted == 9
    # Re-reads (the overlap window, a restart) count nothing twice.
    assert poll("trip").inserted == 0
    pollers["trip"].close()
    assert poll("trip").inserted == 0
    counts = {(i.stayed, i.mode): i.count for i in rows(sessions, Inflow)}
    assert counts == {(False, "rail"): 3, (True, "rail"): 6}   # 60 min passes through; 120 and 180 stayed
    # Nothing person-level: the ledger holds 8-byte digests only.
    assert ledger(sessions).count(b"R1") == 0 and len(ledger(sessions)) == 9 * 8
    # A record the source touches again (a correction, hours later) is not counted again.
    src.put("trip", {**trips[0], "minutes": "600", "updated": ts(-180)}, replace_key="rid")
    assert poll("trip").inserted == 0
    # Digests are forgotten `remember_days` (1 here) behind the cursor.
    src.put("trip", {"rid": "R99", "person": "P9", "origin": "北京市", "dest": "410105", "arrived": ts(1),
                     "minutes": "10", "mode": "A", "updated": ts(-60 * 30)})
    assert poll("trip").inserted == 1
    assert len(ledger(sessions)) == 8


def ledger(sessions) -> bytes:
    with sessions() as s:
        return b"".join(s.scalars(select(TravelSeen.digests)))


def test_a_second_loader_process_does_not_count_a_batch_twice(feeds, store, gaz):
    """Two pollers of one source (two loader processes): the one whose cursor is stale stops."""
    src, sessions, _, _ = feeds
    cfg = sources_config(src.url)
    trip = next(s for s in cfg.sources if s.name == "trip")
    a, b = SourcePoller(trip, sessions, gaz, cfg), SourcePoller(trip, sessions, gaz, cfg)
    row = {"rid": "R1", "origin": "北京市", "dest": "410105", "arrived": ts(60), "minutes": "300", "mode": "R",
           "updated": ts(1)}
    src.put("trip", {**row, "person": "P1"})
    try:
        assert a.poll(now=NOW, force=True).inserted == 1
        # b read the cursor before a committed, and now writes the same batch.
        b._expect = None
        with pytest.raises(Overtaken):
            b._store_batch([row], (row["updated"], "R1"), PollResult("trip"))
        assert b.poll(now=NOW, force=True).inserted == 0     # a fresh poll reads the new cursor
    finally:
        a.close()
        b.close()
    assert sum(i.count for i in rows(sessions, Inflow)) == 1


def test_a_query_source_is_polled_like_a_table(feeds, store, gaz):
    src, sessions, _, _ = feeds
    _, sessions = store
    cfg = sources_config(src.url)
    flow = next(s for s in cfg.sources if s.name == "flow")
    q = flow.model_copy(update={"table": None, "name": "flow_q",
                                "query": "SELECT day, origin, dest, mode, n, updated FROM flow WHERE mode != '公路'"})
    src.put("flow", {"day": "2026-11-22", "origin": "北京市", "dest": "洛阳", "mode": "公路", "n": "7", "updated": ts(9)},
            {"day": "2026-11-22", "origin": "北京市", "dest": "洛阳", "mode": "铁路", "n": "8", "updated": ts(9)})
    p = SourcePoller(q, sessions, gaz, cfg)
    try:
        r = p.poll(now=NOW, force=True)
    finally:
        p.close()
    assert (r.read, r.inserted, r.error) == (1, 1, None)
    assert [(i.mode, i.count) for i in rows(sessions, Inflow)] == [("rail", 8)]


def test_keyless_source_with_many_rows_at_one_time_stamp_loses_none(feeds):
    src, sessions, poll, _ = feeds
    days = [(date(2026, 7, 1) + timedelta(days=i)).isoformat() for i in range(120)]
    src.put("flow", *({"day": d, "origin": "北京市", "dest": "开封", "mode": "铁路", "n": str(i), "updated": ts(5)}
                      for i, d in enumerate(days)))   # batch_size is 50: the time stamp spans batches
    r = poll("flow")
    assert (r.read, r.inserted) == (120, 120)
    with sessions() as s:
        assert s.scalar(select(func.sum(Inflow.count))) == sum(range(120))
    assert not rows(sessions, Quarantine)
