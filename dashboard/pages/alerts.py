"""/alerts: the duty officer's queue (level, then age), an alert's chart and trail, and the actions."""
from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.app import screen_data
from dashboard.components.alert_banner import alert_banner, header_tools, local_time
from dashboard.components.nav import nav
from dashboard.i18n import TEXT, pick_lang, t
from sitroom import notify
from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound
from sitroom.config import LEVEL_COLOURS, LEVELS

dash.register_page(__name__, path="/alerts", title="sitroom · alerts")
STATES = ("active", "firing", "acknowledged", "resolved", "all")
REQUIRED_FIELD = {"note": "note", "assign": "assign_to", "resolve": "resolve_reason"}  # action -> its label


def layout(lang: str | None = None, state: str | None = None, alert: str | None = None, **_):
    d = screen_data()
    lang = pick_lang(lang, d.rt.config.dashboard.language)
    return html.Div(className=f"page lang-{lang}", children=[
        dcc.Store(id="al-lang", data=lang),
        dcc.Store(id="al-version", data=-1),
        dcc.Store(id="al-selected", data=int(alert) if (alert or "").isdigit() else None),
        dcc.Interval(id="al-tick", interval=d.rt.config.dashboard.refresh_ms),
        html.Header(className="page-header", children=[
            html.H1(t("alerts_title", lang)),
            html.Div([*header_tools(lang), nav(lang, "/alerts")], className="header-right")]),
        alert_banner(lang),
        dcc.RadioItems(id="al-state", value=state if state in STATES else "active", inline=True,
                       className="metric-picker", options=[{"label": t(f"state_{s}", lang), "value": s} for s in STATES]),
        html.Div(className="alerts-split", children=[
            html.Div(id="al-queue", className="al-queue"),
            html.Div(id="al-detail", className="al-detail", children=[
                html.H2(t("select_alert", lang), id="al-title", className="detail-title"),
                dcc.Graph(id="al-chart", config={"displayModeBar": False}, style={"height": "300px"}),
                _actions(lang),  # built once: what an officer is typing survives every data refresh
                html.Div(id="al-message", className="alert-message"),
                html.H3(t("trail", lang)),
                html.Ul(id="al-trail", className="trail"),
                html.H3(t("deliveries", lang)),
                html.Div(id="al-deliveries"),
            ]),
        ]),
    ])


@callback(Output("al-version", "data"), Input("al-tick", "n_intervals"), State("al-version", "data"))
def version(_n, seen):
    v = screen_data().heartbeat()["version"]
    return v if v != seen else no_update


@callback(Output("al-queue", "children"), Input("al-version", "data"), Input("al-state", "value"),
          Input("al-selected", "data"), State("al-lang", "data"))
def queue(_v, state, selected, lang):
    rows = screen_data().alerts(None if state == "all" else state)
    head = html.Tr([html.Th(t(c, lang)) for c in ("col_level", "col_region", "col_rule", "col_value", "col_fired",
                                                  "col_state", "col_assignee")])
    body = [html.Tr([
        html.Td(html.Span(t(f"level_{a['level']}", lang), className=f"level-chip level-{a['level']}")),
        html.Td(a["region_name_en"] if lang == "en" else a["region_name"]),
        html.Td(a["rule_title"][lang]), html.Td(f"{a['value']:g}", className="num"),
        html.Td(local_time(a["fired_at"], "%m-%d %H:%M")),
        html.Td(t(f"state_{a['state']}", lang), className=f"state {a['state']}"),
        html.Td(a["assignee"] or ""),
    ], id={"type": "al-row", "alert": a["id"]}, n_clicks=0,
        className="al-row" + (" selected" if a["id"] == selected else "")) for a in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="grid clickable")


@callback(Output("al-selected", "data"), Input({"type": "al-row", "alert": ALL}, "n_clicks"), prevent_initial_call=True)
def select(clicks):
    if not ctx.triggered_id or not any(clicks):
        return no_update
    return ctx.triggered_id["alert"]


@callback(Output("al-title", "children"), Output("al-chart", "figure"), Output("al-trail", "children"),
          Output("al-actions", "hidden"), Output({"type": "al-act", "action": "ack"}, "disabled"),
          Output("al-deliveries", "children"),
          Input("al-selected", "data"), Input("al-version", "data"), State("al-lang", "data"))
def detail(alert_id, _v, lang):
    a = screen_data().alert(alert_id, with_trail=True) if alert_id is not None else None
    if a is None:
        return t("select_alert", lang), go.Figure(layout=_DARK), [], True, True, []
    level = t("level_" + a["level"], lang)
    region = a["region_name_en"] if lang == "en" else a["region_name"]
    trail = [html.Li(f"{local_time(e['at'], '%m-%d %H:%M:%S')}  {t('ev_' + e['kind'], lang)}  {e['by'] or ''}"
                     + (f" — {e['note']}" if e["note"] else ""), className=f"ev ev-{e['kind']}") for e in a["trail"]]
    return (f"{level} · {region} · {a['rule_title'][lang]} {a['value']:g}", _chart(a, lang), trail,
            a["state"] == "resolved", a["state"] != "firing", _deliveries(alert_id, lang))


def _outcome(d: dict) -> str:
    return "queued" if d["status"] == "pending" and not d["attempts"] else d["status"]


def _deliveries(alert_id: int, lang: str):
    """Who was told about this alert's events (webhook targets), and how that went."""
    with screen_data().sessions() as s:
        rows = [notify.delivery_dict(d) for d in notify.deliveries(s, alert_id=alert_id, limit=50)]
    if not rows:
        return html.Div(t("no_deliveries", lang), className="muted", id="al-no-deliveries")
    head = html.Tr([html.Th(t(c, lang)) for c in ("col_event", "col_target", "col_delivery", "col_attempts",
                                                  "col_answer", "col_when")])
    body = [html.Tr([
        html.Td(t("ev_" + d["event"], lang) if ("ev_" + d["event"]) in TEXT else d["event"]),
        html.Td(d["target"]),
        html.Td(t("delivery_" + _outcome(d), lang), className=f"delivery {d['status']}"),
        html.Td(str(d["attempts"]), className="num"),
        html.Td(d["last_error"] or (f"HTTP {d['last_status']}" if d["last_status"] else ""),
                className="error" if d["last_error"] else None),
        html.Td(t("next_try", lang, at=local_time(d["next_attempt_at"], "%H:%M:%S")) if d["next_attempt_at"]
                else local_time(d["delivered_at"] or d["last_attempt_at"], "%m-%d %H:%M:%S")),
    ], className=f"delivery-row {d['status']}") for d in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="grid deliveries")


def _actions(lang: str) -> html.Div:
    def field(action, placeholder):
        return dcc.Input(id={"type": "al-field", "action": action}, placeholder=t(placeholder, lang), className="field")
    return html.Div(id="al-actions", className="al-actions", hidden=True, children=[
        html.Button(t("ack", lang), id={"type": "al-act", "action": "ack"}, className="ack-btn"),
        field("note", "note"), html.Button(t("add_note", lang), id={"type": "al-act", "action": "note"}, className="act-btn"),
        field("assign", "assign_to"), html.Button(t("assign", lang), id={"type": "al-act", "action": "assign"}, className="act-btn"),
        field("resolve", "resolve_reason"),
        html.Button(t("resolve", lang), id={"type": "al-act", "action": "resolve"}, className="act-btn danger"),
    ])


@callback(Output("al-message", "children"), Output("al-version", "data", allow_duplicate=True),
          Input({"type": "al-act", "action": ALL}, "n_clicks"), State({"type": "al-field", "action": ALL}, "value"),
          State({"type": "al-field", "action": ALL}, "id"), State("ack-name", "value"), State("al-selected", "data"),
          State("al-lang", "data"), prevent_initial_call=True)
def act(clicks, values, ids, name, alert_id, lang):
    if not ctx.triggered_id or not any(c for c in clicks if c):
        return no_update, no_update
    action = ctx.triggered_id["action"]
    func, field = OFFICER_ACTIONS[action], REQUIRED_FIELD.get(action)
    if not (name or "").strip():
        return t("ack_need_name", lang), no_update
    fields = {i["action"]: (v or "").strip() for i, v in zip(ids, values)}
    value = fields.get(action) or None
    if field and not value:
        return t("need_field", lang, field=t(field, lang)), no_update
    d = screen_data()
    try:
        with d.sessions.begin() as s:
            func(s, alert_id, name.strip(), value)
    except (AlertConflict, AlertNotFound) as e:
        return str(e), -1
    d.forget()
    return t("done", lang), -1  # -1: the next tick sees a new version and redraws queue and detail


def _chart(a: dict, lang: str) -> go.Figure:
    """The region's daily new confirmed cases with the rule's thresholds drawn on."""
    d = screen_data()
    rows = d.trend(a["region"], 30)
    fig = go.Figure()
    fig.add_bar(x=[r["day"] for r in rows], y=[r["confirmed"] for r in rows], name=t("trend_confirmed", lang),
                marker_color="#f16913")
    rule = next((r for r in d.rt.config.rules.rules if r.id == a["rule"]), None)
    if rule:
        for level in LEVELS:
            fig.add_hline(y=getattr(rule.thresholds, level), line_dash="dot", line_color=LEVEL_COLOURS[level],
                          annotation_text=t("threshold_line", lang, level=level), annotation_position="top left")
    fig.update_layout(**_DARK, showlegend=False, xaxis={"tickformat": "%m-%d"})
    return fig


_DARK = {"template": "plotly_dark", "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
         "margin": {"l": 40, "r": 10, "t": 20, "b": 30}}
