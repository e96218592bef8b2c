"""Each kind of config mistake stops start-up with the file and the key."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sitroom.config import ConfigError, load_config

from feed_sources import sources_dict

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def conf(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    return d


def edit(conf: Path, stem: str, change):
    path = conf / f"{stem}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems(conf: Path, env=None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_config(conf, {"SITROOM_DATA_DIR": "/d", **(env or {})})
    return e.value.problems


def test_shipped_config_is_valid():
    cfg = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/d"})
    assert cfg.source("hc_cases").url == "sqlite:////d/sources/health_commission.db"


MISTAKES = [
    ("sources", lambda d: d["sources"][0].update(poll_seconds=0), "sources[0].poll_seconds", "greater than 0"),
    ("sources", lambda d: d["sources"][0].update(poll_seconds="often"), "sources[0].poll_seconds", "valid number"),
    ("sources", lambda d: d["sources"][0].update(pol_seconds=5), "sources[0].pol_seconds", "Extra inputs"),
    ("sources", lambda d: d["sources"][0].pop("table"), "sources[0]", "give exactly one of table or query"),
    ("sources", lambda d: d["sources"][0]["columns"].pop("region_code") and d["sources"][0]["columns"].pop("region_name"),
     "sources[0].columns", "region_code or region_name"),
    ("sources", lambda d: d["sources"][0]["values"]["status"].update({"6": "recovered"}), "sources[0]",
     "values.status.6: 'recovered' is not one of confirmed"),
    ("sources", lambda d: d["sources"][0].update(timezone="Mars/Olympus"), "sources[0].timezone", "unknown time zone"),
    ("sources", lambda d: d["sources"][0].update(future_tolerance_seconds=-1), "sources[0].future_tolerance_seconds",
     "greater than or equal to 0"),
    ("sources", lambda d: d["sources"][0].update(name="s" * 65), "sources[0].name", "at most 64 characters"),
    ("sources", lambda d: d["supply_kinds"].update({"k" * 33: {"zh": "长", "en": "long"}}), "supply_kinds",
     "longer than 32 characters"),
    ("sources", lambda d: d["sources"].append(dict(d["sources"][0])), "sources", "repeated: hc_cases"),
    ("sources", lambda d: d["sources"][0].update(url="postgresql://u:${HC_DB_PASSWORD}@db/x"), "sources[0].url",
     "HC_DB_PASSWORD is not set"),
    ("rules", lambda d: d["rules"][0]["thresholds"].update(III=10), "rules[0].thresholds", "rise strictly"),
    ("rules", lambda d: d["rules"][0].update(recover=500), "rules[0]", "recover (500) must not exceed"),
    ("dashboard", lambda d: d["playlist"].append({"view": "region", "seconds": 30}), "playlist[5]",
     "give it for view: region"),
    ("dashboard", lambda d: d["playlist"][0].update(seconds=1), "playlist[0].seconds", "greater than or equal to 5"),
    ("dashboard", lambda d: d["playlist"][0].update(view="news"), "playlist[0].view", "'overview', 'region'"),
    ("rules", lambda d: d["rules"][8].update(recover=2), "rules[8]", "must not be below the level IV threshold"),
    ("rules", lambda d: d["rules"][8].update(thresholds={"IV": 1, "III": 3, "II": 5, "I": 7}), "rules[8]",
     "direction is below (lower is worse): thresholds must fall strictly"),
    ("rules", lambda d: d["rules"][0].update(direction="up"), "rules[0].direction", "'above' or 'below'"),
    ("rules", lambda d: d["rules"][0].update(metric="vibes"), "rules[0].metric", "'new_confirmed', 'new_suspected'"),
    ("rules", lambda d: d["rules"][0].update(kind="magic"), "rules[0]", "does not match any of the expected tags"),
    ("rules", lambda d: d["rules"][0].update(window_days=7), "rules[0]", "exactly one of window_hours or window_days"),
    ("rules", lambda d: d["rules"][2].update(window_hours=24), "rules[2]", "window_hours does not apply"),
    ("rules", lambda d: d["rules"][0].update(for_minutes=-5), "rules[0].for_minutes", "greater than or equal to 0"),
    ("rules", lambda d: d["rules"][0].update(for_minute=5), "rules[0].for_minute", "Extra inputs"),
    ("rules", lambda d: d["rules"][4].update(method="C4"), "rules[4].method", "'C1', 'C2' or 'C3'"),
    ("rules", lambda d: d["rules"][4].update(sd_floor=-1), "rules[4].sd_floor", "greater than or equal to 0"),
    ("rules", lambda d: d["rules"][6].update(thresholds={"IV": 5, "III": 4, "II": 3, "I": 2}, recover=6), "rules[6]",
     "level_on: p_value needs p-value cut-offs"),
    ("rules", lambda d: d["rules"][6].update(sd_floor=5), "rules[6]", "sd_floor does not apply"),
    ("rules", lambda d: d["rules"][12].update(baseline_days=30), "rules[12].baseline_days", "whole weeks"),
    ("rules", lambda d: d["rules"][6].update(smoothing=1.5), "rules[6].smoothing", "less than or equal to 1"),
    ("rules", lambda d: d["rules"][1].update(scope={"levels": ["prefecture"], "regions": ["郑州"]}), "rules[1].scope",
     "exactly one of levels"),
    ("rules", lambda d: d["rules"][1].update(scope={"levels": ["village"]}), "rules[1].scope.levels[0]",
     "'province', 'prefecture' or 'county'"),
    ("rules", lambda d: d["rules"][11].pop("source"), "rules[11].source", "Field required"),
    ("rules", lambda d: d["rules"][1].update(id="new_confirmed_24h"), "rules", "rules[1] repeats 'new_confirmed_24h' of rules[0]"),
    ("rules", lambda d: d["rules"][0].update(id="New Rule"), "rules[0].id", "should match pattern"),
    ("regions", lambda d: d.update(provinces=["4100"]), "provinces", "not a province code"),
    ("dashboard", lambda d: d.update(language="fr"), "language", "'zh' or 'en'"),
    ("dashboard", lambda d: d.update(refresh_ms=5), "refresh_ms", "greater than or equal to 200"),
]


def feeds(change):
    """sources.yaml holding a source of every kind (tests/feed_sources.py), then `change` applied."""
    def apply(d):
        d.clear()
        d.update(sources_dict("sqlite:///x.db"))
        change(d)
    return apply


def kind(d, name):
    return next(s for s in d["sources"] if s["name"] == name)


MISTAKES += [
    ("sources", feeds(lambda d: kind(d, "clinic").pop("datum")), "sources[2].datum", "Field required"),
    ("sources", feeds(lambda d: kind(d, "clinic").update(datum="bd09")), "sources[2].datum", "'wgs84' or 'gcj02'"),
    ("sources", feeds(lambda d: kind(d, "visit").update(registry="nowhere")), "sources",
     "[3].registry: 'nowhere' is not a clinic_registry source"),
    ("sources", feeds(lambda d: kind(d, "stock")["units"].update(item=10)), "sources[5]",
     "units.item: this field has no unit"),
    ("sources", feeds(lambda d: kind(d, "trip")["units"].update(stay="fortnights")), "sources[7]",
     "units.stay: 'fortnights' is not one of seconds, minutes, hours, days"),
    ("sources", feeds(lambda d: kind(d, "point")["values"]["kind"].update(BAR="bar")), "sources",
     "[4].values.kind.BAR: 'bar' is not in supply_kinds"),
    ("sources", feeds(lambda d: kind(d, "agg").update(counting="daily")), "sources[1].counting",
     "'cumulative' or 'new'"),
    ("sources", feeds(lambda d: kind(d, "agg")["buckets"].update({"外地": {"province": "61", "bucket": "outside"}})),
     "sources[1].buckets.外地.province", "should match pattern"),
    ("sources", feeds(lambda d: kind(d, "flow").update(kind="inflow")), "sources[6]", "does not match any of the expected tags"),
    ("sources", feeds(lambda d: kind(d, "flow")["columns"].pop("count")), "sources[6].columns.count", "Field required"),
]


@pytest.mark.parametrize("stem,change,key,expected", MISTAKES, ids=[m[2] + ":" + m[3][:12] for m in MISTAKES])
def test_each_mistake_names_file_and_key(conf, stem, change, key, expected):
    edit(conf, stem, change)
    found = [p for p in problems(conf) if p.startswith(f"{conf / stem}.yaml: {key}")]
    assert found, problems(conf)
    assert expected in found[0]


def test_missing_file_and_broken_yaml(conf):
    (conf / "rules.yaml").unlink()
    (conf / "dashboard.yaml").write_text("language: [zh\n", encoding="utf-8")
    got = problems(conf)
    assert any(p.startswith(f"{conf / 'rules.yaml'}: file is missing") for p in got)
    assert any(p.startswith(f"{conf / 'dashboard.yaml'}: not valid YAML") for p in got)


def test_config_check_and_serve_refuse_an_invalid_config(conf, tmp_path):
    edit(conf, "sources", lambda d: d["sources"][0].update(batch_size=-1))
    for args in (["config", "check"], ["serve", "--port", "1"], ["loaders"]):
        p = subprocess.run([sys.executable, "-m", "sitroom", *args, "--config-dir", str(conf),
                            "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert f"{conf / 'sources.yaml'}: sources[0].batch_size: Input should be greater than or equal to 1" in p.stderr


def test_config_check_accepts_the_shipped_config(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sitroom", "config", "check", "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "config OK" in p.stdout, p.stderr


def test_config_check_names_an_unknown_playlist_region(conf, tmp_path):
    """The playlist's regions need the gazetteer: checked at start-up, with file and key."""
    edit(conf, "dashboard", lambda d: d["playlist"].extend([{"view": "region", "region": "火星市", "seconds": 30},
                                                            {"view": "region", "region": "中原区", "seconds": 30}]))
    p = subprocess.run([sys.executable, "-m", "sitroom", "config", "check", "--config-dir", str(conf),
                        "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert f"{conf / 'dashboard.yaml'}: playlist[5].region: unknown region '火星市'" in p.stderr
    assert f"{conf / 'dashboard.yaml'}: playlist[6].region: '中原区' is a county" in p.stderr and "郑州市" in p.stderr
