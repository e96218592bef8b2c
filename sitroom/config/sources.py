"""sources.yaml: the databases sitroom polls, one entry per table (or SQL query).

Each entry has a `kind` (what the rows are) and maps the source's own column names
onto sitroom's fields; only mapped columns are ever selected, so personal columns
(names, ID numbers, phones, itineraries) are never read. `values` maps the source's
words or codes onto sitroom's (status, mode, kind, item); a raw value that already is
sitroom's word needs no entry. `units` scales quantities (a factor, or a named unit
for durations). Locations say their datum; sitroom stores GCJ-02, the map's datum.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sitroom.store.models import SourceState, SupplyPoint
from sitroom.store.models import SupplyStock as SupplyStockRow

from .base import Strict, Text

CASE_STATUSES = ("confirmed", "suspected", "asymptomatic", "cured", "dead")
CLINIC_STATUSES = ("open", "closed", "suspended")
POINT_STATUSES = ("open", "closed")
MODES = ("rail", "air", "road", "other")
BUCKETS = ("outside", "undetermined")
DURATION_UNITS = {"seconds": 1 / 3600, "minutes": 1 / 60, "hours": 1.0, "days": 24.0}  # -> hours


# ---------------------------------------------------------------- column maps
class Columns(Strict):
    """Source column for each field; optional fields may be left out."""
    updated_at: str   # the polling cursor: when the row last changed
    version: str | None = None   # a number or time that orders versions of one key (default: updated_at)

    def mapped(self) -> dict[str, str]:
        """field -> source column, for every mapped field."""
        return {f: c for f, c in self.model_dump().items() if isinstance(c, str)}


class Located(Columns):
    """A place by code, by name, or both (the code is tried first)."""
    region_code: str | None = None
    region_name: str | None = None

    @model_validator(mode="after")
    def _region(self):
        if not (self.region_code or self.region_name):
            raise ValueError("map region_code or region_name (or both)")
        return self


class CaseLineColumns(Located):
    source_key: str
    reported_at: str
    status: str
    imported_from: str | None = None   # region the case came from, if the source says


class CaseAggregateColumns(Located):
    day: str                           # a date, or a timestamp: its local day (source timezone) is taken
    province: str | None = None        # the row's province (name or code): qualifies bucket rows
    confirmed: str | None = None
    suspected: str | None = None
    asymptomatic: str | None = None
    cured: str | None = None
    dead: str | None = None

    @model_validator(mode="after")
    def _some_metric(self):
        if not any(getattr(self, m) for m in CASE_STATUSES):
            raise ValueError(f"map at least one count column: {', '.join(CASE_STATUSES)}")
        return self


class ClinicColumns(Located):
    source_key: str
    name: str
    lon: str
    lat: str
    address: str | None = None
    status: str | None = None
    capacity: str | None = None        # visits a day it can take


class ClinicVisitColumns(Columns):
    clinic: str                        # the clinic's key in its registry
    at: str                            # start of the period counted
    visits: str
    fever: str | None = None
    referred: str | None = None


class SupplyPointColumns(Located):
    source_key: str
    name: str
    kind: str
    lon: str
    lat: str
    status: str | None = None


class SupplyStockColumns(Columns):
    point: str                         # the point's key in its registry
    item: str
    stock: str
    daily_consumption: str
    at: str                            # when the stock was counted


class InflowCountColumns(Located):     # region_* is the destination
    day: str
    origin: str
    count: str
    mode: str | None = None


class TravelRecordColumns(Located):    # region_* is the destination; no person key is read
    source_key: str                    # the record's id (kept only briefly, hashed, to count it once)
    origin: str
    arrived_at: str
    stay: str                          # time spent in the origin
    mode: str | None = None


# ---------------------------------------------------------------- sources
class SourceBase(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=SourceState.__table__.c.name.type.length)
    title: Text
    url: str
    table: str | None = None
    query: str | None = None           # any SELECT; polled as a subquery
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    units: dict[str, float | str] = Field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    poll_seconds: float = Field(default=5, gt=0, le=3600)
    overlap_seconds: float = Field(default=60, ge=0, le=86400)
    # how far ahead of sitroom's clock a source's times may be (clocks drift); a later update time is
    # quarantined and never moves the cursor, a later report time is quarantined
    future_tolerance_seconds: float = Field(default=600, ge=0, le=86400)
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    stale_after_intervals: int = Field(default=5, ge=1)
    retry_max_seconds: float = Field(default=30, gt=0, le=3600)
    aliases: dict[str, str] = Field(default_factory=dict)   # a place as the source writes it -> code or name

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases_as_text(cls, v):
        if isinstance(v, dict):
            return {str(k): str(int(w)) if isinstance(w, (int, float)) and not isinstance(w, bool) else w
                    for k, w in v.items()}
        return v

    VALUE_FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {}   # field -> sitroom's words
    UNIT_FIELDS: ClassVar[tuple[str, ...]] = ()
    DURATION_FIELDS: ClassVar[tuple[str, ...]] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo
        try:
            ZoneInfo(v)
        except Exception:
            raise ValueError(f"unknown time zone '{v}' (expected an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, v):
        if isinstance(v, dict):
            return {f: {str(k): w for k, w in m.items()} if isinstance(m, dict) else m for f, m in v.items()}
        return v

    @model_validator(mode="after")
    def _checks(self):
        if bool(self.table) == bool(self.query):
            raise ValueError("give exactly one of table or query")
        for field, mapping in self.values.items():
            if field not in self.VALUE_FIELDS:
                known = ", ".join(self.VALUE_FIELDS) or "none for this kind"
                raise ValueError(f"values.{field}: no value mapping for this field (fields: {known})")
            allowed = self.VALUE_FIELDS[field]
            if allowed:
                wrong = {k: w for k, w in mapping.items() if w not in allowed}
                if wrong:
                    k, w = next(iter(wrong.items()))
                    raise ValueError(f"values.{field}.{k}: '{w}' is not one of {', '.join(allowed)}")
        for field, unit in self.units.items():
            if field not in self.UNIT_FIELDS + self.DURATION_FIELDS:
                known = ", ".join(self.UNIT_FIELDS + self.DURATION_FIELDS) or "none for this kind"
                raise ValueError(f"units.{field}: this field has no unit (fields with units: {known})")
            if field in self.DURATION_FIELDS:
                if unit not in DURATION_UNITS:
                    raise ValueError(f"units.{field}: '{unit}' is not one of {', '.join(DURATION_UNITS)}")
            elif isinstance(unit, str) or unit <= 0:
                raise ValueError(f"units.{field}: expected a positive factor to sitroom's unit (got {unit!r})")
        return self

    def factor(self, field: str) -> float:
        """Multiplier from the source's unit to sitroom's (durations: to hours)."""
        unit = self.units.get(field)
        if unit is None:
            return 1.0
        return DURATION_UNITS[unit] if field in self.DURATION_FIELDS else float(unit)


class CaseLineList(SourceBase):
    kind: Literal["case_line_list"]
    columns: CaseLineColumns
    VALUE_FIELDS: ClassVar = {"status": CASE_STATUSES}


class Bucket(Strict):
    """A row for part of a province that is not a region (arrivals from elsewhere, place not yet known).
    Without `province`, the row's own province (columns.province) qualifies it."""
    province: str | None = Field(default=None, pattern=r"^\d{2}0000$")
    bucket: Literal["outside", "undetermined"]


class CaseAggregate(SourceBase):
    kind: Literal["case_aggregate"]
    columns: CaseAggregateColumns
    counting: Literal["cumulative", "new"]
    buckets: dict[str, Bucket] = Field(default_factory=dict)   # raw place name -> province bucket
    # The latest publication (rows sharing the latest update time) lists every place that counts now:
    # true for the whole source, `province` for each province's rows on their own.
    snapshot: Literal[False, True, "province"] = False
    # A county reported beside its prefecture: `separate` (the prefecture's figure leaves it out, so it is
    # added) or `included` (the prefecture's figure already has it: shown, not added twice).
    counties: Literal["separate", "included"] = "separate"
    check_totals: dict[str, str] = Field(default_factory=dict)  # metric -> column of the publisher's province total

    @model_validator(mode="after")
    def _aggregate_checks(self):
        if self.snapshot and self.counting != "cumulative":
            raise ValueError("snapshot: a snapshot lists running totals; set counting: cumulative")
        for name, b in self.buckets.items():
            if b.province is None and not self.columns.province:
                raise ValueError(f"buckets.{name}.province: give the province, or map columns.province "
                                 f"so that each row's own province qualifies the bucket")
        for metric in self.check_totals:
            if metric not in CASE_STATUSES:
                raise ValueError(f"check_totals.{metric}: not a count ({', '.join(CASE_STATUSES)})")
            if not getattr(self.columns, metric):
                raise ValueError(f"check_totals.{metric}: map columns.{metric} too: the publisher's total "
                                 f"is compared with the sum of its rows")
        return self

    def bucket_labels(self) -> set[str]:
        """Raw bucket names that share their bucket with another name: kept apart and added up."""
        seen: dict[tuple, list[str]] = {}
        for name, b in self.buckets.items():
            seen.setdefault((b.province, b.bucket), []).append(name)
        return {n for names in seen.values() if len(names) > 1 for n in names}


class ClinicRegistry(SourceBase):
    kind: Literal["clinic_registry"]
    columns: ClinicColumns
    datum: Literal["wgs84", "gcj02"]
    VALUE_FIELDS: ClassVar = {"status": CLINIC_STATUSES}


class ClinicVisits(SourceBase):
    kind: Literal["clinic_visits"]
    columns: ClinicVisitColumns
    registry: str                      # name of the clinic_registry source the clinic keys belong to


class SupplyPoints(SourceBase):
    kind: Literal["supply_points"]
    columns: SupplyPointColumns
    datum: Literal["wgs84", "gcj02"]
    VALUE_FIELDS: ClassVar = {"kind": (), "status": POINT_STATUSES}   # kinds: sources.yaml supply_kinds


class SupplyStock(SourceBase):
    kind: Literal["supply_stock"]
    columns: SupplyStockColumns
    points: str                        # name of the supply_points source the point keys belong to
    VALUE_FIELDS: ClassVar = {"item": ()}                               # items: sources.yaml supply_items
    UNIT_FIELDS: ClassVar = ("stock", "daily_consumption")


class InflowCounts(SourceBase):
    kind: Literal["inflow_counts"]
    columns: InflowCountColumns
    VALUE_FIELDS: ClassVar = {"mode": MODES}
    UNIT_FIELDS: ClassVar = ("count",)


class TravelRecords(SourceBase):
    kind: Literal["travel_records"]
    columns: TravelRecordColumns
    min_stay_hours: float = Field(default=2, ge=0)  # shorter stays count as passing through
    remember_days: float = Field(default=30, gt=0, le=366)  # how long a counted record is recognised
    VALUE_FIELDS: ClassVar = {"mode": MODES}
    DURATION_FIELDS: ClassVar = ("stay",)


SourceConfig = Annotated[Union[CaseLineList, CaseAggregate, ClinicRegistry, ClinicVisits, SupplyPoints,
                               SupplyStock, InflowCounts, TravelRecords], Field(discriminator="kind")]
KINDS = ("case_line_list", "case_aggregate", "clinic_registry", "clinic_visits", "supply_points",
         "supply_stock", "inflow_counts", "travel_records")


class SupplyItem(Strict):
    title: Text
    unit: Text


class SourcesConfig(Strict):
    supply_kinds: dict[str, Text] = Field(default_factory=dict)     # e.g. mask_pharmacy: 口罩定点药店
    supply_items: dict[str, SupplyItem] = Field(default_factory=dict)
    sources: list[SourceConfig] = Field(min_length=1)

    @field_validator("supply_kinds", "supply_items")
    @classmethod
    def _fits_the_store(cls, v: dict, info: ValidationInfo) -> dict:
        """sitroom's words are stored as they are: each must fit its store column."""
        col = (SupplyPoint.__table__.c.kind if info.field_name == "supply_kinds" else SupplyStockRow.__table__.c.item)
        long = [k for k in v if len(k) > col.type.length]
        if long:
            raise ValueError(f"'{long[0]}' is longer than {col.type.length} characters")
        return v

    @field_validator("sources")
    @classmethod
    def _references(cls, sources: list, info: ValidationInfo) -> list:
        names = [s.name for s in sources]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dup)}")
        kinds = {s.name: s.kind for s in sources}
        refs = {"clinic_visits": ("registry", "clinic_registry"), "supply_stock": ("points", "supply_points")}
        for i, s in enumerate(sources):
            if s.kind in refs:
                key, want = refs[s.kind]
                if kinds.get(getattr(s, key)) != want:
                    raise ValueError(f"[{i}].{key}: '{getattr(s, key)}' is not a {want} source in this file")
            for field, where in (("kind", "supply_kinds"), ("item", "supply_items")):
                known = info.data.get(where) or {}
                for raw, word in (s.values.get(field, {}) if field in s.VALUE_FIELDS else {}).items():
                    if word not in known:
                        raise ValueError(f"[{i}].values.{field}.{raw}: '{word}' is not in {where} "
                                         f"({', '.join(known) or 'none defined'})")
        return sources

    def by_kind(self, kind: str) -> list:
        return [s for s in self.sources if s.kind == kind]
