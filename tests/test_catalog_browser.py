"""Every page of the Chinese UI in headless Chromium, with data that makes each kind of machine text
(quarantine reasons of several kinds, a source's error, the engine's trail notes, a conflict of an
officer's action, the 404 page, tab titles): no English word reaches the screen outside proper
names and codes (tests/latin.py); the same pages with ?lang=en say them in English."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import yaml

import stack as stack_module
from latin import latin_words
from stack import ACCOUNTS

pytestmark = pytest.mark.browser

# What the page shows, as a person sees it: the visible text (less what is quoted from a source or
# typed by a person: .src-text), every tooltip and placeholder, the charts' text and the tab title.
COLLECT = """
const quoted = [...document.querySelectorAll('.src-text')].map(e => e.innerText).filter(Boolean);
let text = document.body.innerText;
for (const q of quoted) text = text.split(q).join(' ');
const attrs = [];
for (const e of document.querySelectorAll('[title], [placeholder], [aria-label], [data-title]')) {
  if (e.closest('.src-text')) continue;
  for (const a of ['title', 'placeholder', 'aria-label', 'data-title']) {
    const v = e.getAttribute(a); if (v) attrs.push(v);
  }
}
const svg = [...document.querySelectorAll('svg text')].map(e => e.textContent);
return {text: text, attrs: attrs, svg: svg, title: document.title};
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The browser tests' stack, plus a source whose database file is missing (its error)."""
    s = stack_module.Stack(tmp_path_factory.mktemp("catalog"))
    s.edit_config("sources.yaml", lambda cfg: cfg["sources"].append(
        {**next(x for x in cfg["sources"] if x["name"] == "hc_cases"), "name": "hc_backup",
         "title": {"zh": "卫健委备份库", "en": "Health commission backup"},
         "url": "sqlite:///${SITROOM_DATA_DIR}/sources/no_such_file.db"}))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def _codes(stack) -> set[str]:
    """Names from config and the store that a Chinese screen shows as written: source ids, column
    names, the sources' own words, account names."""
    cfg = yaml.safe_load((stack.config_dir / "sources.yaml").read_text(encoding="utf-8"))
    words = set()
    for src in cfg["sources"]:
        words |= {src["name"], *map(str, src.get("columns", {}).values())}
        for mapping in src.get("values", {}).values():
            words |= {str(w) for kv in mapping.items() for w in kv}
    words |= {name for name, _ in ACCOUNTS.values()}
    rules = yaml.safe_load((stack.config_dir / "rules.yaml").read_text(encoding="utf-8"))
    words |= {r["id"] for r in rules["rules"]}
    words |= {a for a, in stack.sql("SELECT DISTINCT action FROM audit_log")}   # the audit log's action codes
    return {p for w in words for p in re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*", w)}


def _seed(stack) -> dict:
    """Rows that make the machine texts: bad rows of several reasons, an alert with a trail of
    every kind of entry (old rows' English notes among them), a resolved one."""
    sim, now = stack.sim, datetime.utcnow()
    bad = [("xzdz", "火星市", "xzdm", ""), ("zt", "9"), ("bgrq", None), ("bgrq", "昨天"),
           ("bgrq", (now + timedelta(days=20)).strftime("%Y-%m-%d %H:%M:%S")), ("xzdz", "山阳", "xzdm", "")]
    rows = []
    for i, change in enumerate(bad):
        row = sim._new_row(now, now, "1")
        row["bgkid"] = f"BAD{i}"
        row.update(dict(zip(change[::2], change[1::2])))
        rows.append(row)
    sim._insert(rows)
    stack.wait_for(lambda: stack.get("/api/v1/quarantine?limit=1")["total"] >= len(bad), 30, "the bad rows held")
    sim.add_cases("410300", 320)   # 洛阳: level I
    stack.wait_for(lambda: stack.alert_for("410300"), 30, "the Luoyang alert")
    alert = stack.alert_for("410300")
    # the engine's other notes, as rows stored before this change hold them
    import sqlite3
    con = sqlite3.connect(stack.store_path, timeout=30)
    at = now.strftime("%Y-%m-%d %H:%M:%S.000000")
    notes = [("escalated", "level IV -> I"), ("escalated", "unacknowledged for 15 min"),
             ("fired", f"held since {now:%Y-%m-%d %H:%M:%S} UTC (5 min)"),
             ("resolved", "value 3 is back past 8 (below which it resolves)"),
             ("resolved", "no value any more (nothing left to measure)"),
             ("resolved", "rule removed from rules.yaml"), ("resolved", "region no longer in the rule's scope")]
    with con:
        con.executemany("INSERT INTO alert_events (alert_id, kind, at, by, level, value, note) "
                        "VALUES (?, ?, ?, 'system', 'I', 320, ?)", [(alert["id"], k, at, n) for k, n in notes])
        con.execute("UPDATE data_version SET version = version + 1")
    con.close()
    stack.post(f"/api/v1/alerts/{alert['id']}/note", {"note": "已通知洛阳市疾控"})
    stack.post("/api/v1/silences", {"rule": alert["rule"], "region": "410300", "minutes": 60, "reason": "演练静默"})
    stack.wait_for(lambda: any(s["name"] == "hc_backup" and s.get("error") for s in stack.get("/api/v1/sources")),
                   30, "the missing source's error")
    return alert


def _leaks(got: dict, allowed) -> dict[str, list[str]]:
    out = {}
    for what, texts in (("text", [got["text"]]), ("tooltips", got["attrs"]), ("charts", got["svg"]),
                        ("title", [got["title"]])):
        words = [w for s in texts for w in latin_words(s or "", allowed)]
        if words:
            out[what] = sorted(set(words))
    return out


def _wait(duo, selector: str, contains: str | None = None, timeout: float = 20) -> list[str]:
    """[] once the page shows `selector` (holding `contains`), else what it never showed."""
    from selenium.common.exceptions import TimeoutException
    try:
        duo.wait_for_element(selector, timeout=timeout)
        if contains:
            duo.wait_for_contains_text(selector, contains, timeout=timeout)
    except TimeoutException:
        shown = duo.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)
        return [f"never showed {selector} {contains or ''} (it shows {shown!r})"]
    return []


def test_no_english_reaches_the_chinese_ui(dash_duo, stack):
    duo = dash_duo
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    console = stack_module.Console(duo)
    alert = _seed(stack)
    seen, missing = {}, {}

    # logged out: the login page
    duo.driver.get(stack.url + "/login")
    duo.wait_for_element("#login-name", timeout=20)
    seen["/login"] = duo.driver.execute_script(COLLECT)

    stack.browser_login(duo, "admin")
    # a conflict: the alert acknowledged by another officer after this page drew its Acknowledge
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}")
    assert not _wait(duo, "#al-trail", "已通知洛阳市疾控")
    stack.post(f"/api/v1/alerts/{alert['id']}/ack", {})
    duo.driver.execute_script("document.querySelector('#al-detail button[id*=\\'\"action\":\"ack\"\\']').click()")
    conflict = _wait(duo, "#al-message", "已由", timeout=10)   # who got there first
    pages = {
        "/": ("#kpi-confirmed", None),
        "/?kiosk=1": ("path.region", None),
        "/trends": ("#tr-chart .main-svg", None),
        f"/alerts?alert={alert['id']}": ("#al-trail", "已通知洛阳市疾控"),
        "/sources": ("#quarantine", "按原因归类"),
        "/admin": ("table.grid", None),
        "/admin/audit": ("table.grid", None),
        "/no-such-page": ("#not-found", None),
    }
    seen[f"/alerts?alert={alert['id']} (after the conflict)"] = duo.driver.execute_script(COLLECT)
    missing[f"/alerts?alert={alert['id']} (after the conflict)"] = conflict
    for path, (selector, contains) in pages.items():
        duo.driver.get(stack.url + path)
        missing[path] = _wait(duo, selector, contains)
        if path == "/sources":
            missing[path] += _wait(duo, "#source-hc_backup .error", "不存在")
        seen[path] = duo.driver.execute_script(COLLECT)
    console.assert_clean("on the Chinese pages")
    allowed = _codes(stack)
    leaks = {path: {**_leaks(got, allowed), **({"missing": missing[path]} if missing.get(path) else {})}
             for path, got in seen.items()}
    assert not {p: w for p, w in leaks.items() if w}, "English on the Chinese pages:\n" + "\n".join(
        f"  {p}: {w}" for p, w in leaks.items() if w)


def test_the_english_ui_says_the_same_in_english(dash_duo, stack):
    duo = dash_duo
    stack.browser_login(duo, "admin")
    duo.driver.get(stack.url + "/sources?lang=en")
    duo.wait_for_contains_text("#quarantine", "unknown region '火星市' (column xzdz)", timeout=20)
    duo.wait_for_contains_text("#source-hc_backup", "source database file not found", timeout=20)
    assert duo.driver.title == "sitroom · Sources"
    alert = stack.alert_for("410300") or stack.alerts("all")[0]
    duo.driver.get(f"{stack.url}/alerts?alert={alert['id']}&lang=en")
    duo.wait_for_contains_text("#al-trail", "level IV -> I", timeout=20)
    trail = duo.find_element("#al-trail").text
    assert "system" in trail and "系统" not in trail and "unacknowledged for 15 min" in trail
    duo.driver.get(f"{stack.url}/no-such-page?lang=en")
    duo.wait_for_contains_text("#not-found", "There is no such page", timeout=20)
    assert duo.driver.title == "sitroom · Page not found"
