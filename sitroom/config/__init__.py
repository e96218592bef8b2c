"""Configuration: one module per file in config/, loaded and validated together by `load_config`."""
from .base import LEVEL_COLOURS, LEVEL_NAMES, LEVELS, ConfigError, Strict, Text
from .dashboard import DashboardConfig
from .load import Config, load_config, load_file
from .regions import RegionsConfig
from .rules import (RULE_KINDS, SERIES_KINDS, EarsRule, EwmaRule, RegressionRule, SwitchRule, RiskArrivalsRule, RuleConfig, RulesConfig, Scope,
                    SourceSilentRule, SupplyCoverRule, ThresholdRule, Thresholds)
from .sources import CASE_STATUSES, KINDS, SourceConfig, SourcesConfig

__all__ = ["LEVEL_COLOURS", "LEVEL_NAMES", "LEVELS", "ConfigError", "Strict", "Text", "DashboardConfig", "Config", "load_config", "load_file",
           "RegionsConfig", "RuleConfig", "RulesConfig", "Thresholds", "RULE_KINDS", "SERIES_KINDS", "RegressionRule", "SwitchRule",
           "EarsRule", "EwmaRule", "RiskArrivalsRule", "Scope", "SourceSilentRule", "SupplyCoverRule", "ThresholdRule", "CASE_STATUSES", "KINDS", "SourceConfig",
           "SourcesConfig"]
