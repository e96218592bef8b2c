"""The duty officer's queue on /alerts in headless Chromium: no action form on a resolved alert,
the age column and its sorting, acknowledging inline and in bulk, resolving while the condition
holds (asked first), silencing a (rule, region)."""
from __future__ import annotations

import pytest

from stack import click, text

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


PINGDINGSHAN, HEBI, PUYANG = "410400", "410600", "410900"


def _queue_regions(duo) -> list[str]:
    return duo.driver.execute_script("return [...document.querySelectorAll('#al-queue tr.al-row')]"
                                     ".map(r => r.dataset.region)")


def test_queue_age_sorting_inline_and_bulk_acknowledge(wall, stack):
    duo, console, _ = wall
    older = _fire(stack, ANYANG, 40)        # level IV, the longest waiting
    newer = _fire(stack, JIAOZUO, 40)       # level IV
    worse = _fire(stack, PINGDINGSHAN, 100)  # level III, the newest
    duo.driver.get(f"{stack.url}/alerts")
    duo.wait_for_element(f"#al-row-{worse['id']}", timeout=20)
    duo.wait_for_element(f"#al-row-{newer['id']}", timeout=20)
    head = text(duo, "#al-queue-table thead")
    assert "未确认时长" in head, head
    age = text(duo, f"#al-row-{older['id']} .al-age")
    assert age.endswith(" 分钟") and age.split()[0].isdigit(), age

    # by level, then the longest unacknowledged first; by age alone when its head is clicked
    mine = (ANYANG, JIAOZUO, PINGDINGSHAN)
    in_order = lambda: [r for r in _queue_regions(duo) if r in mine]  # noqa: E731
    assert in_order() == [PINGDINGSHAN, ANYANG, JIAOZUO], in_order()
    click(stack, duo, '#al-queue button[id*=\'"by":"age"\']', "the age column's head")
    stack.wait_for(lambda: in_order() == [ANYANG, JIAOZUO, PINGDINGSHAN], 10, "the queue sorted by age")
    stack.wait_for(lambda: "sort=age" in duo.driver.current_url, 5, "the sort in the address")

    # inline: one row's Acknowledge, without opening its detail
    click(stack, duo, f"#al-row-{older['id']} .row-ack", "the row's Acknowledge")
    got = stack.wait_for(lambda: (lambda a: a if a["state"] == "acknowledged" else None)(
        stack.get(f"/api/v1/alerts/{older['id']}")), 10, "the inline acknowledgement")
    assert got["acked_by"] == "值班员甲"
    assert (got["trail"][-1]["kind"], got["trail"][-1]["by"]) == ("acknowledged", "值班员甲")
    duo.wait_for_contains_text("#al-queue-message", "已确认 1 条预警", timeout=10)
    assert text(duo, "#al-title") == "点击一条预警查看详情与处置", text(duo, "#al-title")
    stack.wait_for(lambda: not duo.find_elements(f"#al-row-{older['id']} .row-ack"), 10, "no Acknowledge on it now")

    # bulk: tick two rows (a tick opens no detail either), one button
    for a in (newer, worse):
        click(stack, duo, f"#al-row-{a['id']} .al-pick input", "a row's tick box")
    duo.wait_for_text_to_equal("#al-bulk-ack", "确认所选（2）", timeout=10)
    assert text(duo, "#al-title") == "点击一条预警查看详情与处置"
    click(stack, duo, "#al-bulk-ack", "the bulk Acknowledge")
    duo.wait_for_contains_text("#al-queue-message", "已确认 2 条预警", timeout=10)
    for a in (newer, worse):
        got = stack.get(f"/api/v1/alerts/{a['id']}")
        assert (got["state"], got["acked_by"], got["trail"][-1]["kind"]) == ("acknowledged", "值班员甲", "acknowledged")
    duo.wait_for_text_to_equal("#al-bulk-ack", "确认所选（0）", timeout=10)

    # a click on the row itself still opens the detail
    click(stack, duo, f"#al-row-{older['id']} td:nth-child(4)", "the row")
    duo.wait_for_contains_text("#al-title", "安阳市", timeout=10)
    console.assert_clean("acknowledging from the queue")


def test_a_leader_gets_no_tick_boxes_or_acknowledge_in_the_queue(wall, stack):
    duo, console, _ = wall
    alert = _fire(stack, HEBI, 40)
    stack.browser_login(duo, "leader")
    duo.driver.get(f"{stack.url}/alerts")
    duo.wait_for_element(f"#al-row-{alert['id']} .al-age", timeout=20)
    assert not duo.find_elements("#al-queue .row-ack") and not duo.find_elements("#al-queue .al-pick input")
    assert not _shown(duo, "#al-bulk-ack")
    console.assert_clean("a leader on the queue")


LUOHE, SANMENXIA = "411100", "411200"


def test_resolving_while_the_condition_holds_asks_first(wall, stack):
    duo, console, _ = wall
    alert = _fire(stack, LUOHE, 40)   # level IV: 40 is over its threshold (30), so it still holds
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_contains_text("#al-title", "漯河市", timeout=20)
    field = duo.find_element('#al-detail input[id*=\'"action":"resolve"\']')
    field.send_keys("已处置")
    click(stack, duo, '#al-detail button[id*=\'"action":"resolve"\']', "Resolve")
    duo.wait_for_contains_text("#al-confirm", "条件仍成立", timeout=10)
    assert "再次触发" in text(duo, "#al-confirm")
    assert stack.get(f"/api/v1/alerts/{alert['id']}")["state"] == "firing"   # nothing done before the answer

    # Cancel: nothing resolved, the question gone
    click(stack, duo, '#al-confirm button[id*=\'"action":"cancel"\']', "Cancel")
    stack.wait_for(lambda: not _shown(duo, "#al-confirm"), 10, "the question gone")
    assert stack.get(f"/api/v1/alerts/{alert['id']}")["state"] == "firing"

    # asked again, answered yes: resolved, and the trail says the condition held
    click(stack, duo, '#al-detail button[id*=\'"action":"resolve"\']', "Resolve")
    duo.wait_for_contains_text("#al-confirm", "条件仍成立", timeout=10)
    click(stack, duo, '#al-confirm button[id*=\'"action":"resolve_held"\']', "Resolve anyway")
    duo.wait_for_contains_text("#al-trail", "解除（条件仍成立） 值班员甲 — 已处置", timeout=10)
    last = stack.get(f"/api/v1/alerts/{alert['id']}")["trail"][-1]
    assert (last["kind"], last["by"], last["held"]) == ("resolved", "值班员甲", True)
    assert not _shown(duo, "#al-confirm")
    console.assert_clean("resolving while the condition holds")
