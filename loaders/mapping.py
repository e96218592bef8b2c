"""One source row (only its mapped columns) -> the store row of its kind, or every reason it is bad.

Each source kind lists its fields and their types (FIELDS). The mapper reads each
field from the column the config maps it to, collects every problem at once, and
builds the store row: places resolved to region codes, words mapped to sitroom's,
quantities scaled to sitroom's units, locations converted to GCJ-02.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sitroom.config.sources import CASE_STATUSES, SourcesConfig
from sitroom.geo import to_gcj02
from sitroom.regions import Gazetteer, RegionError

from . import fields as fp
from .limits import int_limit, store_key, text_limit
from .places import known_prefix, region_part


@dataclass(frozen=True)
class Field:
    name: str            # sitroom's field, the key in the source's `columns`
    type: str            # key | updated | time | day | text | word | count | quantity | duration | lon | lat | region
    required: bool = True
    what: str = ""       # how messages call it


F = Field
FIELDS: dict[str, tuple[Field, ...]] = {
    "case_line_list": (F("source_key", "key"), F("updated_at", "updated"), F("reported_at", "time", what="report time"),
                       F("status", "word"), F("region", "region"), F("imported_from", "text", False)),
    "case_aggregate": (F("updated_at", "updated"), F("day", "day"), F("region", "region"),
                       *(F(m, "count", False) for m in CASE_STATUSES)),
    "clinic_registry": (F("source_key", "key"), F("updated_at", "updated"), F("name", "text"),
                        F("address", "text", False), F("lon", "lon"), F("lat", "lat"), F("region", "region"),
                        F("status", "word", False), F("capacity", "count", False)),
    "clinic_visits": (F("updated_at", "updated"), F("clinic", "key"), F("at", "time", what="period start"),
                      F("visits", "count"), F("fever", "count", False), F("referred", "count", False)),
    "supply_points": (F("source_key", "key"), F("updated_at", "updated"), F("name", "text"), F("kind", "word"),
                      F("lon", "lon"), F("lat", "lat"), F("region", "region"), F("status", "word", False)),
    "supply_stock": (F("updated_at", "updated"), F("point", "key"), F("item", "word"), F("stock", "quantity"),
                     F("daily_consumption", "quantity"), F("at", "time", what="count time")),
    "inflow_counts": (F("updated_at", "updated"), F("day", "day"), F("origin", "text"), F("region", "region"),
                      F("mode", "word", False), F("count", "count")),
    "travel_records": (F("source_key", "key"), F("updated_at", "updated"), F("origin", "text"), F("region", "region"),
                       F("arrived_at", "time", what="arrival time"), F("stay", "duration"), F("mode", "word", False)),
}
TEXT_LIMIT = 300   # a text field the store does not keep as such (none today) is still bounded
DEFAULTS = {"status": "open"}   # a registry without a status column lists open places
# One row per person: a bad row is kept in quarantine with only the columns that were wrong, and a
# free-text place in it only up to the regions it names (a case's place may be the home address).
PERSON_LEVEL = {"case_line_list", "travel_records"}
DIGESTED_KEYS = {"travel_records"}  # the record's id is not kept, only its digest
PLACES = ("region_code", "region_name", "origin", "imported_from")   # fields that hold a place
LOCATED = {"clinic_registry", "supply_points"}


class RowMapper:
    def __init__(self, src, gazetteer: Gazetteer, sources: SourcesConfig | None = None):
        self.src = src
        self.kind = src.kind
        self.gaz = gazetteer
        self.tz = ZoneInfo(src.timezone)
        from .feeds import FEEDS   # here, not at the top: feeds imports this module
        self.model = FEEDS[self.kind].model   # the store table whose columns bound the values' lengths
        self.cols = src.columns.mapped()
        self.fields = [f for f in FIELDS[self.kind] if f.type == "region" or f.name in self.cols]
        self.words = self._words(sources)
        self._places: dict[tuple, tuple] = {}   # raw place -> its resolution or reason: sources repeat places
        self._readers = [(f, self.cols.get(f.name), None if f.type == "region" else self._parser(f))
                         for f in self.fields]
        self._cursor_parse = next(p for f, _, p in self._readers if f.name == "updated_at")
        self._day_of: tuple[datetime, date] | None = None
        self._region_cols = [c for c in (self.cols.get("region_code"), self.cols.get("region_name")) if c]
        self._place_cols = {self.cols[f] for f in PLACES if f in self.cols}
        self._address_col = self.cols.get("region_name") if self.kind in PERSON_LEVEL else None

    def _words(self, sources: SourcesConfig | None) -> dict[str, tuple[dict, tuple]]:
        """field -> (raw -> sitroom word, the words allowed)."""
        allowed = dict(self.src.VALUE_FIELDS)
        if sources is not None:
            allowed.update({"kind": tuple(sources.supply_kinds), "item": tuple(sources.supply_items)} if
                           self.kind in ("supply_points", "supply_stock") else {})
            if self.kind == "supply_stock":
                allowed.pop("kind", None)
            if self.kind == "supply_points":
                allowed.pop("item", None)
        return {f: (self.src.values.get(f, {}), words) for f, words in allowed.items()}

    @property
    def selected_columns(self) -> list[str]:
        """The only source columns sitroom ever reads (personal columns are never selected)."""
        return list(dict.fromkeys(self.cols.values()))

    def for_quarantine(self, raw: dict, reasons: list[str], bad: set[str]) -> tuple[dict, list[str]]:
        """What quarantine keeps of a bad row: all of it, or for a person's row only the wrong columns,
        a place cut to the regions it names (in the reasons too)."""
        if self.kind not in PERSON_LEVEL:
            return raw, reasons
        kept = {c: v for c, v in raw.items() if c in bad}
        for c in self._place_cols & kept.keys():
            v = kept[c]
            if isinstance(v, str) and v.strip():
                name, shown = v.strip(), region_part(v, self.gaz)
                kept[c] = shown
                if shown != name:
                    reasons = [r.replace(repr(name), repr(shown)).replace(name, shown) for r in reasons]
        return kept, reasons

    def cursor_time(self, raw: dict, now: datetime) -> datetime | None:
        """The row's update time if it may move the cursor (readable, not too far ahead), else None."""
        v = raw.get(self.cols["updated_at"])
        if fp.blank(v):
            return None
        try:
            return self._cursor_parse(v, now, None)
        except fp.Bad:
            return None

    def key_of(self, raw: dict) -> str | None:
        col = self.cols.get("source_key")
        if col is None:
            return None
        key = raw.get(col)
        return None if fp.blank(key) else str(key).strip()

    # ---------------------------------------------------------------- one row
    def map(self, raw: dict, now: datetime) -> tuple[dict, list[str], set[str]]:
        """(sitroom's values, every reason the row is bad, the columns at fault).

        The values are partial when there are reasons (enough to identify the row)."""
        values: dict = {}
        reasons: list[str] = []
        bad: set[str] = set()
        if self._day_of is None or self._day_of[0] != now:
            self._day_of = (now, now.replace(tzinfo=timezone.utc).astimezone(self.tz).date())
        today = self._day_of[1]
        for f, col, parse in self._readers:
            if parse is None:
                self._region(raw, values, reasons, bad)
                continue
            v = raw.get(col)
            if v is None or (v.__class__ is str and not v.strip()):
                if f.required:
                    reasons.append(f"missing {f.what or _words(f.name)} (column {col})")
                    bad.add(col)
                continue
            try:
                values[f.name] = parse(v, now, today)
            except fp.Bad as e:
                reasons.append(f"{_what(f, e)} (column {col}){self._expected(f)}")
                bad.add(col)
        if not reasons:
            self._finish(values, reasons, bad)
        return values, reasons, bad

    def _parser(self, f: Field):
        """A function (value, now, local today) -> the field's value, made once per field."""
        t, tz = f.type, self.tz
        ahead = timedelta(seconds=self.src.future_tolerance_seconds)
        if t == "key":   # any length: a key the store cannot hold whole is kept as its digest
            return lambda v, now, today: store_key(fp.text(v, None))
        if t == "updated":
            return lambda v, now, today: fp.time_utc(v, tz, now, ahead, earliest=None)
        if t == "time":
            return lambda v, now, today: fp.time_utc(v, tz, now, ahead)
        if t == "day":
            return lambda v, now, today: fp.local_day(v, tz, today)
        if t == "text":
            limit = text_limit(self.model, f.name) or TEXT_LIMIT
            return lambda v, now, today: fp.text(v, limit)
        if t == "word":
            mapping, allowed = self.words[f.name]
            name = f.name

            def word(v, now, today):
                raw = fp.text(v, 100)
                w = mapping.get(raw, raw if raw in allowed else None)
                if w is None:
                    raise fp.Bad(f"unknown {name} {raw!r}")
                return w
            return word
        factor = self.src.factor(f.name)
        if t == "count":
            maximum = int_limit(self.model, f.name)
            return lambda v, now, today: fp.count(v, factor, maximum)
        if t in ("quantity", "duration"):
            return lambda v, now, today: fp.quantity(v, factor)
        if t == "lon":
            return lambda v, now, today: fp.coordinate(v, -180, 180)
        if t == "lat":
            return lambda v, now, today: fp.coordinate(v, -90, 90)
        raise AssertionError(t)

    def _expected(self, f: Field) -> str:
        if f.type != "word":
            return ""
        mapping, allowed = self.words[f.name]
        return f"; expected one of {', '.join(mapping or allowed)}"

    def _region(self, raw: dict, values: dict, reasons: list[str], bad: set[str]) -> None:
        """Code column first, then the place name. A province alone is a place only as a bucket."""
        tried: list[str] = []
        cols = self._region_cols
        for col in cols:
            v = raw.get(col)
            if v is None or (v.__class__ is str and not v.strip()):
                continue
            cache_key = (col, v)
            hit = self._places.get(cache_key)
            if hit is None:
                hit = self._places[cache_key] = self._place(v, col)
                if len(self._places) > 50_000:
                    self._places.clear()
            code, bucket, reason, prefecture, province = hit
            if code:
                values["region"], values["bucket"] = code, bucket
                values["prefecture"], values["province"] = prefecture, province
                return
            tried.append(reason)
        if not tried:
            tried.append(f"missing region (column {' / '.join(cols)})")
        reasons.extend(tried)
        bad.update(cols)

    def _place(self, v, col: str) -> tuple:
        """(code, bucket, reason, prefecture, province) for a raw place."""
        buckets = getattr(self.src, "buckets", {})
        try:
            name = fp.text(v, 100)
        except fp.Bad as e:
            return None, None, f"{e} (column {col})", None, None
        if name in buckets:
            b = buckets[name]
            return b.province, b.bucket, None, None, b.province
        try:
            code = self.gaz.resolve(name)
        except RegionError as e:
            hit = known_prefix(name, self.gaz) if col == self._address_col else None
            if hit is None:   # an address names its regions first: 郑州市金水区花园路12号 is in 金水区
                return None, None, f"{e} (column {col})", None, None
            code = hit[1]
        if self.gaz.get(code).level == "province":
            return None, None, f"region {name!r} is a whole province, not a prefecture or county (column {col})", \
                None, None
        return code, None, None, self.gaz.prefecture_of(code), self.gaz.province_of(code)

    def _finish(self, values: dict, reasons: list[str], bad: set[str]) -> None:
        """Checks across fields, and what follows from them."""
        if self.kind in LOCATED:
            lon, lat = to_gcj02(values["lon"], values["lat"], self.src.datum)
            if not self.gaz.contains(values["province"], lon, lat):
                where = f"{self.cols['lon']} / {self.cols['lat']}"
                reasons.append(f"location {values['lon']:g}, {values['lat']:g} ({self.src.datum}) is outside "
                               f"{self.gaz.get(values['province']).name} (column {where})")
                bad.update((self.cols["lon"], self.cols["lat"]))
            values["lon"], values["lat"] = round(lon, 6), round(lat, 6)
        for f, default in DEFAULTS.items():
            if f in self.words and values.get(f) is None:
                values[f] = default


NAMES = {"source_key": "key", "updated_at": "update time", "daily_consumption": "daily consumption"}


def _words(name: str) -> str:
    return NAMES.get(name, name.replace("_", " "))


def _what(f: Field, e: fp.Bad) -> str:
    """'unreadable report time ...' rather than 'unreadable time ...' when the field has a name."""
    msg = str(e)
    what = f.what or (_words(f.name) if f.type == "updated" else "")
    if what and msg.startswith(("unreadable time", "time ")):
        return msg.replace("time", what, 1)
    if f.type in ("count", "quantity", "lon", "lat") and not msg.startswith(("negative", "not")):
        return f"{_words(f.name)} {msg}"
    return msg


def record_digest(source: str, key: str) -> str:
    """A travel record's identity in the dedup ledger: no person key, no place, no time."""
    return hashlib.blake2b(f"{source}\x1f{key}".encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def local_day_of(t: datetime, tz: ZoneInfo) -> date:
    """The local calendar day of a naive UTC time."""
    return tz.fromutc(t.replace(tzinfo=tz)).date()

