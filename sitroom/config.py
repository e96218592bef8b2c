"""Load and validate config/*.yaml; every problem names its file and key.

Validation is declarative (pydantic models); `load_config` turns pydantic's error
locations into `sources.yaml: sources[0].poll_seconds: ...` so an operator can fix
the file without reading code. Secrets come from the environment as ${VAR}.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LEVELS = ("IV", "III", "II", "I")  # China's four warning levels, lowest first
LEVEL_COLOURS = {"IV": "#1e6fd9", "III": "#f2c200", "II": "#f07800", "I": "#d7191c"}
CASE_STATUSES = ("confirmed", "suspected", "cured", "dead")


class ConfigError(Exception):
    """Invalid configuration; `problems` are 'file: key: what is expected' lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    zh: str
    en: str


# ---------------------------------------------------------------- regions.yaml
class RegionsConfig(Strict):
    provinces: list[str] = Field(min_length=1)

    @field_validator("provinces")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not re.fullmatch(r"\d{2}0000", str(code)):
                raise ValueError(f"'{code}' is not a province code (six digits ending in 0000, e.g. 410000)")
        return [str(c) for c in v]


# ---------------------------------------------------------------- sources.yaml
class CaseColumns(Strict):
    """Source column names for each field sitroom reads; nothing else is selected."""
    source_key: str
    updated_at: str
    reported_at: str
    status: str
    region_code: str | None = None
    region_name: str | None = None

    @model_validator(mode="after")
    def _region(self) -> "CaseColumns":
        if not (self.region_code or self.region_name):
            raise ValueError("map region_code or region_name (or both)")
        return self


class SourceConfig(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    kind: Literal["case_line_list"]
    url: str
    table: str
    columns: CaseColumns
    status_values: dict[str, Literal["confirmed", "suspected", "cured", "dead"]] = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    poll_seconds: float = Field(default=5, gt=0, le=3600)
    overlap_seconds: float = Field(default=60, ge=0, le=86400)
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    stale_after_intervals: int = Field(default=5, ge=1)
    retry_max_seconds: float = Field(default=30, gt=0, le=3600)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo
        try:
            ZoneInfo(v)
        except Exception:
            raise ValueError(f"unknown time zone '{v}' (expected an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("status_values", mode="before")
    @classmethod
    def _keys_as_text(cls, v):
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v


class SourcesConfig(Strict):
    sources: list[SourceConfig] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dup)}")
        return v


# ---------------------------------------------------------------- rules.yaml
class Thresholds(Strict):
    IV: float
    III: float
    II: float
    I: float

    @model_validator(mode="after")
    def _ascending(self) -> "Thresholds":
        values = [getattr(self, lv) for lv in LEVELS]
        if values != sorted(values) or len(set(values)) != 4:
            raise ValueError("thresholds must rise strictly from IV to I")
        return self

    def level_for(self, value: float) -> str | None:
        """The highest level whose threshold the value reaches, or None."""
        hit = [lv for lv in LEVELS if value >= getattr(self, lv)]
        return hit[-1] if hit else None


class RuleConfig(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    metric: Literal["new_confirmed_24h"]
    level: Literal["prefecture"] = "prefecture"
    thresholds: Thresholds
    recover_below: float = Field(description="resolve only when the value falls below this")
    escalate_after_minutes: float = Field(default=15, gt=0, description="unacknowledged this long: escalate")

    @model_validator(mode="after")
    def _hysteresis(self) -> "RuleConfig":
        if self.recover_below > self.thresholds.IV:
            raise ValueError("recover_below must not exceed the level IV threshold (or alerts would flap)")
        return self


class RulesConfig(Strict):
    rules: list[RuleConfig] = Field(min_length=1)


# ---------------------------------------------------------------- dashboard.yaml
class DashboardConfig(Strict):
    language: Literal["zh", "en"] = "zh"
    refresh_ms: int = Field(default=1000, ge=200, le=60_000)
    default_metric: Literal["new_24h", "cumulative", "per_100k"] = "new_24h"
    trend_days: int = Field(default=30, ge=7, le=366)
    tile_url: str | None = None  # an internal tile server; none by default (closed network)
    tile_attribution: str = ""


class Config(Strict):
    regions: RegionsConfig
    sources: SourcesConfig
    rules: RulesConfig
    dashboard: DashboardConfig

    def source(self, name: str) -> SourceConfig:
        return next(s for s in self.sources.sources if s.name == name)


FILES = {"regions": RegionsConfig, "sources": SourcesConfig, "rules": RulesConfig, "dashboard": DashboardConfig}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
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


def load_config(config_dir: Path, env: dict[str, str] | None = None) -> Config:
    """Read every config file; raise ConfigError listing all problems at once."""
    env = {**os.environ, **(env or {})}
    problems: list[str] = []
    parsed = {}
    for stem, model in FILES.items():
        path = Path(config_dir) / f"{stem}.yaml"
        if not path.exists():
            problems.append(f"{path}: file is missing")
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{path}: (top level): expected a mapping of keys")
            continue
        file_problems: list[str] = []
        raw = _expand(raw, env, "", file_problems)
        problems += [f"{path}: {p}" for p in file_problems]
        try:
            parsed[stem] = model.model_validate(raw)
        except ValidationError as e:
            for err in e.errors():
                msg = err["msg"].removeprefix("Value error, ")
                got = err.get("input")
                shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
                problems.append(f"{path}: {_loc(err['loc'])}: {msg}{shown}")
    if problems:
        raise ConfigError(problems)
    return Config(**parsed)
