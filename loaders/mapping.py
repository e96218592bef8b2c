"""Turn one source row (only the mapped columns) into a case fact, or every reason it is bad."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sitroom.config import CASE_STATUSES, SourceConfig
from sitroom.regions import Gazetteer, RegionError

from .timeparse import to_utc

EARLIEST = datetime(2019, 12, 1)      # no report of this disease can predate it
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of other departments drift


@dataclass(frozen=True)
class CaseFact:
    source_key: str
    status: str
    region: str
    prefecture: str
    province: str
    reported_at: datetime
    source_updated_at: datetime


class CaseMapper:
    def __init__(self, src: SourceConfig, gazetteer: Gazetteer):
        self.src = src
        self.cols = src.columns
        self.gaz = gazetteer
        self.tz = ZoneInfo(src.timezone)

    @property
    def selected_columns(self) -> list[str]:
        """The only source columns sitroom ever reads (personal columns are never selected)."""
        c = self.cols
        wanted = [c.source_key, c.updated_at, c.reported_at, c.status, c.region_code, c.region_name]
        return list(dict.fromkeys(w for w in wanted if w))

    def key_of(self, raw: dict) -> str | None:
        key = raw.get(self.cols.source_key)
        return None if key is None or str(key).strip() == "" else str(key).strip()

    def map(self, raw: dict, now: datetime) -> tuple[CaseFact | None, list[str]]:
        c = self.cols
        reasons: list[str] = []
        key = self.key_of(raw)
        if key is None:
            reasons.append(f"missing key (column {c.source_key})")
        updated = self._time(raw, c.updated_at, "update time", reasons)
        reported = self._time(raw, c.reported_at, "report time", reasons)
        if reported is not None:
            if reported > now + FUTURE_TOLERANCE:
                reasons.append(f"report time {reported:%Y-%m-%d %H:%M} UTC is in the future (column {c.reported_at})")
            elif reported < EARLIEST:
                reasons.append(f"report time {reported:%Y-%m-%d} is before {EARLIEST:%Y-%m-%d} (column {c.reported_at})")
        status_raw = raw.get(c.status)
        words = self.src.values.get("status", {})
        raw_word = str(status_raw).strip() if status_raw is not None else None
        status = words.get(raw_word, raw_word if raw_word in CASE_STATUSES else None)
        if status is None:
            allowed = ", ".join(words)
            reasons.append(f"unknown status {status_raw!r} (column {c.status}); expected one of {allowed}")
        region = self._region(raw, reasons)
        if reasons:
            return None, reasons
        pref = self.gaz.prefecture_of(region)
        return CaseFact(key, status, region, pref, self.gaz.province_of(region), reported, updated), []

    def _time(self, raw: dict, col: str, what: str, reasons: list[str]) -> datetime | None:
        value = raw.get(col)
        if value is None or (isinstance(value, str) and not value.strip()):
            reasons.append(f"missing {what} (column {col})")
            return None
        try:
            return to_utc(value, self.tz)
        except (ValueError, TypeError, OverflowError):
            reasons.append(f"unreadable {what} {value!r} (column {col})")
            return None

    def _region(self, raw: dict, reasons: list[str]) -> str | None:
        """Code column first, then the place name; a province alone is not a place for a case."""
        tried: list[str] = []
        for col in (self.cols.region_code, self.cols.region_name):
            value = raw.get(col) if col else None
            if value is None or str(value).strip() == "":
                continue
            try:
                code = self.gaz.resolve(value)
            except RegionError as e:
                tried.append(f"{e} (column {col})")
                continue
            if self.gaz.get(code).level == "province":
                tried.append(f"region {value!r} is a whole province, not a prefecture or county (column {col})")
                continue
            return code
        if not tried:
            cols = " / ".join(c for c in (self.cols.region_code, self.cols.region_name) if c)
            tried.append(f"missing region (column {cols})")
        reasons.extend(tried)
        return None
