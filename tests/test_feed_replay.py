"""A recorded provincial bulletin feed (tests/fixtures/provincial_feed.csv.gz, made by
loaders/demo/provincial_feed.py record()) replayed through the real loader: everything in one
read with `sitroom load --once`, and one publication per poll. Either way the store's figures
per prefecture and per province are the last publication's, exactly; only the row that is no
region is quarantined; the publisher's totals check adds up."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from loaders.demo.provincial_feed import XIXIAN, area_stat, read_recorded
from loaders.poller import SourcePoller
from sitroom import queries
from sitroom.config import SourcesConfig
from sitroom.store import make_engine
from sitroom.store.models import PlaceName, Quarantine

from conftest import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "provincial_feed.csv.gz"
EXPECTED = json.loads(FIXTURE.with_name("provincial_feed.expected.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 23, 16, 0)   # UTC: after the last publication (2026-11-22, local)


def feed_source(url: str, batch_size: int = 5000) -> dict:
    """The sources.yaml entry README's Sources section shows for such a feed."""
    return {
        "name": "prov_feed", "title": {"zh": "省卫健委通报（汇总表）", "en": "Provincial bulletins (scraped table)"},
        "kind": "case_aggregate", "url": url, "table": "area_stat", "counting": "cumulative",
        "snapshot": "province", "batch_size": batch_size, "overlap_seconds": 600,
        "columns": {"updated_at": "updateTime", "day": "updateTime", "province": "provinceName",
                    "region_code": "city_zipCode", "region_name": "cityName", "confirmed": "city_confirmedCount",
                    "cured": "city_curedCount", "dead": "city_deadCount"},
        "check_totals": {"confirmed": "province_confirmedCount", "cured": "province_curedCount",
                         "dead": "province_deadCount"},
        "buckets": {"待明确地区": {"bucket": "undetermined"}, "境外输入": {"bucket": "outside"}},
        "aliases": {"杨凌": "610403"},
    }


@pytest.fixture
def feed(make_source_url):
    url = make_source_url("provincial_feed")
    engine = make_engine(url)
    area_stat.metadata.create_all(engine)

    def publish(*pubs):
        with engine.begin() as c:
            c.execute(area_stat.insert(), [r for p in pubs for r in p])
    yield url, publish
    engine.dispose()


def assert_last_publication(sessions, gaz, src) -> dict:
    """The store's current figures are the last publication's; returns what was checked."""
    with sessions() as s:
        figures = queries.case_figures(s, NOW, 30, {src.name: src.snapshot} if src.snapshot else {})
        checks = queries.totals_check(s, figures, [src])
        quarantined = list(s.scalars(select(Quarantine)))
        rules = {p.raw: p.rule for p in s.scalars(select(PlaceName))}
    got_pref, got_prov = {}, {}
    for prov in ("410000", "610000"):
        view = queries.roll_up(figures, gaz, prov)
        got_pref.update({code: f["confirmed"] for code, f in view["regions"].items()})
        parts = [*view["regions"].values(), *view["buckets"].values(), view["unplaced"]]
        got_prov[prov] = {m: sum(p[m] for p in parts) for m in ("confirmed", "cured", "dead")}
    assert got_pref == EXPECTED["prefectures"]
    assert got_prov == EXPECTED["provinces"]
    assert {(c["province"], c["metric"]): c["diff"] for c in checks} == {
        (p, m): 0 for p in ("410000", "610000") for m in ("confirmed", "cured", "dead")}
    assert quarantined and {r for q in quarantined for r in q.reasons} == {
        f"unknown region '{XIXIAN}' (column cityName)"}
    absent = {(a["region"], a["bucket"]) for a in figures.absent}
    assert absent == {("411381", None), ("410000", "undetermined")}
    assert (rules["杨凌示范区"], rules["410728"], rules["南阳（含邓州）"]) == ("alias", "historical", "pattern")
    return {"prefectures": len(got_pref), "quarantined": len(quarantined)}


def test_replay_one_publication_per_poll(store, gaz, feed):
    url, publish = feed
    _, sessions = store
    cfg = SourcesConfig.model_validate({"sources": [feed_source(url, batch_size=500)]})
    poller = SourcePoller(cfg.sources[0], sessions, gaz, cfg)
    pubs = read_recorded(FIXTURE)
    assert len(pubs) == EXPECTED["publications"]
    try:
        for p in pubs:
            publish(p)
            r = poller.poll(now=NOW, force=True)
            assert r.error is None, r.error
    finally:
        poller.close()
    got = assert_last_publication(sessions, gaz, cfg.sources[0])
    assert got["prefectures"] == 28


def test_replay_everything_in_one_read_with_load_once(store, gaz, feed, tmp_path):
    url, publish = feed
    store_url, sessions = store
    publish(*read_recorded(FIXTURE))
    conf = tmp_path / "config"
    shutil.copytree(REPO / "config", conf)
    (conf / "sources.yaml").write_text(yaml.safe_dump({"sources": [feed_source(url, batch_size=100_000)]},
                                                      allow_unicode=True), encoding="utf-8")
    (conf / "notify.yaml").unlink(missing_ok=True)
    rules = [{"id": "feed_totals", "title": {"zh": "发布总数不符", "en": "Published totals do not add up"},
              "kind": "data_mismatch", "source": "prov_feed", "thresholds": {"IV": 1, "III": 10, "II": 50, "I": 200},
              "recover": 0}]
    (conf / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SITROOM_DATABASE_URL": store_url}
    check = subprocess.run([sys.executable, "-m", "sitroom", "config", "check", "--config-dir", str(conf),
                            "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    p = subprocess.run([sys.executable, "-m", "sitroom", "load", "--once", "--config-dir", str(conf),
                        "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"prov_feed: read {EXPECTED['rows']} " in p.stdout, p.stdout
    cfg = SourcesConfig.model_validate({"sources": [feed_source(url)]})
    assert assert_last_publication(sessions, gaz, cfg.sources[0])["prefectures"] == 28
