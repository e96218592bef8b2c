"""What every process loads at start-up: settings, validated config, the gazetteer."""
from __future__ import annotations

from dataclasses import dataclass

from .config import Config, load_config
from .regions import Gazetteer, load_gazetteer
from .settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: Config
    gazetteer: Gazetteer


def load_runtime(settings: Settings) -> Runtime:
    """Raises ConfigError (file, key, expected) before anything starts."""
    config = load_config(settings.config_dir, settings.env())
    gaz = load_gazetteer(tuple(config.regions.provinces), settings.data_dir / "cache")
    return Runtime(settings, config, gaz)
