"""Links between pages, keeping the language."""
from __future__ import annotations

from dash import dcc, html

from dashboard.i18n import t

PAGES = (("/", "nav_wall"), ("/trends", "nav_trends"), ("/alerts", "nav_alerts"), ("/sources", "nav_sources"))


def nav(lang: str, current: str) -> html.Nav:
    links = [dcc.Link(t(key, lang), href=f"{path}?lang={lang}", className="nav-link" + (" current" if path == current else ""))
             for path, key in PAGES]
    other = "zh" if lang == "en" else "en"
    links.append(dcc.Link(t("lang_switch", lang), href=f"{current}?lang={other}", className="nav-link lang"))
    return html.Nav(links, className="nav")
