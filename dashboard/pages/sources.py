"""/sources: every source's health and counts, and the quarantine with its reasons."""
from __future__ import annotations

import json

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import push
from dashboard.app import screen_data
from dashboard.callback_args import choice, lang_arg, text_arg
from dashboard.components.alert_banner import can, desk_page_top, local_time
from dashboard.components.resync import resync_button
from dashboard.i18n import TEXT, pick_lang, t
from dashboard.machine_text import reason, reason_query, source_error
from dashboard.page_title import page_title

dash.register_page(__name__, path="/sources", title=page_title("nav_sources"))
PAGE_SIZE = 50
PLAIN_RULES = ("code", "exact", "short", "pinyin", "bucket", "address")


def layout(lang: str | None = None, source: str | None = None, reason: str | None = None, **_):
    d = screen_data()
    lang = pick_lang(lang, d.rt.config.dashboard.language)
    options = [{"label": t("filter_source", lang), "value": ""}] + [
        {"label": f"{s.title.model_dump()[lang]} ({s.name})", "value": s.name} for s in d.rt.config.sources.sources]
    return html.Div(className=f"page lang-{lang}", children=[
        dcc.Store(id="src-lang", data=lang),
        dcc.Store(id="src-version", data=push.current_key()),   # follows the pushed key (push.py)
        *desk_page_top(t("sources_title", lang), lang, "/sources"),
        html.Div(id="sources-table"),
        html.Div(id="resync-message", className="resync-message", role="status"),
        html.Div(id="feed-checks"),
        *(_quarantine(options, source, reason, lang) if can("admin") else []),  # quarantined rows: admin only
    ])


def _quarantine(options, source, reason, lang) -> list:
    return [
        html.Div(className="filters", children=[
            dcc.Dropdown(id="q-source", options=options, value=source if isinstance(source, str) else "", clearable=False, className="q-source"),
            dcc.Input(id="q-reason", value=text_arg(reason), placeholder=t("filter_reason", lang), debounce=True,
                      className="q-reason"),
        ]),
        html.Div(id="quarantine"),
    ]


push.follow("src-version")


# The health table again with each push beat (every few seconds: its lag column counts up), the
# quarantine only when the data moved.
@callback(Output("sources-table", "children"), Input("src-version", "data"), Input("push-status", "data"),
          Input("push-beat", "data"), State("src-lang", "data"))
def sources_table(_v, _status, _beat, lang):
    lang = lang_arg(lang)
    rows = screen_data().sources()
    known = {x.name for x in screen_data().rt.config.sources.sources}
    cols = ("col_source", "col_status", "col_last_success", "col_lag", "col_read", "col_inserted", "col_updated",
            "col_superseded", "col_quarantined", "col_error", "col_actions")
    body = []
    for s in rows:
        status = "failing" if s.get("error") else "stale" if s.get("stale") else "ok"
        body.append(html.Tr([
            html.Td(s["title"][lang] if "title" in s else s["name"]),
            html.Td(t(f"status_{status}", lang), className=f"status {status}"),
            html.Td(local_time(s.get("last_success"), "%m-%d %H:%M:%S")),
            html.Td("—" if s.get("age_seconds") is None else f"{s['age_seconds']:.0f}", className="num"),
            *[html.Td(f"{s.get(k, 0):,}", className="num") for k in
              ("rows_read", "rows_inserted", "rows_updated", "rows_superseded", "rows_quarantined")],
            html.Td(_error(s.get("error"), lang), className="error"),
            html.Td(resync_button(s["name"], lang) if s["name"] in known and can("admin") else ""),  # admin only
        ], id=f"source-{s['name']}"))
    numeric = {"col_lag", "col_read", "col_inserted", "col_updated", "col_superseded", "col_quarantined"}
    head = html.Tr([html.Th(t(c, lang), className="num" if c in numeric else None) for c in cols])
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="grid"), className="table-scroll")


def _error(error: str | None, lang: str) -> list:
    """What a source's error means, then the source's own words (its driver's text, as written)."""
    said, raw = source_error(error, lang)
    return [said] + ([" ", html.Span(raw, className="src-text")] if raw else [])


def _reasons(reasons: list, lang: str) -> html.Ul:
    return html.Ul([html.Li(reason(r, lang)) for r in reasons])


def _table(head: list[str], rows: list, lang: str, numeric=()) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(t(c, lang), className="num" if c in numeric else None)
                                           for c in head])), html.Tbody(rows)], className="grid")


def place_label(gaz, code: str | None, bucket: str | None, lang: str, label: str | None = None) -> str:
    if bucket:
        return t("bucket_" + bucket, lang) + (f" · {label}" if label else "") + \
            (f" ({gaz.get(code).name})" if code in gaz.regions else "")
    r = gaz.regions.get(code) if code else None
    return "—" if r is None else f"{r.name_en if lang == 'en' else r.name} {r.adcode}"


@callback(Output("feed-checks", "children"), Input("src-version", "data"), State("src-lang", "data"))
def feed_checks(_n, lang):
    """Published feeds: the publishers' totals against ours, places gone from the latest snapshot,
    counties beside their prefecture, and how each raw place name resolved."""
    lang = lang_arg(lang)
    d = screen_data()
    checks, gaz = d.feed_checks(), d.gaz
    titles = {s.name: s.title.model_dump()[lang] for s in d.rt.config.sources.sources}
    out = []
    if checks["totals"]:
        rows = [html.Tr([
            html.Td(titles.get(c["source"], c["source"])), html.Td(place_label(gaz, c["province"], None, lang)),
            html.Td(t("case_" + c["metric"], lang)), html.Td(f"{c['published']:,}", className="num"),
            html.Td(f"{c['ours']:,}", className="num"),
            html.Td(t("totals_off", lang, diff=f"{c['diff']:+,}") if c["diff"] else t("totals_ok", lang),
                    className="num " + ("error" if c["diff"] else "ok")),
            html.Td(local_time(c["published_at"], "%m-%d %H:%M:%S")),
        ], className="totals-row" + (" mismatch" if c["diff"] else "")) for c in checks["totals"]]
        out += [html.H2(t("feeds_totals_title", lang)), _table(
            ["col_source", "col_province", "col_metric", "col_published", "col_ours", "col_diff", "col_publication"],
            rows, lang, {"col_published", "col_ours", "col_diff"})]
    if checks["side_by_side"]:
        out += [html.H2(t("feeds_side_title", lang)), html.Ul([html.Li(t(
            "side_by_side", lang, source=titles.get(w["source"], w["source"]),
            prefecture=place_label(gaz, w["prefecture"], None, lang), county=place_label(gaz, w["county"], None, lang),
            mode=w["counties"], how=t("side_" + w["counties"], lang)), className="warning")
            for w in checks["side_by_side"]], id="side-by-side")]
    if checks["absent"]:
        rows = [html.Tr([
            html.Td(place_label(gaz, a["region"], a["bucket"], lang, a["label"])),
            html.Td(titles.get(a["source"], a["source"])), html.Td(a["day"]),
            html.Td(t("absent_since", lang, since=local_time(a["since"], "%m-%d %H:%M"))),
        ], className="absent-row") for a in checks["absent"]]
        out += [html.H2(t("feeds_absent_title", lang)),
                _table(["col_place", "col_source", "col_last_figure", "col_status"], rows, lang)]
    names = d.place_names()
    if names:
        by_source: dict[str, list] = {}
        for p in names:
            by_source.setdefault(p["source"], []).append(p)
        blocks = []
        for src, items in by_source.items():
            # what needs a person's eye: unresolved names and those matched by alias, history or pattern;
            # names matched by their code or as the gazetteer writes them are only counted
            shown = [p for p in items if p["rule"] not in PLAIN_RULES]
            plain = len(items) - len(shown)
            rows = [html.Tr([
                html.Td(p["raw"], className="mono"),
                html.Td(place_label(gaz, p["region"], p["bucket"], lang) if p["region"] else
                        (reason(p["detail"], lang) if p["detail"] else "—"),
                        className=None if p["region"] else "error"),
                html.Td(t("rule_" + p["rule"], lang) if ("rule_" + p["rule"]) in TEXT else p["rule"],
                        className=f"rule rule-{p['rule']}"),
                html.Td(" · ".join(x for x in (p["note"], reason(p["detail"], lang) if p["region"] and p["detail"]
                                               else None) if x)),
                html.Td(f"{p['rows']:,}", className="num"),
            ], className="name-row") for p in shown]
            blocks.append(html.Details([
                html.Summary(t("names_summary", lang, source=titles.get(src, src), shown=f"{len(shown):,}",
                               plain=f"{plain:,}")),
                _table(["col_raw_name", "col_matched_region", "col_match_rule", "col_note", "col_rows"], rows, lang,
                       {"col_rows"})
                if rows else html.Div(),
            ], open=bool(shown), id=f"names-{src}"))
        out += [html.H2(t("feeds_names_title", lang)), *blocks]
    return out


@callback(Output("quarantine", "children"), Input("q-source", "value"), Input("q-reason", "value"),
          Input("src-version", "data"), State("src-lang", "data"))
def quarantine_table(source, reason, _v, lang):
    d = screen_data()
    lang = lang_arg(lang)
    source = choice(source, {s.name for s in d.rt.config.sources.sources}, None)
    page = d.quarantine(source, reason_query(text_arg(reason)) or None, PAGE_SIZE, 0)
    rows = [html.Tr([
        html.Td(q["source"]), html.Td(q["source_key"], className="mono src-text"),
        html.Td(_reasons(q["reasons"], lang), className="reasons"),
        html.Td(json.dumps(q["row"], ensure_ascii=False), className="mono small src-text"),
        html.Td(local_time(q["last_seen"], "%m-%d %H:%M:%S")),
    ], className="q-row") for q in page["rows"]]
    head = html.Thead(html.Tr([html.Th(t(c, lang)) for c in
                               ("col_source", "col_key", "col_reasons", "col_row", "col_seen")]))
    groups = [html.Tr([html.Td(g["source"]), html.Td(_reasons(g["reasons"], lang), className="reasons"),
                       html.Td(f"{g['rows']:,}", className="num"), html.Td(local_time(g["last_seen"], "%m-%d %H:%M:%S"))],
                      className="q-group") for g in d.quarantine_groups(source)]
    return [html.H2(t("quarantine_title", lang, n=f"{page['total']:,}"), id="quarantine-count"),
            *([html.H3(t("quarantine_groups_title", lang)),
               html.Div(_table(["col_source", "col_reasons", "col_rows", "col_seen"], groups, lang, {"col_rows"}),
                        className="table-scroll")]
              if groups else []),
            html.Div(html.Table([head, html.Tbody(rows)], className="grid"), className="table-scroll")]
