"""The wall page in a real headless Chromium, against real `sitroom loaders` and `sitroom serve` processes.

One stack per module (temp data dir, a copy of config/, a simulated health-commission
source with 10 days of history), shared by the tests below; the browser comes from
`dash_duo` (a fresh one per test), the server is a subprocess, not `dash_duo.start_server`.
What is asserted is what a person at the wall sees: prefectures on the map, the KPI
figures, the alert banner appearing without a reload, acknowledging from the page.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
PROVINCES = ("410000", "610000")
KPI_KEYS = ("confirmed", "new_24h", "active", "suspected", "cured", "dead", "active_alerts")
ZHENGZHOU, XIAN = "410100", "610100"
WALL_SIZE = (1920, 1080)


# ------------------------------------------------------------------------------------- the stack

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """Source DB + `sitroom loaders` + `sitroom serve`, all on a temp data dir."""

    def __init__(self, root: Path):
        self.data_dir = root / "data"
        self.config_dir = root / "config"
        self.data_dir.mkdir(parents=True)
        shutil.copytree(REPO / "config", self.config_dir)
        self.store_path = self.data_dir / "sitroom.db"
        self.source_path = self.data_dir / "sources" / "health_commission.db"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.sim = None

    # -- processes
    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sitroom", *args,
                "--data-dir", str(self.data_dir), "--config-dir", str(self.config_dir)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def spawn(self, name: str, *args: str) -> None:
        log = self.data_dir / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as out:
            self.procs[name] = subprocess.Popen(self.cli(*args), cwd=REPO, env=self.env(),
                                                stdout=out, stderr=subprocess.STDOUT)

    def log_tail(self, n: int = 40) -> str:
        parts = []
        for name, path in self.logs.items():
            lines = path.read_text(errors="replace").splitlines()[-n:] if path.exists() else []
            parts.append(f"--- {name} ({path}) ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"`sitroom {name}` exited with {p.returncode}\n{self.log_tail()}")

    def start(self) -> None:
        from loaders.demo.health_commission import HealthCommissionSim
        from sitroom.regions import load_gazetteer

        self.gaz = load_gazetteer(PROVINCES, self.data_dir / "cache")  # the subprocesses reuse this cache
        # A low, spread-out rate: history for the KPIs and the trend, but no prefecture near a
        # warning threshold before a drill (the demo default puts Zhengzhou at level II).
        self.sim = HealthCommissionSim(f"sqlite:///{self.source_path}", self.gaz, seed=1, bad_share=0,
                                       confirmed_per_day=100, hotspot=None)
        self.sim.create()
        self.source_rows = self.sim.backfill(days=10)
        # The loader migrates the store first; the server starts after it (two processes both
        # running the first migration of a fresh SQLite file would race).
        self.spawn("loaders", "loaders")
        self.wait_for(lambda: self.store_path.exists() and "loaders running" in self.logs["loaders"].read_text(),
                      60, "the loader to start")
        self.spawn("serve", "serve", "--port", str(self.port))
        self.wait_for(lambda: self.get("/healthz").get("status") == "ok", 60, "/healthz")
        self.wait_for(self.loaded_everything, 60, "the loader to read the backfilled source rows")

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.sim is not None:
            self.sim.engine.dispose()

    def wait_for(self, cond, timeout: float, what: str, every: float = 0.1):
        deadline = time.monotonic() + timeout
        last_exc = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                value = cond()
                if value:
                    return value
            except (OSError, ValueError, KeyError, sqlite3.Error) as e:  # not up yet
                last_exc = e
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc!r})\n"
                             f"{self.log_tail()}")

    # -- HTTP and SQL
    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def sql(self, query: str, params=()) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def loaded_everything(self) -> bool:
        src = next(s for s in self.get("/api/v1/sources") if s["name"] == "hc_cases")
        return (src.get("rows_inserted", 0) + src.get("rows_quarantined", 0)) >= self.source_rows

    def store_totals(self) -> dict[str, int]:
        """The KPI figures straight from the store's case_reports, independent of sitroom's queries."""
        by_status = dict(self.sql("SELECT status, COUNT(*) FROM case_reports GROUP BY status"))
        since = (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
        (new_24h,), = self.sql("SELECT COUNT(*) FROM case_reports WHERE status IN ('confirmed', 'cured', 'dead') "
                               "AND reported_at >= ?", (since,))
        (firing,), = self.sql("SELECT COUNT(*) FROM alerts WHERE state = 'firing'")
        c, cu, d = (by_status.get(k, 0) for k in ("confirmed", "cured", "dead"))
        return {"confirmed": c + cu + d, "active": c, "suspected": by_status.get("suspected", 0),
                "cured": cu, "dead": d, "new_24h": new_24h, "active_alerts": firing}

    def alerts(self, state: str = "active") -> list[dict]:
        return self.get(f"/api/v1/alerts?state={state}")

    def alert_for(self, region: str, state: str = "active") -> dict | None:
        return next((a for a in self.alerts(state) if a["region"] == region), None)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("wall"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


# ------------------------------------------------------------------------------------- browser helpers

class Console:
    """Every SEVERE browser console entry seen during a test (chromedriver hands each entry out once)."""

    def __init__(self, duo):
        self.duo = duo
        self.seen: list[dict] = []

    def collect(self) -> list[dict]:
        self.seen += self.duo.get_logs()
        return self.seen

    def assert_clean(self, when: str) -> None:
        severe = [e for e in self.collect() if e.get("level") == "SEVERE"]
        assert not severe, f"browser console errors {when}:\n" + "\n".join(
            f"  [{e.get('source', '')}] {e.get('message')}" for e in severe)


@pytest.fixture
def wall(dash_duo, stack):
    """(dash_duo, console, open(path)) with a wall-sized window."""
    # the wall's own viewport (a window size would include the headless browser's frame)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WALL_SIZE[0], "height": WALL_SIZE[1], "deviceScaleFactor": 1, "mobile": False})
    console = Console(dash_duo)

    def open_(path: str = "/"):
        dash_duo.driver.get(stack.url + path)
        dash_duo.wait_for_element("#kpi-confirmed", timeout=20)
        dash_duo.wait_for_element("path.region", timeout=20)
        return dash_duo

    yield dash_duo, console, open_
    console.assert_clean("at the end of the test")


def _region_codes(duo) -> list[str]:
    codes = []
    for el in duo.driver.find_elements("css selector", "path.region"):
        m = re.search(r"\bregion-(\d{6})\b", el.get_attribute("class") or "")
        if m:
            codes.append(m.group(1))
    return codes


def _kpis(duo) -> dict[str, int]:
    return {k: int(duo.find_element(f"#kpi-{k}").text.replace(",", "")) for k in KPI_KEYS}


def _kpi_text(duo) -> dict[str, str]:
    return {k: duo.find_element(f"#kpi-{k}").text for k in KPI_KEYS}


def _row_selector(region: str, level: str | None = None) -> str:
    return f'#alert-banner .alert-row{"." + "level-" + level if level else ""}[data-region="{region}"]'


# ------------------------------------------------------------------------------------- tests

def test_map_shows_every_prefecture(wall, stack):
    duo, console, open_ = wall
    open_()
    duo._wait_for(lambda d: len(_region_codes(duo)) >= 28, 20, "28 region paths")
    codes = _region_codes(duo)
    henan = sorted(c for c in codes if c.startswith("41"))
    shaanxi = sorted(c for c in codes if c.startswith("61"))
    assert len(henan) == 18 and len(set(henan)) == 18, henan
    assert "419001" in henan  # 济源, a province-administered county-level city
    assert len(shaanxi) == 10 and len(set(shaanxi)) == 10, shaanxi
    assert len(codes) == 28, f"unexpected paths: {sorted(set(codes) - set(henan) - set(shaanxi))}"
    assert set(codes) == {p.adcode for p in stack.gaz.prefectures()}
    # the legend of the default metric is on screen
    assert duo.find_element("#legend .legend-title").text == "24小时新增确诊"
    assert len(duo.find_elements("#legend .legend-row")) == 9
    console.assert_clean("after the map rendered")


def test_kpi_tiles_show_the_stores_totals(wall, stack):
    duo, console, open_ = wall
    open_()
    api = stack.get("/api/v1/summary")["totals"]
    sql = stack.store_totals()
    assert sql["confirmed"] > 0 and sql["suspected"] > 0 and sql["new_24h"] > 0, sql  # the history loaded
    # the tile is refreshed by callbacks: wait until it shows the store's figure, then compare all
    duo.wait_for_text_to_equal("#kpi-confirmed", f"{sql['confirmed']:,}", timeout=10)
    shown = _kpis(duo)
    assert shown == {k: api[k] for k in KPI_KEYS}, (shown, api)
    assert shown == sql, (shown, sql)
    # thousands separators as on the wall (figures this large need one)
    if sql["confirmed"] >= 1000:
        assert "," in duo.find_element("#kpi-confirmed").text
    # nothing is lost between the source and the store (bad_share=0: every row is valid)
    src = sqlite3.connect(stack.source_path)
    try:
        (src_confirmed,), = src.execute("SELECT COUNT(*) FROM bl_report WHERE zt IN ('1', '3', '4')").fetchall()
    finally:
        src.close()
    assert shown["confirmed"] == src_confirmed
    console.assert_clean("after the KPIs rendered")


def test_drill_fires_banner_live_and_acknowledge_persists(wall, stack):
    duo, console, open_ = wall
    name = "测试值班员"
    open_()
    duo.wait_for_element("#alert-banner .alert-row", timeout=10)
    assert stack.alert_for(ZHENGZHOU) is None
    assert not duo.find_elements(_row_selector(ZHENGZHOU)), "a Zhengzhou warning before the drill"
    confirmed_before = _kpis(duo)["confirmed"]
    console.assert_clean("before the drill")

    out = subprocess.run(stack.cli("drill", "--region", "郑州", "--confirmed", "320"), cwd=REPO, env=stack.env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "410100" in out.stdout, out.stdout
    t0 = time.monotonic()

    # the banner appears on the open page, without a reload
    row = duo.wait_for_element(_row_selector(ZHENGZHOU, "I") + ".firing", timeout=10)
    print(f"banner after {time.monotonic() - t0:.2f} s")
    assert "郑州" in row.text and "Ⅰ级" in row.text, row.text
    api_alert = stack.alert_for(ZHENGZHOU)
    assert api_alert and api_alert["level"] == "I" and api_alert["state"] == "firing", api_alert
    assert api_alert["value"] >= 320
    duo.wait_for_text_to_equal("#kpi-confirmed", f"{confirmed_before + 320:,}", timeout=10)
    duo.wait_for_text_to_equal("#kpi-active_alerts", f"{stack.store_totals()['active_alerts']:,}", timeout=10)
    # the map outlines the warned region: a thicker border in another colour than its quiet neighbour
    def outlined(d):
        warned = d.find_element("css selector", f"path.region-{ZHENGZHOU}")
        quiet = d.find_element("css selector", "path.region-410200")  # Kaifeng, no drill
        return (warned.get_attribute("stroke") != quiet.get_attribute("stroke")
                and float(warned.get_attribute("stroke-width")) > float(quiet.get_attribute("stroke-width")))
    duo._wait_for(outlined, 10, "the warning outline on Zhengzhou")
    console.assert_clean("after the banner appeared")

    # acknowledge from the page
    box = duo.find_element("#ack-name")
    box.clear()
    box.send_keys(name)
    duo.find_element(_row_selector(ZHENGZHOU) + " .ack-btn").click()
    duo.wait_for_contains_text(_row_selector(ZHENGZHOU) + " .acked-by", f"已由 {name}", timeout=10)
    assert duo.find_elements(_row_selector(ZHENGZHOU) + ".acknowledged")
    assert not duo.find_elements(_row_selector(ZHENGZHOU) + " .ack-btn")
    acked = stack.alert_for(ZHENGZHOU)
    assert acked["state"] == "acknowledged" and acked["acked_by"] == name, acked
    assert [a["id"] for a in stack.alerts("acknowledged")] == [acked["id"]]
    (db_by,), = stack.sql("SELECT acked_by FROM alerts WHERE id = ?", (acked["id"],))
    assert db_by == name
    console.assert_clean("after acknowledging")

    # a reload shows the same: it is in the store, not in the page
    duo.driver.refresh()
    duo.wait_for_element("#kpi-confirmed", timeout=20)
    duo.wait_for_contains_text(_row_selector(ZHENGZHOU) + ".acknowledged .acked-by", f"已由 {name}", timeout=10)
    assert not duo.find_elements(_row_selector(ZHENGZHOU) + " .ack-btn")
    duo.wait_for_text_to_equal("#kpi-active_alerts", f"{stack.store_totals()['active_alerts']:,}", timeout=10)
    assert stack.alert_for(ZHENGZHOU)["state"] == "acknowledged"
    duo.driver.save_screenshot(str(stack.data_dir.parent / "wall-after-ack.png"))  # to look at after a failure
    console.assert_clean("after the reload")


def test_english_wall(wall, stack):
    duo, console, open_ = wall
    open_("/?lang=en")
    duo.wait_for_contains_text("h1", "Epidemic situation wall", timeout=10)
    assert "Henan" in duo.find_element("h1").text
    labels = {k: duo.find_element(f".kpi-{k} .kpi-label").text for k in KPI_KEYS}
    assert labels == {"confirmed": "Confirmed", "new_24h": "New in 24 h", "active": "Active",
                      "suspected": "Suspected", "cured": "Cured", "dead": "Deaths",
                      "active_alerts": "Unacknowledged alerts"}, labels
    assert duo.find_element("#ack-name").get_attribute("placeholder") == "Duty officer name"
    assert duo.find_element("#legend .legend-title").text == "New confirmed, 24 h"
    assert duo.find_element(".lang").text == "中文"
    # a warning fired while the English page is open: English text and button
    stack.sim.add_cases(XIAN, 320)
    row = duo.wait_for_element(_row_selector(XIAN, "I") + ".firing", timeout=10)
    assert "Level I Extreme warning" in row.text and "Xi'an" in row.text.replace("’", "'"), row.text
    assert duo.find_element(_row_selector(XIAN) + " .ack-btn").text == "Acknowledge"
    assert not re.search(r"[\u4e00-\u9fff]", row.text), f"Chinese text on the English wall: {row.text!r}"
    console.assert_clean("on the English wall")
