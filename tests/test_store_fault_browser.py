"""The screens during store trouble, in headless Chromium against a running stack: with the store
held locked by another process, the wall says 数据库不可写 (not "source X is stale") and keeps its
figures, an officer's note on /alerts is answered "not recorded"; released, the same note is kept."""
from __future__ import annotations

import sqlite3

import pytest

from stack import text

pytestmark = pytest.mark.browser

LUOYANG = "410300"


@pytest.fixture
def locked(stack):
    """Hold the store's write lock (as another process would) until released or the test ends."""
    con = sqlite3.connect(stack.store_path, timeout=30, isolation_level=None)
    state = {"held": False}

    def hold():
        con.execute("BEGIN EXCLUSIVE")
        state["held"] = True

    def release():
        if state["held"]:
            con.execute("ROLLBACK")
            state["held"] = False
    yield hold, release
    release()
    con.close()


def test_a_locked_store_on_the_wall_and_on_alerts(wall, stack, locked):
    duo, console, open_ = wall
    hold, release = locked
    stack.sim.add_cases(LUOYANG, 320)
    alert = stack.wait_for(lambda: stack.alert_for(LUOYANG, "firing"), 30, "the Luoyang alert")
    open_("/")
    confirmed = text(duo, "#kpi-confirmed")
    hold()
    duo.wait_for_contains_text("#stale-banner", "数据库不可写", timeout=20)
    banner = text(duo, "#stale-banner")
    assert "数据源" not in banner, banner               # the sources are not blamed
    assert text(duo, "#kpi-confirmed") == confirmed     # the figures stay (stale), the page answers

    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_contains_text("#al-title", "洛阳市", timeout=20)
    field = duo.find_element('#al-detail input[id*=\'"action":"note"\']')
    field.send_keys("已通知疾控")
    duo.find_element('#al-detail button[id*=\'"action":"note"\']').click()
    duo.wait_for_contains_text("#al-message", "未记录", timeout=20)
    assert "锁定" in text(duo, "#al-message")
    assert not [e for e in stack.get(f"/api/v1/alerts/{alert['id']}")["trail"] if e["kind"] == "noted"]

    release()
    duo.find_element('#al-detail button[id*=\'"action":"note"\']').click()
    duo.wait_for_contains_text("#al-trail", "已通知疾控", timeout=20)
    assert text(duo, "#al-message") == "已记录"
