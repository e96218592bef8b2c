"""Any address that is no page: said in the page's language, with the way back (Dash shows this
module's layout for an unknown path)."""
from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.app import screen_data
from dashboard.components.alert_banner import desk_page_top
from dashboard.i18n import pick_lang, t
from dashboard.page_title import page_title

dash.register_page(__name__, title=page_title("not_found_title"))


def layout(lang: str | None = None, **_):
    lang = pick_lang(lang, screen_data().rt.config.dashboard.language)
    return html.Div(className=f"page lang-{lang}", children=[
        *desk_page_top(t("not_found_title", lang), lang, ""),
        html.P(t("not_found_text", lang), id="not-found"),
        dcc.Link(t("not_found_back", lang), href="/" + ("?lang=en" if lang == "en" else "")),
    ])
