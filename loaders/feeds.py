"""What each source kind stores: its table, the key of a row, and the store row built from mapped values."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sitroom.config.sources import CASE_STATUSES
from sitroom.store.models import (CaseDaily, CaseReport, Clinic, ClinicVisit, Inflow, SupplyPoint,
                                  SupplyStock)

from .mapping import local_day_of


@dataclass(frozen=True)
class Feed:
    model: type
    row: Callable[[object, dict], dict]            # (source config, mapped values) -> store columns
    natural_key: Callable[[dict], str] | None = None  # for kinds whose source has no key column


def _pick(*names: str) -> Callable[[object, dict], dict]:
    return lambda src, v: {n: v.get(n) for n in names}


def _updated(row_fn):
    def row(src, v):
        return {**row_fn(src, v), "source_updated_at": v["updated_at"], "source_version": v.get("version")}
    return row


def _aggregate_key(v: dict) -> str | None:
    if v.get("region") is None or v.get("day") is None:
        return None
    bucket = (':' + v['bucket'] + (':' + v['label'] if v.get('label') else '')) if v.get('bucket') else ''
    return f"{v['region']}{bucket}|{v['day']}"


def _key(*names: str, optional: tuple[str, ...] = ()) -> Callable[[dict], str | None]:
    """Natural key: the named values joined by |; None while a required one is missing."""
    def key(v: dict) -> str | None:
        if any(v.get(n) is None for n in names if n not in optional):
            return None
        return "|".join(_text(v.get(n)) for n in names)
    return key


def _text(x) -> str:
    return "" if x is None else x.isoformat() if hasattr(x, "isoformat") else str(x)


FEEDS: dict[str, Feed] = {
    "case_line_list": Feed(CaseReport, _updated(_pick("status", "region", "prefecture", "province", "reported_at",
                                                      "imported_from"))),
    "case_aggregate": Feed(CaseDaily, _updated(lambda src, v: {
        **{n: v.get(n) for n in ("region", "bucket", "prefecture", "province", "day", *CASE_STATUSES, "label",
                                 "note")},
        # a county beside its prefecture, in a feed whose prefecture figures include their counties
        "in_parent": False if src.counties == "included" and v.get("prefecture") not in (None, v.get("region"))
        else None,
        "counting": src.counting}), _aggregate_key),
    "clinic_registry": Feed(Clinic, _updated(_pick("name", "address", "lon", "lat", "region", "prefecture",
                                                   "province", "status", "capacity"))),
    "clinic_visits": Feed(ClinicVisit, _updated(lambda src, v: {
        "clinic_source": src.registry, **{n: v.get(n) for n in ("clinic", "at", "visits", "fever", "referred")}}),
        _key("clinic", "at")),
    "supply_points": Feed(SupplyPoint, _updated(_pick("name", "kind", "lon", "lat", "region", "prefecture",
                                                      "province", "status"))),
    "supply_stock": Feed(SupplyStock, _updated(lambda src, v: {
        "point_source": src.points, "point": v["point"], "item": v["item"], "at": v["at"],
        "day": local_day_of(v["at"], _tz(src)), "stock": v["stock"], "daily_consumption": v["daily_consumption"]}),
        _key("point", "item", "at")),
    "inflow_counts": Feed(Inflow, _updated(lambda src, v: {
        **{n: v.get(n) for n in ("day", "origin", "region", "prefecture", "province", "mode", "count")},
        "stayed": None}), _key("day", "origin", "region", "mode", optional=("mode",))),
    "travel_records": Feed(Inflow, lambda src, v: {}),   # counted into inflows by loaders/travel.py
}


def _tz(src):
    from zoneinfo import ZoneInfo
    return ZoneInfo(src.timezone)
