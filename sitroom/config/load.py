"""Load and validate config/*.yaml; every problem names its file and key.

Validation is declarative (pydantic models); `load_config` turns pydantic's error
locations into `sources.yaml: sources[0].poll_seconds: ...` so an operator can fix
the file without reading code. Secrets come from the environment as ${VAR}.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from .base import ConfigError, Strict
from .dashboard import DashboardConfig
from .notify import NotifyConfig
from .regions import RegionsConfig
from .rules import RULE_KINDS, RulesConfig
from .sources import KINDS, SourcesConfig


class Config(Strict):
    regions: RegionsConfig
    sources: SourcesConfig
    rules: RulesConfig
    dashboard: DashboardConfig
    notify: NotifyConfig = NotifyConfig()
    dir: Path | None = None  # where the files were read: the loaders re-read rules.yaml from here

    def source(self, name: str):
        return next(s for s in self.sources.sources if s.name == name)


FILES = {"regions": RegionsConfig, "sources": SourcesConfig, "rules": RulesConfig, "dashboard": DashboardConfig,
         "notify": NotifyConfig}
OPTIONAL = {"notify"}  # absent: its defaults (no webhook targets)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if part in KINDS or part in RULE_KINDS:  # pydantic names the kind it tried; the file says it
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _expand(value, env: dict[str, str], where: str, problems: list[str]):
    """Replace ${VAR} in strings from the environment; a missing variable is a problem."""
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{where}.{k}" if where else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            if m.group(1) not in env:
                problems.append(f"{where}: environment variable {m.group(1)} is not set")
                return m.group(0)
            return env[m.group(1)]
        return _VAR.sub(sub, value)
    return value


def load_file(path: Path, model, env: dict[str, str]) -> tuple[object | None, list[str]]:
    """One config file validated by its model: (parsed or None, ["file: key: message", ...])."""
    if not path.exists():
        return None, [f"{path}: file is missing"]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        return None, [f"{path}: not valid YAML: {e}"]
    if not isinstance(raw, dict):
        return None, [f"{path}: (top level): expected a mapping of keys"]
    file_problems: list[str] = []
    raw = _expand(raw, env, "", file_problems)
    problems = [f"{path}: {p}" for p in file_problems]
    try:
        parsed = model.model_validate(raw)
    except ValidationError as e:
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
            problems.append(f"{path}: {_loc(err['loc'])}: {msg}{shown}")
        return None, problems
    return (None if problems else parsed), problems


def load_config(config_dir: Path, env: dict[str, str] | None = None) -> Config:
    """Read every config file; raise ConfigError listing all problems at once."""
    env = {**os.environ, **(env or {})}
    problems: list[str] = []
    parsed = {}
    for stem, model in FILES.items():
        path = Path(config_dir) / f"{stem}.yaml"
        if stem in OPTIONAL and not path.exists():
            continue
        obj, file_problems = load_file(path, model, env)
        problems += file_problems
        if obj is not None:
            parsed[stem] = obj
    if problems:
        raise ConfigError(problems)
    return Config(**parsed, dir=Path(config_dir))
