"""What every process loads at start-up: settings, validated config, the gazetteer.

The rules are the one part of the config that changes while processes run: `Runtime.rules()`
re-reads rules.yaml when the file changes (with the loaders' own `load_rules`), keeps the last
valid rules when the new file is invalid, and is what the web process shows titles and
thresholds from. The loader process keeps its own `RulesWatcher`, which also records the
file's status in the store for the alerts page.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, ConfigError, load_config
from .config.dashboard import playlist_problems
from .config.watch import FileWatch
from .regions import Gazetteer, load_gazetteer
from .rules_load import context_of, load_rules, ruleset_from_config
from .settings import Settings

log = logging.getLogger(__name__)
RECHECK_SECONDS = 1.0   # at most one stat() of rules.yaml per second, however many requests


class LiveRules:
    """The running RuleSet of rules.yaml, re-read when the file changes."""

    def __init__(self, config: Config, gaz: Gazetteer):
        self.path = Path(config.dir or ".") / "rules.yaml"
        self.gaz, self.context = gaz, context_of(config)
        self.current, problems, _ = ruleset_from_config(config, gaz, self.path)
        if problems:
            log.error("rules.yaml: %s", "; ".join(problems))
        self.generation = 0          # bumped on every reload: part of the screens' cache keys
        self.watch = FileWatch(self.path)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def get(self):
        """The RuleSet to show; a changed file is re-read (an invalid one keeps the last valid rules)."""
        if time.monotonic() - self._checked < RECHECK_SECONDS:
            return self.current
        with self._lock:
            self._checked = time.monotonic()
            if not self.watch.changed():
                return self.current
            ruleset, problems, _ = load_rules(self.path, self.gaz, **self.context)
            if ruleset is None:
                log.warning("rules.yaml changed but is invalid; still showing the previous rules:\n  %s",
                            "\n  ".join(problems))
            elif ruleset.digest != self.current.digest:
                self.current, self.generation = ruleset, self.generation + 1
                log.info("rules.yaml reloaded: %d rules", len(ruleset.rules))
            return self.current


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: Config
    gazetteer: Gazetteer
    live_rules: LiveRules | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.live_rules is None:
            object.__setattr__(self, "live_rules", LiveRules(self.config, self.gazetteer))

    def rules(self):
        """The rules as rules.yaml says now (the last valid version of it): a RuleSet."""
        return self.live_rules.get()

    def rule(self, rule_id: str):
        """One rule's config (title, thresholds, recover, ...) or None if no longer in rules.yaml."""
        found = self.rules().get(rule_id)
        return found.config if found else None


def load_runtime(settings: Settings) -> Runtime:
    """Raises ConfigError (file, key, expected) before anything starts."""
    config = load_config(settings.config_dir, settings.env())
    gaz = load_gazetteer(tuple(config.regions.provinces), settings.data_dir / "cache")
    problems = playlist_problems(config.dashboard, gaz, Path(settings.config_dir) / "dashboard.yaml")  # names need it
    if problems:
        raise ConfigError(problems)
    return Runtime(settings, config, gaz)
