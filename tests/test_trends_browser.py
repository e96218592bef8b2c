"""/trends in headless Chromium on the real stack: the chart's traces are the store's figures, the
table sorts, the CSV export has the chart's numbers, the URL reopens the same view, both languages."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from sitroom.series import local_day
from sitroom.store import bump_version, make_engine, session_factory
from stack import click

pytestmark = pytest.mark.browser
ZHENGZHOU, HENAN = "410100", "410000"


def traces(duo) -> list[dict]:
    return duo.driver.execute_script(
        "const g = document.querySelector('#tr-chart .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => ({x: t.x, y: t.y, meta: t.meta || {}, name: t.name})) : null;")


def wait_traces(duo, regions: set[str], metric_role: str = "value", timeout: float = 20) -> list[dict]:
    end = time.time() + timeout
    while time.time() < end:
        got = traces(duo)
        if got and {t["meta"].get("region") for t in got if t["meta"].get("role") == metric_role} == regions:
            return got
        time.sleep(0.2)
    raise AssertionError(f"chart never showed {regions}: {traces(duo)}")


def store_new_per_day(stack, prefecture: str, first, last) -> dict[str, int]:
    """New confirmed per local day, counted straight from the store's line list."""
    rows = stack.sql("SELECT date(reported_at, '+8 hours'), COUNT(*) FROM case_reports WHERE prefecture = ? "
                     "AND status IN ('confirmed', 'cured', 'dead') GROUP BY 1", (prefecture,))
    return {d: n for d, n in rows if first.isoformat() <= d <= last.isoformat()}


def table_codes(duo) -> list[str]:
    return duo.driver.execute_script(
        "return [...document.querySelectorAll('#tr-table-el tbody tr')].map(r => r.dataset.code);")


def table_column(duo, col: str) -> list[str]:
    return duo.driver.execute_script(
        f"return [...document.querySelectorAll('#tr-table-el tbody td[data-col=\"{col}\"]')].map(c => c.textContent);")


def figure(text: str) -> float | None:
    text = text.replace(",", "").replace("%", "").split(" ")[0]
    try:
        return float(text)
    except ValueError:
        return None


def test_trends_view_from_url_store_figures_sort_csv_reopen(wall, stack):
    duo, console, _ = wall
    today = local_day(datetime.utcnow())
    start = today - timedelta(days=9)
    url = (f"{stack.url}/trends?regions={HENAN},{ZHENGZHOU}&metric=new&start={start}&end={today}"
           f"&level=prefecture&sort=cumulative&desc=1")
    duo.driver.get(url)
    got = wait_traces(duo, {HENAN, ZHENGZHOU})
    # the chart: Zhengzhou's daily new over complete days, today apart as the partial point
    counted = store_new_per_day(stack, ZHENGZHOU, start, today)
    line = next(t for t in got if t["meta"] == {"region": ZHENGZHOU, "role": "value"})
    days = [(start + timedelta(days=i)).isoformat() for i in range((today - start).days)]
    assert line["x"] == days
    assert line["y"] == [counted.get(d, 0) for d in days]
    partial = next(t for t in got if t["meta"] == {"region": ZHENGZHOU, "role": "partial"})
    assert partial["x"] == [today.isoformat()] and partial["y"] == [counted.get(today.isoformat(), 0)]
    avg = next(t for t in got if t["meta"] == {"region": ZHENGZHOU, "role": "average"})
    assert avg["y"][-1] is None     # no average over today's partial day
    assert avg["y"][-2] == pytest.approx(sum(line["y"][-7:]) / 7)
    duo.wait_for_contains_text("#tr-notes", "今日数据尚未报完", timeout=10)

    # the table, sorted by cumulative, then by 7-day new (a click), then ascending (a second click)
    duo.wait_for_element("#tr-table-el tbody tr", timeout=20)
    cum = [figure(x) for x in table_column(duo, "cumulative")]
    known = [x for x in cum if x is not None]
    assert known == sorted(known, reverse=True) and len(known) >= 3
    duo.find_element("button[id*='\"col\":\"new7\"']").click()
    stack.wait_for(lambda: "sort=new7" in duo.driver.current_url, 10, "the sort in the URL")
    new7 = [figure(x) for x in table_column(duo, "new7")]
    known7 = [x for x in new7 if x is not None]
    assert known7 == sorted(known7, reverse=True)
    duo.find_element("button[id*='\"col\":\"new7\"']").click()
    stack.wait_for(lambda: "desc=0" in duo.driver.current_url, 10, "ascending in the URL")
    known7 = [figure(x) for x in table_column(duo, "new7") if figure(x) is not None]
    assert known7 == sorted(known7)

    # CSV of the chart: the same numbers as its traces; of the table: the same order
    href = duo.find_element("#tr-chart-csv").get_attribute("href")
    with stack.login("leader").opener.open(href, timeout=20) as r:
        assert r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8-sig"))))
    zz = [row for row in rows if row["adcode"] == ZHENGZHOU]
    assert [row["date"] for row in zz] == days + [today.isoformat()]
    assert [float(row["value"]) for row in zz] == line["y"] + partial["y"]
    assert zz[-1]["partial_day"] == "1" and zz[0]["region"] == "郑州市"
    href = duo.find_element("#tr-table-csv").get_attribute("href")
    with stack.login("leader").opener.open(href, timeout=20) as r:
        table_rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8-sig"))))
    assert [row["adcode"] for row in table_rows] == table_codes(duo)
    href = duo.find_element("#tr-table-png").get_attribute("href")
    with stack.login("leader").opener.open(href, timeout=60) as r:
        assert r.headers["Content-Type"] == "image/png" and r.read(8) == b"\x89PNG\r\n\x1a\n"

    # switch to Rt: the serial interval is stated; then reopen the shared link: the same view
    duo.find_element("#tr-metric input[value='rt']").click()
    duo.wait_for_contains_text("#tr-notes", "代际间隔", timeout=10)
    stack.wait_for(lambda: "metric=rt" in duo.driver.current_url, 10, "the metric in the URL")
    shared = duo.driver.current_url
    q = parse_qs(urlsplit(shared).query)
    assert q["regions"] == [f"{HENAN},{ZHENGZHOU}"] and q["sort"] == ["new7"] and q["start"] == [start.isoformat()]
    before = [(t["meta"], t["y"]) for t in wait_traces(duo, {HENAN, ZHENGZHOU})]
    duo.driver.get("about:blank")
    duo.driver.get(shared)
    after = wait_traces(duo, {HENAN, ZHENGZHOU})
    assert [(t["meta"], t["y"]) for t in after] == before
    assert any(t["meta"].get("role") == "interval" for t in after)
    assert duo.find_element("#tr-metric input[value='rt']").is_selected()
    assert duo.find_element("button.tr-sort.current").text.startswith("近7日新增")
    console.assert_clean("on /trends in Chinese")


def test_trends_in_english_with_a_county_without_population(wall, stack):
    duo, console, _ = wall
    county = stack.sql("SELECT region FROM case_reports WHERE region != prefecture GROUP BY region "
                       "ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    duo.driver.get(f"{stack.url}/trends?regions={county},{ZHENGZHOU}&metric=incidence&lang=en&level=county")
    got = wait_traces(duo, {county, ZHENGZHOU})
    duo.wait_for_contains_text("#tr-notes", "no population, so no incidence", timeout=10)
    assert all(v is None for v in next(t for t in got if t["meta"]["region"] == county)["y"])
    assert any(v is not None for v in next(t for t in got if t["meta"]["region"] == ZHENGZHOU)["y"])
    duo.wait_for_contains_text("h1", "Trends", timeout=10)
    duo.wait_for_element("#tr-table-el tbody tr", timeout=20)
    assert "no population" in table_column(duo, "incidence")[0:50]
    # the picker finds a region by pinyin
    duo.find_element(".tr-regions").click()
    search = duo.wait_for_element(".tr-regions input, .dash-dropdown-search input, input.dash-dropdown-search", timeout=10)
    search.send_keys("luoyang")
    duo.wait_for_contains_text("body", "Luoyang (Henan, prefecture)", timeout=10)
    stack.wait_for(lambda: "Kaifeng (Henan, prefecture)" not in duo.find_element("body").text, 10, "the other options filtered out")
    console.assert_clean("on /trends in English")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_trends_sizes_chart_at_least_360_px_no_sideways_scroll(wall, stack, lang):
    duo, console, _ = wall
    for w, h in [(1920, 1080), (1366, 768), (768, 1024)]:
        duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
        duo.driver.get(f"{stack.url}/trends?regions={HENAN},{ZHENGZHOU}&metric=rt&lang={lang}")
        wait_traces(duo, {HENAN, ZHENGZHOU})
        duo.wait_for_element("#tr-table-el tbody tr", timeout=20)
        size = duo.driver.execute_script(
            "const c = document.querySelector('#tr-chart .js-plotly-plot').getBoundingClientRect();"
            "return {chart: c.height, chartW: c.width, scroll: document.scrollingElement.scrollWidth, width: window.innerWidth};")
        assert size["chart"] >= 360 and size["chartW"] >= 300, (w, h, size)
        assert size["scroll"] <= size["width"], f"sideways scroll at {w}x{h}: {size}"
    console.assert_clean(f"at every size ({lang})")


def test_wall_keeps_drill_down_metric_and_layers_in_its_url(wall, stack):
    duo, console, _ = wall
    duo.driver.get(f"{stack.url}/?view={ZHENGZHOU}&metric=cumulative&layers=cases")
    duo.wait_for_contains_text("#map-title", "郑州市", timeout=20)
    assert duo.find_element("#map-back").is_displayed()
    assert duo.find_element("#metric input[value='cumulative']").is_selected()
    # the wall's trend: no 7-day average on today's partial day
    today = local_day(datetime.utcnow()).isoformat()
    avg = stack.wait_for(lambda: duo.driver.execute_script(
        "const g = document.querySelector('#trend .js-plotly-plot');"
        "return g && g.data && g.data.length > 2 ? {x: g.data[2].x, y: g.data[2].y} : null;"), 20, "the trend")
    assert avg["x"][-1] != today or avg["y"][-1] is None
    duo.find_element("#metric input[value='per_100k']").click()
    stack.wait_for(lambda: "metric=per_100k" in duo.driver.current_url, 10, "the metric in the URL")
    assert f"view={ZHENGZHOU}" in duo.driver.current_url and "layers=cases" in duo.driver.current_url
    duo.find_element("#map-back").click()
    stack.wait_for(lambda: "view=" not in duo.driver.current_url, 10, "the overview in the URL")
    def drill():   # a prefecture clicked (whichever lies under the middle of Luoyang's box): in the URL
        if "view=" in duo.driver.current_url:
            return True
        try:
            duo.find_element("path.region-410300").click()
        except Exception:   # the overview's regions are still being redrawn
            pass
        return False
    stack.wait_for(drill, 20, "the drill-down in the URL")
    assert duo.find_element("#map-back").is_displayed()
    console.assert_clean("on the wall")


def quiet_county(stack) -> str:
    """A county of Henan without any case in the store (the simulator spreads its cases thinly)."""
    seen = {r for (r,) in stack.sql("SELECT DISTINCT region FROM case_reports")}
    return next(r.adcode for r in sorted(stack.gaz.regions.values(), key=lambda r: r.adcode)
                if r.level == "county" and r.adcode.startswith("41") and r.adcode not in seen)


def chart_value(duo, region: str, role: str) -> list:
    return next((t["y"] for t in traces(duo) or [] if t["meta"] == {"region": region, "role": role}), None)


def test_an_open_trends_page_shows_a_new_source_row_without_reload_and_keeps_its_state(wall, stack):
    duo, console, _ = wall
    code = stack.gaz.resolve("洛阳")
    duo.driver.get(f"{stack.url}/trends?regions={HENAN},{code}&metric=new&level=prefecture&sort=cumulative&desc=1")
    wait_traces(duo, {HENAN, code})
    duo.wait_for_element("#tr-table-el tbody tr", timeout=20)
    # the leader's own choices, made in the page: cumulative, the table by 7-day new, ascending
    duo.find_element("#tr-metric input[value='cumulative']").click()
    stack.wait_for(lambda: "metric=cumulative" in duo.driver.current_url, 10, "the metric in the URL")
    click(stack, duo, "button[id*='\"col\":\"new7\"']", "the 7-day sort")
    stack.wait_for(lambda: "sort=new7" in duo.driver.current_url, 10, "the sort in the URL")
    click(stack, duo, "button[id*='\"col\":\"new7\"']", "the 7-day sort again")
    stack.wait_for(lambda: "desc=0" in duo.driver.current_url, 10, "ascending in the URL")
    url = duo.driver.current_url
    before = stack.wait_for(lambda: chart_value(duo, code, "partial"), 10, "Luoyang's cumulative today")[-1]
    row = f"#tr-table-el tbody tr[data-code='{code}'] td[data-col='cumulative']"
    shown = figure(duo.find_element(row).text)
    duo.driver.execute_script("window.__sameDocument = true")
    stack.sim.add_cases(code, 7)     # a new row in the source database: loader, new version, push
    stack.wait_for(lambda: (chart_value(duo, code, "partial") or [0])[-1] == before + 7, 30,
                   "the new cases on the open chart")
    stack.wait_for(lambda: figure(duo.find_element(row).text) == shown + 7, 20, "the new cases in the open table")
    assert duo.driver.execute_script("return window.__sameDocument === true"), "the page was reloaded"
    # the state as the leader left it: regions, metric, sort (and its order), range, the address
    assert duo.driver.current_url == url
    assert duo.find_element("#tr-metric input[value='cumulative']").is_selected()
    assert duo.find_element("button.tr-sort.current").text.startswith("近7日新增")
    known = [figure(x) for x in table_column(duo, "new7") if figure(x) is not None]
    assert known == sorted(known)
    assert {t["meta"]["region"] for t in traces(duo)} == {HENAN, code}
    # a new version that changes nothing on this page (only its number): nothing is redrawn
    drawn = duo.driver.execute_script("return document.querySelector('#tr-chart .js-plotly-plot').data.length")
    duo.driver.execute_script("const g = document.querySelector('#tr-chart .js-plotly-plot');"
                              "window.__redrawn = 0; g.on('plotly_afterplot', () => window.__redrawn++);")
    version = duo.driver.execute_script("return window.sitroomPush.state().applied['push-version']")
    engine = make_engine(stack.store_url())
    with session_factory(engine).begin() as s:   # as a batch that changed nothing /trends shows
        bump_version(s)
    engine.dispose()
    stack.wait_for(lambda: duo.driver.execute_script("return window.sitroomPush.state().applied['push-version']")
                   != version, 10, "the pushed version")
    time.sleep(2)
    assert duo.driver.execute_script("return window.__redrawn") == 0, "redrawn with nothing new"
    assert duo.driver.execute_script("return document.querySelector('#tr-chart .js-plotly-plot').data.length") == drawn
    console.assert_clean("on /trends after pushed versions")


def test_days_before_a_regions_first_report_are_gaps_not_zeros(wall, stack):
    duo, console, _ = wall
    county = quiet_county(stack)
    now = datetime.utcnow()
    today = local_day(now)
    first = today - timedelta(days=3)
    stack.sim.add_cases(county, 4, reported=now - timedelta(days=3))    # its first report: 3 days ago
    stack.wait_for(lambda: stack.sql("SELECT COUNT(*) FROM case_reports WHERE region = ?", (county,))[0][0] == 4,
                   30, "the county's first cases in the store")
    start = today - timedelta(days=9)
    duo.driver.get(f"{stack.url}/trends?regions={county}&metric=new&start={start}&end={today}&level=county"
                   f"&sort=new7&desc=1")
    got = wait_traces(duo, {county})
    line = next(t for t in got if t["meta"] == {"region": county, "role": "value"})
    days = [(start + timedelta(days=i)).isoformat() for i in range((today - start).days)]
    assert line["x"] == days
    gap = (first - start).days
    assert line["y"][:gap] == [None] * gap, "a day before the first report is drawn as a count"
    assert line["y"][gap] == 4 and line["y"][gap + 1:] == [0] * (len(days) - gap - 1)
    avg = next(t for t in got if t["meta"] == {"region": county, "role": "average"})
    assert all(v is None for v in avg["y"]), "a 7-day average over days before the first report"
    duo.wait_for_contains_text("#tr-notes", f"{first.isoformat()} 起才有报告", timeout=10)
    # the ranked table: cumulative 4, no 7-day figure (3 complete days of reports, not 7)
    row = f"#tr-table-el tbody tr[data-code='{county}']"
    duo.wait_for_element(row, timeout=20)
    assert figure(duo.find_element(row + " td[data-col='cumulative']").text) == 4
    assert duo.find_element(row + " td[data-col='new7']").text == "—"
    # the chart's CSV: empty cells before the first report
    href = duo.find_element("#tr-chart-csv").get_attribute("href")
    with stack.login("leader").opener.open(href, timeout=20) as r:
        rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8-sig"))))
    assert [row["value"] for row in rows][:gap] == [""] * gap and float(rows[gap]["value"]) == 4
    console.assert_clean("on /trends with a new county")
