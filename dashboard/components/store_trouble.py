"""The wall's line for trouble that is not a source's: the store cannot be written or reached, or the
loader service has stopped (then every source looks stale, and blaming them would send people the
wrong way)."""
from __future__ import annotations

from dash import html

from ..i18n import t
from .alert_banner import local_time


def store_trouble(health: dict, lang: str) -> list:
    """The banner's line when the store cannot be written or the loader service has stopped."""
    store, loaders = health["store"], health["loaders"]
    if not store["reachable"]:
        return [html.Div(t("banner_store_gone", lang, why=t(f"store_{store['fault']}", lang)), className="store-down")]
    if not store["writable"]:
        return [html.Div(t("banner_store", lang, why=t(f"store_{store['fault']}", lang)), className="store-down")]
    if loaders["running"] is False:
        text = t("banner_loaders", lang, at=local_time(loaders["last_beat"], "%m-%d %H:%M:%S")) \
            if loaders["last_beat"] else t("banner_loaders_none", lang)
        return [html.Div(text, className="loaders-down")]
    return []
