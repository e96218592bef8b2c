"""/sources: every source's health and counts, and the quarantine with its reasons."""
from __future__ import annotations

import json

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard.app import screen_data
from dashboard.callback_args import lang_arg, text_arg
from dashboard.components.alert_banner import desk_page_top, local_time
from dashboard.components.resync import resync_button
from dashboard.i18n import pick_lang, t

dash.register_page(__name__, path="/sources", title="sitroom · sources")
PAGE_SIZE = 50


def layout(lang: str | None = None, source: str | None = None, reason: str | None = None, **_):
    d = screen_data()
    lang = pick_lang(lang, d.rt.config.dashboard.language)
    options = [{"label": t("filter_source", lang), "value": ""}] + [
        {"label": f"{s.title.model_dump()[lang]} ({s.name})", "value": s.name} for s in d.rt.config.sources.sources]
    return html.Div(className=f"page lang-{lang}", children=[
        dcc.Store(id="src-lang", data=lang),
        dcc.Interval(id="src-tick", interval=max(2000, d.rt.config.dashboard.refresh_ms)),
        *desk_page_top(t("sources_title", lang), lang, "/sources"),
        html.Div(id="sources-table"),
        html.Div(id="resync-message", className="resync-message", role="status"),
        html.Div(className="filters", children=[
            dcc.Dropdown(id="q-source", options=options, value=source if isinstance(source, str) else "", clearable=False, className="q-source"),
            dcc.Input(id="q-reason", value=text_arg(reason), placeholder=t("filter_reason", lang), debounce=True,
                      className="q-reason"),
        ]),
        html.Div(id="quarantine"),
    ])


@callback(Output("sources-table", "children"), Input("src-tick", "n_intervals"), State("src-lang", "data"))
def sources_table(_n, lang):
    lang = lang_arg(lang)
    rows = screen_data().sources()
    known = {x.name for x in screen_data().rt.config.sources.sources}
    cols = ("col_source", "col_status", "col_last_success", "col_lag", "col_read", "col_inserted", "col_updated",
            "col_quarantined", "col_error", "col_actions")
    body = []
    for s in rows:
        status = "failing" if s.get("error") else "stale" if s.get("stale") else "ok"
        body.append(html.Tr([
            html.Td(s["title"][lang] if "title" in s else s["name"]),
            html.Td(t(f"status_{status}", lang), className=f"status {status}"),
            html.Td(local_time(s.get("last_success"), "%m-%d %H:%M:%S")),
            html.Td("—" if s.get("age_seconds") is None else f"{s['age_seconds']:.0f}", className="num"),
            *[html.Td(f"{s.get(k, 0):,}", className="num") for k in
              ("rows_read", "rows_inserted", "rows_updated", "rows_quarantined")],
            html.Td(s.get("error") or "", className="error"),
            html.Td(resync_button(s["name"], lang) if s["name"] in known else ""),
        ], id=f"source-{s['name']}"))
    numeric = {"col_lag", "col_read", "col_inserted", "col_updated", "col_quarantined"}
    head = html.Tr([html.Th(t(c, lang), className="num" if c in numeric else None) for c in cols])
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="grid"), className="table-scroll")


@callback(Output("quarantine", "children"), Input("q-source", "value"), Input("q-reason", "value"),
          Input("src-tick", "n_intervals"), State("src-lang", "data"))
def quarantine_table(source, reason, _n, lang):
    d = screen_data()
    lang = lang_arg(lang)
    known = {s.name for s in d.rt.config.sources.sources}
    page = d.quarantine(source if isinstance(source, str) and source in known else None, text_arg(reason) or None, PAGE_SIZE, 0)
    rows = [html.Tr([
        html.Td(q["source"]), html.Td(q["source_key"], className="mono"),
        html.Td(html.Ul([html.Li(r) for r in q["reasons"]]), className="reasons"),
        html.Td(json.dumps(q["row"], ensure_ascii=False), className="mono small"),
        html.Td(local_time(q["last_seen"], "%m-%d %H:%M:%S")),
    ], className="q-row") for q in page["rows"]]
    head = html.Thead(html.Tr([html.Th(t(c, lang)) for c in
                               ("col_source", "col_key", "col_reasons", "col_row", "col_seen")]))
    return [html.H2(t("quarantine_title", lang, n=f"{page['total']:,}"), id="quarantine-count"),
            html.Div(html.Table([head, html.Tbody(rows)], className="grid"), className="table-scroll")]
