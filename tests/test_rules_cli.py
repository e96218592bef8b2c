"""`sitroom rules check`, hot reload in the loader process, and `sitroom rules backtest`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime

import pytest
import yaml
from sqlalchemy import insert, select

from sitroom.config import load_config
from sitroom.rules_load import rules_status
from sitroom.store.models import CaseReport

from conftest import REPO


@pytest.fixture
def conf(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    return d


def edit_rules(conf, change):
    path = conf / "rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["rules"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def sitroom(*args, conf, tmp_path, env=None):
    return subprocess.run([sys.executable, "-m", "sitroom", *args, "--config-dir", str(conf),
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


MISTAKES = [
    (lambda r: r[1].update(scope={"regions": ["郑州", "火星"]}), "rules[1].scope.regions[1]",
     "unknown region '火星' (rule confirmed_7d_per_100k)"),
    (lambda r: r[11].update(source="hc_casez"), "rules[11].source", "unknown source 'hc_casez' (rule hc_cases_silent)"),
    (lambda r: r[11].update(region="Atlantis"), "rules[11].region", "unknown region 'Atlantis'"),
    (lambda r: r[4]["thresholds"].update(II=5), "rules[4].thresholds", "rise strictly"),
    (lambda r: r[8].update(direction="above"), "rules[8]", "thresholds must rise strictly from IV to I (direction: above)"),
    (lambda r: r[0].update(kind="ears"), "rules[0].method", "Field required"),
]


@pytest.mark.parametrize("change,key,expected", MISTAKES, ids=[m[1] for m in MISTAKES])
def test_rules_check_names_file_rule_and_key(conf, tmp_path, change, key, expected):
    edit_rules(conf, change)
    p = sitroom("rules", "check", conf=conf, tmp_path=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    line = next((ln for ln in p.stderr.splitlines() if ln.startswith(f"{conf / 'rules.yaml'}: {key}")), None)
    assert line and expected in line, p.stderr


def test_rules_check_accepts_the_shipped_rules_and_warns_of_skipped_regions(conf, tmp_path):
    p = sitroom("rules", "check", conf=conf, tmp_path=tmp_path)
    assert p.returncode == 0 and "rules OK: 15 rules" in p.stdout, p.stderr
    edit_rules(conf, lambda r: r[1].update(scope={"levels": ["county"]}))   # counties have no census population
    p = sitroom("rules", "check", conf=conf, tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "rules[1] (confirmed_7d_per_100k):" in p.stdout and "have no population and are skipped" in p.stdout


def test_hot_reload_in_the_running_loader(conf, tmp_path, store, gaz, monkeypatch):
    """The real scheduler: a valid edit runs within seconds; an invalid one keeps the old rules and says why."""
    import loaders.service as service
    monkeypatch.setattr(service, "RULES_RELOAD_SECONDS", 0.5)
    url, sessions = store
    config = load_config(conf, {"SITROOM_DATA_DIR": str(tmp_path / "data")})
    svc = service.LoaderService(config, gaz, url)

    def wait_for(check, what):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as s:
                status = rules_status(s)
            if check(status):
                return status
            time.sleep(0.2)
        raise AssertionError(f"{what}: {status}")

    svc.start()
    try:
        first = wait_for(lambda st: st["ok"] and st["rules"] == 15, "started")
        assert first["file"] == "rules.yaml" and first["problems"] == []
        edit_rules(conf, lambda r: r.pop(11))                                       # valid: one rule fewer
        wait_for(lambda st: st["ok"] and st["rules"] == 14, "valid change picked up")
        assert "hc_cases_silent" not in [r.id for r in svc.rules.current.rules]
        edit_rules(conf, lambda r: r[0]["thresholds"].update(IV=500))               # invalid: IV above III
        bad = wait_for(lambda st: st["ok"] is False, "invalid change reported")
        assert bad["rules"] == 14 and len(svc.rules.current.rules) == 14            # the previous rules still run
        assert any(p.startswith("rules.yaml: rules[0].thresholds:") for p in bad["problems"]), bad["problems"]
        assert not any(str(conf) in p for p in bad["problems"])  # the server's layout stays off the screen
        # The rules still running keep alerting.
        with sessions.begin() as s:
            now = datetime.utcnow()
            s.execute(insert(CaseReport), [
                {"source": "t", "source_key": f"k{i}", "status": "confirmed", "region": "410102", "prefecture": "410100",
                 "province": "410000", "reported_at": now, "source_updated_at": now, "loaded_at": now}
                for i in range(40)])
        assert svc.evaluate_rules().fired == 1
        edit_rules(conf, lambda r: r[0]["thresholds"].update(IV=35))                # fixed
        fixed = wait_for(lambda st: st["ok"] and st["problems"] == [], "fix picked up")
        assert fixed["loaded_at"] > bad["loaded_at"]
    finally:
        svc.stop()


def test_backtest_lists_and_draws_when_rules_would_have_fired(conf, tmp_path, store):
    url, sessions = store
    # Zhengzhou: 5 a day, then 40 on 11-20 and 11-21, then quiet again (reported at local noon).
    with sessions.begin() as s:
        rows = []
        for day, n in [(10, 5), (11, 5), (12, 5), (13, 5), (14, 5), (15, 5), (16, 5), (17, 5), (18, 5), (19, 5),
                       (20, 40), (21, 40), (22, 5), (23, 5)]:
            at = datetime(2026, 11, day, 4, 0)
            rows += [{"source": "t", "source_key": f"{day}-{i}", "status": "confirmed", "region": "410102",
                      "prefecture": "410100", "province": "410000", "reported_at": at, "source_updated_at": at,
                      "loaded_at": at} for i in range(n)]
        s.execute(insert(CaseReport), rows)
    out = tmp_path / "bt.html"
    p = sitroom("rules", "backtest", "--from", "2026-11-12", "--to", "2026-11-23", "--rule", "new_confirmed_24h",
                "--out", str(out), "--lang", "en", conf=conf, tmp_path=tmp_path, env={"SITROOM_DATABASE_URL": url})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "backtest 2026-11-12 .. 2026-11-23 by day, 1 rules: 1 alert(s)"
    assert "2026-11-20 23:59  fired  IV  new_confirmed_24h  410100 郑州市  value 40 (threshold 30)" in lines
    assert any("resolved 2026-11-22 23:59: new_confirmed_24h 410100 郑州市" in ln for ln in lines)
    assert "new_confirmed_24h: 1 alert(s) (highest level: IV 1)" in lines
    html = out.read_text(encoding="utf-8")
    assert "new_confirmed_24h · 郑州市" in html and "Rules backtest 2026-11-12 to 2026-11-23 (1 alerts)" in html
    assert '<script src="http' not in html and "Plotly.newPlot" in html   # self-contained: works on a closed network
    # the same timeline as a picture, for a report (kaleido draws it with the machine's Chromium)
    png = tmp_path / "bt.png"
    p = sitroom("rules", "backtest", "--from", "2026-11-12", "--to", "2026-11-23", "--rule", "new_confirmed_24h",
                "--out", str(png), conf=conf, tmp_path=tmp_path, env={"SITROOM_DATABASE_URL": url})
    assert p.returncode == 0, p.stderr
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") == 1600  # IHDR width
    p = sitroom("rules", "backtest", "--from", "2026-11-12", "--to", "2026-11-23", "--rule", "nope",
                conf=conf, tmp_path=tmp_path, env={"SITROOM_DATABASE_URL": url})
    assert p.returncode == 2 and "no rule nope in rules.yaml" in p.stderr


def test_a_loader_started_with_an_invalid_rules_file_leaves_open_alerts_alone(conf, tmp_path, store, gaz):
    """No valid rules ever loaded is not 'every rule removed': open alerts stay as they are until it is fixed."""
    import loaders.service as service
    from sitroom.store.models import Alert
    url, sessions = store
    config = load_config(conf, {"SITROOM_DATA_DIR": str(tmp_path / "data")})
    # rules that name sources sources.yaml no longer has: valid YAML, but no rule can run
    config = config.model_copy(update={"sources": config.sources.model_copy(update={"sources": []})})
    svc = service.LoaderService(config, gaz, url)
    now = datetime.utcnow()
    with sessions.begin() as s:
        s.add(Alert(rule="new_cases_24h", region="410100", level="II", state="firing", value=200, threshold=150,
                    fired_at=now, updated_at=now, firing_since=now))
    assert svc.rules.current.rules == ()
    assert svc.evaluate_rules().resolved == 0
    with sessions() as s:
        assert s.scalars(select(Alert.state)).all() == ["firing"]


CONFIG_MISTAKES = MISTAKES[:3] + [
    (lambda r: r.append({"id": "feed_totals", "title": {"zh": "发布总数不符", "en": "Totals do not add up"},
                         "kind": "data_mismatch", "source": "sx_inflows", "thresholds": {"IV": 1, "III": 5, "II": 20,
                                                                                         "I": 50}, "recover": 0}),
     "rules[", "'sx_inflows' is not an aggregate source with check_totals (rule feed_totals)"),
]


@pytest.mark.parametrize("change,key,expected", CONFIG_MISTAKES, ids=[m[1] for m in CONFIG_MISTAKES])
def test_config_check_fails_on_every_problem_that_stops_a_rule(conf, tmp_path, change, key, expected):
    edit_rules(conf, change)
    p = sitroom("config", "check", conf=conf, tmp_path=tmp_path)
    assert p.returncode == 2 and "config OK" not in p.stdout, p.stdout + p.stderr
    line = next((ln for ln in p.stderr.splitlines() if ln.startswith(f"{conf / 'rules.yaml'}: {key}")), None)
    assert line and expected in line, p.stderr
