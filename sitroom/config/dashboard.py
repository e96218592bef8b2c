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
