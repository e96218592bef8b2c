"""A running sitroom for browser tests and benchmarks: a simulated source, `sitroom loaders`
and `sitroom serve` as real processes on a temp data dir, and a browser-console collector."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROVINCES = ("410000", "610000")
PASSWORD = "test-password-1"   # every test account's
# role -> (account name, display name: the actor an action is recorded under)
ACCOUNTS = {"wall": ("t-wall", "大屏账号"), "leader": ("t-leader", "指挥长"), "officer": ("t-officer", "值班员甲"),
            "admin": ("t-admin", "管理员")}


def add_account(store_url: str, name: str, role: str, regions=(), display: str | None = None) -> None:
    """An account in the store (once: a second call with the same name keeps the first)."""
    from sitroom.auth import accounts
    from sitroom.store import make_engine, session_factory
    engine = make_engine(store_url)
    try:
        with session_factory(engine).begin() as s:
            if accounts.get(s, name) is None:
                accounts.add(s, name, role, list(regions), PASSWORD, display)
    finally:
        engine.dispose()


class Http:
    """An HTTP client logged in as one account (its session cookie), sending this site's Origin as a
    browser's page would on a POST."""

    def __init__(self, url: str, name: str | None):
        import http.cookiejar
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        if name:
            self.login(name)

    def login(self, name: str, password: str = PASSWORD) -> None:
        import urllib.parse
        data = urllib.parse.urlencode({"name": name, "password": password}).encode()
        req = urllib.request.Request(self.url + "/login", data=data, method="POST", headers={"Origin": self.url})
        with self.opener.open(req, timeout=10) as r:
            assert "/login" not in r.geturl(), f"login as {name} failed"

    def headers(self) -> dict[str, str]:
        """What another HTTP client sends to be this account on one of sitroom's pages."""
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar), "Origin": self.url}

    def get(self, path: str, timeout: float = 10):
        with self.opener.open(self.url + path, timeout=timeout) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict, timeout: float = 10):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Origin": self.url})
        with self.opener.open(req, timeout=timeout) as r:
            return json.loads(r.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """Source DB + `sitroom loaders` + `sitroom serve`, all on a temp data dir."""

    def __init__(self, root: Path, seed: int = 1, sources: tuple[str, ...] = ("hc_cases",), backfill_days: int = 10,
                 database_url: str | None = None):
        self.seed, self.backfill_days = seed, backfill_days   # backfill_days=0: an empty source and store
        self.data_dir = root / "data"
        self.config_dir = root / "config"
        self.data_dir.mkdir(parents=True)
        shutil.copytree(REPO / "config", self.config_dir)
        self._keep_sources(sources)
        self.store_path = self.data_dir / "sitroom.db"
        self.database_url = database_url   # None: the data dir's SQLite file, as `sitroom` defaults to
        self.source_path = self.data_dir / "sources" / "health_commission.db"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.clients: dict[tuple[str, str], Http] = {}
        self.logs: dict[str, Path] = {}
        self.sim = None

    def edit_config(self, name: str, change) -> None:
        """Change the stack's copy of config/NAME before it starts: `change(data)` edits the parsed YAML."""
        import yaml
        path = self.config_dir / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def _keep_sources(self, names: tuple[str, ...]) -> None:
        """Only the named sources: a stack that doesn't simulate a source must not poll it."""
        def sources(data):
            data["sources"] = [s for s in data["sources"] if s["name"] in names]

        def rules(data):   # nor a rule on a source it dropped (rules.yaml would be invalid: no rule would run)
            data["rules"] = [r for r in data["rules"] if r.get("source") in (None, *names)]
        self.edit_config("sources.yaml", sources)
        self.edit_config("rules.yaml", rules)

    def poll_seconds(self) -> float:
        import yaml
        srcs = yaml.safe_load((self.config_dir / "sources.yaml").read_text(encoding="utf-8"))["sources"]
        return next(s["poll_seconds"] for s in srcs if s["name"] == "hc_cases")

    # -- processes
    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sitroom", *args,
                "--data-dir", str(self.data_dir), "--config-dir", str(self.config_dir)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
        env["PYTHONUNBUFFERED"] = "1"
        if self.database_url:
            env["SITROOM_DATABASE_URL"] = self.database_url
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
        self.start_loaders()
        self.add_accounts()
        self.start_servers()
        self.wait_for(self.loaded_everything, 60, "the loader to read the backfilled source rows")

    def start_loaders(self) -> None:
        """The simulated source with its history, and `sitroom loaders` (which migrates the store)."""
        from loaders.demo.health_commission import HealthCommissionSim
        from loaders.demo.marker import mark_demo
        from sitroom.regions import load_gazetteer

        self.gaz = load_gazetteer(PROVINCES, self.data_dir / "cache")  # the subprocesses reuse this cache
        # A low, spread-out rate: history for the KPIs and the trend, but no prefecture near a
        # warning threshold before a drill (the demo default puts Zhengzhou at level II).
        self.sim = HealthCommissionSim(f"sqlite:///{self.source_path}", self.gaz, seed=self.seed, bad_share=0,
                                       confirmed_per_day=100, hotspot=None)
        self.sim.create()
        mark_demo(self.sim.engine)   # as `sitroom demo` does: the drills of the tests write here
        self.source_rows = self.sim.backfill(days=self.backfill_days) if self.backfill_days else 0
        # The loader migrates the store first; the server starts after it (two processes both
        # running the first migration of a fresh SQLite file would race).
        self.spawn_loaders()

    def spawn_loaders(self) -> None:
        self.spawn("loaders", "loaders")
        self.wait_for(lambda: (self.database_url or self.store_path.exists())
                      and "loaders running" in self.logs["loaders"].read_text(), 90, "the loader to start")

    def start_servers(self) -> None:
        self.spawn("serve", "serve", "--port", str(self.port))
        self.wait_for(lambda: self.get("/healthz").get("status") == "ok", 60, "/healthz")

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

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.store_path}"

    def add_accounts(self) -> None:
        """The test account of every role (ACCOUNTS), in the migrated store."""
        for role, (name, display) in ACCOUNTS.items():
            add_account(self.store_url(), name, role, display=display)

    # -- logging in
    def login(self, role: str = "admin", name: str | None = None, display: str | None = None, regions=()) -> Http:
        """An HTTP client logged in as the role's test account (or a further account `name` of that role)."""
        name = name or ACCOUNTS[role][0]
        if (self.url, name) not in self.clients:
            if name != ACCOUNTS.get(role, (None,))[0]:
                add_account(self.store_url(), name, role, regions, display)
            self.clients[self.url, name] = Http(self.url, name)
        return self.clients[self.url, name]

    def browser_login(self, duo, role: str = "officer", name: str | None = None, display: str | None = None) -> None:
        """Log the test's browser in through the login page."""
        name = name or ACCOUNTS[role][0]
        if name != ACCOUNTS.get(role, (None,))[0]:
            add_account(self.store_url(), name, role, display=display)
        duo.driver.get(self.url + "/login")
        duo.wait_for_element("#login-name", timeout=20).send_keys(name)
        duo.find_element("#login-password").send_keys(PASSWORD)
        duo.find_element("#login-submit").click()
        self.wait_for(lambda: "/login" not in duo.driver.current_url, 20, f"the login of {name}")

    def wall_url(self, name: str, regions=(), layers: str | None = None) -> str:
        """A wall device (as `sitroom walls add` makes one): the URL its screen opens."""
        from sitroom.auth import credentials
        from sitroom.store import make_engine, session_factory
        engine = make_engine(self.store_url())
        try:
            with session_factory(engine).begin() as s:
                _, token = credentials.add_wall(s, name, list(regions), layers)
        finally:
            engine.dispose()
        return f"{self.url}/wall/{token}"

    # -- HTTP and SQL
    def get(self, path: str, timeout: float = 10, role: str = "admin"):
        """GET as the role's test account (admin by default: sees everything)."""
        if path == "/healthz":
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return json.loads(r.read())
        return self.login(role).get(path, timeout)

    def post(self, path: str, body: dict, role: str = "officer"):
        """POST as the role's test account (a duty officer by default)."""
        return self.login(role).post(path, body)

    def sql(self, query: str, params=()) -> list[tuple]:
        """Rows of a query (`?` placeholders) on the store, read-only, whichever store it is."""
        if not self.database_url:
            con = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute(query, params).fetchall()
            finally:
                con.close()
        from sqlalchemy import create_engine
        engine = create_engine(self.database_url)
        try:
            con = engine.raw_connection()
            try:
                cur = con.cursor()
                cur.execute(query.replace("?", "%s"), params)
                rows = [tuple(r) for r in cur.fetchall()]
                con.rollback()
                return rows
            finally:
                con.close()
        finally:
            engine.dispose()

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


# Pages re-render on an interval, so an element found a moment ago may be gone when its text is
# read (a stale element reference). These read the text in the page itself, in one step.
def click(stack, duo, selector: str, what: str, timeout: float = 10) -> None:
    """Click, again if a redraw (a pushed data version) replaced or covered the element meanwhile:
    a user's click then lands on the new one, a WebDriver click fails on the old one."""
    from selenium.common.exceptions import (ElementClickInterceptedException, NoSuchElementException,
                                            StaleElementReferenceException)

    def once():
        try:
            duo.driver.find_element("css selector", selector).click()
            return True
        except (StaleElementReferenceException, ElementClickInterceptedException, NoSuchElementException):
            return False
    stack.wait_for(once, timeout, what)


def text(duo, selector: str) -> str | None:
    """innerText of the first element matching the selector, or None when there is none."""
    return duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)


def texts(duo, selector: str) -> list[str]:
    """innerText of every element matching the selector."""
    return duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)", selector)


def cells(duo, selector: str) -> list[list[str]]:
    """The cells' text of every table row matching the selector."""
    return duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map("
        "r => [...r.querySelectorAll('td, th')].map(c => c.innerText))", selector)


def banner_row(region: str, level: str | None = None) -> str:
    """Selector of a region's row in the alert banner every page shows."""
    return f'#alert-banner .alert-row{".level-" + level if level else ""}[data-region="{region}"]'


def css(duo, selector: str, prop: str) -> str | None:
    """A computed style property (camelCase) of the first element matching the selector."""
    return duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? getComputedStyle(e)[arguments[1]] : null",
        selector, prop)


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


