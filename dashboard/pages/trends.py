"""/trends: the leaders' analysis page. Regions of any level compared on one chart (new,
cumulative, active, 7-day incidence per 100,000, week-on-week growth, doubling time, Rt by the
Cori method), a date range, a ranked table with sparklines, CSV and PNG export; the whole
state in the URL, so a shared link reopens the same view."""
from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from plotly.utils import PlotlyJSONEncoder

from dashboard import push
from dashboard import trends_view as tv
from dashboard.app import screen_data
from dashboard.callback_args import choice, lang_arg, mapping, str_list, version_arg
from dashboard.components.alert_banner import desk_page_top
from dashboard.i18n import num, t
from dashboard.page_title import page_title
from dashboard.plotly_locale import chart_locale
from dashboard.plain import plotly as _plain
from sitroom.series import local_day
from sitroom.store.db import utcnow

dash.register_page(__name__, path="/trends", title=page_title("nav_trends"))
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
TABLE_COLUMNS = tv.COLUMNS


def _region_label(r, gaz, lang: str) -> str:
    """郑州市（河南省·地市） / Zhengzhou (Henan, prefecture): the name, where it lies, its level."""
    name = r.name_en if lang == "en" else r.name
    level = t("trends_level_" + r.level, lang)
    if r.parent:
        p = gaz.get(r.parent)
        where = p.name_en if lang == "en" else p.name
        return f"{name} ({where}, {level.lower()})" if lang == "en" else f"{name}（{where}·{level}）"
    return f"{name} ({level.lower()})" if lang == "en" else f"{name}（{level}）"


def region_options(gaz, lang: str, scope) -> list[dict]:
    """Every region of the gazetteer the account sees, searchable by full and short name, pinyin and adcode."""
    from sitroom.regions import _pinyin
    out = []
    for code in sorted(gaz.regions, key=lambda c: (tv.LEVELS.index(gaz.regions[c].level), c)):
        r = gaz.regions[code]
        if not scope.sees(code):
            continue
        spelled, keys = _pinyin(r.short_name)
        search = " ".join(dict.fromkeys([r.name, r.short_name, r.name_en, spelled, *keys, code]))
        out.append({"label": _region_label(r, gaz, lang),
                    "value": code, "search": search})
    return out


def dropdown_labels(lang: str) -> dict:
    return {k: t(f"trends_dd_{k}", lang) for k in ("select_all", "deselect_all", "selected_count", "search",
                                                  "clear_search", "clear_selection", "no_options_found")}


MONTH_FORMAT = {"zh": "YYYY年M月", "en": "MMMM YYYY"}   # the date picker's month caption (moment.js tokens)


def layout(**args):
    d = screen_data()
    cfg = d.rt.config.dashboard
    args = {k: v for k, v in args.items() if isinstance(v, str)}
    st = tv.parse_state(args, d.gaz, cfg.language, cfg.trends_max_regions, scope=d.scope)
    lang = st.lang
    return html.Div(className=f"page trends-page lang-{lang}", children=[
        dcc.Store(id="tr-lang", data=lang),
        dcc.Store(id="tr-sort", data={"sort": st.sort, "desc": st.desc}),
        dcc.Store(id="tr-url-sink"),
        dcc.Store(id="tr-version", data=push.current_key(by_day=True)),   # new data or a new day (push.py)
        dcc.Store(id="tr-version-sink"),
        dcc.Store(id="tr-drawn"),   # the version drawn, its case sources' stamp and a digest of what is shown
        *desk_page_top(t("trends_title", lang), lang, "/trends"),
        html.Div(className="tr-controls", children=[
            dcc.Dropdown(id="tr-regions", multi=True, value=list(st.regions), className="tr-regions",
                         options=region_options(d.gaz, lang, d.scope), placeholder=t("trends_pick", lang),
                         maxHeight=320, labels=dropdown_labels(lang)),
            dcc.DatePickerRange(id="tr-range", start_date=st.start.isoformat(), end_date=st.end.isoformat(),
                                max_date_allowed=local_day(utcnow()).isoformat(), display_format="YYYY-MM-DD",
                                month_format=MONTH_FORMAT[lang], first_day_of_week=1 if lang == "zh" else 0,
                                start_date_placeholder_text=t("trends_start", lang),
                                end_date_placeholder_text=t("trends_end", lang), className="tr-range"),
        ]),
        dcc.RadioItems(id="tr-metric", value=st.metric, inline=True, className="metric-picker tr-metric",
                       options=[{"label": t(f"trends_metric_{m}", lang), "value": m} for m in tv.METRICS]),
        html.Div(id="tr-notes", className="tr-notes"),
        html.Section(className="tr-chart-box", children=[
            dcc.Graph(id="tr-chart", className="tr-chart", responsive=True, style={"height": "100%"},
                      config={"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": "sitroom-trends",
                                                                           "scale": 2},
                              "modeBarButtonsToRemove": ["select2d", "lasso2d"], **chart_locale(lang)}),
        ]),
        html.Div(className="tr-exports", children=[
            html.A(t("trends_csv", lang), id="tr-chart-csv", className="button", download="sitroom-trends.csv"),
            html.Span(t("trends_png_hint", lang), className="tr-hint"),
        ]),
        html.Section(className="tr-table-box", children=[
            html.Div(className="tr-table-head", children=[
                html.H2(t("trends_table_title", lang)),
                dcc.RadioItems(id="tr-level", value=st.level, inline=True, className="metric-picker",
                               options=[{"label": t(f"trends_level_{lv}", lang), "value": lv} for lv in tv.LEVELS]),
                html.A(t("trends_csv", lang), id="tr-table-csv", className="button", download="sitroom-regions.csv"),
                html.A(t("trends_png", lang), id="tr-table-png", className="button", download="sitroom-regions.png"),
            ]),
            html.Div(id="tr-table", className="tr-table-wrap"),
        ]),
    ])


def _state(regions, metric, start, end, level, sort, lang) -> tv.TrendState:
    d = screen_data()
    cfg = d.rt.config.dashboard
    sort = mapping(sort)
    codes = [c for c in str_list(regions) if c in d.gaz.regions][:cfg.trends_max_regions]
    args = {"lang": lang_arg(lang, cfg.language), "regions": ",".join(codes),
            "metric": choice(metric, tv.METRICS, "new"), "start": start if isinstance(start, str) else "",
            "end": end if isinstance(end, str) else "", "level": choice(level, tv.LEVELS, "prefecture"),
            "sort": choice(sort.get("sort"), tv.COLUMNS, "incidence"), "desc": "0" if sort.get("desc") is False else "1"}
    return tv.parse_state(args, d.gaz, cfg.language, cfg.trends_max_regions, scope=d.scope)


push.follow_when_drawn("tr-version", "tr-drawn")


@callback(Output("tr-chart", "figure"), Output("tr-notes", "children"), Output("tr-chart-csv", "href"),
          Output("tr-table", "children"), Output("tr-table-csv", "href"), Output("tr-table-png", "href"),
          Output("tr-url-sink", "data"), Output("tr-drawn", "data"),
          Input("tr-regions", "value"), Input("tr-metric", "value"), Input("tr-range", "start_date"),
          Input("tr-range", "end_date"), Input("tr-level", "value"), Input("tr-sort", "data"),
          Input("tr-version", "data"), State("tr-lang", "data"), State("tr-drawn", "data"))
def update(regions, metric, start, end, level, sort, version, lang, drawn):
    """The chart, notes, table and links of the state; a pushed version redraws them with the picked
    regions, metric, range and sort as they are (the chart keeps its zoom: uirevision). A version
    that moved no case source (another source's batch, an alert) costs one look at the heartbeat,
    and one whose figures come out the same redraws nothing."""
    d = screen_data()
    drawn, version = mapping(drawn), version_arg(version)
    stamp = tv.data_stamp(d)
    skip = (no_update,) * 7   # every output but tr-drawn
    if set(ctx.triggered_prop_ids) == {"tr-version.data"} and drawn.get("stamp") == stamp and \
            str(version).split(".")[-1:] == str(drawn.get("version")).split(".")[-1:]:   # and the same day
        return (*skip, {**drawn, "version": version})
    st = _state(regions, metric, start, end, level, sort, lang)
    today = local_day(utcnow())
    w = tv.serial_weights(d.rt.config.dashboard)
    trends = [tv.region_trend(d, c, st.metric, st.start, st.end, today, w) for c in st.regions]
    query = urlencode(st.query())
    rows = tv.table_rows(d, st, today, w)
    out = [figure(trends, st, d), notes(trends, st, d), f"/trends/export.csv?what=chart&{query}",
           table(rows, st), f"/trends/export.csv?what=table&{query}", f"/trends/export.png?what=table&{query}",
           "?" + query]
    digest = hashlib.sha1(json.dumps(out, cls=PlotlyJSONEncoder).encode()).hexdigest()
    now_drawn = {"version": version, "stamp": stamp, "digest": digest}
    if digest == drawn.get("digest"):   # the new version changed nothing shown here (another region)
        return (*skip, now_drawn)
    return (*out, now_drawn)


@callback(Output("tr-sort", "data"), Input({"type": "tr-sort", "col": ALL}, "n_clicks"), State("tr-sort", "data"),
          prevent_initial_call=True)
def resort(clicks, current):
    col = ctx.triggered_id["col"] if isinstance(ctx.triggered_id, dict) else None
    if col not in tv.COLUMNS or not any(c for c in clicks if c):
        return no_update
    current = mapping(current)
    desc = not current.get("desc", True) if current.get("sort") == col else col != "name"
    return {"sort": col, "desc": desc}


# the state goes into the address bar without a navigation (the page is not rebuilt)
clientside_callback(
    """function(search) {
        if (search && search !== window.location.search)
            window.history.replaceState(null, '', window.location.pathname + search);
        return window.dash_clientside.no_update;
    }""",
    Output("tr-url-sink", "id"), Input("tr-url-sink", "data"))


def _name(gaz, code: str, lang: str) -> str:
    r = gaz.get(code)
    return r.name_en if lang == "en" else r.name


def figure(trends: list[tv.RegionTrend], st: tv.TrendState, d) -> go.Figure:
    lang = st.lang
    fig = go.Figure()
    fig.update_layout(uirevision=f"{st.metric}|{','.join(st.regions)}|{st.start}|{st.end}",   # a redraw keeps the zoom
                      template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", margin={"l": 60, "r": 20, "t": 60, "b": 40},
                      title={"text": _plain(t(f"trends_metric_{st.metric}", lang)), "x": 0.01},
                      legend={"orientation": "h", "y": -0.12}, hovermode="x unified",
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    for i, tr_ in enumerate(trends):
        colour = COLOURS[i % len(COLOURS)]
        name = _plain(_name(d.gaz, tr_.code, lang))
        x = [day.isoformat() for day in tr_.days]
        y = list(tr_.values)
        cut = len(x) - 1 if tr_.partial and st.metric in ("new", "cumulative", "active") else len(x)
        if st.metric == "rt" and tr_.low:
            # the band over the days with an estimate only (a None would break the polygon)
            xs = [day for day, lo in zip(x, tr_.low) if lo is not None]
            lows = [lo for lo in tr_.low if lo is not None]
            highs = [hi for hi in tr_.high if hi is not None]
            fig.add_scatter(x=xs + xs[::-1], y=highs + lows[::-1], fill="toself",
                            mode="lines", fillcolor=colour, opacity=0.18, line={"width": 0}, hoverinfo="skip", showlegend=False,
                            name=f"{name} 95%", meta={"region": tr_.code, "role": "interval"})
        fig.add_scatter(x=x[:cut], y=y[:cut], mode="lines+markers" if st.metric == "new" else "lines",
                        name=name, line={"color": colour, "width": 1 if st.metric == "new" else 2.5},
                        marker={"size": 4}, meta={"region": tr_.code, "role": "value"})
        if cut < len(x):   # today, still being reported: its own open marker, not joined to the line
            fig.add_scatter(x=x[cut:], y=y[cut:], mode="markers", name=f"{name} · {t('trends_partial', lang)}",
                            marker={"color": colour, "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                            meta={"region": tr_.code, "role": "partial"}, showlegend=i == 0)
        if tr_.average is not None:
            fig.add_scatter(x=x, y=tr_.average, mode="lines", name=f"{name} · {t('trends_avg', lang)}",
                            line={"color": colour, "width": 3}, meta={"region": tr_.code, "role": "average"})
    fig.update_xaxes(tickformat="%m-%d", hoverformat="%Y-%m-%d")   # digits: no English month names in the Chinese UI
    if st.metric == "rt":
        fig.add_hline(y=1, line={"color": "#666", "dash": "dash", "width": 1})
        fig.update_yaxes(rangemode="tozero")
    if st.metric == "growth":
        fig.add_hline(y=0, line={"color": "#666", "width": 1})
    return fig


def notes(trends: list[tv.RegionTrend], st: tv.TrendState, d) -> list:
    lang, cfg = st.lang, d.rt.config.dashboard
    out = []
    if st.metric == "rt":
        out.append(html.P(t("trends_rt_note", lang, mean=num(cfg.serial_interval_mean, 1), sd=num(cfg.serial_interval_sd, 1),
                            source=cfg.serial_interval_source), className="tr-note tr-rt-note"))
    if st.metric == "new":
        out.append(html.P(t("trends_avg_note", lang), className="tr-note"))
    for tr_ in trends:
        if not tr_.has_data:
            out.append(html.P(t("trends_no_data", lang, region=_name(d.gaz, tr_.code, lang)), className="tr-note"))
        if tr_.first_report:
            out.append(html.P(t("trends_first_report", lang, region=_name(d.gaz, tr_.code, lang),
                                day=tr_.first_report.isoformat()), className="tr-note tr-first-report"))
        if tr_.has_data and tr_.no_population:
            out.append(html.P(t("trends_no_population", lang, region=_name(d.gaz, tr_.code, lang)),
                              className="tr-note tr-no-pop"))
    if st.dropped:
        out.append(html.P(t("trends_dropped", lang, names="、".join(st.dropped)), className="tr-note tr-warn"))
    if not st.regions:
        out.append(html.P(t("trends_pick", lang), className="tr-note"))
    return out


def table(rows: list[dict], st: tv.TrendState) -> html.Table:
    lang = st.lang
    head = []
    for col in TABLE_COLUMNS:
        arrow = (" ▼" if st.desc else " ▲") if st.sort == col else ""
        head.append(html.Th(html.Button(t(f"trends_col_{col}", lang) + arrow, id={"type": "tr-sort", "col": col},
                                        className="tr-sort" + (" current" if st.sort == col else "")),
                            **{"data-col": col}))
    head.append(html.Th(t("trends_col_spark", lang)))
    body = []
    for r in rows:
        cells = [html.Td(r["name_en"] if lang == "en" else r["name"], className="tr-name")]
        cells += [html.Td(tv.fmt(r, c, lang), className="num", **{"data-col": c}) for c in TABLE_COLUMNS[1:]]
        spark = tv.sparkline(r["spark"])
        cells.append(html.Td(html.Img(src=spark, alt="", className="spark") if spark else ""))
        body.append(html.Tr(cells, **{"data-code": r["code"]}))
    return html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="tr-table", id="tr-table-el")

