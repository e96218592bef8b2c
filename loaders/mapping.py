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
from sitroom.place_names import PlaceNames, is_no_code, split_note
from sitroom.regions import AmbiguousRegion, Gazetteer, RegionError

from . import fields as fp
from .limits import int_limit, store_key, text_limit
from .places import known_prefix, region_part
from .timeparse import text_layout


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
    "case_aggregate": (F("updated_at", "updated"), F("day", "day"), F("province", "province", False),
                       F("region", "region"), *(F(m, "count", False) for m in CASE_STATUSES),
                       *(F(f"total_{m}", "count", False, f"published {m} total") for m in CASE_STATUSES)),
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
# every kind may map a `version` column: which of several rows of one key is the latest
FIELDS = {kind: (*fields, F("version", "version", False)) for kind, fields in FIELDS.items()}
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
        self.cols = {**src.columns.mapped(),
                     **{f"total_{m}": col for m, col in getattr(src, "check_totals", {}).items()}}
        self.names = PlaceNames(gazetteer, getattr(src, "aliases", {}))
        self.labels = src.bucket_labels() if hasattr(src, "bucket_labels") else set()
        self.seen: dict[str, int] = {}           # raw place -> rows in this batch (for /sources)
        self.how: dict[str, tuple] = {}          # raw place -> (region, bucket, province, rule, note, detail)
        self.fields = [f for f in FIELDS[self.kind] if f.type == "region" or f.name in self.cols]
        self.words = self._words(sources)
        self._places: dict[tuple, tuple] = {}   # raw place -> its resolution or reason: sources repeat places
        self._readers = [(f, self.cols.get(f.name), None if f.type == "region" else self._parser(f))
                         for f in self.fields]
        # (layout, an example) of the source's text update times, set by the poller for each batch
        self.layout: tuple[str, str] | None = None
        self._cursor_parse = next(p for f, _, p in self._readers if f.name == "updated_at")
        self._day_of: tuple[datetime, date] | None = None
        self._region_cols = [c for c in (self.cols.get("region_code"), self.cols.get("region_name")) if c]
        self._place_cols = {self.cols[f] for f in PLACES if f in self.cols}
        self._address_col = self.cols.get("region_name") if self.kind in PERSON_LEVEL else None
        self._code_col = self.cols.get("region_code")

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
            if isinstance(v, (bytes, bytearray, memoryview)):   # a BLOB or bytea address is an address too
                v = kept[c] = bytes(v).decode("utf-8", "replace")
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

    def plain_time(self, v, now: datetime) -> bool:
        """Whether an update time reads as a time that is not too far ahead, however it is written: only
        such a time says how the source writes its times ('0', 'N/A' or a year 9999 says nothing)."""
        if fp.blank(v):
            return False
        try:
            fp.time_utc(v, self.tz, now, timedelta(seconds=self.src.future_tolerance_seconds), earliest=None)
        except fp.Bad:
            return False
        return True

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
            def updated(v, now, today):
                t = fp.time_utc(v, tz, now, ahead, earliest=None)
                if self.layout is not None and v.__class__ is str and text_layout(v) != self.layout[0]:
                    raise fp.Bad(f"time {v.strip()[:40]!r} is not written like the source's other update times "
                                 f"({self.layout[0]!r}, digits as 9): it would sort out of its place among them")
                return t
            return updated
        if t == "province":
            def province(v, now, today):
                code = None
                try:
                    code = self.gaz.resolve(fp.text(v, 100))
                except RegionError:
                    pass
                if code is None or self.gaz.get(code).level != "province":
                    raise fp.Bad(f"unknown province {v!r}")
                return code
            return province
        if t == "version":
            return lambda v, now, today: fp.version(v, tz)
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
        province = values.get("province")
        for col in cols:
            v = raw.get(col)
            if v is None or (v.__class__ is str and not v.strip()) or (col == self._code_col and is_no_code(v)):
                continue
            cache_key = (col, v, province)
            hit = self._places.get(cache_key)
            if hit is None:
                hit = self._places[cache_key] = self._place(v, col, province)
                if len(self._places) > 50_000:
                    self._places.clear()
            code, bucket, reason, prefecture, prov, raw_name, how = hit
            if raw_name is not None:
                if self.kind in PERSON_LEVEL:   # a person's place may be a home address: only its regions
                    cut = region_part(raw_name, self.gaz)
                    how = tuple(x.replace(raw_name, cut) if isinstance(x, str) else x for x in how)
                    raw_name = cut
                self.seen[raw_name] = self.seen.get(raw_name, 0) + 1
                self.how[raw_name] = how
            if code:
                values["region"], values["bucket"] = code, bucket
                values["prefecture"], values["province"] = prefecture, prov
                values["note"], values["label"] = how[4], how[6]
                return
            tried.append(reason)
        if not tried:
            tried.append(f"missing region (column {' / '.join(cols)})")
        reasons.extend(tried)
        bad.update(cols)

    def _place(self, v, col: str, province: str | None) -> tuple:
        """(code, bucket, reason, prefecture, province, raw name, how) for a raw place;
        how = (region, bucket, province, rule, note, detail, bucket label)."""
        buckets = getattr(self.src, "buckets", {})
        try:
            name = fp.text(v, 100)
        except fp.Bad as e:
            return None, None, f"{e} (column {col})", None, None, None, None
        base, note = split_note(name)
        for b_name in (name, base):
            if b_name in buckets:
                b = buckets[b_name]
                prov = b.province or province
                if prov is None:
                    reason = (f"bucket {b_name!r} needs the row's province "
                              f"(column {self.cols.get('province')}) (column {col})")
                    return None, None, reason, None, None, name, (None, b.bucket, None, "unknown", note, reason, None)
                label = b_name if b_name in self.labels else None
                return prov, b.bucket, None, None, prov, name, (prov, b.bucket, prov, "bucket", note, None, label)
        try:
            hit = self.names.resolve(v)
        except AmbiguousRegion as e:
            hit = self._in_province(e, name, province)
            if hit is None:
                return None, None, f"{e} (column {col})", None, None, name, (None, None, None, "ambiguous", note,
                                                                            str(e), None)
        except RegionError as e:
            prefix = known_prefix(name, self.gaz) if col == self._address_col else None
            if prefix is None:   # an address names its regions first: 郑州市金水区花园路12号 is in 金水区
                return None, None, f"{e} (column {col})", None, None, name, (None, None, None, "unknown", note,
                                                                            str(e), None)
            from sitroom.place_names import Resolved
            hit = Resolved(prefix[1], "address", None, None)   # the address's leading regions
        code = hit.code
        if self.gaz.get(code).level == "province":
            reason = f"region {name!r} is a whole province, not a prefecture or county (column {col})"
            return None, None, reason, None, None, name, (None, None, None, "unknown", note, reason, None)
        prov = self.gaz.province_of(code)
        if province is not None and prov != province:
            reason = (f"region {name!r} ({code} {self.gaz.get(code).name}) is not in "
                      f"{self.gaz.get(province).name} (column {self.cols.get('province')}) (column {col})")
            return None, None, reason, None, None, name, (None, None, None, "unknown", note, reason, None)
        return code, None, None, self.gaz.prefecture_of(code), prov, name, \
            (code, None, prov, hit.rule, hit.note, hit.detail, None)

    def _in_province(self, e: AmbiguousRegion, name: str, province: str | None):
        """An ambiguous name that the row's province settles (朝阳 in 辽宁 or 北京)."""
        if province is None:
            return None
        inside = [c for c in e.candidates if self.gaz.province_of(c) == province]
        if len(inside) != 1:
            return None
        from sitroom.place_names import Resolved
        return Resolved(inside[0], "exact", split_note(name)[1])

    def take_seen(self) -> tuple[dict[str, int], dict[str, tuple]]:
        """The raw places of this batch and how each resolved; starts the next batch's count."""
        seen, self.seen = self.seen, {}
        return seen, {n: self.how[n] for n in seen}

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

