"""A page's title in the browser tab, in the page's language.

Dash asks for it when it serves a page and again, in a callback, when the page changes in the
browser; the callback's request carries the page's address only as its Referer, so the language is
read from the address asked for, then from the page that asks, then the configured default."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .i18n import pick_lang, t


def request_lang() -> str:
    from flask import current_app, has_app_context, has_request_context, request
    default = "zh"
    if has_app_context() and "SITROOM_DATA" in current_app.config:
        default = current_app.config["SITROOM_DATA"].rt.config.dashboard.language
    if not has_request_context():
        return pick_lang(None, default)
    asked = request.args.get("lang")
    if asked is None and request.referrer:
        asked = (parse_qs(urlsplit(request.referrer).query).get("lang") or [None])[0]
    return pick_lang(asked, default)


def page_title(key: str):
    """The title function of a page registered with dash.register_page: 'sitroom · 数据源'."""
    def title(**_) -> str:
        return f"sitroom · {t(key, request_lang())}"
    return title
