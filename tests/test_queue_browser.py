"""The duty officer's queue on /alerts in headless Chromium: no action form on a resolved alert,
the age column and its sorting, acknowledging inline and in bulk, resolving while the condition
holds (asked first), silencing a (rule, region)."""
from __future__ import annotations

import pytest

from stack import text

pytestmark = pytest.mark.browser

XINXIANG, ANYANG, JIAOZUO = "410700", "410500", "410800"


def _fire(stack, region: str, cases: int) -> dict:
    stack.sim.add_cases(region, cases)
    return stack.wait_for(lambda: stack.alert_for(region, "firing"), 20, f"the alert in {region} to fire")


def _shown(duo, selector: str) -> bool:
    """Whether the element takes room on the page (display none, or not there, is not shown)."""
    return duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0", selector)


def test_a_resolved_alert_has_no_action_form(wall, stack):
    duo, console, _ = wall
    alert = _fire(stack, XINXIANG, 40)   # level IV
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_contains_text("#al-title", "新乡市", timeout=20)
    stack.wait_for(lambda: _shown(duo, "#al-actions"), 10, "the action form of an open alert")
    stack.post(f"/api/v1/alerts/{alert['id']}/resolve", {"reason": "演练结束"})
    duo.driver.get(f"{stack.url}/alerts?state=all&alert={alert['id']}")
    duo.wait_for_contains_text("#al-trail", "演练结束", timeout=20)
    assert duo.find_element("#al-actions").get_attribute("hidden") is not None
    assert not _shown(duo, "#al-actions"), "the action form shows on a resolved alert"
    assert not _shown(duo, '#al-detail button[id*=\'"action":"resolve"\']')
    console.assert_clean("on a resolved alert's detail")
