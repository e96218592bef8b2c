"""Silencing a (rule, region) from /alerts in headless Chromium against real `sitroom loaders` and
`sitroom serve`: the detail's form (a duration and a reason), the banner of another page showing the
alert silenced in its level's colour without the flash (and the kiosk wall not jumping to it), the
list of silences in force, lifting one; and one expiring, pushed to the open wall."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from stack import banner_row, click, css, text

pytestmark = pytest.mark.browser
XINYANG = "411500"
LEVEL_IV_RGB = "rgb(30, 111, 217)"   # config.LEVEL_COLOURS["IV"], #1e6fd9


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.removesuffix("Z"))


def test_silence_from_the_detail_shown_on_the_wall_without_flash_then_lifted(wall, stack):
    duo, console, open_ = wall
    stack.sim.add_cases(XINYANG, 40)   # level IV of new_confirmed_24h
    alert = stack.wait_for(lambda: stack.alert_for(XINYANG, "firing"), 20, "the alert in Xinyang to fire")
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_contains_text("#al-title", "信阳市", timeout=20)
    duo.wait_for_element("#al-silence-form:not([hidden]) #al-silence-btn", timeout=10)

    # the duration from the list (30 minutes), the reason typed, 静默
    click(stack, duo, "#al-silence-minutes", "the duration's list")
    stack.wait_for(lambda: duo.driver.execute_script(
        "const o = [...document.querySelectorAll('[role=option], .dash-dropdown-option')]"
        ".find(e => e.innerText.trim() === '30 分钟'); if (o) o.click(); return !!o"), 10, "the 30-minute choice")
    stack.wait_for(lambda: "30 分钟" in (text(duo, "#al-silence-minutes") or ""), 5, "30 minutes chosen")
    duo.find_element("#al-silence-reason").send_keys("补报数据核实中")
    click(stack, duo, "#al-silence-btn", "静默")
    duo.wait_for_contains_text("#al-silence-message", "已静默至", timeout=10)
    got = stack.wait_for(lambda: (lambda a: a if a["silenced_until"] else None)(
        stack.get(f"/api/v1/alerts/{alert['id']}")), 10, "the silence in the API")
    assert got["state"] == "firing" and got["silence"]["created_by"] == "值班员甲"
    assert got["silence"]["reason"] == "补报数据核实中"
    [silence] = [x for x in stack.get("/api/v1/silences") if x["region"] == XINYANG]
    assert _at(silence["ends"]) - _at(silence["starts"]) == timedelta(minutes=30)
    assert (got["trail"][-1]["kind"], got["trail"][-1]["by"]) == ("silenced", "值班员甲")
    duo.wait_for_contains_text("#al-silence-state", "已由 值班员甲 静默至", timeout=10)
    duo.wait_for_contains_text("#al-trail", "静默至", timeout=10)
    until = text(duo, "#al-silence-text").split("静默至 ")[1].split("：")[0][-5:]   # HH:MM
    stack.wait_for(lambda: "已静默至" in (text(duo, f"#al-row-{alert['id']} .state") or ""), 10,
                   "the queue row's silenced state")

    # another page: the wall's banner says so, in level IV's colour, and does not flash
    open_("/")
    row = banner_row(XINYANG, "IV")
    duo.wait_for_element(row + ".silenced", timeout=20)
    assert f"已静默至 {until}" in text(duo, row), text(duo, row)
    assert not duo.find_elements(row + ".firing")
    assert css(duo, row, "animationName") == "none", css(duo, row, "animationName")
    samples = set()
    for _ in range(8):   # through a whole flash period (1.2 s): the colour and the edge never change
        samples.add((css(duo, row, "backgroundColor"), css(duo, row, "boxShadow")))
        time.sleep(0.2)
    assert len(samples) == 1 and next(iter(samples))[0] == LEVEL_IV_RGB, samples
    # the kiosk wall does not go to a silenced warning
    open_("/?kiosk=1")
    duo.wait_for_element(row + ".silenced", timeout=20)
    time.sleep(3)
    assert "mode-alert" not in duo.driver.execute_script("return document.querySelector('#wall-main').className")

    # back on /alerts: the list of silences in force, and Lift
    duo.driver.get(f"{stack.url}/alerts")
    duo.wait_for_element(f"#al-silence-row-{silence['id']}", timeout=20)
    assert "补报数据核实中" in text(duo, f"#al-silence-row-{silence['id']}")
    click(stack, duo, f"#al-silence-row-{silence['id']} .lift-btn", "Lift")
    duo.wait_for_contains_text("#al-silences-message", "已解除静默", timeout=10)
    after = stack.wait_for(lambda: (lambda a: a if not a["silenced_until"] else None)(
        stack.get(f"/api/v1/alerts/{alert['id']}")), 10, "the silence lifted in the API")
    assert (after["trail"][-1]["kind"], after["trail"][-1]["by"]) == ("silence_lifted", "值班员甲")
    duo.wait_for_element(banner_row(XINYANG, "IV") + ".firing", timeout=10)   # flashing again
    stack.wait_for(lambda: not duo.find_elements(f"#al-silence-row-{silence['id']}"), 10, "the list without it")
    console.assert_clean("silencing and lifting")


ZHOUKOU = "411600"


def test_a_silence_that_expires_is_pushed_to_the_open_wall(wall, stack):
    """No reload, no restart: the loaders record the end, the push redraws the banner, and the warning
    flashes again."""
    import sqlite3
    duo, console, open_ = wall
    stack.sim.add_cases(ZHOUKOU, 40)
    alert = stack.wait_for(lambda: stack.alert_for(ZHOUKOU, "firing"), 20, "the alert in Zhoukou to fire")
    made = stack.post("/api/v1/silences", {"rule": alert["rule"], "region": ZHOUKOU, "minutes": 5, "reason": "演练"})
    open_("/")
    row = banner_row(ZHOUKOU, "IV")
    duo.wait_for_element(row + ".silenced", timeout=20)
    con = sqlite3.connect(stack.store_path, timeout=30)   # five minutes are long for a test: it ends in 3 s
    with con:
        con.execute("UPDATE silences SET ends = ? WHERE id = ?",
                    ((datetime.utcnow() + timedelta(seconds=3)).strftime("%Y-%m-%d %H:%M:%S.%f"), made["id"]))
    con.close()
    duo.wait_for_element(row + ".firing", timeout=15)
    assert "已静默至" not in text(duo, row)
    trail = stack.get(f"/api/v1/alerts/{alert['id']}")["trail"]
    assert (trail[-1]["kind"], trail[-1]["by"]) == ("silence_expired", "system")
    console.assert_clean("when a silence expired")
