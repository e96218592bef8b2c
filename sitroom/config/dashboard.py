"""dashboard.yaml: language, refresh, map defaults."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Strict


class DashboardConfig(Strict):
    language: Literal["zh", "en"] = "zh"
    refresh_ms: int = Field(default=1000, ge=200, le=60_000)
    default_metric: Literal["new_24h", "cumulative", "per_100k"] = "new_24h"
    trend_days: int = Field(default=30, ge=7, le=366)
    tile_url: str | None = None  # an internal tile server; none by default (closed network)
    tile_attribution: str = ""
    sound_on_wall: bool = True   # the alert tone on the wall display (other pages: opt-in)

    # The web server's guard (dashboard/http_guard.py)
    allowed_hosts: list[str] = []   # Host header names served; empty: the bound address and localhost ("*": any)
    max_body_bytes: int = Field(default=65_536, ge=1024, le=16 * 2**20)          # API request bodies
    max_callback_bytes: int = Field(default=2 * 2**20, ge=65_536, le=64 * 2**20)  # Dash callback bodies
