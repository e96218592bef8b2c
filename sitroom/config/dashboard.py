"""dashboard.yaml: language, refresh, map defaults, the kiosk wall's playlist."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .auth import AuthConfig
from .base import Strict

class PlaylistStep(Strict):
    """One view of the kiosk wall's rotation and how long it stays."""
    view: Literal["overview", "region", "alerts", "trend"]
    seconds: int = Field(ge=5, le=3600)
    region: str | int | None = None   # view: region: a province or prefecture (name, pinyin or code)

    @model_validator(mode="after")
    def _region_given(self):
        if (self.view == "region") != (self.region is not None):
            raise ValueError("region: give it for view: region (and only there)")
        return self


DEFAULT_PLAYLIST = (PlaylistStep(view="overview", seconds=60), PlaylistStep(view="alerts", seconds=20),
                    PlaylistStep(view="trend", seconds=20))


class DashboardConfig(Strict):
    language: Literal["zh", "en"] = "zh"
    refresh_ms: int = Field(default=1000, ge=200, le=60_000)
    default_metric: Literal["new_24h", "cumulative", "per_100k"] = "new_24h"
    trend_days: int = Field(default=30, ge=7, le=366)
    tile_url: str | None = None  # an internal tile server; none by default (closed network)
    tile_attribution: str = ""
    sound_on_wall: bool = True   # the alert tone on the wall display (other pages: opt-in)
    playlist: tuple[PlaylistStep, ...] = Field(default=DEFAULT_PLAYLIST, min_length=1)   # the kiosk wall's views
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
    auth: AuthConfig = AuthConfig()  # accounts, sessions, lockout, single sign-on (sitroom.auth)


def playlist_problems(cfg: DashboardConfig, gaz, path) -> list[str]:
    """The playlist's regions against the gazetteer (regions.yaml's provinces): 'path: key: what'."""
    out = []
    for i, step in enumerate(cfg.playlist):
        if step.region is None:
            continue
        where = f"{path}: playlist[{i}].region"
        try:
            code = gaz.resolve(step.region)
        except (KeyError, ValueError) as e:   # unknown or ambiguous: the gazetteer's own words
            out.append(f"{where}: {e.args[0] if e.args else e}")
            continue
        if gaz.get(code).level not in ("province", "prefecture"):
            out.append(f"{where}: {step.region!r} is a county; the wall shows a province or a prefecture "
                       f"(its counties): name {gaz.get(gaz.get(code).parent).name}")
    return out
