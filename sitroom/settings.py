"""Where sitroom finds its database, config and data: environment over defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_CONFIG = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_dir: Path
    database_url: str

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, config_dir: str | Path | None = None,
                 database_url: str | None = None) -> "Settings":
        data = Path(data_dir or os.environ.get("SITROOM_DATA_DIR") or "data").resolve()
        conf = Path(config_dir or os.environ.get("SITROOM_CONFIG_DIR") or PROJECT_CONFIG).resolve()
        url = database_url or os.environ.get("SITROOM_DATABASE_URL") or f"sqlite:///{data / 'sitroom.db'}"
        return cls(data_dir=data, config_dir=conf, database_url=url)

    def env(self) -> dict[str, str]:
        """The environment a child process needs to see the same settings."""
        return {"SITROOM_DATA_DIR": str(self.data_dir), "SITROOM_CONFIG_DIR": str(self.config_dir),
                "SITROOM_DATABASE_URL": self.database_url}
