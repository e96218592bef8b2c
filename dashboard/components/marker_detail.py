"""The panel that opens over the map when a marker is clicked: what it is, its figures, its recent days."""
from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components.map_layers import (cover_class, cover_text, item_title, kind_title, load_class)
from dashboard.i18n import t
from dashboard.plain import plotly as _plain

MODES = ("rail", "air", "road", "other", "unknown")


def _fact(label: str, value, cls: str = "") -> html.Div:
    return html.Div([html.Span(label, className="fact-label"), html.Span(value, className=f"fact-value {cls}")],
                    className="fact")


def _chart(fig: go.Figure, graph_id: str, tick_days: int = 1) -> dcc.Graph:
    """A small chart; tick_days=0: the x axis is not dates."""
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=190, font={"size": 15},
                      legend={"orientation": "h", "y": 1.12, "x": 0, "font": {"size": 14}},
                      bargap=0.2)
    if tick_days:
        fig.update_xaxes(tickformat="%m-%d", dtick=86400000 * tick_days)
    return dcc.Graph(id=graph_id, figure=fig, config={"displayModeBar": False, "staticPlot": True},
                     className="detail-chart")


def clinic_panel(c: dict, lang: str) -> list:
    _sev, colour, key = load_class(c["status"], c["load"])
    load = "—" if c["load"] is None else f"{c['load'] * 100:.0f}%"
    days = [d["day"] for d in c["days"]]
    fig = go.Figure()
    fig.add_bar(x=days, y=[d["visits"] for d in c["days"]], name=t("clinic_visits", lang), marker_color="#3aa6ff")
    fig.add_bar(x=days, y=[d["fever"] for d in c["days"]], name=t("clinic_fever", lang), marker_color="#ff7f50")
    return [
        html.Div(t("layer_clinics", lang), className="detail-kind"),
        html.H3(c["name"], className="detail-name", id="detail-name"),
        _fact(t("address", lang), c["address"] or "—"),
        _fact(t("status", lang), t("clinic_status_" + c["status"], lang), f"status-{c['status']}"),
        _fact(t("clinic_capacity", lang), "—" if c["capacity"] is None else f"{c['capacity']:,}", "num"),
        _fact(t("clinic_visits_24h", lang), f"{c['visits_24h']:,}", "num"),
        _fact(t("clinic_fever_24h", lang), f"{c['fever_24h']:,}", "num"),
        html.Div([html.Span(t("clinic_load", lang), className="fact-label"),
                  html.Span(load, className="fact-value num load-value", id="detail-load",
                            style={"color": colour}),
                  html.Span(t(key, lang), className="fact-note")], className="fact"),
        html.Div(t("clinic_history", lang), className="detail-sub"),
        _chart(fig, "detail-chart"),
    ]


def supply_panel(p: dict, kinds: dict, items: dict, lang: str) -> list:
    _sev, colour = cover_class(p["status"], p["min_cover"], p["unlimited"])
    rows = []
    for item, it in sorted(p["items"].items()):
        title, unit = item_title(item, items, lang)
        _s, c = cover_class("open", it["days_of_cover"], it["days_of_cover"] is None)
        rows.append(html.Tr([html.Td(title), html.Td(f"{it['stock']:,.0f} {unit}", className="num"),
                             html.Td(f"{it['daily_consumption']:,.0f}", className="num"),
                             html.Td(cover_text(it["days_of_cover"], lang), className="num cover",
                                     style={"color": c})], className=f"item-{item}"))
    fig = go.Figure()
    for item, hist in sorted(p["days"].items()):
        fig.add_scatter(x=[h["day"] for h in hist], y=[h["days_of_cover"] for h in hist], mode="lines+markers",
                        name=_plain(item_title(item, items, lang)[0]), line={"width": 3})
    for edge, c in ((3, "#ff2d2d"), (7, "#f07800"), (14, "#f2c200")):
        fig.add_hline(y=edge, line={"color": c, "width": 1, "dash": "dot"})
    min_cover = "—" if p["min_cover"] is None and not p["unlimited"] else cover_text(p["min_cover"], lang)
    return [
        html.Div(t("layer_supply", lang), className="detail-kind"),
        html.H3(p["name"], className="detail-name", id="detail-name"),
        _fact(t("kind", lang), kind_title(p["kind"], kinds, lang)),
        _fact(t("status", lang), t("point_status_" + p["status"], lang), f"status-{p['status']}"),
        html.Div([html.Span(t("cover_min", lang), className="fact-label"),
                  html.Span(min_cover, className="fact-value num", id="detail-cover", style={"color": colour})],
                 className="fact"),
        html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("col_item", "col_stock", "col_use", "col_cover")])),
                    html.Tbody(rows)], className="detail-table") if rows else html.Div(t("no_stock", lang)),
        html.Div(t("supply_history", lang), className="detail-sub"),
        _chart(fig, "detail-chart", tick_days=2) if p["days"] else html.Div(),
    ]


def inflow_panel(region_name: str, s: dict, lang: str) -> list:
    origins = [html.Tr([html.Td(("⚠ " if o["risk"] else "") + o["origin"], className="risk" if o["risk"] else ""),
                        html.Td(f"{o['count']:,}", className="num")]) for o in s["origins"]]
    modes = {m: s["modes"].get(m, 0) for m in MODES if s["modes"].get(m)}
    fig = go.Figure(go.Bar(x=list(modes.values()), y=[t(f"mode_{m}", lang) for m in modes], orientation="h",
                           marker_color="#3aa6ff", text=[f"{n:,}" for n in modes.values()], textposition="auto"))
    fig.update_yaxes(autorange="reversed")
    return [
        html.Div(t("layer_inflows", lang), className="detail-kind"),
        html.H3(region_name, className="detail-name", id="detail-name"),
        _fact(t("inflow_14d", lang), f"{s['arrivals']:,}", "num"),
        _fact(t("inflow_risk", lang), f"{s['risk_arrivals']:,}", "num risk" if s["risk_arrivals"] else "num"),
        html.Div(t("inflow_top", lang), className="detail-sub"),
        html.Table(html.Tbody(origins), className="detail-table origins"),
        html.Div(t("inflow_modes", lang), className="detail-sub"),
        _chart(fig, "detail-chart", tick_days=0),
    ]
