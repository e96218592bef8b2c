"""/alerts in headless Chromium against a running stack: the rules.yaml notice (and the web
process picking up an edited rules.yaml), the pending queue, filters kept in the address, an
alert's own chart and the rows behind its value, and acknowledging from the detail.
Note, assign and resolve through the page are in test_pages_browser.py."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from stack import banner_row, cells, click, css, text, texts

pytestmark = pytest.mark.browser

LUOYANG, NANYANG = "410300", "411300"
DRILL_RULE = """
  - id: drill_pending
    title: {zh: 南阳演练规则, en: Nanyang drill rule}
    kind: threshold
    metric: new_confirmed
    window_hours: 24
    scope: {regions: [南阳]}
    thresholds: {IV: 40, III: 60, II: 100, I: 200}
    recover: 20
    for_minutes: 600
"""
BROKEN_RULE = """
  - id: broken_rule
    title: {zh: 错误规则, en: Broken rule}
    kind: threshold
    metric: new_confirmed
    window_hours: 24
    thresholds: {IV: 40, III: 30, II: 100, I: 200}
    recover: 20
"""


@pytest.fixture
def rules_file(stack):
    """rules.yaml of the running stack; put back as it was after the test."""
    path = stack.config_dir / "rules.yaml"
    original = path.read_text(encoding="utf-8")
    yield path, original
    path.write_text(original, encoding="utf-8")
    stack.wait_for(lambda: stack.get("/api/v1/rules/status")["ok"] is True, 30, "the original rules to run again")


def _fire(stack, region: str, cases: int) -> dict:
    stack.sim.add_cases(region, cases)
    return stack.wait_for(lambda: stack.alert_for(region, "firing"), 20, f"the alert in {region} to fire")


def _rule_count(rules_yaml: str) -> int:
    return len(yaml.safe_load(rules_yaml)["rules"])


def _with_rule(rules_yaml: str, rule: str) -> str:
    """rules.yaml with one more rule, whatever its layout (the stack writes its own)."""
    data = yaml.safe_load(rules_yaml)
    data["rules"] += yaml.safe_load(rule)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_invalid_rules_notice_then_a_fixed_file_with_a_new_title(wall, stack, rules_file):
    duo, console, _ = wall
    path, original = rules_file
    alert = _fire(stack, LUOYANG, 320)
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    duo.wait_for_contains_text("#al-queue", "24小时新增确诊病例", timeout=20)
    assert not duo.find_elements("#rules-invalid")
    loaded_at = stack.get("/api/v1/rules/status")["loaded_at"]

    path.write_text(_with_rule(original, BROKEN_RULE), encoding="utf-8")  # the loaders re-read it every 5 s
    duo.wait_for_element("#rules-invalid", timeout=20)
    local = (datetime.fromisoformat(loaded_at.removesuffix("Z")) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    duo.wait_for_contains_text("#rules-invalid", f"rules.yaml 有误，仍按 {local} 载入的规则运行", timeout=10)
    notice = text(duo, "#rules-invalid")
    assert f"rules[{_rule_count(original)}].thresholds: thresholds must rise strictly from IV to I" in notice, notice
    assert stack.alert_for(LUOYANG, "firing")  # the running rules go on

    # fixed, and the rule's title edited: the notice goes, and this web process shows the new title
    path.write_text(original.replace("24小时新增确诊病例", "24小时新增确诊（已改名）"), encoding="utf-8")
    duo.wait_for_contains_text("#al-queue", "24小时新增确诊（已改名）", timeout=20)
    duo.wait_for_contains_text("#al-title", "24小时新增确诊（已改名）", timeout=10)
    stack.wait_for(lambda: not duo.find_elements("#rules-invalid"), 20, "the notice to go")
    console.assert_clean("with an invalid, then a fixed rules.yaml")


def test_an_invalid_notify_yaml_is_said_on_the_alerts_page_until_fixed(wall, stack):
    duo, console, _ = wall
    path = stack.config_dir / "notify.yaml"
    original = path.read_text(encoding="utf-8")
    duo.driver.get(f"{stack.url}/alerts")
    duo.wait_for_element("#al-queue", timeout=20)
    try:
        path.write_text("targets:\n  - {name: Duty Desk, url: 'ftp://gateway'}\n", encoding="utf-8")
        duo.wait_for_element("#notify-invalid", timeout=20)   # the loaders look every 2 s
        notice = text(duo, "#notify-invalid")
        assert "notify.yaml 有误，仍按" in notice and "载入的 0 个通知目标发送" in notice, notice
        assert "notify.yaml: targets[0].name" in notice and "targets[0].url" in notice, notice
        assert str(stack.config_dir) not in notice   # the file's name, not the server's layout
    finally:
        path.write_text(original, encoding="utf-8")
    stack.wait_for(lambda: not duo.find_elements("#notify-invalid"), 20, "the notice to go")
    console.assert_clean("with an invalid, then a fixed notify.yaml")


def test_pending_section_and_filters_kept_in_the_address(wall, stack, rules_file):
    duo, console, _ = wall
    path, original = rules_file
    path.write_text(_with_rule(original, DRILL_RULE), encoding="utf-8")
    stack.wait_for(lambda: stack.get("/api/v1/rules/status")["rules"] == _rule_count(original) + 1, 30,
                   "the drill rule to run")
    _fire(stack, NANYANG, 120)  # the 24 h rule fires at once; the drill rule waits 600 minutes
    pending = stack.wait_for(lambda: [p for p in stack.alerts("pending") if p["rule"] == "drill_pending"], 30,
                             "the drill rule's condition to wait")[0]
    assert pending["region"] == NANYANG and pending["level"] == "II"

    duo.driver.get(f"{stack.url}/alerts")
    pending_row = '#al-pending-table tr[data-rule="drill_pending"]'
    duo.wait_for_element(pending_row, timeout=20)
    row = text(duo, pending_row)
    assert "南阳市" in row and "南阳演练规则" in row and "Ⅱ级" in row, row
    assert "（600 分钟后）" in row or "（599 分钟后）" in row, row
    assert "南阳演练规则" not in text(duo, "#alert-banner")  # pending: never on a banner

    # filters: a region typed in, a level ticked; both in the address and back after a reload
    duo.find_element("#al-region").send_keys("南阳")
    duo.wait_for_contains_text("#al-queue", "南阳市", timeout=10)
    stack.wait_for(lambda: "洛阳市" not in text(duo, "#al-queue"), 10, "Luoyang filtered out")
    level_ii = duo.find_element("#al-level input[value='II']")
    level_ii.click()
    duo.wait_for_element("#al-no-match", timeout=10)  # Nanyang's open alert is level III, not II
    assert duo.find_elements('#al-pending-table tr[data-rule="drill_pending"]')
    stack.wait_for(lambda: "level=II" in duo.driver.current_url and "region=" in duo.driver.current_url, 5,
                   "the filters in the address")
    duo.driver.refresh()
    duo.wait_for_element("#al-no-match", timeout=20)
    assert duo.find_element("#al-region").get_attribute("value") == "南阳"
    assert duo.find_element("#al-level input[value='II']").is_selected()
    assert len(duo.find_elements("#al-pending-table tr.pending-row")) == 1
    console.assert_clean("with filters")


def test_alert_detail_chart_rows_and_acknowledge(wall, stack):
    duo, console, _ = wall
    alert = stack.alert_for(LUOYANG, "active") or _fire(stack, LUOYANG, 320)
    duo.driver.get(f"{stack.url}/alerts")
    duo.wait_for_element(banner_row(LUOYANG), timeout=20)
    if alert["state"] == "firing":  # read in one step: the banner may re-render between a find and a read
        assert css(duo, banner_row(LUOYANG), "animationName") == "flash"
    click(stack, duo, f'#al-row-{alert["id"]} td.al-region', "the alert's row")
    duo.wait_for_contains_text("#al-title", "洛阳市", timeout=10)
    stack.wait_for(lambda: f"alert={alert['id']}" in duo.driver.current_url, 10, "the selection in the address")

    # the chart is the rule's own figure: 24 h new confirmed over time, four level lines and the recover line
    duo.wait_for_contains_text("#al-chart-title", "24小时内新增确诊", timeout=10)
    fig = stack.wait_for(lambda: duo.driver.execute_script(
        "const g = document.querySelector('#al-chart .js-plotly-plot');"
        "return g && g.data && g.data.length ? {y: g.data[0].y, shapes: g.layout.shapes.map(s => s.y0),"
        " notes: g.layout.annotations.map(a => a.text)} : null"), 10, "the chart")
    assert fig["shapes"] == [30, 80, 150, 300, 20]
    assert {"Ⅳ级阈值", "Ⅲ级阈值", "Ⅱ级阈值", "Ⅰ级阈值", "恢复线"} <= set(fig["notes"]), fig["notes"]
    now = stack.get(f"/api/v1/alerts/{alert['id']}")
    assert fig["y"][-1] >= now["value"]  # now's figure: at least what the last evaluation saw

    # the rows behind the value: the newest confirmed reports of Luoyang in the last 24 h, from the store
    since = (datetime.utcnow() - timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
    newest = stack.sql("SELECT source_key FROM case_reports WHERE prefecture = ? AND status IN "
                       "('confirmed', 'cured', 'dead') AND reported_at >= ? ORDER BY reported_at DESC, id DESC "
                       "LIMIT 50", (LUOYANG, since))
    duo.wait_for_element("#al-rows-table", timeout=10)
    rows = cells(duo, "#al-rows-table tbody tr")
    assert len(rows) == len(newest) == 50
    assert [r[1] for r in rows[:5]] == [k for k, in newest[:5]]
    assert all(r[0] == "hc_cases" for r in rows)
    assert "确诊" in " ".join(rows[0])
    assert cells(duo, "#al-rows-table thead tr") == [["数据源", "源主键", "病例状态", "地区", "报告时间", "数量"]]

    # acknowledge from the detail
    if alert["state"] == "firing":
        click(stack, duo, '#al-detail button[id*=\'"action":"ack"\']', "Acknowledge")
        stack.wait_for(lambda: " ".join((texts(duo, "#al-trail li") or [""])[-1].split()).endswith("确认 值班员甲"),
                       10, "the acknowledgement at the end of the trail")
        duo.wait_for_element(f'#alert-banner .alert-row[data-region="{LUOYANG}"].acknowledged', timeout=10)
        assert not duo.find_element('#al-detail button[id*=\'"action":"ack"\']').is_enabled()
        got = stack.get(f"/api/v1/alerts/{alert['id']}")
        assert (got["state"], got["acked_by"]) == ("acknowledged", "值班员甲")
    console.assert_clean("on an alert's detail")
