"""/sources' re-read button: the same action as `sitroom sources resync NAME` (sitroom.source_actions).

Re-reading is for after a source's columns changed. (Who may press it is decided by the access
control around this callback, like every other action.)"""
from __future__ import annotations

from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from sitroom.source_actions import UnknownSource, resync
from sitroom.store.db import store_fault

from ..access import record
from ..app import screen_data
from ..callback_args import lang_arg
from ..i18n import t
from ..officer_text import not_recorded


def resync_button(name: str, lang: str):
    return html.Button(t("resync_button", lang), id={"type": "resync", "name": name}, className="resync",
                       title=t("resync_hint", lang), n_clicks=0)


@callback(Output("resync-message", "children"), Input({"type": "resync", "name": ALL}, "n_clicks"),
          State("src-lang", "data"), prevent_initial_call=True)
def resync_clicked(_clicks, lang):
    lang = lang_arg(lang)
    hit = ctx.triggered_id
    if not isinstance(hit, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update   # the table re-rendered its buttons (n_clicks 0): nobody pressed one
    d = screen_data()
    try:
        with d.sessions.begin() as s:
            done = resync(s, d.rt.config.sources, str(hit.get("name")))
            record("source.resync", done.source, s=s)
    except UnknownSource:
        return no_update
    except Exception as e:
        if store_fault(e):
            return not_recorded(e, lang)
        raise
    if done.from_start:
        return t("resync_done", lang, name=done.source)
    return t("resync_done_travel", lang, name=done.source, days=f"{done.days:g}")
