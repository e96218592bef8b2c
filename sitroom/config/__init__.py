"""Configuration: one module per file in config/, loaded and validated together by `load_config`."""
from .base import LEVEL_COLOURS, LEVELS, ConfigError, Strict, Text
from .dashboard import DashboardConfig
from .load import Config, load_config
from .regions import RegionsConfig
from .rules import RuleConfig, RulesConfig, Thresholds
from .sources import CASE_STATUSES, KINDS, SourceConfig, SourcesConfig

__all__ = ["LEVEL_COLOURS", "LEVELS", "ConfigError", "Strict", "Text", "DashboardConfig", "Config", "load_config",
           "RegionsConfig", "RuleConfig", "RulesConfig", "Thresholds", "CASE_STATUSES", "KINDS", "SourceConfig",
           "SourcesConfig"]
