"""The wall page in a real headless Chromium, against real `sitroom loaders` and `sitroom serve` processes.

One stack per module (temp data dir, a copy of config/, a simulated health-commission
source with 10 days of history), shared by the tests below; the browser comes from
`dash_duo` (a fresh one per test), the server is a subprocess, not `dash_duo.start_server`.
What is asserted is what a person at the wall sees: prefectures on the map, the KPI
figures, the alert banner appearing without a reload, acknowledging from the page.
"""
from __future__ import annotations

import re
import subprocess
import time
import sqlite3

import pytest

from conftest import REPO
from stack import banner_row, text

pytestmark = pytest.mark.browser

KPI_KEYS = ("confirmed", "new_24h", "active", "suspected", "cured", "dead", "active_alerts")
ZHENGZHOU, XIAN = "410100", "610100"


def _region_codes(duo) -> list[str]:
    # read in one script: the paths may be redrawn between one element's read and the next
    classes = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('path.region'), e => e.getAttribute('class') || '')")
    return [m.group(1) for c in classes if (m := re.search(r"\bregion-(\d{6})\b", c))]


def _kpis(duo) -> dict[str, int]:
    return {k: int(text(duo, f"#kpi-{k}").replace(",", "")) for k in KPI_KEYS}


def _kpi_text(duo) -> dict[str, str]:
    return {k: text(duo, f"#kpi-{k}") for k in KPI_KEYS}


# ------------------------------------------------------------------------------------- tests

def test_map_shows_every_prefecture(wall, stack):
    duo, console, open_ = wall
    open_()
    duo._wait_for(lambda d: len(_region_codes(duo)) >= 28, 20, "28 region paths")
    codes = _region_codes(duo)
    henan = sorted(c for c in codes if c.startswith("41"))
    shaanxi = sorted(c for c in codes if c.startswith("61"))
    assert len(henan) == 18 and len(set(henan)) == 18, henan
    assert "419001" in henan  # 济源, a province-administered county-level city
    assert len(shaanxi) == 10 and len(set(shaanxi)) == 10, shaanxi
    assert len(codes) == 28, f"unexpected paths: {sorted(set(codes) - set(henan) - set(shaanxi))}"
    assert set(codes) == {p.adcode for p in stack.gaz.prefectures()}
    # the legend of the default metric is on screen
    assert text(duo, "#legend .legend-title") == "24小时新增确诊"
    assert len(duo.find_elements("#legend .legend-row")) == 9
    console.assert_clean("after the map rendered")


def test_kpi_tiles_show_the_stores_totals(wall, stack):
    duo, console, open_ = wall
    open_()
    api = stack.get("/api/v1/summary")["totals"]
    sql = stack.store_totals()
    assert sql["confirmed"] > 0 and sql["suspected"] > 0 and sql["new_24h"] > 0, sql  # the history loaded
    # the tile is refreshed by callbacks: wait until it shows the store's figure, then compare all
    duo.wait_for_text_to_equal("#kpi-confirmed", f"{sql['confirmed']:,}", timeout=10)
    shown = _kpis(duo)
    assert shown == {k: api[k] for k in KPI_KEYS}, (shown, api)
    assert shown == sql, (shown, sql)
    # thousands separators as on the wall (figures this large need one)
    if sql["confirmed"] >= 1000:
        assert "," in text(duo, "#kpi-confirmed")
    # nothing is lost between the source and the store (bad_share=0: every row is valid)
    src = sqlite3.connect(stack.source_path)
    try:
        (src_confirmed,), = src.execute("SELECT COUNT(*) FROM bl_report WHERE zt IN ('1', '3', '4')").fetchall()
    finally:
        src.close()
    assert shown["confirmed"] == src_confirmed
    console.assert_clean("after the KPIs rendered")


def test_drill_fires_banner_live_and_acknowledge_persists(wall, stack):
    duo, console, open_ = wall
    name = "值班员甲"   # the officer the wall fixture logged in: the actor of the acknowledgement
    open_()
    duo.wait_for_element("#alert-banner .alert-row", timeout=10)
    assert stack.alert_for(ZHENGZHOU) is None
    assert not duo.find_elements(banner_row(ZHENGZHOU)), "a Zhengzhou warning before the drill"
    confirmed_before = _kpis(duo)["confirmed"]
    console.assert_clean("before the drill")

    out = subprocess.run(stack.cli("drill", "--region", "郑州", "--confirmed", "320"), cwd=REPO, env=stack.env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "410100" in out.stdout, out.stdout
    t0 = time.monotonic()

    # the banner appears on the open page, without a reload
    duo.wait_for_element(banner_row(ZHENGZHOU, "I") + ".firing", timeout=10)
    print(f"banner after {time.monotonic() - t0:.2f} s")
    row = text(duo, banner_row(ZHENGZHOU, "I"))
    assert "郑州" in row and "Ⅰ级" in row, row
    api_alert = stack.alert_for(ZHENGZHOU)
    assert api_alert and api_alert["level"] == "I" and api_alert["state"] == "firing", api_alert
    assert api_alert["value"] >= 320
    duo.wait_for_text_to_equal("#kpi-confirmed", f"{confirmed_before + 320:,}", timeout=10)
    duo.wait_for_text_to_equal("#kpi-active_alerts", f"{stack.store_totals()['active_alerts']:,}", timeout=10)
    # the map outlines the warned region: a thicker border in another colour than its quiet neighbour
    def outlined(d):
        warned = d.find_element("css selector", f"path.region-{ZHENGZHOU}")
        quiet = d.find_element("css selector", "path.region-410200")  # Kaifeng, no drill
        return (warned.get_attribute("stroke") != quiet.get_attribute("stroke")
                and float(warned.get_attribute("stroke-width")) > float(quiet.get_attribute("stroke-width")))
    duo._wait_for(outlined, 10, "the warning outline on Zhengzhou")
    console.assert_clean("after the banner appeared")

    # acknowledge from the page
    duo.find_element(banner_row(ZHENGZHOU) + " .ack-btn").click()
    duo.wait_for_contains_text(banner_row(ZHENGZHOU) + " .acked-by", f"已由 {name}", timeout=10)
    assert duo.find_elements(banner_row(ZHENGZHOU) + ".acknowledged")
    assert not duo.find_elements(banner_row(ZHENGZHOU) + " .ack-btn")
    acked = stack.alert_for(ZHENGZHOU)
    assert acked["state"] == "acknowledged" and acked["acked_by"] == name, acked
    assert [a["id"] for a in stack.alerts("acknowledged")] == [acked["id"]]
    (db_by,), = stack.sql("SELECT acked_by FROM alerts WHERE id = ?", (acked["id"],))
    assert db_by == name
    console.assert_clean("after acknowledging")

    # a reload shows the same: it is in the store, not in the page
    duo.driver.refresh()
    duo.wait_for_element("#kpi-confirmed", timeout=20)
    duo.wait_for_contains_text(banner_row(ZHENGZHOU) + ".acknowledged .acked-by", f"已由 {name}", timeout=10)
    assert not duo.find_elements(banner_row(ZHENGZHOU) + " .ack-btn")
    duo.wait_for_text_to_equal("#kpi-active_alerts", f"{stack.store_totals()['active_alerts']:,}", timeout=10)
    assert stack.alert_for(ZHENGZHOU)["state"] == "acknowledged"
    duo.driver.save_screenshot(str(stack.data_dir.parent / "wall-after-ack.png"))  # to look at after a failure
    console.assert_clean("after the reload")


def test_english_wall(wall, stack):
    duo, console, open_ = wall
    open_("/?lang=en")
    duo.wait_for_contains_text("h1", "Epidemic situation wall", timeout=10)
    assert "Henan" in text(duo, "h1")
    labels = {k: text(duo, f".kpi-{k} .kpi-label") for k in KPI_KEYS}
    assert labels == {"confirmed": "Confirmed", "new_24h": "New in 24 h", "active": "Active",
                      "suspected": "Suspected", "cured": "Cured", "dead": "Deaths",
                      "active_alerts": "Unacknowledged alerts"}, labels
    assert text(duo, "#signed-in-as") == "值班员甲 (duty officer)"
    assert text(duo, "#legend .legend-title") == "New confirmed, 24 h"
    assert text(duo, ".lang") == "中文"
    # a warning fired while the English page is open: English text and button
    stack.sim.add_cases(XIAN, 320)
    duo.wait_for_element(banner_row(XIAN, "I") + ".firing", timeout=10)
    row = text(duo, banner_row(XIAN, "I"))
    assert "Level I Extreme warning" in row and "Xi'an" in row.replace("’", "'"), row
    assert text(duo, banner_row(XIAN) + " .ack-btn") == "Acknowledge"
    assert not re.search(r"[\u4e00-\u9fff]", row), f"Chinese text on the English wall: {row!r}"
    console.assert_clean("on the English wall")


def test_provinces_prefectures_counties_and_back(wall, stack):
    """The province is a level of the map: the overview's province buttons show one province's
    prefectures, a click on one of them its counties, its province's button goes back up, and Back
    returns to the overview; each level in the URL."""
    duo, console, open_ = wall
    open_()

    def crumb(code):
        return duo.wait_for_element(f'#map-crumbs button[id*=\'"code":"{code}"\']', timeout=20)

    def shows(view, prefix, n):
        stack.wait_for(lambda: (f"view={view}" in duo.driver.current_url if view else "view=" not in duo.driver.current_url)
                       and len([c for c in _region_codes(duo) if c.startswith(prefix)]) == n
                       and len(_region_codes(duo)) == n, 20, f"the map of {view or 'every prefecture'}")

    assert crumb("610000").text == "陕西省"
    crumb("410000").click()
    shows("410000", "41", 18)
    duo.wait_for_contains_text("#map-title", "河南省", timeout=20)

    def drill():   # Luoyang's outline (redrawn while the province's map settles: try again)
        if "view=410300" in duo.driver.current_url:
            return True
        try:
            duo.find_element("path.region-410300").click()
        except Exception:
            pass
        return False
    stack.wait_for(drill, 20, "Luoyang's counties")
    shows("410300", "4103", len([r for r in stack.gaz.regions.values() if r.adcode.startswith("4103")
                                 and r.level == "county"]))
    crumb("410000").click()
    shows("410000", "41", 18)
    duo.find_element("#map-back").click()
    shows(None, "", 28)
    console.assert_clean("through the map's levels")
