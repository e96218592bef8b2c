"""The kiosk wall: the one flag the wall page reads, and dashboard.yaml's playlist for the browser.

A kiosk wall has no controls, no name box, no zoom buttons and no cursor; it shows the playlist's
views in turn (sitroom.js keeps the time, so the rotation costs no request), jumps to the region
of a warning that fires and goes on once it is acknowledged.
"""
from __future__ import annotations

ON = ("1", "true", "yes", "on")


def kiosk_on(requested: str | None) -> bool:
    """?kiosk=1. The one place that decides: a wall device (access control) turns it on here for good."""
    return (requested or "").strip().lower() in ON


def playlist(cfg, gaz) -> list[dict]:
    """[{view, seconds, region: adcode or None}] (names were checked at start-up: playlist_problems)."""
    return [{"view": s.view, "seconds": s.seconds, "region": None if s.region is None else gaz.resolve(s.region)}
            for s in cfg.playlist]


def map_target(region: str | None, gaz) -> str:
    """The map that shows a region: a province's prefectures, a prefecture's counties, a county on its
    prefecture's map; the overview for anything else (a region no longer in the gazetteer)."""
    if not region or region not in gaz.regions:
        return "all"
    r = gaz.get(region)
    if r.level in ("province", "prefecture"):
        return r.adcode
    return gaz.prefecture_of(region) or "all"
