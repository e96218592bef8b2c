"""Nothing a source or a person writes runs as script on any page, and it shows as typed (issue 9).

One real stack for the module: a source database with one table per source kind, where every
text-like column any kind maps (keys, texts, words, place names: enumerated from
loaders.mapping.FIELDS, not by hand) holds HTML/JS payloads; the officers' free text (by, note,
to, reason) written through the API and through the page forms; payloads in the configured
titles a person types into the config files. Headless Chromium then opens every page, hovers
and clicks every marker and region, opens every alert's detail and every source's quarantine.
A payload that ran sets window.__pwned or opens an alert(); the text must be seen as typed.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from selenium.common.exceptions import UnexpectedAlertPresentException

import stack as stack_module
from loaders.mapping import FIELDS, PERSON_LEVEL, PLACES

pytestmark = pytest.mark.browser

# {n} numbers each payload: window.__pwned (or the alert's text) says which one ran.
TEMPLATES = (
    "<img src=x onerror=alert(__pwned={n})>P{n:03d}",
    "<script>__pwned={n}</script>P{n:03d}",
    '"><svg onload=__pwned={n}>P{n:03d}',
    '<a href="javascript:__pwned={n}">P{n:03d}</a>',   # plotly draws <a href> as a link
)
TEXT_TYPES = ("key", "text", "word", "region")
RISK_AREA = "湖北省武汉市"   # in the repo's regions.yaml: payload origins starting with it are risk arrivals
PAGE_TITLES = {"/": "sitroom · 态势大屏", "/alerts": "sitroom · 预警处置", "/sources": "sitroom · 数据源"}


def text_columns(kind: str) -> list[str]:
    """Every source column of a kind that carries text (a region is read from its name column too)."""
    cols = []
    for f in FIELDS[kind]:
        if f.type == "region":
            cols += ["region_code", "region_name"]
        elif f.type in TEXT_TYPES:
            cols.append(f.name)
    return cols


def all_columns(kind: str) -> list[str]:
    """Every column a kind maps; a feed of new counts publishes no cumulative totals (config refuses them)."""
    return [c for f in FIELDS[kind] for c in (("region_code", "region_name") if f.type == "region" else (f.name,))
            if not c.startswith("total_")]


class Payloads:
    """Makes the payloads and remembers where each one was written."""

    def __init__(self):
        self.where: dict[str, str] = {}

    def __call__(self, where: str, template: int | None = None, prefix: str = "") -> str:
        n = len(self.where) + 1
        text = prefix + TEMPLATES[(n - 1) % len(TEMPLATES) if template is None else template].format(n=n)
        self.where[text] = where
        return text


# ------------------------------------------------------------------ the source database and config
def spread_counties(gaz, spacing: float = 1.2) -> list:
    """Counties far enough apart that their markers are never clustered at the wall's zoom."""
    picked = []
    for r in sorted((r for r in gaz.regions.values() if r.level == "county"), key=lambda r: r.adcode):
        if gaz.contains(gaz.province_of(r.adcode), r.lon, r.lat) and all(
                (r.lon - p.lon) ** 2 + (r.lat - p.lat) ** 2 >= spacing ** 2 for p in picked):
            picked.append(r)
    return picked


def base_row(kind: str, key: str, county, now: datetime) -> dict:
    """A valid row of a kind (times in UTC, the sources' zone here). Origins differ: a kind without a
    key column is keyed by its facts, and rows alike in them would be one row."""
    ts = lambda dt: dt.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    place = {"region_code": county.adcode, "region_name": ""}
    return {
        "case_line_list": {"source_key": key, "reported_at": ts(now - timedelta(hours=1)), "status": "confirmed",
                           **place, "imported_from": "武汉"},
        "case_aggregate": {"day": now.date().isoformat(), **place, "confirmed": "1", "suspected": "0",
                           "asymptomatic": "0", "cured": "0", "dead": "0"},
        "clinic_registry": {"source_key": key, "name": f"门诊{key}", "address": "某路1号", "lon": str(county.lon),
                            "lat": str(county.lat), **place, "status": "open", "capacity": "100"},
        "clinic_visits": {"clinic": key, "at": ts(now - timedelta(hours=2)), "visits": "50", "fever": "10",
                          "referred": "1"},
        "supply_points": {"source_key": key, "name": f"保障点{key}", "kind": "mask_pharmacy", "lon": str(county.lon),
                          "lat": str(county.lat), **place, "status": "open"},
        "supply_stock": {"point": key, "item": "n95", "stock": "100", "daily_consumption": "50",
                         "at": ts(now - timedelta(hours=1))},
        "inflow_counts": {"day": now.date().isoformat(), "origin": RISK_AREA + key, **place, "mode": "rail",
                          "count": "20"},
        "travel_records": {"source_key": key, "origin": RISK_AREA + key, **place,
                           "arrived_at": ts(now - timedelta(days=1)), "stay": "5", "mode": "rail"},
    }[kind] | {"updated_at": ts(now - timedelta(minutes=1))}


WORDS_AND_PLACES = ("status", "kind", "item", "mode", "region_code", "region_name")


def stored(row: dict, pay: Payloads) -> bool:
    """False for a row with a payload word or place: an unknown word or place is quarantined."""
    return not any(row.get(c) in pay.where for c in WORDS_AND_PLACES)


def source_rows(gaz, pay: Payloads, now: datetime) -> dict[str, list[dict]]:
    """kind -> rows: for every text column, one row per payload template; each stored clinic and
    point also gets visits and stock (so they have figures, and their keys are payloads there too)."""
    spots = spread_counties(gaz)
    prefectures = {}
    for r in spots + sorted(gaz.regions.values(), key=lambda r: r.adcode):  # one inflow destination each
        if r.level == "county":
            prefectures.setdefault(gaz.prefecture_of(r.adcode), r)
    dests = list(prefectures.values())
    rows: dict[str, list[dict]] = {kind: [] for kind in FIELDS}
    placed = {"clinic_registry": 0, "supply_points": 0, "inflow_counts": 0, "travel_records": 0}
    for kind in FIELDS:
        for col in text_columns(kind):
            for template in range(len(TEMPLATES)):
                i = len(rows[kind])
                if kind in ("clinic_registry", "supply_points"):
                    where = spots[placed[kind] % len(spots)]
                elif kind in ("inflow_counts", "travel_records"):
                    where = dests[placed[kind] % len(dests)]
                else:
                    where = spots[0]
                row = base_row(kind, f"{kind[:4]}-{i}", where, now)
                row[col] = pay(f"{kind}.{col}", template, RISK_AREA if col == "origin" else "")
                if col == "region_name":
                    row["region_code"] = ""   # the code is tried first
                if kind in placed and stored(row, pay):
                    placed[kind] += 1
                rows[kind].append(row)
    for kind, child, ref in (("clinic_registry", "clinic_visits", "clinic"), ("supply_points", "supply_stock", "point")):
        for r in rows[kind]:
            rows[child].append(base_row(child, r["source_key"], spots[0], now) | {ref: r["source_key"]})
    for r in rows["supply_points"]:  # a second item: the stock chart has a legend (plotly draws none for one line)
        rows["supply_stock"].append(base_row("supply_stock", r["source_key"], spots[0], now) | {"item": "surgical_mask"})
    return rows


def sources_yaml(kinds_cfg: dict, pay: Payloads) -> dict:
    def title(kind):
        text = pay("config.sources.title", 3) if kind == "clinic_registry" else kind
        return {"zh": text, "en": text}
    extra = {"case_aggregate": {"counting": "new"}, "clinic_registry": {"datum": "gcj02"},
             "clinic_visits": {"registry": "x_clinic_registry"}, "supply_points": {"datum": "gcj02"},
             "supply_stock": {"points": "x_supply_points"}, "travel_records": {"min_stay_hours": 2}}
    kind_title = pay("config.supply_kinds.title", 3)
    item_title = pay("config.supply_items.title", 3)
    return {
        "supply_kinds": {"mask_pharmacy": {"zh": kind_title, "en": kind_title}, **{
            k: v for k, v in kinds_cfg["supply_kinds"].items() if k != "mask_pharmacy"}},
        "supply_items": {"n95": {"title": {"zh": item_title, "en": item_title}, "unit": {"zh": "只", "en": "pcs"}},
                         **{k: v for k, v in kinds_cfg["supply_items"].items() if k != "n95"}},
        "sources": [{"name": f"x_{kind}", "title": title(kind), "kind": kind, "timezone": "UTC",
                     "url": "sqlite:///${SITROOM_DATA_DIR}/sources/payloads.db", "table": f"t_{kind}",
                     "poll_seconds": 1, "columns": {c: c for c in all_columns(kind)}, **extra.get(kind, {})}
                    for kind in FIELDS]}


def rules_yaml(pay: Payloads) -> dict:
    """A rule per kind of evidence, firing at once on the payload rows (one alert per province)."""
    low = {"thresholds": {"IV": 1, "III": 100000, "II": 200000, "I": 300000}, "recover": 0.5,
           "scope": {"levels": ["province"]}}
    title = pay("config.rules.title", 0)
    return {"rules": [
        {"id": "x_cases", "title": {"zh": title, "en": title}, "kind": "threshold", "metric": "new_confirmed",
         "window_hours": 24, **low},
        {"id": "x_visits", "title": {"zh": "就诊", "en": "Visits"}, "kind": "threshold", "metric": "clinic_visits",
         "window_hours": 24, **low},
        {"id": "x_arrivals", "title": {"zh": "来人", "en": "Arrivals"}, "kind": "risk_arrivals", "window_days": 14,
         **low},
        {"id": "x_n95", "title": {"zh": "N95", "en": "N95"}, "kind": "supply_cover", "item": "n95",
         "measure": "lowest", "thresholds": {"IV": 1000, "III": 900, "II": 800, "I": 700}, "recover": 2000,
         "scope": {"levels": ["province"]}},
    ]}


class PayloadStack(stack_module.Stack):
    """The usual processes, with the payload source database instead of the simulated one."""

    def start(self) -> None:
        import sqlite3

        from sitroom.regions import load_gazetteer
        self.gaz = load_gazetteer(stack_module.PROVINCES, self.data_dir / "cache")
        self.pay = Payloads()
        repo_sources = yaml.safe_load((stack_module.REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))
        (self.config_dir / "sources.yaml").write_text(
            yaml.safe_dump(sources_yaml(repo_sources, self.pay), allow_unicode=True), encoding="utf-8")
        (self.config_dir / "rules.yaml").write_text(yaml.safe_dump(rules_yaml(self.pay), allow_unicode=True),
                                                    encoding="utf-8")
        self.rows = source_rows(self.gaz, self.pay, datetime.now(timezone.utc).replace(tzinfo=None))
        (self.data_dir / "sources").mkdir()
        con = sqlite3.connect(self.data_dir / "sources" / "payloads.db")
        with con:
            for kind, rows in self.rows.items():
                cols = all_columns(kind)
                con.execute(f"CREATE TABLE t_{kind} ({', '.join(c + ' TEXT' for c in cols)})")
                con.executemany(f"INSERT INTO t_{kind} VALUES ({', '.join('?' * len(cols))})",
                                [[r.get(c) for c in cols] for r in rows])
        con.close()
        self.spawn_loaders()
        self.add_accounts()
        self.start_servers()
        self.wait_for(self.loaded_everything, 60, "the loader to read every payload row")
        self.wait_for(lambda: {"x_cases", "x_visits", "x_arrivals", "x_n95"} <= {a["rule"] for a in self.alerts()},
                      60, "an alert of every rule")

    def loaded_everything(self) -> bool:
        read = {s["name"]: s.get("rows_read", 0) for s in self.get("/api/v1/sources")}
        return all(read.get(f"x_{kind}", 0) >= len(rows) for kind, rows in self.rows.items())


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = PayloadStack(tmp_path_factory.mktemp("markup"), sources=())
    try:
        s.start()
        yield s
    finally:
        s.stop()


# ------------------------------------------------------------------ the browser side
class Seen:
    """What the browser showed, view by view; and the check that nothing ran."""

    def __init__(self, duo, stack):
        self.duo, self.stack = duo, stack
        self.views: dict[str, str] = {}

    def js(self, script: str, *args):
        try:
            return self.duo.driver.execute_script(script, *args)
        except UnexpectedAlertPresentException as e:
            pytest.fail(f"a payload ran alert({e.alert_text}): {self._where(e.alert_text)}")

    def _where(self, n) -> str:
        n = str(n)
        return next((f"{text!r} written to {w}" for text, w in self.stack.pay.where.items()
                     if text.endswith((f"P{int(n):03d}", f"P{int(n):03d}</a>"))), "?") if n.isdigit() else "?"

    def clean(self, view: str, title: str | None = None) -> None:
        time.sleep(0.3)  # an <img> fails to load and runs onerror a moment later
        pwned, doc_title = self.js("return [window.__pwned, document.title]")
        assert pwned is None, f"{view}: a payload ran: {self._where(pwned)}"
        if title is not None:
            assert doc_title == title, f"{view}: document.title is {doc_title!r}"

    def keep(self, view: str, text: str) -> str:
        self.views[view] = self.views.get(view, "") + "\n" + (text or "")
        return text or ""

    def page(self, view: str) -> str:
        """The page's text, with the SVG text of its charts (innerText leaves it out)."""
        return self.keep(view, self.js(
            "return document.body.innerText + '\\n' + [...document.querySelectorAll('.js-plotly-plot text')]"
            ".map(t => t.textContent).join('\\n')"))


@pytest.fixture
def seen(dash_duo, stack):
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    console = stack_module.Console(dash_duo)
    stack.browser_login(dash_duo, "admin")   # an admin sees every page, the quarantine too
    s = Seen(dash_duo, stack)
    yield s
    console.assert_clean("at the end of the test")


HOVER_ALL = """
const out = [];
for (const el of document.querySelectorAll(arguments[0])) {
  const box = el.getBoundingClientRect();
  const at = {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2};
  el.dispatchEvent(new MouseEvent('mouseover', at));
  el.dispatchEvent(new MouseEvent('mousemove', at));
  const tips = document.querySelectorAll('.leaflet-tooltip');  // the newest last
  out.push([el.querySelector('.mk-body') ? el.querySelector('.mk-body').dataset.id : el.getAttribute('class'),
            tips.length ? tips[tips.length - 1].innerText : '']);
  el.dispatchEvent(new MouseEvent('mouseout', {...at, relatedTarget: document.body}));
}
return out;
"""


def _open_wall(seen, path: str) -> None:
    duo = seen.duo
    duo.driver.get(seen.stack.url + path)
    duo.wait_for_element("#kpi-confirmed", timeout=20)
    duo.wait_for_element("path.region", timeout=20)
    seen.clean(path, "sitroom · Wall" if "lang=en" in path else PAGE_TITLES["/"])


def _hover(seen, selector: str, view: str, expect: int | None = None) -> list:
    tips = seen.stack.wait_for(lambda: (lambda t: t if t and (expect is None or len(t) >= expect) else None)(
        seen.js(HOVER_ALL, selector)), 20, f"{expect or 'any'} {selector} on {view}")
    for _id, tip in tips:
        seen.keep(f"{view} tooltips", tip)
    seen.clean(f"{view}: tooltips of {selector}")
    return tips


def _click_each(seen, selector: str, view: str) -> list[str]:
    """Click every element (by JS: overlapping markers) and read the detail panel it opens."""
    panels = []
    n = len(seen.js(f"return document.querySelectorAll({selector!r})"))
    for i in range(n):
        seen.js("document.querySelectorAll(arguments[0])[arguments[1]].dispatchEvent("
                "new MouseEvent('click', {bubbles: true}))", selector, i)
        name = seen.stack.wait_for(lambda: seen.js(
            "const e = document.querySelector('#marker-detail:not([hidden]) #detail-name');"
            "return e && e.innerText"), 10, f"the detail of {selector} #{i}")
        time.sleep(0.3)
        panels.append(seen.page(f"{view} detail"))
        seen.keep(f"{view} chart", seen.js("return [...document.querySelectorAll('#detail-chart text')]"
                                           ".map(t => t.textContent).join('\\n')"))
        seen.clean(f"{view}: detail of {name!r}")
        seen.js("document.querySelector('#detail-close').click()")
        seen.stack.wait_for(lambda: seen.js("return document.querySelector('#marker-detail').hidden"), 10,
                            "the detail to close")
    return panels


def strings(obj) -> list[str]:
    """Every text in a JSON answer."""
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in strings(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in strings(v)]
    return [obj] if isinstance(obj, str) else []


def _expected_text(stack, kind: str, col: str) -> list[str]:
    return [t for t, w in stack.pay.where.items() if w == f"{kind}.{col}"]


def test_wall_markers_tooltips_details_and_drill_down(seen, stack):
    duo = seen.duo
    for lang in ("zh", "en"):
        _open_wall(seen, f"/?lang={lang}&layers=cases,clinics,supply,inflows")
        duo.wait_for_element("#layer-legends .legend-supply", timeout=20)
        seen.page(f"wall {lang}")
        n_clinics = sum(stored(r, stack.pay) for r in stack.rows["clinic_registry"])
        n_points = sum(stored(r, stack.pay) for r in stack.rows["supply_points"])
        clinic_tips = _hover(seen, ".mk-clinic", f"wall {lang}", n_clinics)
        supply_tips = _hover(seen, ".mk-supply", f"wall {lang}", n_points)
        assert not duo.find_elements(".mk-cluster"), "markers are clustered: spread_counties needs more spacing"
        _hover(seen, "path.inflow", f"wall {lang}", 1)
        _hover(seen, "path.region", f"wall {lang}", 1)
        # each marker's tooltip names it as written in its source
        by_key = {f"x_clinic_registry|{r['source_key']}": r["name"] for r in stack.rows["clinic_registry"]}
        by_key |= {f"x_supply_points|{r['source_key']}": r["name"] for r in stack.rows["supply_points"]}
        for marker, tip in clinic_tips + supply_tips:
            assert tip.splitlines()[0] == by_key[marker], (marker, tip)
        region_tip = seen.views[f"wall {lang} tooltips"]
        assert ("郑州市" if lang == "zh" else "Zhengzhou") in region_tip
        if lang == "zh":
            _click_each(seen, ".mk-clinic", "wall")
            _click_each(seen, ".mk-supply", "wall")
            _click_each(seen, "path.inflow", "wall")
            duo.driver.save_screenshot(str(stack.data_dir / "wall.png"))

    # drill down into the prefecture of the first inflow destination: counties, county circles
    dest = stack.rows["inflow_counts"][0]["region_code"]
    prefecture = stack.gaz.prefecture_of(dest)
    seen.js("document.querySelector(arguments[0]).dispatchEvent(new MouseEvent('click', {bubbles: true}))",
            f"path.region-{prefecture}")
    duo.wait_for_element(f"path.region-{dest}", timeout=20)
    duo.wait_for_element(f"path.inflow-{dest}", timeout=20)
    seen.page("drill-down")
    _hover(seen, "path.inflow", "drill-down", 1)
    _hover(seen, "path.region", "drill-down", 1)
    _click_each(seen, "path.inflow", "drill-down")

    shown = "\n".join(seen.views.values())
    for kind, col in (("clinic_registry", "name"), ("clinic_registry", "address"), ("supply_points", "name"),
                      ("inflow_counts", "origin"), ("travel_records", "origin"),
                      ("config", "supply_kinds.title"), ("config", "supply_items.title")):
        for text in _expected_text(stack, kind, col):
            assert text in shown, f"{kind}.{col} {text!r} is not shown as written on the wall"
    item = _expected_text(stack, "config", "supply_items.title")[0]
    assert item in seen.views["wall chart"], f"the supply chart's legend does not show {item!r} as written"


def test_alert_pages_and_officers_free_text(seen, stack):
    duo, pay = seen.duo, stack.pay
    alerts = sorted(stack.alerts(), key=lambda a: a["id"])
    a, b = alerts[0], alerts[1]
    # through the API, by an officer whose display name (the actor shown) is a payload
    api = stack.login("officer", name="x-api-officer", display=pay("account.display.api"))
    api.post(f"/api/v1/alerts/{a['id']}/ack", {"note": pay("api.ack.note")})
    api.post(f"/api/v1/alerts/{a['id']}/note", {"note": pay("api.note.note")})
    api.post(f"/api/v1/alerts/{a['id']}/assign", {"to": pay("api.assign.to")})
    api.post(f"/api/v1/alerts/{b['id']}/resolve", {"reason": pay("api.resolve.reason")})

    # through the page forms, logged in as an officer named by a payload: a note, an assignee, a
    # reason, the banner's Acknowledge
    c = next(x for x in alerts if x["id"] not in (a["id"], b["id"]))
    name = pay("account.display.form")
    stack.browser_login(duo, "officer", name="x-form-officer", display=name)
    duo.driver.get(f"{stack.url}/alerts?alert={c['id']}")
    seen.clean("/alerts", PAGE_TITLES["/alerts"])
    duo.wait_for_element("#al-actions:not([hidden])", timeout=20)

    def by_form(action: str, field: str) -> None:
        text = pay(f"form.{action}.{field}")
        duo.find_element(f'#al-actions input[id*=\'"action":"{action}"\']').send_keys(text)
        duo.find_element(f'#al-actions button[id*=\'"action":"{action}"\']').click()
        if action == "resolve":   # while the condition holds, asked first
            asked = lambda: duo.find_elements("#al-confirm:not([hidden])")  # noqa: E731
            stack.wait_for(lambda: asked() or text in strings(stack.get(f"/api/v1/alerts/{c['id']}")), 20,
                           "the question or the resolution")
            if asked():
                duo.find_element('#al-confirm button[id*=\'"action":"resolve_held"\']').click()
        try:
            stack.wait_for(lambda: text in strings(stack.get(f"/api/v1/alerts/{c['id']}")),
                           20, f"the {action} from the form in the store")
        except AssertionError as e:
            said = seen.js("return document.querySelector('#al-message').innerText")
            now = stack.get(f"/api/v1/alerts/{c['id']}")
            raise AssertionError(f"{action} by the form: the page says {said!r}; the alert: {now}") from e
        seen.clean(f"/alerts: {action} by the form")

    by_form("note", "note")
    by_form("assign", "to")
    button = duo.wait_for_element("#alert-banner .ack-btn", timeout=20)
    acked = json.loads(button.get_attribute("id"))["alert"]
    button.click()
    stack.wait_for(lambda: stack.get(f"/api/v1/alerts/{acked}")["acked_by"] == name, 20,
                   "the banner's acknowledgement")
    seen.clean("/alerts: acknowledged on the banner")
    by_form("resolve", "reason")

    # every alert's detail (state all: the resolved ones too), the queue, the banner
    duo.driver.get(f"{stack.url}/alerts?state=all")
    duo.wait_for_element("#al-queue tr.al-row", timeout=20)
    seen.clean("/alerts?state=all", PAGE_TITLES["/alerts"])
    seen.page("alerts queue")
    for alert in stack.alerts("all"):
        duo.driver.get(f"{stack.url}/alerts?state=all&alert={alert['id']}")
        duo.wait_for_element("#al-actions", timeout=20)
        stack.wait_for(lambda: seen.js("return document.querySelectorAll('#al-rows table, #al-no-rows').length"),
                       20, f"the detail of alert {alert['id']}")
        stack.wait_for(lambda: seen.js("return document.querySelector('#al-chart .js-plotly-plot') !== null"), 20,
                       "the chart")
        time.sleep(0.5)
        seen.page("alert detail")
        seen.clean(f"/alerts: the detail of alert {alert['id']} ({alert['rule']})", PAGE_TITLES["/alerts"])
    duo.driver.get(f"{stack.url}/")
    duo.wait_for_element("#alert-banner .alert-row", timeout=20)
    seen.page("wall banner")
    seen.clean("the wall's banner", PAGE_TITLES["/"])

    shown = "\n".join(seen.views.values())
    free_text = [t for t, w in pay.where.items() if w.startswith(("api.", "form."))]
    for text in free_text:
        assert text in shown, f"{pay.where[text]} {text!r} is not shown as written"
    details = seen.views["alert detail"]
    for kind, col in (("case_line_list", "source_key"), ("clinic_registry", "name"), ("supply_points", "name"),
                      ("travel_records", "origin"), ("inflow_counts", "origin"), ("config", "rules.title")):
        for text in _expected_text(stack, kind, col):
            assert text in details, f"{kind}.{col} {text!r} is not in the rows behind the alerts"


def test_sources_and_quarantine_show_payloads_as_written(seen, stack):
    duo = seen.duo
    shown = []
    for kind in FIELDS:
        duo.driver.get(f"{stack.url}/sources?source=x_{kind}")
        duo.wait_for_element("#quarantine-count", timeout=20)
        stack.wait_for(lambda: seen.js("return document.querySelectorAll('#sources-table tr').length > 1"), 20,
                       "the sources table")
        time.sleep(0.5)
        shown.append(seen.page(f"sources {kind}"))
        seen.clean(f"/sources?source=x_{kind}", PAGE_TITLES["/sources"])
    shown = "\n".join(shown)
    # a payload in a word or a place is an unknown word or place: quarantined, its reason quotes it
    for text, where in stack.pay.where.items():
        kind, _, col = where.partition(".")
        if kind in PERSON_LEVEL and col in PLACES:  # a person's place is kept only up to the regions it names
            assert text not in shown, f"quarantined {where} {text!r} is shown whole on /sources"
        elif kind in FIELDS and col in WORDS_AND_PLACES:
            assert text in shown, f"quarantined {where} {text!r} is not shown as written on /sources"
    assert _expected_text(stack, "config", "sources.title")[0] in shown
