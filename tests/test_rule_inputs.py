"""The loaders evaluate, right after a batch, the rules its source's facts feed (sitroom/rule_inputs.py),
and every rule on the clock; a rule left out of a batch's evaluation keeps its alerts as they are."""
from __future__ import annotations

import shutil

import yaml
from sqlalchemy import select

import feed_seed as fs
from conftest import REPO
from sitroom import rule_inputs
from sitroom.config import load_config
from sitroom.config.sources import KINDS
from sitroom.store.models import Alert, DataVersion

RULES = [  # a case rule and a supply rule, both holding: Zhengzhou's drill, Xianyang's 2 days of vegetables
    {"id": "cases_24h", "title": {"zh": "病例", "en": "Cases"}, "kind": "threshold", "metric": "new_confirmed",
     "window_hours": 24, "thresholds": {"IV": 30, "III": 80, "II": 150, "I": 300}, "recover": 20},
    {"id": "veg_cover", "title": {"zh": "蔬菜", "en": "Vegetables"}, "kind": "supply_cover", "item": "vegetables",
     "thresholds": {"IV": 3, "III": 2, "II": 1, "I": 0.5}, "recover": 4},
]


def test_every_shipped_rule_and_every_source_kind_name_their_inputs():
    cfg = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"})
    for rule in cfg.rules.rules:   # none falls back to "after every batch"
        assert rule_inputs.EVERYTHING not in rule_inputs.read_by(rule), rule.id
    assert set(rule_inputs.SOURCE_INPUTS) == set(KINDS)
    for src in cfg.sources.sources:
        assert rule_inputs.EVERYTHING not in rule_inputs.written_by(src), src.name


def _service(tmp_path, src, rules: list[dict], gaz, url: str):
    """The loader service on the shipped config with only the health commission's source (at `src`)
    and these rules."""
    from loaders.service import LoaderService
    conf = tmp_path / "config"
    shutil.copytree(REPO / "config", conf)
    sources = yaml.safe_load((conf / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"] = [{**next(x for x in sources["sources"] if x["name"] == "hc_cases"), "url": src.url}]
    (conf / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    (conf / "rules.yaml").write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    return LoaderService(load_config(conf, {"SITROOM_DATA_DIR": str(tmp_path / "data")}), gaz, url)


def _version(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(DataVersion.version))


def _open(sessions) -> dict[str, tuple[str, str]]:
    with sessions() as s:
        return {a.rule: (a.region, a.state) for a in s.scalars(select(Alert).where(Alert.state != "resolved"))}


def test_a_batch_evaluates_the_rules_its_facts_feed_and_leaves_the_others_alerts_alone(store, gaz, hc_source,
                                                                                        tmp_path):
    url, sessions = store
    sim, src = hc_source
    with sessions.begin() as s:
        fs.seed(s)
    svc = _service(tmp_path, src, RULES, gaz, url)
    try:
        sim.add_cases(fs.ZHENGZHOU, 40)
        before = _version(sessions)
        assert svc.poll("hc_cases").inserted == 40
        # the case batch fired the case rule at once; the supply rule waits for the clock
        assert _open(sessions) == {"cases_24h": (fs.ZHENGZHOU, "firing")}
        assert _version(sessions) == before + 1   # the cases and their alert: one version, one redraw
        svc.evaluate_rules()
        assert _open(sessions) == {"cases_24h": (fs.ZHENGZHOU, "firing"), "veg_cover": (fs.XIANYANG, "firing")}
        # a later case batch's evaluation does not end the supply rule's alert as a rule it no longer has
        sim.add_cases(fs.ZHENGZHOU, 1)
        assert svc.poll("hc_cases").inserted == 1
        assert _open(sessions) == {"cases_24h": (fs.ZHENGZHOU, "firing"), "veg_cover": (fs.XIANYANG, "firing")}
    finally:
        svc.stop()


def test_a_batch_that_moves_no_rule_still_moves_the_data_version(store, gaz, hc_source, tmp_path):
    """The batch left the version to the rules' evaluation; with no rule to evaluate it moves all the same."""
    url, sessions = store
    sim, src = hc_source
    svc = _service(tmp_path, src, RULES[1:], gaz, url)
    try:
        svc.poll("hc_cases")
        before = _version(sessions)
        sim.add_cases(fs.ZHENGZHOU, 3)
        assert svc.poll("hc_cases").inserted == 3
        assert _version(sessions) == before + 1
    finally:
        svc.stop()


def test_a_version_a_failed_evaluation_owed_is_moved_by_the_next_one(store, gaz, hc_source, tmp_path, monkeypatch):
    """The facts are committed, the evaluation that was to move the version fails (the store went away
    between the two): the screens are not left on the old figures, the next evaluation moves it."""
    from loaders import service as service_module
    url, sessions = store
    sim, src = hc_source
    svc = _service(tmp_path, src, RULES[:1], gaz, url)
    try:
        svc.poll("hc_cases")
        svc.evaluate_rules()
        before = _version(sessions)

        def store_away(*_a, **_k):
            raise service_module.DBAPIError("UPDATE data_version", {}, OSError("the store went away"))
        monkeypatch.setattr(service_module, "bump_version", store_away)
        monkeypatch.setattr(service_module, "evaluate", store_away)
        sim.add_cases(fs.ZHENGZHOU, 3)
        try:
            svc.poll("hc_cases")
        except service_module.DBAPIError:
            pass
        assert _version(sessions) == before   # the facts are in, the version did not move
        monkeypatch.undo()
        svc.evaluate_rules()   # the clock's, with nothing changed
        assert _version(sessions) == before + 1
        svc.evaluate_rules()
        assert _version(sessions) == before + 1   # paid once
    finally:
        svc.stop()


def test_a_batch_keeps_the_pending_conditions_of_the_rules_it_does_not_evaluate(store, gaz, hc_source, tmp_path):
    """A supply rule waiting out its for_minutes is not dropped by each case batch's evaluation (it would
    never fire while cases keep arriving)."""
    from sitroom.store.models import RulePending
    url, sessions = store
    sim, src = hc_source
    with sessions.begin() as s:
        fs.seed(s)
    rules = [RULES[0], {**RULES[1], "for_minutes": 60}]
    svc = _service(tmp_path, src, rules, gaz, url)

    def pending():
        with sessions() as s:
            return {(p.rule, p.region): p.since for p in s.scalars(select(RulePending))}
    try:
        svc.evaluate_rules()
        waiting = pending()
        assert (("veg_cover", fs.XIANYANG)) in waiting
        sim.add_cases(fs.ZHENGZHOU, 5)
        assert svc.poll("hc_cases").inserted == 5
        assert pending() == waiting   # the same condition, waiting since the same time
    finally:
        svc.stop()
