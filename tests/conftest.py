"""Shared pytest fixtures for the sitroom test suite.

Keep imports at the top; each group of fixtures lives in its own marked section.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ is not necessarily a package: make its helper modules importable either way.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import pgcluster  # noqa: E402
import stack as stack_module  # noqa: E402


# =============================================================================================
# Store backends: SQLite / throwaway PostgreSQL cluster   (helpers in tests/pgcluster.py)
#
#   SITROOM_TEST_STORE = sqlite (default) | postgresql      -- scripts/test runs both passes
#
#   pg_server        session  throwaway PostgreSQL cluster: .url(db), .create_database(name),
#                             .drop_database(name), .port; always PostgreSQL, whatever the env
#   store_url        function SQLAlchemy URL of a fresh, empty store database
#   make_source_url  function factory name -> URL of a fresh, empty *source* database
#                             (another department's DB), same backend as the store
# =============================================================================================


def pytest_report_header(config):
    try:
        backend = pgcluster.test_store_backend()
    except pgcluster.PgClusterError as exc:
        backend = f"INVALID ({exc})"
    return f"sitroom test store: {backend} ({pgcluster.STORE_ENV})"


def _store_backend() -> str:
    try:
        return pgcluster.test_store_backend()
    except pgcluster.PgClusterError as exc:
        error = str(exc)
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL cluster for the whole session (started on first use)."""
    try:
        server = pgcluster.start_cluster()
    except pgcluster.PgClusterError as exc:
        error = str(exc)
    else:
        error = None
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store_url(request, tmp_path):
    """URL of a fresh, empty store database on the backend chosen by SITROOM_TEST_STORE."""
    if _store_backend() == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = server.unique_name("store", request.node.name)
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def make_source_url(request, tmp_path):
    """Factory ``make_source_url(name) -> url``: a fresh, empty source database per call."""
    backend = _store_backend()
    made: list[str] = []
    server = request.getfixturevalue("pg_server") if backend == "postgresql" else None

    def make(name: str = "source") -> str:
        if server is None:
            stem = f"source_{pgcluster.slug(name, 40)}"
            path = tmp_path / f"{stem}.db"
            n = 1
            while path.exists() or str(path) in made:
                n += 1
                path = tmp_path / f"{stem}_{n}.db"
            made.append(str(path))
            return f"sqlite:///{path}"
        dbname = server.unique_name("src", name)
        url = server.create_database(dbname)
        made.append(dbname)
        return url

    yield make
    if server is not None:
        for dbname in made:
            server.drop_database(dbname)


# ============================ end of store backend fixtures ==================================


# =============================================================================================
# sitroom fixtures: gazetteer, an upgraded store, the simulated health-commission source
# =============================================================================================
REPO = Path(__file__).resolve().parent.parent
PROVINCES = ("410000", "610000")


@pytest.fixture(scope="session")
def gaz(tmp_path_factory):
    from sitroom.regions import load_gazetteer
    return load_gazetteer(PROVINCES, tmp_path_factory.mktemp("gazetteer-cache"))


@pytest.fixture
def store(store_url):
    """An upgraded store: (url, sessionmaker)."""
    from sitroom.store import make_engine, session_factory, upgrade
    upgrade(store_url)
    engine = make_engine(store_url)
    yield store_url, session_factory(engine)
    engine.dispose()


@pytest.fixture
def hc_source(make_source_url, gaz):
    """The simulated health-commission database (empty, schema created) and its source config."""
    from loaders.demo.health_commission import HealthCommissionSim
    from sitroom.config import load_config
    url = make_source_url("health_commission")
    sim = HealthCommissionSim(url, gaz, seed=7, bad_share=0)
    sim.create()
    cfg = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"}).source("hc_cases")
    src = cfg.model_copy(update={"url": url})
    yield sim, src
    sim.engine.dispose()


# =============================================================================================
# Logging in: `login(app, role)` -> a Flask test client logged in as that role's test account
#   login(app, "officer", regions=["410100"], name="zz-officer") for a further (scoped) account
# =============================================================================================
@pytest.fixture
def seeded(store):
    """The store with feed_seed's figures, clinics, supply points and arrivals (and the time they were put)."""
    import feed_seed
    from sitroom.store.db import utcnow
    _url, sessions = store
    now = utcnow()
    with sessions.begin() as s:
        feed_seed.seed(s, now)
    return sessions, now


@pytest.fixture
def login():
    from flask import Flask
    made: dict = {}

    def log_in(app, role: str = "officer", regions=(), name: str | None = None, display: str | None = None):
        server: Flask = getattr(app, "server", app)
        name = name or stack_module.ACCOUNTS[role][0]
        display = display or (stack_module.ACCOUNTS[role][1] if name == stack_module.ACCOUNTS[role][0] else None)
        stack_module.add_account(server.config["SITROOM_DATA"].rt.settings.database_url, name, role, regions, display)
        client = server.test_client()
        client.environ_base["HTTP_ORIGIN"] = "http://localhost"   # what a page of this site sends
        r = client.post("/login", data={"name": name, "password": stack_module.PASSWORD})
        assert r.status_code == 302, f"login as {name}: {r.status_code} {r.data[:200]!r}"
        made[name] = client
        return client
    return log_in


# =============================================================================================
# Browser tests: one running stack per test module, a wall-sized headless Chromium per test
# =============================================================================================
WALL_SIZE = (1920, 1080)


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    """The running stack of a module's browser tests: its store a SQLite file, or in the PostgreSQL pass
    (tests marked both_stores) a database on the throwaway server."""
    url = None
    if _store_backend() == "postgresql":
        server = request.getfixturevalue("pg_server")
        url = server.create_database(server.unique_name("store", request.module.__name__.rsplit(".", 1)[-1]))
    s = stack_module.Stack(tmp_path_factory.mktemp("wall"), database_url=url)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def wall(dash_duo, stack):
    """(dash_duo, console, open(path)) with a wall-sized window."""
    # the wall's own viewport (a window size would include the headless browser's frame)
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WALL_SIZE[0], "height": WALL_SIZE[1], "deviceScaleFactor": 1, "mobile": False})
    console = stack_module.Console(dash_duo)

    stack.browser_login(dash_duo, "officer")

    def open_(path: str = "/"):
        dash_duo.driver.get(stack.url + path)
        dash_duo.wait_for_element("#kpi-confirmed", timeout=20)
        dash_duo.wait_for_element("path.region", timeout=20)
        return dash_duo

    yield dash_duo, console, open_
    console.assert_clean("at the end of the test")




def runtime_on(url: str, gaz, data_dir, config_dir=None):
    """A Runtime on the store at `url`, with the config in config_dir (the shipped one by default)."""
    from sitroom.config import load_config
    from sitroom.runtime import Runtime
    from sitroom.settings import Settings
    settings = Settings.from_env(data_dir=data_dir, config_dir=config_dir or REPO / "config", database_url=url)
    return Runtime(settings, load_config(settings.config_dir, settings.env()), gaz)


def runtime_with_a_firing_alert(store, gaz, data_dir):
    """A Runtime on the store with 160 confirmed cases in 郑州市金水区 this past hour and the shipped rules
    evaluated on them (so new_cases_24h fires for 郑州), for tests of one web app in process."""
    from datetime import datetime, timedelta

    from sqlalchemy import insert

    from sitroom.alerts import evaluate
    from sitroom.store.models import CaseReport
    url, sessions = store
    rt = runtime_on(url, gaz, data_dir)
    now = datetime.utcnow()
    with sessions.begin() as s:
        s.execute(insert(CaseReport), [
            {"source": "hc_cases", "source_key": f"k{i}", "status": "confirmed", "region": "410102",
             "prefecture": "410100", "province": "410000", "reported_at": now - timedelta(hours=1),
             "source_updated_at": now, "loaded_at": now} for i in range(160)])
        evaluate(s, list(rt.config.rules.rules), gaz)
    return rt
