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
    # Rt on /trends (Cori method): the serial interval as a gamma distribution, in days
    serial_interval_mean: float = Field(default=4.7, gt=0.5, le=30)
    serial_interval_sd: float = Field(default=2.9, gt=0.1, le=30)
    serial_interval_source: str = "Nishiura H, Linton NM, Akhmetzhanov AR. Int J Infect Dis 2020;93:284-286"
    trends_max_regions: int = Field(default=8, ge=1, le=8)

    # The web server's guard (dashboard/http_guard.py)
    allowed_hosts: list[str] = []   # Host header names served; empty: the bound address and localhost ("*": any)
    max_body_bytes: int = Field(default=65_536, ge=1024, le=16 * 2**20)          # API request bodies
    # Dash callback bodies (the largest: a clicked prefecture's outline, about 22 kB)
    max_callback_bytes: int = Field(default=262_144, ge=65_536, le=64 * 2**20)
