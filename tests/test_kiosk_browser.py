"""The kiosk wall (?kiosk=1) in headless Chromium against real `sitroom loaders` and `sitroom serve`:
nothing to click and no cursor, a clock, the playlist of dashboard.yaml in turn, a warning that
takes the wall to its region until it is acknowledged; and an empty store that says it has no data."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

import stack as stack_module
from stack import banner_row, css, text

pytestmark = pytest.mark.browser
LUOYANG = "410300"
STEP = 5   # seconds per view (the shortest dashboard.yaml allows)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = stack_module.Stack(tmp_path_factory.mktemp("kiosk"))
    s.edit_config("dashboard.yaml", lambda cfg: cfg.update(playlist=[
        {"view": "overview", "seconds": STEP}, {"view": "region", "region": "郑州", "seconds": STEP},
        {"view": "alerts", "seconds": STEP}, {"view": "trend", "seconds": STEP}]))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def _mode(duo) -> str:
    return duo.driver.execute_script("return document.querySelector('#wall-main').className")


def _shown(duo, selector: str) -> bool:
    return duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0"
        " && e.getBoundingClientRect().height > 50", selector)


def _counties_of(duo, prefecture: str) -> int:
    return duo.driver.execute_script(
        "return [...document.querySelectorAll('#map path.region')].filter("
        "p => /region-(\\d{6})/.exec(p.getAttribute('class'))[1].slice(0, 4) === arguments[0].slice(0, 4)"
        " && !p.getAttribute('class').includes('region-' + arguments[0])).length", prefecture)


def test_kiosk_has_nothing_to_click_and_a_clock(wall, stack):
    duo, console, open_ = wall
    open_("/?kiosk=1")
    for sel in (".metric-picker", ".layer-picker", ".nav", "#ack-name", "#sound-toggle", ".map-back"):
        assert duo.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return !e || e.offsetParent === null", sel), sel
    assert not duo.find_elements(".leaflet-control-zoom")
    for sel in (".wall", "#map", "#alert-banner", ".kpi"):
        assert css(duo, sel, "cursor") == "none", sel
    first = text(duo, "#kiosk-clock")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first), first
    shown = datetime.strptime(first, "%Y-%m-%d %H:%M:%S")
    beijing = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=8)
    assert abs((shown - beijing).total_seconds()) < 5, (first, beijing)
    stack.wait_for(lambda: text(duo, "#kiosk-clock") != first, 5, "the clock to move")
    # the ordinary wall keeps its controls and shows no clock
    open_("/")
    assert duo.find_element(".layer-picker").is_displayed() and duo.find_elements(".leaflet-control-zoom")
    assert not duo.find_element("#kiosk-clock").is_displayed()
    console.assert_clean("on the kiosk wall")


def test_the_playlist_shows_each_view_in_turn(wall, stack):
    duo, console, open_ = wall
    open_("/?kiosk=1")
    seen = []

    def note(mode):
        if not seen or seen[-1] != mode:
            seen.append(mode)

    deadline = time.monotonic() + 5 * STEP + 10
    zhengzhou = alerts_view = trend_view = False
    while time.monotonic() < deadline:
        mode = _mode(duo).replace("wall-main ", "")
        note(mode)
        if mode == "mode-region" and _counties_of(duo, "410100") >= 10 and "郑州" in (text(duo, "#map-title") or ""):
            zhengzhou = True
        if mode == "mode-alerts":
            alerts_view = alerts_view or (_shown(duo, "#kiosk-queue") and not _shown(duo, "#map")
                                          and "预警队列" in (text(duo, "#kiosk-queue") or ""))
        if mode == "mode-trend":
            trend_view = trend_view or (_shown(duo, ".trend") and not _shown(duo, "#map"))
        if len(seen) >= 5:
            break
        time.sleep(0.3)
    assert seen[:5] == ["mode-overview", "mode-region", "mode-alerts", "mode-trend", "mode-overview"], seen
    assert zhengzhou and alerts_view and trend_view, (zhengzhou, alerts_view, trend_view)
    stack.wait_for(lambda: len(duo.find_elements("#map path.region")) == 28, 10, "the overview's prefectures again")
    console.assert_clean("through the playlist")


def test_a_warning_takes_the_wall_until_acknowledged(wall, stack):
    duo, console, open_ = wall
    open_("/?kiosk=1")
    stack.sim.add_cases(LUOYANG, 320)   # level I
    duo.wait_for_element(banner_row(LUOYANG, "I") + ".firing", timeout=20)
    stack.wait_for(lambda: "mode-alert" in _mode(duo) and _counties_of(duo, LUOYANG) >= 10, 10,
                   "the wall to show Luoyang's counties")
    assert not duo.find_elements(banner_row(LUOYANG) + " .ack-btn:not([style*='none'])") or \
        not duo.find_element(banner_row(LUOYANG) + " .ack-btn").is_displayed()
    time.sleep(STEP + 2)   # longer than any view of the playlist: it stays
    assert "mode-alert" in _mode(duo) and _counties_of(duo, LUOYANG) >= 10
    alert = stack.alert_for(LUOYANG)
    stack.post(f"/api/v1/alerts/{alert['id']}/ack", {})   # acknowledged elsewhere, by the officer account
    stack.wait_for(lambda: "mode-alert" not in _mode(duo), 10, "the rotation to go on")
    assert "mode-alert" not in _mode(duo)
    console.assert_clean("after the warning was acknowledged")
