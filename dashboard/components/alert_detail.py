"""An alert's evidence on /alerts: its rule's own figure over time with the thresholds drawn on,
and the store rows behind the current value (data from `alert_evidence`)."""
from __future__ import annotations

import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from dashboard.i18n import level_numeral, num, t
from dashboard.plain import plotly as _plain
from sitroom.config import LEVEL_COLOURS, LEVELS
from sitroom.series import LOCAL_OFFSET

DARK = {"template": "plotly_dark", "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 50, "r": 50, "t": 30, "b": 30}}
RECOVER_COLOUR = "#7fd1a7"


def empty_figure(message: str | None = None) -> go.Figure:
    fig = go.Figure(layout=DARK)
    if message:
        fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font={"size": 16, "color": "#8fb0cf"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def value_label(rule, lang: str) -> str:
    """What the rule's value is, in words and units."""
    text = _value_label(rule, lang)
    return text[:1].upper() + text[1:]


def _value_label(rule, lang: str) -> str:
    if rule.kind == "threshold":
        metric = t("metric_" + rule.metric, lang)
        if rule.measure == "growth":
            return t("unit_growth", lang, metric=metric, days=rule.days)
        if rule.measure == "doubling_time":
            return t("unit_doubling", lang)
        window = (t("window_hours", lang, n=f"{rule.window_hours:g}") if rule.window_hours
                  else t("window_days", lang, n=rule.window_days))
        return t("unit_per_100k" if rule.measure == "per_100k" else "unit_count", lang, metric=metric, window=window)
    if rule.kind == "ears":
        return t("unit_statistic", lang, method=rule.method)
    if rule.kind in ("ewma", "regression", "switch"):
        method = t("method_" + rule.kind, lang)
        return t("unit_p_value" if rule.level_on == "p_value" else "unit_statistic", lang, method=method)
    if rule.kind == "supply_cover":
        return t("unit_cover", lang, item=rule.item)
    if rule.kind == "risk_arrivals":
        return t("unit_arrivals", lang, n=rule.window_days) + (t("per_100k_suffix", lang) if rule.per_100k else "")
    return t("unit_silent", lang, source=rule.source)


def _local(ts):
    return [x + LOCAL_OFFSET for x in ts]


def _thresholds(fig, rule, lang: str, labels: bool = True, **where) -> None:
    """The four level lines and the recover line; labelled on the plot, or (crowded) in the legend."""
    lines = [(getattr(rule.thresholds, lv), LEVEL_COLOURS[lv], "dot", t("threshold_line", lang, level=level_numeral(lv, lang)))
             for lv in LEVELS] + [(rule.recover, RECOVER_COLOUR, "dash", t("recover_line", lang))]
    for i, (y, colour, dash, text) in enumerate(lines):
        note = ({"annotation_text": text, "annotation_font_color": colour,
                 "annotation_position": "bottom right" if i == len(lines) - 1 else "top left"} if labels else {})
        fig.add_hline(y=y, line_dash=dash, line_color=colour, line_width=1 if i == len(lines) - 1 else 2,
                      **note, **where)
        if not labels:
            fig.add_scatter(x=[None], y=[None], mode="lines", name=text, line={"color": colour, "dash": dash},
                            **where)


ESSENCE_COLOURS = {"grey": "#8c8c8c", "blue": "#4a90d9", "yellow": "#f2c94c", "red": "#e03131"}
P_SHOWN = 1e-10     # smaller p-values are drawn at this height of the log axis


def fmt_p(p) -> str:
    """A p-value without exponents: 4 decimals, or "< 0.0001"."""
    if p is None:
        return "—"
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def fmt_statistic(x, lang: str) -> str:
    from sitroom.rules_measure import STATISTIC_CAP
    if x is not None and abs(x) >= STATISTIC_CAP:
        return ("-" if x < 0 else "") + t("flat_baseline", lang)
    return num(x)


def fmt_value(rule, x, lang: str) -> str:
    """The alert's value as its rule's levels read it."""
    if rule is not None and getattr(rule, "level_on", None) == "p_value":
        return fmt_p(x)
    if rule is not None and rule.kind == "ears":
        return fmt_statistic(x, lang)
    return num(x)


def detection_summary(rule, alert: dict, lang: str) -> str:
    """Judged day (and that it is the last complete one), statistic, p-value: the detector's own numbers."""
    if rule is None or alert.get("judged_day") is None:
        return ""
    which = t("partial_today" if rule.partial_day else "last_complete_day", lang)
    parts = [t("judged_day", lang, day=alert["judged_day"], which=which),
             t("det_statistic", lang, x=fmt_statistic(alert.get("statistic"), lang))]
    if rule.kind != "ears":
        parts.append(t("det_p_value", lang, x=fmt_p(alert.get("p_value"))))
    return " · ".join(parts)


def _colour_word(rule, colour: str, lang: str) -> str:
    return t("ears_red" if rule.kind == "ears" and colour == "red" else "essence_" + colour, lang)


def _detector_figure(rule, hist: dict, lang: str) -> go.Figure:
    """Above: the daily counts (a day without a report is a gap, marked at 0) and the baseline's
    expected value; below: what the levels read (p-value on a log axis, or the statistic), each day
    coloured as ESSENCE colours it, against the level lines."""
    rows = hist.get("days") or []
    days = [r["day"] for r in rows]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.06)
    fig.add_bar(x=days, y=[r["count"] for r in rows], name=t("daily_counts", lang, metric=t(
        "metric_" + rule.metric, lang)), marker_color="#f16913", opacity=0.8, row=1, col=1)
    gaps = [r["day"] for r in rows if r["count"] is None]
    fig.add_scatter(x=gaps or [None], y=[0] * len(gaps) or [None], mode="markers", name=t("no_report", lang),
                    marker={"symbol": "x-thin-open", "size": 10, "color": "#bbbbbb", "line": {"width": 2}},
                    showlegend=bool(gaps), row=1, col=1)
    fig.add_scatter(x=days, y=[r["expected"] for r in rows], name=t("baseline_expected", lang), mode="lines",
                    line={"color": "#9ecae1", "width": 2, "dash": "dash"}, connectgaps=False, row=1, col=1)
    on_p = getattr(rule, "level_on", "statistic") == "p_value"
    key = "p_value" if on_p else "statistic"
    shown = [r for r in rows if r[key] is not None]
    ys = [max(r[key], P_SHOWN) if on_p else r[key] for r in shown]
    label = _plain(value_label(rule, lang))
    fig.add_scatter(x=[r["day"] for r in shown] or [None], y=ys or [None], name=label,
                    mode="lines+markers", line={"color": "#ffffff", "width": 1},
                    marker={"size": 9, "color": [ESSENCE_COLOURS[r["alert"]] for r in shown] or None},
                    text=[_colour_word(rule, r["alert"], lang) for r in shown] or None,
                    hovertemplate="%{x}: %{y}<br>%{text}<extra></extra>", row=2, col=1)
    _thresholds(fig, rule, lang, labels=False, row=2, col=1)
    if hist.get("judged_day"):
        fig.add_vline(x=hist["judged_day"], line_dash="dot", line_color="#dddddd", line_width=1)
    fig.update_yaxes(title_text=t("per_day", lang), rangemode="tozero", row=1, col=1)
    if on_p:
        fig.update_yaxes(type="log", range=[-10.2, 0.05], title_text=label, row=2, col=1)
    else:
        fig.update_yaxes(title_text=label, row=2, col=1)
    fig.update_layout(**DARK, legend={"orientation": "h", "y": -0.12, "font": {"size": 11}})
    fig.update_xaxes(tickformat="%m-%d")
    return fig


def figure(rule, evidence: dict | None, lang: str) -> go.Figure:
    """Threshold-like kinds: the value over time against the level lines and the recover line.
    Detector kinds (EARS, ESSENCE): `_detector_figure`."""
    if rule is None:
        return empty_figure(t("rule_gone", lang))
    hist = (evidence or {}).get("history") or {}
    if hist.get("kind") == "detector":
        return _detector_figure(rule, hist, lang)
    points = hist.get("points") or []
    label = _plain(value_label(rule, lang))  # names a configured item or source: text, not plotly markup
    if not points:
        return empty_figure(t("no_figure", lang))
    fig = go.Figure()
    fig.add_scatter(x=_local([p[0] for p in points]), y=[p[1] for p in points], name=label, mode="lines+markers",
                    line={"color": "#ffffff", "width": 2}, connectgaps=False)
    _thresholds(fig, rule, lang)
    fig.update_layout(**DARK, showlegend=False, yaxis={"title": label, "rangemode": "tozero"},
                      xaxis={"tickformat": "%m-%d %H:%M" if rule.kind in ("threshold", "source_silent") else "%m-%d"})
    if all(p[1] is None for p in points):
        fig.add_annotation(text=t("no_figure", lang), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


# ------------------------------------------------------------------ rows behind the value
def _time(dt, fmt="%m-%d %H:%M") -> str:
    return (dt + LOCAL_OFFSET).strftime(fmt) if dt else "—"


def _num(x) -> str:
    return num(x)


def rows_table(evidence: dict | None, gaz, lang: str):
    """A small table of the rows that make up the value; the columns depend on the rule's kind."""
    found = (evidence or {}).get("rows") or {"kind": None, "rows": []}
    rows = found["rows"]
    if not rows:
        return html.Div(t("no_rows", lang), className="muted", id="al-no-rows")

    def region(code, bucket=None):
        r = gaz.regions.get(code)
        name = (r.name_en if lang == "en" else r.name) if r else code
        return f"{name} · {t('bucket_' + bucket, lang)}" if bucket else name

    kind = found["kind"]
    if kind == "case":
        cols = ("col_source", "col_key", "col_case_status", "col_region", "col_reported", "col_count")
        cells = [(r["source"], r["source_key"], _case_status(r["status"], lang), region(r["region"], r.get("bucket")),
                  _time(r["at"], "%m-%d" if "bucket" in r else "%m-%d %H:%M"), _num(r["count"])) for r in rows]
    elif kind == "clinic":
        cols = ("col_source", "col_key", "col_clinic", "col_region", "col_period", "clinic_visits", "clinic_fever")
        cells = [(r["source"], r["source_key"], r["name"], region(r["region"]), _time(r["at"]), _num(r["visits"]),
                  _num(r["fever"])) for r in rows]
    elif kind == "supply":
        cols = ("col_source", "col_key", "col_point", "col_region", "col_day", "col_stock", "col_use", "col_cover")
        cells = [(r["source"], r["source_key"], r["name"], region(r["region"]), str(r["day"]), _num(r["stock"]),
                  _num(r["daily_consumption"]), "∞" if r["cover"] is None else f"{r['cover']:.1f}") for r in rows]
    elif kind == "arrivals":
        cols = ("col_source", "col_key", "col_day", "col_origin", "col_region", "col_mode", "col_stayed", "col_count")
        cells = [(r["source"], r["source_key"], str(r["day"]), r["origin"], region(r["region"]),
                  t("mode_" + (r["mode"] or "unknown"), lang),
                  t("stayed_unknown" if r["stayed"] is None else "stayed_yes", lang), _num(r["count"])) for r in rows]
    else:
        cols = ("col_source", "col_last_change", "col_last_success", "col_failures", "col_error", "col_inserted")
        cells = [(r["source"], _time(r["last_change"], "%m-%d %H:%M:%S"), _time(r["last_success"], "%m-%d %H:%M:%S"),
                  _num(r["failures"]), r["last_error"] or "", _num(r["rows_inserted"])) for r in rows]
    numeric = {"col_count", "clinic_visits", "clinic_fever", "col_stock", "col_use", "col_cover", "col_failures",
               "col_inserted"}
    head = html.Tr([html.Th(t(c, lang), className="num" if c in numeric else None) for c in cols])
    body = [html.Tr([html.Td(v, className="num" if c in numeric else None) for c, v in zip(cols, row)],
                    className="evidence-row") for row in cells]
    out = [html.Div(html.Table([html.Thead(head), html.Tbody(body)], className=f"grid evidence {kind}", id="al-rows-table"),
                    className="table-scroll")]
    if found.get("more"):
        out.append(html.Div(t("rows_more", lang, n=len(rows)), className="muted"))
    return html.Div(out)


def _case_status(status: str, lang: str) -> str:
    base, _, counting = status.partition(" (")
    text = t("case_" + base, lang)
    return f"{text}（{t('counting_' + counting.rstrip(')'), lang)}）" if counting else text
