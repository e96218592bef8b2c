"""The wall's map layers in a real headless Chromium, against real `sitroom loaders` and `sitroom serve`
processes on a store seeded with tests/feed_seed.py (clinics, supply points, inflows, case aggregates).

What is asserted is what a person at the wall sees: markers appear when a layer is switched on,
a click shows the figures the store holds, legends follow the layers, the layer choice is in the
address bar, and markers are fetched again only when their content changed.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

import feed_seed as fs
import stack as stack_module
from stack import cells, text

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The usual stack, with the supply kinds and risk areas in its config and the feeds in its store."""
    from sitroom.store import make_engine, session_factory
    s = stack_module.Stack(tmp_path_factory.mktemp("layers"))
    fs.add_feed_config(s.config_dir)
    try:
        s.start()
        engine = make_engine(f"sqlite:///{s.store_path}")
        with session_factory(engine).begin() as session:
            fs.seed(session)
        engine.dispose()
        yield s
    finally:
        s.stop()


def _marker(duo, source: str, key: str):
    """The clickable icon of a marker (its SVG's parent, the Leaflet marker element)."""
    svg = duo.wait_for_element(f'.mk-body[data-id="{source}|{key}"]', timeout=10)
    return svg.find_element("xpath", "..")


def _resources(duo, part: str) -> list[str]:
    return [u for u in duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") if part in u]


def test_switching_layers_shows_markers_and_legends(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=cases")
    duo.wait_for_element("#legend .legend-title", timeout=10)
    assert not duo.find_elements(".mk-clinic") and not duo.find_elements("#layer-legends .legend-block")
    labels = {el.text: el for el in duo.find_elements(".layer-picker label")}
    assert list(labels) == ["病例", "发热门诊", "物资保障点", "人员流入"]

    labels["发热门诊"].click()
    # zz-1 (load 50 %) and ly-1 (150 %) stand alone; the two Xi'an-area clinics are one cluster
    _marker(duo, "clinics", "zz-1")
    assert duo.find_element('.mk-body[data-id="clinics|ly-1"]').find_element("xpath", "..").get_attribute(
        "class").count("mk-sev-5") == 1
    cluster = duo.wait_for_element(".mk-cluster-clinics", timeout=10)
    # the cluster says what it counts (clinics, not cases); worst member: capacity unknown
    assert cluster.text.split() == ["2", "家门诊"] and "mk-sev-1" in cluster.get_attribute("class")
    duo.wait_for_element("#layer-legends .legend-clinics", timeout=10)
    assert "layers=cases%2Cclinics" in duo.driver.current_url or "layers=cases,clinics" in duo.driver.current_url

    labels["物资保障点"].click()
    _marker(duo, "supply_points", "p-1")
    shapes = {el.get_attribute("data-id"): el.find_element("xpath", "..").get_attribute("class")
              for el in duo.find_elements('.mk-supply .mk-body')}
    assert "mk-shape-circle" in shapes["supply_points|p-1"]      # mask pharmacy: first kind
    assert "mk-shape-square" in shapes["supply_points|p-2"] and "mk-sev-5" in shapes["supply_points|p-2"]  # 2 days
    assert "mk-shape-diamond" in shapes["supply_points|p-3"] and "mk-sev-0" in shapes["supply_points|p-3"]  # closed
    duo.wait_for_element("#layer-legends .legend-supply", timeout=10)
    legend = text(duo, "#layer-legends .legend-supply")
    assert "口罩定点药店" in legend and "< 3 天" in legend

    labels["人员流入"].click()
    duo.wait_for_element(f"path.inflow-{fs.ZHENGZHOU}.inflow-risk", timeout=10)
    assert duo.find_elements(f"path.inflow-{fs.XIANYANG}") and not duo.find_elements(f"path.inflow-{fs.XIANYANG}.inflow-risk")
    duo.wait_for_element("#layer-legends .legend-inflows", timeout=10)

    labels["病例"].click()          # cases off: a neutral base map and no case legend
    duo._wait_for(lambda d: not d.find_elements("css selector", "#legend .legend-title"), 10, "the case legend to go")
    labels["发热门诊"].click()
    duo._wait_for(lambda d: not d.find_elements("css selector", ".mk-clinic"), 10, "clinic markers to go")
    assert not duo.find_elements("#layer-legends .legend-clinics")
    assert "layers=supply%2Cinflows" in duo.driver.current_url or "layers=supply,inflows" in duo.driver.current_url
    console.assert_clean("after switching layers")

    # the URL sets the wall up: a reload keeps the choice
    duo.driver.refresh()
    duo.wait_for_element('.mk-body[data-id="supply_points|p-1"]', timeout=20)
    assert not duo.find_elements(".mk-clinic")


def _regions_inside_the_map(duo) -> bool:
    """Every region of the shown map is drawn within the map panel (nothing cut off)."""
    box = duo.driver.execute_script(
        "const m = document.querySelector('#map').getBoundingClientRect();"
        "const r = [...document.querySelectorAll('#map path.region')].map(p => p.getBoundingClientRect());"
        "if (!r.length) return null;"
        "return {map: [m.top, m.bottom, m.left, m.right], regions: [Math.min(...r.map(x => x.top)),"
        " Math.max(...r.map(x => x.bottom)), Math.min(...r.map(x => x.left)), Math.max(...r.map(x => x.right))]}")
    if box is None:
        return False
    (top, bottom, left, right), (r_top, r_bottom, r_left, r_right) = box["map"], box["regions"]
    return r_top >= top - 1 and r_bottom <= bottom + 1 and r_left >= left - 1 and r_right <= right + 1


def test_the_map_fits_its_panel_again_when_legends_take_room(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=cases")
    stack.wait_for(lambda: _regions_inside_the_map(duo), 10, "the provinces to fit the map")
    height = duo.driver.execute_script("return document.querySelector('#map').offsetHeight")
    for label in ("发热门诊", "物资保障点", "人员流入"):   # three legends under the map: a shorter panel
        next(el for el in duo.find_elements(".layer-picker label") if el.text == label).click()
    duo.wait_for_element("#layer-legends .legend-inflows", timeout=10)
    stack.wait_for(lambda: duo.driver.execute_script("return document.querySelector('#map').offsetHeight") < height,
                   10, "the map panel to shrink")
    stack.wait_for(lambda: _regions_inside_the_map(duo), 10, "the provinces to fit the smaller map")
    console.assert_clean("after the map panel shrank")


def test_leaving_the_wall_and_coming_back_without_a_reload(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=cases")
    stack.wait_for(lambda: _regions_inside_the_map(duo), 10, "the provinces to fit the map")
    duo.find_element('.nav a[href^="/alerts"]').click()        # in-page navigation: the map goes away
    duo.wait_for_element("#al-queue", timeout=10)
    time.sleep(1)                                               # past any report of the map panel's size
    console.assert_clean("after leaving the wall")
    duo.find_element('.nav a[href^="/?"]').click()
    duo.wait_for_element("#map path.region", timeout=10)
    stack.wait_for(lambda: _regions_inside_the_map(duo), 10, "the provinces to fit the map again")
    console.assert_clean("after coming back to the wall")


def test_clinic_details_match_the_store(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=clinics")
    _marker(duo, "clinics", "zz-1").click()
    duo.wait_for_text_to_equal("#detail-name", fs.CLINICS["zz-1"][0], timeout=10)
    since = (fs.utcnow() - timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
    (visits, fever), = stack.sql("SELECT SUM(visits), SUM(fever) FROM clinic_visits WHERE clinic = 'zz-1' AND at >= ?",
                                 (since,))
    (capacity, address), = stack.sql("SELECT capacity, address FROM clinics WHERE source_key = 'zz-1'")
    panel = text(duo, "#marker-detail")
    assert text(duo, "#detail-load") == f"{visits / capacity * 100:.0f}%" == "50%"
    assert address in panel and "开诊" in panel and f"{capacity:,}" in panel and f"{fever:,}" in panel
    duo.wait_for_element("#detail-chart .main-svg", timeout=10)
    bars = duo.driver.execute_script(
        "return document.querySelector('#detail-chart .js-plotly-plot').data.map(t => t.y.reduce((a, b) => a + b, 0))")
    (week_visits, week_fever), = stack.sql("SELECT SUM(visits), SUM(fever) FROM clinic_visits WHERE clinic = 'zz-1'")
    assert bars == [week_visits, week_fever]
    # the closed Xi'an clinic, reached by opening its cluster
    duo.find_element("#detail-close").click()
    duo._wait_for(lambda d: not d.find_element("css selector", "#marker-detail").is_displayed(), 10, "the panel to close")
    duo.find_element(".mk-cluster-clinics").click()
    _marker(duo, "clinics", "xa-1").click()
    duo.wait_for_text_to_equal("#detail-name", fs.CLINICS["xa-1"][0], timeout=10)
    assert "关闭" in text(duo, "#marker-detail")
    console.assert_clean("after opening clinic details")


def test_supply_details_show_cover_per_item(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=supply")
    _marker(duo, "supply_points", "p-1").click()
    duo.wait_for_text_to_equal("#detail-name", fs.SUPPLY["p-1"][0], timeout=10)
    (stock, use), = stack.sql("SELECT stock, daily_consumption FROM supply_stock WHERE point = 'p-1' AND item = 'masks' "
                              "ORDER BY day DESC LIMIT 1")
    assert text(duo, "#detail-cover") == f"{stock / use:.0f} 天" == "5 天"
    masks = text(duo, "#marker-detail .item-masks")
    assert "口罩" in masks and "500 只" in masks and "100" in masks and "5 天" in masks
    assert "∞" in text(duo, "#marker-detail .item-sanitizer")      # consumption 0: no limit
    assert "口罩定点药店" in text(duo, "#marker-detail")
    duo.wait_for_element("#detail-chart .main-svg", timeout=10)
    series = duo.driver.execute_script(
        "return document.querySelector('#detail-chart .js-plotly-plot').data.map(t => [t.name, t.y])")
    assert ["口罩", [8, 6, 5]] in series
    console.assert_clean("after opening supply details")


def test_inflow_details_show_origins_and_modes(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=inflows")
    duo.wait_for_element(f"path.inflow-{fs.ZHENGZHOU}", timeout=10).click()
    duo.wait_for_text_to_equal("#detail-name", "郑州市", timeout=10)
    panel = text(duo, "#marker-detail")
    e = fs.EXPECTED
    assert f"{e['zhengzhou_arrivals']:,}" in panel and f"{e['zhengzhou_risk']:,}" in panel
    rows = [" ".join(r) for r in cells(duo, "#marker-detail .origins tr")]
    assert rows == ["北京市 200", "⚠ 湖北省武汉市 150", "上海市 30"]
    modes = duo.driver.execute_script(
        "const t = document.querySelector('#detail-chart .js-plotly-plot').data[0]; return [t.y, t.x]")
    assert modes == [["铁路", "航空", "公路"], [170, 10, 200]]
    console.assert_clean("after opening inflow details")


def test_inflow_circles_stay_over_the_counties_after_a_drill_down(wall, stack):
    duo, console, open_ = wall
    open_("/?layers=cases,inflows")
    duo.wait_for_element(f"path.inflow-{fs.ZHENGZHOU}", timeout=10)
    duo.driver.execute_script(  # click Zhengzhou itself (a circle sits on its middle)
        f"document.querySelector('path.region-{fs.ZHENGZHOU}').dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
    circle = f"path.inflow-{fs.ZHONGYUAN}"
    duo.wait_for_element(circle, timeout=10)
    duo.wait_for_element(f"path.region-{fs.ZHONGYUAN}", timeout=10)

    # drawn in their own pane, above the regions' however the two layers' loads interleave
    assert duo.driver.execute_script("return !!document.querySelector(arguments[0]).closest('.leaflet-inflows-pane')",
                                     circle)

    def on_top() -> bool:
        """What a viewer sees at the circle's centre is an inflow circle, not the county's fill (this one, or a
        smaller neighbour's drawn over it: small circles on top)."""
        return duo.driver.execute_script(
            "const c = document.querySelector(arguments[0]); if (!c) return false;"
            "const r = c.getBoundingClientRect();"
            "const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "return !!e && e.classList.contains('inflow')", circle)
    stack.wait_for(on_top, 10, "the inflow circle over the county map")

    # the trend is Zhengzhou's now, on its own scale (not the scale of the overview with its correction marks)
    def trend_fits() -> bool:
        got = duo.driver.execute_script(
            "const g = document.querySelector('#trend .js-plotly-plot');"
            "return g && g._fullLayout ? {title: g._fullLayout.title.text, range: g._fullLayout.yaxis.range,"
            " bars: g.data[0].y} : null")
        return (got and "郑州市" in got["title"] and got["range"][0] == 0
                and max(got["bars"]) <= got["range"][1] <= 1.5 * max(max(got["bars"]), 1))
    stack.wait_for(trend_fits, 10, "Zhengzhou's trend on its own scale")
    console.assert_clean("after drilling down with inflows on")


def test_markers_are_fetched_again_only_when_they_change(wall, stack):
    from sitroom.store import make_engine, session_factory
    from sitroom.store.db import bump_version
    from sitroom.store.models import ClinicVisit
    duo, console, open_ = wall
    open_("/?layers=cases,clinics")
    _marker(duo, "clinics", "zz-1")
    first = _resources(duo, "/api/v1/layers/clinics")
    assert len(first) == 1, first
    # the loader keeps bumping the data version (cases); the clinics did not change
    version = stack.get("/healthz")["version"]
    engine = make_engine(f"sqlite:///{stack.store_path}")
    with session_factory(engine).begin() as s:
        bump_version(s)
    stack.wait_for(lambda: stack.get("/healthz")["version"] > version, 10, "the version to move")
    time.sleep(3)
    assert _resources(duo, "/api/v1/layers/clinics") == first
    # 200 more visits at Zhengzhou in the last hour: the marker turns red (load 250 %), fetched once more
    now = fs.utcnow().replace(minute=0, second=0, microsecond=0)
    with session_factory(engine).begin() as s:
        s.add(ClinicVisit(source="clinic_visits", source_key="zz-1|extra", clinic_source=fs.CLINIC_SOURCE,
                          clinic="zz-1", at=now, visits=200, fever=50, referred=0, source_updated_at=now, loaded_at=now))
        bump_version(s)
    engine.dispose()
    duo._wait_for(lambda d: "mk-sev-5" in _marker(duo, "clinics", "zz-1").get_attribute("class"), 15,
                  "Zhengzhou's clinic to turn red")
    assert len(_resources(duo, "/api/v1/layers/clinics")) == 2
    console.assert_clean("after the markers changed")
