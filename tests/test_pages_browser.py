"""The duty officer's pages in headless Chromium: /alerts (note, assign, resolve) and /sources."""
from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.browser


def test_alerts_page_note_assign_resolve(wall, stack):
    duo, console, _ = wall
    stack.sim.add_cases("410300", 320)  # 洛阳: level I
    stack.wait_for(lambda: stack.alert_for("410300"), 20, "the Luoyang alert")
    alert = stack.alert_for("410300")
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_element("#ack-name", timeout=20).send_keys("值班员甲")
    duo.wait_for_contains_text("#al-detail", "洛阳市", timeout=20)

    def act(action: str, text: str | None, expect: str):
        if text:
            field = duo.find_element(f'#al-detail input[id*=\'"action":"{action}"\']')
            field.clear()
            field.send_keys(text)
        duo.find_element(f'#al-detail button[id*=\'"action":"{action}"\']').click()
        duo.wait_for_contains_text("#al-trail", expect, timeout=10)

    act("note", "已通知洛阳市疾控", "已通知洛阳市疾控")
    act("assign", "洛阳流调一组", "洛阳流调一组")
    act("resolve", "演练结束", "演练结束")
    got = stack.get(f"/api/v1/alerts/{alert['id']}")
    assert (got["state"], got["resolved_by"], got["assignee"]) == ("resolved", "值班员甲", "洛阳流调一组")
    assert [e["kind"] for e in got["trail"]][-3:] == ["noted", "assigned", "resolved"]
    assert all(e["by"] == "值班员甲" for e in got["trail"][-3:])


def test_sources_page_shows_health_and_quarantine(wall, stack):
    duo, console, _ = wall
    now = datetime.utcnow()
    stack.sim._insert([{**stack.sim._new_row(now, now, "1"), "xzdm": "", "xzdz": "火星市"}])
    stack.wait_for(lambda: stack.get("/api/v1/quarantine?limit=1")["total"] >= 1, 20, "a quarantined row")
    duo.driver.get(f"{stack.url}/sources")
    duo.wait_for_contains_text("#source-hc_cases", "正常", timeout=20)
    (held,), = stack.sql("SELECT COUNT(*) FROM quarantine")
    duo.wait_for_text_to_equal("#quarantine-count", f"隔离区：{held:,} 行", timeout=20)
    duo.wait_for_contains_text("#quarantine", "unknown region '火星市' (column xzdz)", timeout=10)
    row_text = duo.find_element("#quarantine").text
    assert "王" not in row_text and "hzxm" not in row_text  # personal columns are never read, so never shown
