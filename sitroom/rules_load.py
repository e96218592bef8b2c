"""rules.yaml as the engine runs it: regions resolved, sources checked, hot reload, status.

`load_rules` reads and checks the file (the model, then names against the gazetteer and
sources.yaml) and returns a RuleSet or every problem as "file: key: message".
`RulesWatcher.check()` (a scheduler job in the loader process) re-reads the file when its
content changes: a valid change replaces the running rules, an invalid one keeps them and
records the problems in `rules_status`, which the alerts page reads with `rules_status()`.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from .config import RULE_KINDS, RulesConfig, SourceSilentRule, load_file
from .config.watch import FileWatch, digest_of
from . import file_status
from .regions import Gazetteer, RegionError
from .store.db import utcnow

log = logging.getLogger(__name__)
LEVEL_ORDER = ("province", "prefecture", "county")


@dataclass(frozen=True)
class CompiledRule:
    config: object                        # one of the rule models of sitroom.config.rules
    regions: dict[str, tuple[str, ...]]   # level -> region codes watched at that level

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def per_100k(self) -> bool:
        return getattr(self.config, "measure", None) == "per_100k" or getattr(self.config, "per_100k", False)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    risk_areas: tuple[str, ...] = ()
    file: str = "rules.yaml"
    digest: str | None = None
    loaded_at: datetime | None = None
    warnings: tuple[str, ...] = field(default=())
    totals_sources: dict = field(default_factory=dict)   # data_mismatch: source -> (metrics, snapshot)

    def get(self, rule_id: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _levels(gaz: Gazetteer, level: str) -> list[str]:
    return sorted(code for code, r in gaz.regions.items() if r.level == level)


def compile_rules(rules, gaz: Gazetteer, *, file: str = "rules.yaml", source_names=None, supply_items=None,
                  risk_areas=(), totals_sources=None) -> tuple[tuple[CompiledRule, ...], list[str], list[str]]:
    """Resolve each rule's scope with the gazetteer: (compiled, problems, warnings).

    `source_names` / `supply_items` (from sources.yaml) are checked when given.
    """
    compiled, problems, warnings = [], [], []
    for i, rule in enumerate(rules):
        where = f"{file}: rules[{i}]"
        if getattr(rule, "kind", None) == "supply_cover" and supply_items and rule.item not in supply_items:
            problems.append(f"{where}.item: unknown item '{rule.item}' (rule {rule.id}); "
                            f"sources.yaml supply_items has: {', '.join(sorted(supply_items))}")
        if getattr(rule, "kind", None) == "data_mismatch":   # one value per province of the gazetteer
            checked = (totals_sources or {}).get(rule.source)
            if totals_sources is not None and checked is None:
                problems.append(f"{where}.source: '{rule.source}' is not an aggregate source with check_totals "
                                f"(rule {rule.id}); such sources: {', '.join(sorted(totals_sources)) or 'none'}")
            elif checked is not None and rule.metric not in checked[0]:
                problems.append(f"{where}.metric: source '{rule.source}' checks no {rule.metric} total "
                                f"(rule {rule.id}); its check_totals: {', '.join(checked[0])}")
            compiled.append(CompiledRule(rule, {"province": tuple(gaz.province_codes)}))
            continue
        if isinstance(rule, SourceSilentRule):
            if source_names is not None and rule.source not in source_names:
                problems.append(f"{where}.source: unknown source '{rule.source}' (rule {rule.id}); "
                                f"sources.yaml has: {', '.join(sorted(source_names)) or 'none'}")
            code = gaz.province_codes[0]
            if rule.region is not None:
                try:
                    code = gaz.resolve(rule.region)
                except RegionError as e:
                    problems.append(f"{where}.region: {e} (rule {rule.id})")
            compiled.append(CompiledRule(rule, {gaz.get(code).level: (code,)}))
            continue
        by_level: dict[str, list[str]] = {}
        if rule.scope.levels:
            for level in rule.scope.levels:
                by_level[level] = _levels(gaz, level)
        else:
            for j, name in enumerate(rule.scope.regions):
                try:
                    code = gaz.resolve(name)
                except RegionError as e:
                    problems.append(f"{where}.scope.regions[{j}]: {e} (rule {rule.id})")
                    continue
                by_level.setdefault(gaz.get(code).level, []).append(code)
        c = CompiledRule(rule, {lv: tuple(dict.fromkeys(by_level[lv])) for lv in LEVEL_ORDER if lv in by_level})
        if c.per_100k:
            missing = [code for codes in c.regions.values() for code in codes if not gaz.get(code).population]
            if missing:
                total = sum(len(v) for v in c.regions.values())
                warnings.append(f"{where} ({rule.id}): {len(missing)} of {total} regions have no population and are "
                                f"skipped (per 100,000 needs one): {', '.join(missing[:5])}"
                                + (" ..." if len(missing) > 5 else ""))
                c = CompiledRule(rule, {lv: tuple(x for x in codes if x not in missing)
                                        for lv, codes in c.regions.items()})
        if getattr(rule, "kind", None) == "risk_arrivals" and not risk_areas:
            warnings.append(f"{where} ({rule.id}): regions.yaml lists no risk_areas, so no arrival counts as one")
        compiled.append(c)
    return tuple(compiled), problems, warnings


def load_rules(path: Path, gaz: Gazetteer, *, source_names=None, supply_items=None, risk_areas=(),
               totals_sources=None, env: dict[str, str] | None = None) -> tuple[RuleSet | None, list[str], list[str]]:
    """Read and check rules.yaml: (RuleSet or None, problems, warnings)."""
    path = Path(path)
    digest = digest_of(path)
    cfg, problems = load_file(path, RulesConfig, {**os.environ, **(env or {})})
    if cfg is None:
        return None, problems, []
    compiled, problems, warnings = compile_rules(cfg.rules, gaz, file=str(path), source_names=source_names,
                                                 supply_items=supply_items, risk_areas=risk_areas,
                                                 totals_sources=totals_sources)
    if problems:
        return None, problems, warnings
    return RuleSet(compiled, tuple(risk_areas), str(path), digest, utcnow(), tuple(warnings),
                   dict(totals_sources or {})), [], warnings


def context_of(config) -> dict:
    """What rules are checked against, from the other config files."""
    return {"source_names": {s.name for s in config.sources.sources},
            "supply_items": set(config.sources.supply_items), "risk_areas": tuple(config.regions.risk_areas),
            "totals_sources": totals_sources(config.sources)}


def totals_sources(sources) -> dict[str, tuple]:
    """Aggregate sources that map the publisher's totals -> (the metrics they check, their snapshot)."""
    return {s.name: (tuple(s.check_totals), s.snapshot) for s in sources.by_kind("case_aggregate") if s.check_totals}


def ruleset_from_config(config, gaz: Gazetteer, path: Path | None = None) -> tuple[RuleSet, list[str], list[str]]:
    """The rules of an already validated Config, checked against the gazetteer and sources."""
    file = str(path) if path else "rules.yaml"
    compiled, problems, warnings = compile_rules(config.rules.rules, gaz, file=file, **context_of(config))
    digest = digest_of(path) if path else None
    if problems:
        return RuleSet((), tuple(config.regions.risk_areas), file), problems, warnings
    return RuleSet(compiled, tuple(config.regions.risk_areas), file, digest, utcnow(), tuple(warnings),
                   totals_sources(config.sources)), [], warnings


class RulesWatcher:
    """Holds the running RuleSet; `check()` picks up changes to the file."""

    def __init__(self, path: Path, gaz: Gazetteer, sessions: sessionmaker, *, context: dict,
                 initial: RuleSet, problems: list[str] = (), warnings: list[str] = ()):
        self.path, self.gaz, self.sessions, self.context = Path(path), gaz, sessions, context
        self.current = initial
        self.watch = FileWatch(self.path)
        self._record(list(problems), list(warnings))

    @classmethod
    def for_config(cls, config, gaz: Gazetteer, sessions: sessionmaker) -> "RulesWatcher":
        path = Path(getattr(config, "dir", None) or ".") / "rules.yaml"
        ruleset, problems, warnings = ruleset_from_config(config, gaz, path)
        if problems:
            log.error("rules.yaml: no rules run until these are fixed:\n  %s", "\n  ".join(problems))
        return cls(path, gaz, sessions, context=context_of(config), initial=ruleset, problems=problems,
                   warnings=warnings)

    def check(self) -> bool:
        """Re-read the file if it changed; True when new rules now run."""
        if not self.watch.changed():
            return False
        ruleset, problems, warnings = load_rules(self.path, self.gaz, **self.context)
        if ruleset is None:
            log.error("rules.yaml changed but is invalid; the previous rules keep running:\n  %s",
                      "\n  ".join(problems))
            self._record(problems, warnings)
            return False
        self.current = ruleset
        log.info("rules.yaml reloaded: %d rules", len(ruleset.rules))
        self._record([], warnings)
        return True

    def _record(self, problems: list[str], warnings: list[str]) -> None:
        file_status.record(self.sessions, "rules", self.path, problems, warnings, len(self.current.rules),
                           self.current.loaded_at, self.current.digest)


def rules_status(session: Session) -> dict:
    """For the alerts page: are the rules on disk the ones running, and if not, why
    (`file_status.status`, with "rules": how many run)."""
    st = file_status.status(session, "rules")
    st["rules"] = st.pop("count")
    return st


__all__ = ["CompiledRule", "RuleSet", "RulesWatcher", "compile_rules", "load_rules", "rules_status",
           "ruleset_from_config", "RULE_KINDS"]
