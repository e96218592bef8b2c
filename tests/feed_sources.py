"""A test source database with one table per source kind, each in its own department's style,
and the sources.yaml entries that map it. Shared by the feed, bad-value and property tests."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from sitroom.config import SourcesConfig
from sitroom.store import make_engine

NOW = datetime(2026, 11, 23, 4, 0)     # UTC; 12:00 in Beijing


def ts(minutes_ago: float) -> str:
    """A source's local time text, `minutes_ago` before NOW."""
    return (NOW + timedelta(hours=8) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M:%S")


TABLES = {
    "cases": "CREATE TABLE cases (kh TEXT UNIQUE, zt TEXT, qx TEXT, bgsj TEXT, gxsj TEXT)",
    "agg": "CREATE TABLE agg (diqu TEXT, riqi TEXT, ljqz TEXT, ljzy TEXT, gxsj TEXT)",
    "clinic": "CREATE TABLE clinic (id TEXT UNIQUE, mc TEXT, dz TEXT, jd TEXT, wd TEXT, qh TEXT, zt TEXT,"
              " nl TEXT, gxsj TEXT)",
    "visit": "CREATE TABLE visit (mzid TEXT, sd TEXT, rc TEXT, fr TEXT, zz TEXT, gxsj TEXT)",
    "point": "CREATE TABLE point (pid TEXT UNIQUE, pname TEXT, cat TEXT, lng TEXT, lat TEXT, county TEXT,"
             " open TEXT, updated TEXT)",
    "stock": "CREATE TABLE stock (pid TEXT, item TEXT, qty TEXT, use_per_day TEXT, counted TEXT, updated TEXT)",
    "flow": "CREATE TABLE flow (day TEXT, origin TEXT, dest TEXT, mode TEXT, n TEXT, updated TEXT)",
    "trip": "CREATE TABLE trip (rid TEXT UNIQUE, person TEXT, origin TEXT, dest TEXT, arrived TEXT,"
            " minutes TEXT, mode TEXT, updated TEXT)",
}


def sources_config(url: str) -> SourcesConfig:
    return SourcesConfig.model_validate(sources_dict(url))


def sources_dict(url: str) -> dict:
    """sources.yaml as parsed YAML."""
    common = {"url": url, "poll_seconds": 1, "overlap_seconds": 30, "batch_size": 50}
    return {
        "supply_kinds": {"mask_pharmacy": {"zh": "口罩定点药店", "en": "Mask pharmacy"},
                         "warehouse": {"zh": "医疗物资仓库", "en": "Medical warehouse"}},
        "supply_items": {"n95": {"title": {"zh": "N95口罩", "en": "N95 masks"}, "unit": {"zh": "只", "en": "pcs"}}},
        "sources": [
            {**common, "name": "cases", "title": {"zh": "个案", "en": "Cases"}, "kind": "case_line_list",
             "table": "cases",
             "columns": {"source_key": "kh", "updated_at": "gxsj", "reported_at": "bgsj", "status": "zt",
                         "region_code": "qx"},
             "values": {"status": {"确诊": "confirmed", "疑似": "suspected", "治愈": "cured"}}},
            {**common, "name": "agg", "title": {"zh": "通报", "en": "Bulletin"}, "kind": "case_aggregate",
             "table": "agg", "counting": "cumulative",
             "columns": {"updated_at": "gxsj", "day": "riqi", "region_name": "diqu", "confirmed": "ljqz",
                         "cured": "ljzy"},
             "buckets": {"外省输入": {"province": "610000", "bucket": "outside"},
                         "待确认": {"province": "610000", "bucket": "undetermined"}}},
            {**common, "name": "clinic", "title": {"zh": "发热门诊", "en": "Clinics"}, "kind": "clinic_registry",
             "table": "clinic", "datum": "wgs84",
             "columns": {"source_key": "id", "updated_at": "gxsj", "name": "mc", "address": "dz", "lon": "jd",
                         "lat": "wd", "region_code": "qh", "status": "zt", "capacity": "nl"},
             "values": {"status": {"开放": "open", "暂停": "suspended", "关闭": "closed"}}},
            {**common, "name": "visit", "title": {"zh": "就诊", "en": "Visits"}, "kind": "clinic_visits",
             "table": "visit", "registry": "clinic",
             "columns": {"updated_at": "gxsj", "clinic": "mzid", "at": "sd", "visits": "rc", "fever": "fr",
                         "referred": "zz"}},
            {**common, "name": "point", "title": {"zh": "保供点", "en": "Supply points"}, "kind": "supply_points",
             "table": "point", "datum": "gcj02",
             "columns": {"source_key": "pid", "updated_at": "updated", "name": "pname", "kind": "cat",
                         "lon": "lng", "lat": "lat", "region_code": "county", "status": "open"},
             "values": {"kind": {"MASK": "mask_pharmacy", "WH": "warehouse"}, "status": {"1": "open", "0": "closed"}}},
            {**common, "name": "stock", "title": {"zh": "库存", "en": "Stock"}, "kind": "supply_stock",
             "table": "stock", "points": "point", "units": {"stock": 10000, "daily_consumption": 10000},
             "columns": {"updated_at": "updated", "point": "pid", "item": "item", "stock": "qty",
                         "daily_consumption": "use_per_day", "at": "counted"},
             "values": {"item": {"N95": "n95"}}},
            {**common, "name": "flow", "title": {"zh": "客流", "en": "Arrivals"}, "kind": "inflow_counts",
             "table": "flow",
             "columns": {"updated_at": "updated", "day": "day", "origin": "origin", "region_name": "dest",
                         "mode": "mode", "count": "n"},
             "values": {"mode": {"铁路": "rail", "民航": "air", "公路": "road"}}},
            {**common, "name": "trip", "title": {"zh": "行程", "en": "Trips"}, "kind": "travel_records",
             "table": "trip", "units": {"stay": "minutes"}, "min_stay_hours": 2, "remember_days": 1,
             "columns": {"source_key": "rid", "updated_at": "updated", "origin": "origin", "region_code": "dest",
                         "arrived_at": "arrived", "stay": "minutes", "mode": "mode"},
             "values": {"mode": {"R": "rail", "A": "air", "D": "road"}}},
        ]}


class FeedSource:
    """The source database: create its tables, write rows as the departments would."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        with self.engine.begin() as c:
            for ddl in TABLES.values():
                c.execute(text(ddl))

    def put(self, table: str, *rows: dict, replace_key: str | None = None) -> None:
        with self.engine.begin() as c:
            for row in rows:
                if replace_key:
                    c.execute(text(f"DELETE FROM {table} WHERE {replace_key} = :k"), {"k": row[replace_key]})
                cols = ", ".join(row)
                c.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + k for k in row)})"), row)

    def sql(self, statement: str, **params) -> None:
        with self.engine.begin() as c:
            c.execute(text(statement), params)

    def close(self) -> None:
        self.engine.dispose()
