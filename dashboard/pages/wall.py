"""The wall page: map, KPI tiles, trend and alert banner, updated in place when the data version moves."""
from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from sitroom.config import LEVEL_COLOURS

from dashboard.app import screen_data
from dashboard.components.alert_banner import alert_banner, header_tools, local_time
from dashboard.components.nav import nav
from dashboard.components.choropleth import fit_zoom, hideout, legend, region_map
from dashboard.i18n import pick_lang, t

dash.register_page(__name__, path="/", title="sitroom")
METRICS = ("new_24h", "cumulative", "per_100k")
KPIS = ("confirmed", "new_24h", "active", "active_alerts", "suspected", "cured", "dead")


def layout(lang: str | None = None, metric: str | None = None, **_):
    d = screen_data()
    cfg = d.rt.config.dashboard
    lang = pick_lang(lang, cfg.language)
    metric = metric if metric in METRICS else cfg.default_metric
    bounds = d.gaz.bounds("all")
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    provinces = "·".join(p.name_en if lang == "en" else p.name for p in d.gaz.provinces())
    return html.Div(className=f"wall lang-{lang}", children=[
        dcc.Store(id="wall-lang", data=lang),
        dcc.Store(id="wall-version", data=-1),
        dcc.Store(id="wall-view", data="all"),
        dcc.Interval(id="wall-tick", interval=cfg.refresh_ms),
        html.Header(className="wall-header", children=[
            html.H1(f"{provinces} {t('title', lang)}"),
            html.Div(className="header-right", children=[
                html.Span(t("as_of", lang), className="as-of-label"), html.Span("—", id="as-of", className="as-of"),
                *header_tools(lang, wall=True),
                nav(lang, "/"),
            ]),
        ]),
        html.Div(id="stale-banner", className="stale-banner", hidden=True),
        alert_banner(lang, wall=True),
        html.Main(className="wall-main", children=[
            html.Section(className="map-panel", children=[
                html.Div(className="map-tools", children=[
                    dcc.RadioItems(id="metric", value=metric, inline=True, className="metric-picker",
                                   options=[{"label": t(f"metric_{m}", lang), "value": m} for m in METRICS]),
                    html.Button(t("back", lang), id="map-back", className="map-back", hidden=True),
                    html.Span(id="map-title", className="map-title"),
                ]),
                region_map(center, fit_zoom(bounds), bounds, cfg.tile_url, cfg.tile_attribution,
                           hideout({}, metric, {}, lang)),
                html.Div(id="legend", className="legend", children=legend(metric, lang)),
            ]),
            html.Aside(className="side-panel", children=[
                html.Div(id="kpis", className="kpis"),
                html.Div(dcc.Graph(id="trend", config={"displayModeBar": False}, responsive=True,
                                   style={"height": "100%"}, figure=_empty_figure()), className="trend"),
            ]),
        ]),
    ])


@callback(Output("wall-version", "data"), Output("as-of", "children"), Output("stale-banner", "children"),
          Output("stale-banner", "hidden"),
          Input("wall-tick", "n_intervals"), State("wall-version", "data"), State("wall-lang", "data"))
def heartbeat(_n, seen, lang):
    """Every tick: one cached read. Everything heavier waits for the version to move."""
    beat = screen_data().heartbeat()
    version = beat["version"] if beat["version"] != seen else no_update
    problems = []
    for s in beat["sources"]:
        title = s["title"][lang]
        if s["error"]:
            problems.append(html.Div(t("source_down", lang, source=title, error=s["error"][:120])))
        elif s["stale"]:
            problems.append(html.Div(t("stale", lang, source=title,
                                       seconds=int(s["age_seconds"]) if s["age_seconds"] is not None else "∞")))
    return version, local_time(beat["as_of"], "%Y-%m-%d %H:%M:%S"), problems, not problems


@callback(Output("wall-view", "data"), Output("regions-geo", "url"), Output("map", "viewport"),
          Output("map-back", "hidden"),
          Input("regions-geo", "clickData"), Input("map-back", "n_clicks"), State("wall-view", "data"),
          prevent_initial_call=True)
def drill(click, _back, view):
    """Click a prefecture to see its counties; Back returns to the overview."""
    gaz = screen_data().gaz
    if ctx.triggered_id == "map-back":
        target = "all"
    else:
        code = (click or {}).get("properties", {}).get("adcode")
        if not code or view != "all" or gaz.get(code).level != "prefecture":
            return no_update, no_update, no_update, no_update
        target = code
    return target, f"/geo/{target}.json", {"bounds": gaz.bounds(target), "transition": "flyToBounds"}, target == "all"


@callback(Output("regions-geo", "hideout"), Output("legend", "children"), Output("map-title", "children"),
          Input("wall-version", "data"), Input("metric", "value"), Input("wall-view", "data"),
          State("wall-lang", "data"))
def colour_map(_version, metric, view, lang):
    d = screen_data()
    values = d.region_values(view)
    names = {c: (d.gaz.get(c).name_en if lang == "en" else d.gaz.get(c).name) for c in values}
    alerted = {a["region"]: LEVEL_COLOURS[a["level"]] for a in d.alerts("active")}
    title = "" if view == "all" else (d.gaz.get(view).name_en if lang == "en" else d.gaz.get(view).name)
    return hideout(values, metric, names, lang, alerted), legend(metric, lang), title


@callback(Output("kpis", "children"), Input("wall-version", "data"), Input("wall-view", "data"),
          State("wall-lang", "data"))
def kpis(_version, view, lang):
    d = screen_data()
    if view == "all":
        totals = d.totals()
    else:
        v = d.region_values(d.gaz.get(view).parent)[view]
        totals = {**v, "active_alerts": sum(1 for a in d.alerts("active") if a["region"] == view and a["state"] == "firing")}
    return [html.Div([html.Div(f"{totals[k]:,}", className="kpi-value", id=f"kpi-{k}"),
                      html.Div(t(f"kpi_{k}", lang), className="kpi-label")], className=f"kpi kpi-{k}")
            for k in KPIS]


@callback(Output("trend", "figure"), Input("wall-version", "data"), Input("wall-view", "data"),
          State("wall-lang", "data"))
def trend(_version, view, lang):
    d = screen_data()
    days = d.rt.config.dashboard.trend_days
    region = None if view == "all" else view
    rows = d.trend(region, days)
    name = t("all_regions", lang) if region is None else (d.gaz.get(region).name_en if lang == "en" else d.gaz.get(region).name)
    x = [r["day"] for r in rows]
    conf = [r["confirmed"] for r in rows]
    avg = [sum(conf[max(0, i - 6):i + 1]) / len(conf[max(0, i - 6):i + 1]) for i in range(len(conf))]
    fig = _empty_figure(t("trend_title", lang, region=name, days=days))
    fig.add_bar(x=x, y=conf, name=t("trend_confirmed", lang), marker_color="#f16913")
    fig.add_scatter(x=x, y=[r["suspected"] for r in rows], name=t("trend_suspected", lang),
                    mode="lines", line={"color": "#6baed6", "width": 2})
    fig.add_scatter(x=x, y=avg, name=t("trend_avg", lang), mode="lines", line={"color": "#ffffff", "width": 3})
    return fig


def _empty_figure(title: str = "") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      title={"text": title, "font": {"size": 22}, "x": 0.02, "y": 0.97}, margin={"l": 50, "r": 20, "t": 80, "b": 40},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
                              "font": {"size": 16}},
                      font={"size": 16}, xaxis={"tickformat": "%m-%d"},
                      bargap=0.15, uirevision="keep", autosize=True)
    return fig
