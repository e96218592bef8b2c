"""The wall page: map, KPI tiles, trend and alert banner, updated in place when the data version moves."""
from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from datetime import date, timedelta

from sitroom.config import LEVEL_COLOURS
from sitroom.series import local_day
from sitroom.store.db import utcnow
from sitroom.trends import average_on

from sqlalchemy.exc import DBAPIError

from dashboard import push
from dashboard.app import screen_data
from sitroom.store.health import fault_code
from dashboard.callback_args import choice, lang_arg, mapping, str_list
from dashboard.components.alert_banner import alert_banner, header_tools
from dashboard.components.nav import nav
from dashboard.components.store_trouble import store_trouble
from dashboard.components.choropleth import fit_zoom, hideout, legend, region_map, signed
from dashboard.components import map_layers as ml
from dashboard.components.marker_detail import clinic_panel, inflow_panel, supply_panel
from dashboard.i18n import TEXT, pick_lang, t
from dashboard.machine_text import source_error
from dashboard.page_title import page_title
from dashboard.kiosk import kiosk_on, map_target, playlist
from dashboard.components.kiosk_queue import queue_table
from dashboard.plain import plotly as _plain

dash.register_page(__name__, path="/", title=page_title("nav_wall"))
METRICS = ("new_24h", "cumulative", "per_100k")
KPIS = ("confirmed", "new_24h", "active", "active_alerts", "suspected", "cured", "dead")


def pick_layers(requested: str | None, d) -> list[str]:
    """?layers=cases,clinics (a wall is set up by its URL); by default the cases only: markers over
    the choropleth hide the map's own subject (a leader or the URL switches them on)."""
    if isinstance(requested, str):
        return [x for x in ml.LAYERS if x in requested.split(",")]
    return ["cases"]


def layout(lang: str | None = None, metric: str | None = None, layers: str | None = None, view: str | None = None,
           kiosk: str | None = None, **_):
    d = screen_data()
    cfg = d.rt.config.dashboard
    on = kiosk_on(kiosk)
    lang = pick_lang(lang, cfg.language)
    metric = metric if metric in METRICS else cfg.default_metric
    view = view_arg(view, d)   # ?view=410100 opens a prefecture's drill-down (a shared link keeps it)
    bounds = d.bounds(view)
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    provinces = "·".join(p.name_en if lang == "en" else p.name for p in d.gaz.provinces()
                         if d.scope.outlines(p.adcode))   # a scoped account: the provinces of its regions
    shown = pick_layers(layers, d)
    return html.Div(className=f"wall lang-{lang}" + (" kiosk" if on else ""), children=[
        dcc.Store(id="wall-lang", data=lang),
        dcc.Store(id="wall-version", data=push.current_key()),   # follows the pushed key (push.py)
        dcc.Store(id="wall-view", data=view),
        dcc.Store(id="wall-bounds", data=bounds),   # the shown region's, to fit again when the panel resizes
        dcc.Store(id="map-size"),                   # set by sitroom.js when the map panel changes size
        dcc.Store(id="wall-scale", data=1),         # the wall's size unit in px (sitroom.js), for the trend's fonts
        dcc.Store(id="marker-selected", data=None),
        dcc.Store(id="layers-url-sync"),
        # the kiosk's rotation: kept by sitroom.js in the browser (the tick asks the server nothing)
        dcc.Store(id="kiosk-playlist", data=playlist(cfg, d.gaz) if on else None),
        dcc.Store(id="kiosk-step", data=None),
        dcc.Interval(id="kiosk-tick", interval=1000, disabled=not on),
        html.Header(className="wall-header", children=[
            html.H1(f"{provinces} {t('title', lang)}"),
            html.Div(className="header-right", children=[
                html.Span(id="kiosk-clock", className="kiosk-clock", hidden=not on),
                html.Span([html.Span(t("as_of", lang), className="as-of-label"),
                           html.Span(push.current_as_of(), id="as-of", className="as-of")], className="as-of-box"),
                *header_tools(lang, wall=True),
                nav(lang, "/"),
            ]),
        ]),
        html.Div(className="banner-area", children=[   # fixed height: the map below never jumps
            html.Div(id="stale-banner", className="stale-banner status-line ok"),
            alert_banner(lang, wall=True),
        ]),
        html.Main(id="wall-main", className="wall-main mode-overview", children=[
            html.Section(id="kiosk-queue", className="kiosk-queue"),
            html.Section(className="map-panel", children=[
                html.Div(className="map-tools", children=[
                    dcc.RadioItems(id="metric", value=metric, inline=True, className="metric-picker",
                                   options=[{"label": t(f"metric_{m}", lang), "value": m} for m in METRICS]),
                    html.Button(t("back", lang), id="map-back", className="map-back", hidden=view == "all"),
                    html.Span(id="map-title", className="map-title"),
                    # the levels above and beside; drawn with the page, so the map does not shrink (and refit) later
                    html.Span(_crumbs(d, view, lang), id="map-crumbs", className="map-crumbs"),
                    dcc.Checklist(id="layers", value=shown, inline=True, className="layer-picker",
                                  options=[{"label": t(f"layer_{x}", lang), "value": x} for x in ml.LAYERS]),
                ]),
                html.Div(className="map-wrap", **{"data-zoom-in": t("zoom_in", lang), "data-zoom-out": t("zoom_out", lang)},
                         children=[
                    region_map(center, fit_zoom(bounds), bounds, cfg.tile_url, cfg.tile_attribution,
                               hideout({}, metric, {}, lang), ml.marker_layers(), view=view, zoom_buttons=not on),
                    html.Div(id="marker-detail", className="marker-detail", hidden=True, children=[
                        html.Button("×", id="detail-close", className="detail-close", title=t("close", lang)),
                        html.Div(id="detail-body"),
                    ]),
                ]),
                html.Div(className="map-legends", children=[   # under the map, never over it
                    html.Div(id="legend", className="legend", children=legend(metric, lang)),
                    html.Div(id="layer-legends", className="layer-legends"),
                ]),
            ]),
            html.Aside(className="side-panel", children=[
                html.Div(id="kpis", className="kpis"),
                html.Div(id="kpi-notes", className="kpi-notes"),
                html.Div(dcc.Graph(id="trend", config={"displayModeBar": False}, responsive=True,
                                   style={"height": "100%"}, figure=_empty_figure()), className="trend"),
            ]),
        ]),
    ])


@callback(Output("stale-banner", "children"), Output("stale-banner", "className"), Output("stale-banner", "title"),
          Input("push-status", "data"), State("wall-lang", "data"))
def heartbeat(_status, lang):
    """When the sources' or the store's health moved (push.py): what is stale or failing, in one line."""
    lang = lang_arg(lang)
    d = screen_data()
    trouble = store_trouble(d.health(), lang)  # the store or the loaders, not the sources, are to blame
    try:
        beat = d.heartbeat()
    except DBAPIError as e:
        gone = [html.Div(t("banner_store_gone", lang, why=t(f"store_{fault_code(e)}", lang)), className="store-down")]
        return gone, PROBLEM, _text(gone)
    if trouble:   # the store or the loaders: said first, the same one line
        return trouble, PROBLEM, _text(trouble)
    line, full, bad = status_line(beat["sources"], lang)
    return line, PROBLEM if bad else OK, full


push.follow("wall-version")
clientside_callback(ClientsideFunction("sitroomPush", "asOf"), Output("as-of", "children"), Input("push-beat", "data"),
                    prevent_initial_call=True)


PROBLEM, OK = "stale-banner status-line problem", "stale-banner status-line ok"


def _text(children: list) -> str:
    return " · ".join(str(c.children) for c in children)


def status_line(sources: list[dict], lang: str) -> tuple[str, str, bool]:
    """(one line for the banner area, every problem in full for its tooltip, any problem): the
    first problem and how many more, so the banner area keeps its height whatever happens."""
    problems = []
    for s in sources:
        title = s["title"][lang]
        if s["error"]:
            problems.append(t("source_down", lang, source=title, error=source_error(s["error"], lang)[0][:120]))
        elif s["stale"]:
            problems.append(t("stale", lang, source=title,
                              seconds=int(s["age_seconds"]) if s["age_seconds"] is not None else "∞"))
    if not problems:
        return t("sources_ok", lang, n=len(sources)), "", False
    more = t("more_problems", lang, n=len(problems) - 1) if len(problems) > 1 else ""
    return problems[0] + more, "\n".join(problems), True


@callback(Output("wall-view", "data"), Output("regions-geo", "url"), Output("map", "viewport"),
          Output("map-back", "hidden"), Output("wall-bounds", "data"),
          Input("regions-geo", "clickData"), Input("map-back", "n_clicks"), Input("kiosk-step", "data"),
          Input({"type": "map-crumb", "code": dash.ALL}, "n_clicks"),
          State("wall-view", "data"), prevent_initial_call=True)
def drill(click, _back, step, _crumbs, view):
    """Click a prefecture to see its counties; a province's button (above the map) shows its prefectures;
    Back returns to the overview; a kiosk's step shows its region."""
    d = screen_data()
    gaz = d.gaz
    crumb = ctx.triggered_id if isinstance(ctx.triggered_id, dict) else None
    if ctx.triggered_id == "map-back":
        target = "all"
    elif crumb is not None:
        code = crumb.get("code")
        if not ctx.triggered[0].get("value") or code not in gaz.regions or gaz.get(code).level != "province":
            return no_update, no_update, no_update, no_update, no_update   # drawn, not clicked
        target = code
    elif ctx.triggered_id == "kiosk-step":
        step = mapping(step)
        target = map_target(step.get("region") if step.get("view") in ("region", "alert") else None, gaz)
        # no step (a wall that is no kiosk: Dash reports the store as it is drawn) keeps the URL's ?view=
        if not step or target == view:
            return no_update, no_update, no_update, no_update, no_update
    else:
        code = mapping(mapping(click).get("properties")).get("adcode")
        at_top = view == "all" or (view in gaz.regions and gaz.get(view).level == "province")
        if not isinstance(code, str) or not at_top or code not in gaz.regions or gaz.get(code).level != "prefecture":
            return no_update, no_update, no_update, no_update, no_update
        target = code
    if not d.scope.outlines(target):   # a kiosk step outside the account's regions: its overview
        target = "all"
    bounds = d.bounds(target)
    return target, f"/geo/{target}.json", {"bounds": bounds, "transition": "flyToBounds"}, target == "all", bounds


@callback(Output("regions-geo", "hideout"), Output("legend", "children"), Output("layer-legends", "children"),
          Output("map-title", "children"), Output("map-crumbs", "children"),
          Input("wall-version", "data"), Input("metric", "value"), Input("wall-view", "data"), Input("layers", "value"),
          State("wall-lang", "data"))
def colour_map(_version, metric, view, layers, lang):
    d = screen_data()
    lang, view = lang_arg(lang), view_arg(view, d)
    metric, layers = choice(metric, METRICS, d.rt.config.dashboard.default_metric), str_list(layers, ml.LAYERS)
    cases = d.cases(view)
    values = cases["regions"]
    names = {c: (d.gaz.get(c).name_en if lang == "en" else d.gaz.get(c).name) for c in values}
    alerted = {a["region"]: LEVEL_COLOURS[a["level"]] for a in d.alerts("active")}
    title = "" if view == "all" else (d.gaz.get(view).name_en if lang == "en" else d.gaz.get(view).name)
    layers = layers or []
    show_cases = "cases" in layers
    legends = []
    if "clinics" in layers:
        legends.append(ml.clinic_legend(lang))
    if "supply" in layers:
        legends.append(ml.supply_legend(d.rt.config.sources.supply_kinds, lang))
    if "inflows" in layers:
        legends.append(ml.inflow_legend(lang))
    gaps = cases["missing"]
    return (hideout(values, metric, names, lang, alerted, cases["corrections"], show_cases, gaps),
            legend(metric, lang, "prefecture_only" in gaps.values()) if show_cases else [], legends, title,
            _crumbs(d, view, lang))


def _crumbs(d, view: str, lang: str) -> list:
    """Buttons to the province level: each province on the overview, a prefecture's own province on its map
    (provinces -> prefectures -> counties; Back returns to the overview)."""
    if view == "all":
        provinces = [p for p in d.gaz.provinces() if d.scope.outlines(p.adcode)]
        if len(provinces) < 2:
            return []
    elif d.gaz.get(view).level == "prefecture":
        provinces = [d.gaz.get(d.gaz.province_of(view))]
    else:
        return []
    return [html.Button(p.name_en if lang == "en" else p.name, id={"type": "map-crumb", "code": p.adcode},
                        n_clicks=0, className="map-crumb") for p in provinces]


@callback(Output("clinics-geo", "url"), Output("supply-geo", "url"), Output("inflows-geo", "url"),
          Input("wall-version", "data"), Input("layers", "value"), Input("wall-view", "data"),
          State("clinics-geo", "url"), State("supply-geo", "url"), State("inflows-geo", "url"),
          State("wall-lang", "data"))
def marker_urls(_version, layers, view, *current_and_lang):
    """Each shown layer's URL names its content's digest: unchanged markers are not fetched again."""
    *current, lang = current_and_lang
    d = screen_data()
    lang, view, layers = lang_arg(lang), view_arg(view, d), str_list(layers, ml.LAYERS)
    out = []
    for name, now in zip(ml.MARKER_LAYERS, current):
        url = None
        if name in (layers or []):
            parent = view if name == "inflows" else "all"
            _body, digest = d.layer(name, parent, lang)
            url = f"/api/v1/layers/{name}.geojson?parent={parent}&lang={lang}&v={digest}"
        out.append(no_update if url == now else url)
    return out


# The layers, the metric and the drill-down go into the address bar (without a reload), so the
# URL sets a wall up and a shared link reopens the same view.
clientside_callback(ClientsideFunction("sitroomPage", "layersToUrl"),
                    Output("layers-url-sync", "data"), Input("layers", "value"), Input("metric", "value"),
                    Input("wall-view", "data"))
# A resized map panel: Leaflet re-measures and the region is fitted again (see sitroom.js).
clientside_callback(ClientsideFunction("sitroomPage", "refitMap"),
                    Output("map", "invalidateSize"), Output("map", "viewport", allow_duplicate=True),
                    Input("map-size", "data"), Input("wall-bounds", "data"), prevent_initial_call=True)


@callback(Output("marker-selected", "data"),
          Input("clinics-geo", "clickData"), Input("supply-geo", "clickData"), Input("inflows-geo", "clickData"),
          Input("detail-close", "n_clicks"), Input("layers", "value"), Input("wall-view", "data"),
          State("marker-selected", "data"), prevent_initial_call=True)
def select_marker(_c, _s, _i, _close, layers, _view, selected):
    trigger = ctx.triggered_id
    if trigger in ("clinics-geo", "supply-geo", "inflows-geo"):
        props = mapping(mapping(ctx.triggered[0]["value"]).get("properties"))
        if props.get("cluster") or not isinstance(props.get("id"), str) or props.get("layer") not in ml.MARKER_LAYERS:
            return no_update
        return {"layer": props["layer"], "id": props["id"]}
    selected = mapping(selected)
    if trigger == "layers" and selected.get("layer") in str_list(layers):
        return no_update
    return None


@callback(Output("marker-detail", "hidden"), Output("detail-body", "children"),
          Input("marker-selected", "data"), Input("wall-version", "data"), State("wall-lang", "data"),
          State("wall-view", "data"))
def marker_detail(selected, _version, lang, view):
    """The clicked marker's details, refreshed with the data."""
    selected, lang = mapping(selected), lang_arg(lang)
    layer, key = selected.get("layer"), selected.get("id")
    if layer not in ml.MARKER_LAYERS or not isinstance(key, str):
        return True, []
    d = screen_data()
    view = view_arg(view, d)
    if layer == "clinics":
        c = d.clinic(key)
        return (True, []) if c is None else (False, clinic_panel(c, lang))
    if layer == "supply":
        p = d.supply_point(key)
        cfg = d.rt.config.sources
        return (True, []) if p is None else (False, supply_panel(p, cfg.supply_kinds, cfg.supply_items, lang))
    s = d.inflows(view).get(key)
    if s is None or key not in d.gaz.regions:
        return True, []
    r = d.gaz.get(key)
    return False, inflow_panel(r.name_en if lang == "en" else r.name, s, lang)


@callback(Output("kpis", "children"), Output("kpi-notes", "children"),
          Input("wall-version", "data"), Input("wall-view", "data"), State("wall-lang", "data"))
def kpis(_version, view, lang):
    d = screen_data()
    lang, view = lang_arg(lang), view_arg(view, d)
    if view == "all" or d.gaz.get(view).level == "province":
        totals = d.totals(None if view == "all" else view)
        if view != "all":
            totals = {**totals, "active_alerts": sum(1 for a in d.alerts("active") if a["state"] == "firing"
                                                     and a["region"] in d.gaz.regions
                                                     and d.gaz.province_of(a["region"]) == view)}
    else:
        v = d.region_values(d.gaz.get(view).parent)[view]
        totals = {**v, "active_alerts": sum(1 for a in d.alerts("active") if a["region"] == view and a["state"] == "firing")}
    empty = not d.has_data()   # an empty store: no figure at all, not zeros
    tiles = [html.Div([html.Div("—" if empty else f"{totals[k]:,}", className="kpi-value" + (" no-data" if empty else ""),
                                id=f"kpi-{k}"),
                       html.Div(t(f"kpi_{k}", lang), className="kpi-label")], className=f"kpi kpi-{k}")
             for k in KPIS]
    return tiles, _kpi_notes(d, view, lang)


def _kpi_notes(d, view: str, lang: str) -> list:
    """What the tiles count but the map cannot show: province buckets, figures given only for the
    prefecture, and corrections of cumulative counts (never silently absorbed)."""
    cases = d.cases(view)
    notes = []
    parts = [f"{t('bucket_' + b, lang)} {cases['buckets'][b]['confirmed']:,}"
             + (f" ({signed(cases['buckets'][b]['new_24h'])})" if cases["buckets"][b]["new_24h"] else "")
             for b in ("outside", "undetermined") if b in cases["buckets"]]
    if parts:
        notes.append(html.Div(t("buckets_line", lang, parts=" · ".join(parts)), className="kpi-note buckets",
                              id="note-buckets"))
    if view != "all" and cases["unplaced"]["confirmed"]:
        notes.append(html.Div(t("unplaced_line", lang, n=f"{cases['unplaced']['confirmed']:,}"),
                              className="kpi-note unplaced", id="note-unplaced"))
    off = [c for c in d.mismatches() if view == "all" or c["province"] == view
           or (d.gaz.regions.get(view) and d.gaz.province_of(view) == c["province"])]
    if off:   # the publisher's own total and ours disagree: a duty officer must be told
        titles = {s.name: s.title.model_dump()[lang] for s in d.rt.config.sources.sources}
        shown = [t("wall_mismatch", lang, province=(lambda r: r.name_en if lang == "en" else r.name)(
                     d.gaz.get(c["province"])), metric=t("kpi_" + c["metric"], lang) if ("kpi_" + c["metric"]) in TEXT
                   else t("case_" + c["metric"], lang), diff=f"{c['diff']:+,}", source=titles.get(c["source"], c["source"]))
                 for c in off[:2]]
        notes.append(html.Div(" · ".join(shown) + (f" … +{len(off) - 2}" if len(off) > 2 else ""),
                              className="kpi-note mismatch", id="note-mismatch"))
    fixes = cases["corrections_all"]
    if fixes:
        def where(c):
            if c["bucket"]:
                return t("bucket_" + c["bucket"], lang)
            r = d.gaz.regions.get(c["region"])
            return (r.name_en if lang == "en" else r.name) if r else c["region"]
        shown = [f"{where(c)} {c['day'][5:]} {t('correction', lang, delta=signed(c['delta']))}"
                 + ("" if c["metric"] == "confirmed" else f" ({t('kpi_' + c['metric'], lang)})") for c in fixes[:3]]
        more = f" … +{len(fixes) - 3}" if len(fixes) > 3 else ""
        notes.append(html.Div(t("corrections_line", lang, parts=" · ".join(shown)) + more,
                              className="kpi-note corrections", id="note-corrections"))
    return notes


@callback(Output("trend", "figure"), Input("wall-version", "data"), Input("wall-view", "data"),
          Input("wall-scale", "data"), State("wall-lang", "data"))
def trend(_version, view, scale, lang):
    d = screen_data()
    lang, view = lang_arg(lang), view_arg(view, d)
    days = d.rt.config.dashboard.trend_days
    region = None if view == "all" else view
    rows = d.trend(region, days)
    shown = [region] if region is not None else list(d.scope.codes)   # an account's regions, or all
    name = "·".join(d.gaz.get(c).name_en if lang == "en" else d.gaz.get(c).name for c in shown) or t("all_regions", lang)
    x = [r["day"] for r in rows]
    conf = [r["confirmed"] for r in rows]
    # the 7-day average over complete calendar days: today's partial day (drawn paler) would pull it down every afternoon
    today = local_day(utcnow())
    counts = {date.fromisoformat(r["day"]): r["confirmed"] for r in rows}
    avg = [average_on(counts, day, today - timedelta(days=days - 1), today) for day in counts]   # the first day is cut
    fig = _empty_figure(t("trend_title", lang, region=_plain(name), days=days), _scale(scale))
    fig.add_bar(x=x, y=conf, name=t("trend_confirmed", lang), marker_color="#f16913",
                marker_opacity=[0.45 if day == today.isoformat() else 1 for day in x])
    fig.add_scatter(x=x, y=[r["suspected"] for r in rows], name=t("trend_suspected", lang),
                    mode="lines", line={"color": "#6baed6", "width": 2})
    fig.add_scatter(x=x, y=avg, name=t("trend_avg", lang), mode="lines", line={"color": "#ffffff", "width": 3})
    fixes = [r for r in rows if r["corr_confirmed"] or r["corr_suspected"]]
    if fixes:  # a correction counts 0 new; it is marked on the day, with its size
        label = t("trend_corrections", lang)
        text = [" · ".join(signed(r[k]) + ("" if k == "corr_confirmed" else f" {t('kpi_suspected', lang)}")
                           for k in ("corr_confirmed", "corr_suspected") if r[k]) for r in fixes]
        fig.add_scatter(x=[r["day"] for r in fixes], y=[0] * len(fixes), name=label, mode="markers+text",
                        text=text, textposition="bottom center", textfont={"color": "#ff6b6b", "size": 16 * _scale(scale)},
                        marker={"symbol": "triangle-down", "size": 16 * _scale(scale), "color": "#ff6b6b"},
                        hovertemplate=f"%{{x}} {t('correction', lang, delta='%{text}')}<extra></extra>")
    # The range is always given: left to the browser, it would keep the one of the figure before
    # (another region's, or one with correction marks), as plotly keeps axes across updates.
    top = max([1] + conf + [r["suspected"] for r in rows] + [a for a in avg if a is not None])
    fig.update_yaxes(range=[-0.14 * top if fixes else 0, top * 1.08])  # room under the axis for the marks
    return fig


def view_arg(view, d) -> str:
    """The region the wall shows: 'all', a province or a prefecture (what a drill-down sets), else 'all'."""
    if isinstance(view, str) and view in d.gaz.regions and d.gaz.get(view).level in ("province", "prefecture") \
            and d.scope.outlines(view):   # a scoped account: only a map of its regions
        return view
    return "all"


def _scale(scale) -> float:
    """The wall's size unit (px per 1080p px) as sitroom.js reports it; 1 until it has."""
    return min(4.0, max(0.75, float(scale))) if isinstance(scale, (int, float)) else 1.0


def _empty_figure(title: str = "", k: float = 1.0) -> go.Figure:
    """k: the wall's size unit, so the chart's text grows with the screen as the CSS text does."""
    fig = go.Figure()
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      title={"text": title, "font": {"size": 22 * k}, "x": 0.02, "y": 0.97},
                      margin={"l": 50 * k, "r": 20 * k, "t": 80 * k, "b": 40 * k},
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
                              "font": {"size": 16 * k}},
                      font={"size": 16 * k}, xaxis={"tickformat": "%m-%d"},
                      bargap=0.15, uirevision="keep", autosize=True)
    return fig


# The kiosk: every second the clock, and the playlist's step (or the firing warning's region).
clientside_callback(ClientsideFunction("sitroomPage", "kioskStep"),
                    Output("kiosk-step", "data"), Output("kiosk-clock", "children"), Output("wall-main", "className"),
                    Input("kiosk-tick", "n_intervals"), State("kiosk-playlist", "data"), State("wall-lang", "data"),
                    prevent_initial_call=True)


@callback(Output("kiosk-queue", "children"), Input("wall-version", "data"), Input("kiosk-step", "data"),
          State("wall-lang", "data"), State("kiosk-playlist", "data"), prevent_initial_call=True)
def kiosk_queue(_version, step, lang, kiosk):
    """The playlist's alert queue: every open warning, most severe first, as large as the wall's banner."""
    if not kiosk or mapping(step).get("view") != "alerts":
        return no_update
    lang = lang_arg(lang)
    return queue_table(screen_data().alerts("active"), lang)
