"""/alerts: the duty officer's queue (level, then age) with filters, what is about to fire, whether
rules.yaml is valid, and an alert's detail: its rule's figure, the rows behind it, the trail, the actions."""
from __future__ import annotations

import math
from datetime import datetime, timezone

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from sqlalchemy.exc import DBAPIError

from dashboard import push
from dashboard.alert_actions import SilenceRefused, lift, silence, still_holds, take
from dashboard.app import screen_data
from dashboard.callback_args import choice, id_arg, lang_arg, mapping, str_list, text_arg
from dashboard.officer_text import SILENCE_LABELS, not_recorded, refused
from dashboard.components import alert_detail
from dashboard.components.alert_banner import (can, conflict_text, desk_page_top, local_time, silenced_until,
                                               state_class, until_text)
from dashboard.components.alert_detail import empty_figure, value_label
from dashboard.components.alert_evidence import ROWS_SHOWN
from dashboard.i18n import TEXT, num, pick_lang, t
from dashboard.machine_text import actor, delivery_error, reason, trail_note
from dashboard.page_title import page_title
from sitroom import notify
from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound
from sitroom.config import LEVELS
from sitroom.silences import SilenceConflict, SilenceNotFound
from sitroom.validate import SILENCE_CHOICES, TextError, person_text

dash.register_page(__name__, path="/alerts", title=page_title("nav_alerts"))
STATES = ("active", "firing", "acknowledged", "resolved", "all")
SORTS = ("level", "age")  # level, then longest unacknowledged first (the default) | longest unacknowledged first
STATE_RANK = {"firing": 0, "acknowledged": 1}
PENDING_HIDDEN = ("acknowledged", "resolved")  # the pending queue is about what is coming, not what was


def layout(lang: str | None = None, state: str | None = None, alert: str | None = None, level: str | None = None,
           rule: str | None = None, region: str | None = None, sort: str | None = None, **_):
    d = screen_data()
    lang = pick_lang(lang, d.rt.config.dashboard.language)
    levels = [lv for lv in (level if isinstance(level, str) else "").split(",") if lv in LEVELS]
    return html.Div(className=f"page lang-{lang}", children=[
        dcc.Store(id="al-lang", data=lang),
        dcc.Store(id="al-version", data=push.current_key()),   # follows the pushed key (push.py)
        dcc.Store(id="al-selected", data=id_arg(alert)),
        dcc.Store(id="al-url-sink"),
        dcc.Store(id="al-sort", data=sort if sort in SORTS else "level"),
        dcc.Store(id="al-picked", data=[]),   # ticked rows, kept across the queue's redraws
        *desk_page_top(t("alerts_title", lang), lang, "/alerts"),
        html.Div(id="al-rules-status"),
        html.Div(className="al-filters", children=[
            dcc.RadioItems(id="al-state", value=state if state in STATES else "active", inline=True,
                           className="metric-picker",
                           options=[{"label": t(f"state_{s}", lang), "value": s} for s in STATES]),
            dcc.Checklist(id="al-level", value=levels, inline=True, className="level-filter",
                          options=[{"label": html.Span(t(f"level_{lv}", lang), className=f"level-chip level-{lv}"),
                                    "value": lv} for lv in reversed(LEVELS)]),
            dcc.Dropdown(id="al-rule", value=rule if isinstance(rule, str) and rule else None, placeholder=t("filter_rule", lang), clearable=True,
                         className="rule-filter", options=_rule_options(lang)),
            dcc.Input(id="al-region", value=text_arg(region), placeholder=t("filter_region", lang), debounce=0.4,
                      className="field region-filter"),
        ]),
        html.Div(className="alerts-split", children=[
            html.Div(className="al-queue", children=[
                html.Div(className="al-bulk", hidden=not can("act"), children=[
                    html.Button(t("ack_selected", lang, n=0), id="al-bulk-ack", className="act-btn", disabled=True),
                    html.Span(id="al-queue-message", className="alert-message")]),
                html.Div(id="al-queue"),
                html.Section(id="al-silences-section", className="al-silences", hidden=True, children=[
                    html.H3(t("silences_title", lang), title=t("silence_hint", lang)),
                    html.Div(id="al-silences")]),
                # outside the section: it says "lifted" when the last silence is gone with it
                html.Span(id="al-silences-message", className="alert-message"),
                html.Section(id="al-pending-section", className="al-pending", children=[
                    html.H3(t("pending_title", lang), title=t("pending_hint", lang)),
                    html.Div(t("pending_hint", lang), className="muted"),
                    html.Div(id="al-pending"),
                ]),
            ]),
            html.Div(id="al-detail", className="al-detail", children=[
                html.H2(t("select_alert", lang), id="al-title", className="detail-title"),
                html.Div(id="al-chart-title", className="detail-sub"),
                dcc.Graph(id="al-chart", config={"displayModeBar": False}, style={"height": "320px"}, responsive=True,
                          figure=empty_figure()),
                _actions(lang),  # built once: what an officer is typing survives every data refresh
                _silence_box(lang),
                html.Div(id="al-confirm", className="al-confirm", hidden=True, children=[
                    html.Div(id="al-confirm-text", className="al-confirm-text"),
                    html.Button(t("resolve_anyway", lang), id={"type": "al-act", "action": "resolve_held"},
                                className="act-btn danger"),
                    html.Button(t("cancel", lang), id={"type": "al-act", "action": "cancel"}, className="act-btn")]),
                html.Div(id="al-message", className="alert-message"),
                html.H3(t("trail", lang)),
                html.Ul(id="al-trail", className="trail"),
                html.H3(t("rows_behind", lang, n=ROWS_SHOWN), id="al-rows-title", hidden=True),
                html.Div(id="al-rows"),
                html.H3(t("deliveries", lang)),
                html.Div(id="al-deliveries"),
            ]),
        ]),
    ])


def _rule_options(lang: str) -> list[dict]:
    return [{"label": r.config.title.model_dump()[lang], "value": r.id} for r in screen_data().rt.rules().rules]


push.follow("al-version")


# The filters and the selected alert live in the address (a link or a reload shows the same
# queue); replaceState changes it without a navigation, so the page is not rebuilt.
clientside_callback(
    """function(state, level, rule, region, selected, sort, lang) {
        const q = new URLSearchParams(window.location.search);
        const put = (k, v) => { if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) q.delete(k);
                                else q.set(k, Array.isArray(v) ? v.join(',') : String(v)); };
        put('state', state === 'active' ? null : state); put('level', level); put('rule', rule);
        put('region', (region || '').trim()); put('alert', selected); put('sort', sort === 'level' ? null : sort);
        const search = q.toString() ? '?' + q.toString() : '';
        if (search !== window.location.search) window.history.replaceState(null, '', window.location.pathname + search);
        return search;
    }""",
    Output("al-url-sink", "data"), Input("al-state", "value"), Input("al-level", "value"), Input("al-rule", "value"),
    Input("al-region", "value"), Input("al-selected", "data"), Input("al-sort", "data"), State("al-lang", "data"))


def _matches(a: dict, levels, rule, region) -> bool:
    if levels and a["level"] not in levels:
        return False
    if rule and a["rule"] != rule:
        return False
    text = (region or "").strip().lower()
    return not text or any(text in (x or "").lower() for x in (a["region"], a["region_name"], a["region_name_en"]))


@callback(Output("al-rules-status", "children"), Input("al-version", "data"), State("al-lang", "data"))
def config_notices(_v, lang):
    lang = lang_arg(lang)
    """rules.yaml or notify.yaml invalid on disk: what still runs, and why the file is refused."""
    st = screen_data().rules_status()
    out = []
    if st["ok"] is False:
        head = (t("rules_invalid", lang, loaded_at=local_time(st["loaded_at"], "%Y-%m-%d %H:%M:%S"))
                if st["loaded_at"] else t("rules_invalid_none", lang))
        out.append(html.Div(id="rules-invalid", className="rules-invalid", children=[
            html.Div(head, className="rules-invalid-head"),
            html.Div(t("config_said", lang), className="muted"),
            html.Ul([html.Li(p, className="src-text") for p in st["problems"]], className="rules-problems"),
            html.Div(t("rules_fix", lang), className="muted")]))
    if st["warnings"]:
        out.append(html.Details(id="rules-warnings", className="rules-warnings", children=[
            html.Summary(t("rules_warnings", lang, n=len(st["warnings"]))),
            html.Ul([html.Li(reason(w, lang)) for w in st["warnings"]])]))
    nt = screen_data().notify_status()
    if nt["ok"] is False:
        out.append(html.Div(id="notify-invalid", className="rules-invalid", children=[
            html.Div(t("notify_invalid", lang, loaded_at=local_time(nt["loaded_at"], "%Y-%m-%d %H:%M:%S"),
                       n=nt["count"]), className="rules-invalid-head"),
            html.Div(t("config_said", lang), className="muted"),
            html.Ul([html.Li(p, className="src-text") for p in nt["problems"]], className="rules-problems"),
            html.Div(t("rules_fix", lang), className="muted")]))
    return out


@callback(Output("al-queue", "children"), Output("al-pending", "children"), Output("al-pending-section", "hidden"),
          Output("al-rule", "options"),
          Input("al-version", "data"), Input("al-state", "value"), Input("al-level", "value"),
          Input("al-rule", "value"), Input("al-region", "value"), Input("al-selected", "data"),
          Input("al-sort", "data"), State("al-picked", "data"), State("al-lang", "data"))
def queue(_v, state, levels, rule, region, selected, sort, picked, lang):
    lang, state, levels = lang_arg(lang), choice(state, STATES, "active"), str_list(levels, LEVELS)
    rule, region, selected = rule if isinstance(rule, str) else None, text_arg(region), id_arg(selected)
    sort, picked = choice(sort, SORTS, "level"), set(_ids(picked))
    d = screen_data()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = sorted((a for a in d.alerts(None if state == "all" else state) if _matches(a, levels, rule, region)),
                  key=lambda a: _order(a, sort, now))
    can_act = can("act")
    table = [html.Div(html.Table([html.Thead(_queue_head(sort, lang)),
                                  html.Tbody([_queue_row(a, now, a["id"] == selected, a["id"] in picked, can_act, lang)
                                              for a in rows])], className="grid clickable", id="al-queue-table"),
                      className="table-scroll")]
    if not rows:
        table.append(html.Div(t("no_match", lang), className="muted", id="al-no-match"))
    pending = [p for p in d.pending() if _matches(p, levels, rule, region)]
    return table, _pending_table(pending, lang), state in PENDING_HIDDEN, _rule_options(lang)


def _ids(raw) -> list[int]:
    return [i for i in (id_arg(x) for x in (raw if isinstance(raw, list) else [])) if i is not None]


def _age(a: dict, now: datetime) -> float | None:
    """Minutes a firing alert has waited for a person (since it fired or rose to its level)."""
    if a["state"] != "firing":
        return None
    return max(0.0, (now - datetime.fromisoformat(a["firing_since"].removesuffix("Z"))).total_seconds() / 60)


def _order(a: dict, sort: str, now: datetime) -> tuple:
    age = _age(a, now)
    by_level = (-LEVELS.index(a["level"]) if a["level"] in LEVELS else 1, STATE_RANK.get(a["state"], 2))
    by_age = (age is None, -(age or 0))
    newest = (-datetime.fromisoformat(a["fired_at"].removesuffix("Z")).timestamp(), -a["id"])
    return (*by_age, *by_level, *newest) if sort == "age" else (*by_level, *by_age, *newest)


def _queue_head(sort: str, lang: str) -> html.Tr:
    def sorter(by: str, key: str):
        on = sort == by
        return html.Th(html.Button(t(key, lang) + (" ▼" if on else ""), id={"type": "al-sort", "by": by},
                                   className="sort-btn" + (" on" if on else ""), title=t("sort_by", lang)))
    return html.Tr([html.Th(""), html.Th(""), sorter("level", "col_level"),
                    *[html.Th(t(c, lang)) for c in ("col_region", "col_rule", "col_value", "col_fired")],
                    sorter("age", "col_age"), html.Th(t("col_state", lang)), html.Th(t("col_assignee", lang))])


def _queue_row(a: dict, now: datetime, selected: bool, picked: bool, can_act: bool, lang: str) -> html.Tr:
    firing = a["state"] == "firing" and can_act
    age = _age(a, now)
    age_cell = html.Td("", className="al-age") if age is None else html.Td(
        t("age_min", lang, n=int(age)), className="al-age num", title=t("unacked_for", lang, n=int(age)),
        # assets/queue.js counts the minutes on between redraws
        **{"data-since": a["firing_since"], "data-text": t("age_min", lang, n="{n}")})
    return html.Tr([
        html.Td(dcc.Checklist(id={"type": "al-pick", "alert": a["id"]}, options=[{"label": "", "value": a["id"]}],
                              value=[a["id"]] if picked else [], className="al-pick") if firing else "",
                className="al-pick-cell"),
        # next to the tick box: in reach at every width (a narrow screen scrolls the table's right end)
        html.Td(html.Button(t("ack_short", lang), id={"type": "al-ack", "alert": a["id"]}, className="ack-btn row-ack",
                            title=t("ack", lang))
                if firing else "", className="al-ack-cell"),
        html.Td(html.Span(t(f"level_{a['level']}", lang), className=f"level-chip level-{a['level']}")),
        html.Td(a["region_name_en"] if lang == "en" else a["region_name"], className="al-region"),
        html.Td(a["rule_title"][lang], className="al-rule"), html.Td(num(a['value']), className="num"),
        html.Td(local_time(a["fired_at"], "%m-%d %H:%M"), className="al-fired"), age_cell,
        html.Td([t(f"state_{a['state']}", lang), *([html.Br(), until_text(silenced_until(a), lang)]
                                                      if silenced_until(a) else [])],
                className=f"state {state_class(a)}"),
        html.Td(a["assignee"] or ""),
    ], id=f"al-row-{a['id']}", className="al-row" + (" selected" if selected else "")
        + (" silenced" if silenced_until(a) else ""),
        **{"data-alert": str(a["id"]), "data-region": a["region"], "data-rule": a["rule"]})


@callback(Output("al-sort", "data"), Input({"type": "al-sort", "by": ALL}, "n_clicks"), prevent_initial_call=True)
def sort_by(_clicks):
    """A click on a sortable column's head."""
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update
    by = mapping(ctx.triggered_id).get("by")
    return by if by in SORTS else no_update


@callback(Output("al-picked", "data"), Output("al-bulk-ack", "children"), Output("al-bulk-ack", "disabled"),
          Input({"type": "al-pick", "alert": ALL}, "value"), State("al-lang", "data"))
def pick(values, lang):
    """The ticked rows (what the bulk Acknowledge takes) and the count on its button."""
    lang = lang_arg(lang)
    ids = sorted({i for v in (values if isinstance(values, list) else []) for i in _ids(v)})
    return ids, t("ack_selected", lang, n=len(ids)), not ids


@callback(Output("al-queue-message", "children"), Output("al-version", "data", allow_duplicate=True),
          Input({"type": "al-ack", "alert": ALL}, "n_clicks"), Input("al-bulk-ack", "n_clicks"),
          State("al-picked", "data"), State("al-lang", "data"), prevent_initial_call=True)
def queue_ack(_row_clicks, _bulk_clicks, picked, lang):
    """Acknowledge from a queue row, or every ticked row; each as the detail's and the API's (take)."""
    lang = lang_arg(lang)
    if not ctx.triggered or not isinstance(ctx.triggered[0].get("value"), int) or not ctx.triggered[0]["value"]:
        return no_update, no_update
    if ctx.triggered_id == "al-bulk-ack":
        ids = _ids(picked)
    else:
        one = id_arg(mapping(ctx.triggered_id).get("alert"))
        ids = [] if one is None else [one]
    if not ids:
        return no_update, no_update
    done, said = 0, []
    for alert_id in ids[:200]:   # the queue shows at most 200
        try:
            take("ack", alert_id, None)
            done += 1
        except DBAPIError as e:
            said.append(not_recorded(e, lang))
            break
        except AlertConflict as e:
            said.append(conflict_text(e, lang))
        except AlertNotFound as e:
            said.append(conflict_text(e, lang))
    return t("list_sep", lang).join([t("acked_n", lang, n=done)] + said), -1


def _pending_table(rows: list[dict], lang: str):
    if not rows:
        return html.Div(t("no_pending", lang), className="muted", id="al-no-pending")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    head = html.Tr([html.Th(t(c, lang)) for c in ("col_level", "col_region", "col_rule", "col_value",
                                                  "col_threshold", "col_since", "col_fires_at")])

    def fires(iso):
        minutes = (datetime.fromisoformat(iso.removesuffix("Z")) - now).total_seconds() / 60
        at = local_time(iso, "%H:%M")
        return t("fires_in", lang, at=at, n=math.ceil(minutes)) if minutes > 0 else t("fires_due", lang, at=at)

    body = [html.Tr([
        html.Td(html.Span(t(f"level_{p['level']}", lang), className=f"level-chip level-{p['level']} pending")),
        html.Td(p["region_name_en"] if lang == "en" else p["region_name"]),
        html.Td(p["rule_title"][lang]), html.Td(num(p['value']), className="num"),
        html.Td(num(p['threshold']), className="num"),
        html.Td(local_time(p["since"], "%m-%d %H:%M")), html.Td(fires(p["fires_at"]), className="fires-at"),
    ], className="pending-row", **{"data-region": p["region"], "data-rule": p["rule"]}) for p in rows]
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="grid pending", id="al-pending-table"),
                    className="table-scroll")


def _trail_entry(e: dict, lang: str) -> html.Li:
    """When, what, who, and the note: the engine's in the page's language, a person's as typed."""
    what = _event_label(e, lang)
    note = trail_note(e["note"], e["by"], lang)
    return html.Li([f"{local_time(e['at'], '%m-%d %H:%M:%S')}  {what}  {actor(e['by'], lang)}",
                    *([" — ", html.Span(note, className=None if e["by"] == "system" else "src-text")] if note else [])],
                   className=f"ev ev-{e['kind']}")


@callback(Output("al-title", "children"), Output("al-chart", "figure"), Output("al-trail", "children"),
          Output("al-actions", "hidden"), Output({"type": "al-act", "action": "ack"}, "disabled"),
          Output("al-deliveries", "children"), Output("al-chart-title", "children"), Output("al-rows", "children"),
          Output("al-rows-title", "hidden"),
          Input("al-selected", "data"), Input("al-version", "data"), State("al-lang", "data"))
def detail(alert_id, _v, lang):
    lang, alert_id = lang_arg(lang), id_arg(alert_id)
    d = screen_data()
    a = d.alert(alert_id, with_trail=True) if alert_id is not None else None
    if a is None:
        return t("select_alert", lang), empty_figure(), [], True, True, [], "", [], True
    rule = d.rt.rule(a["rule"])
    evidence = d.alert_evidence(alert_id)
    level = t("level_" + a["level"], lang)
    region = a["region_name_en"] if lang == "en" else a["region_name"]
    trail = [_trail_entry(e, lang) for e in a["trail"]]
    chart_title = f"{t('metric_chart', lang)} · {value_label(rule, lang)}" if rule else ""
    summary = alert_detail.detection_summary(rule, a, lang)
    if summary:
        chart_title = [html.Div(chart_title), html.Div(summary, id="al-detection", className="detection")]
    return (f"{level} · {region} · {a['rule_title'][lang]} {alert_detail.fmt_value(rule, a['value'], lang)}",
            alert_detail.figure(rule, evidence, lang),
            trail, a["state"] == "resolved" or not can("act"), a["state"] != "firing", _deliveries(alert_id, lang), chart_title,
            alert_detail.rows_table(evidence, d.gaz, lang), False)


def _event_label(e: dict, lang: str) -> str:
    if e["kind"] == "silenced" and e.get("silenced_until"):
        return t("ev_silenced_until", lang, at=local_time(e["silenced_until"], "%m-%d %H:%M"))
    key = "ev_" + e["kind"] + ("_held" if e.get("held") else "")
    return t(key, lang) if key in TEXT else e["kind"]


def _outcome(d: dict) -> str:
    return "queued" if d["status"] == "pending" and not d["attempts"] else d["status"]


def _said(said: str, raw: str | None) -> list:
    """sitroom's words for a failure, then the other system's own words as written."""
    return [said] + ([" ", html.Span(raw, className="src-text")] if raw else [])


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
        html.Td(_said(*delivery_error(d["last_error"], d["last_status"], lang)),
                className="error" if d["last_error"] else None),
        html.Td(t("next_try", lang, at=local_time(d["next_attempt_at"], "%H:%M:%S")) if d["next_attempt_at"]
                else local_time(d["delivered_at"] or d["last_attempt_at"], "%m-%d %H:%M:%S")),
    ], className=f"delivery-row {d['status']}") for d in rows]
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="grid deliveries"),
                    className="table-scroll")


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


# Another alert chosen: a question asked about the last one goes.
clientside_callback("function(_a) { return true; }", Output("al-confirm", "hidden", allow_duplicate=True),
                    Input("al-selected", "data"), prevent_initial_call=True)


@callback(Output("al-message", "children"), Output("al-version", "data", allow_duplicate=True),
          Output("al-confirm", "hidden"), Output("al-confirm-text", "children"),
          Input({"type": "al-act", "action": ALL}, "n_clicks"), State({"type": "al-field", "action": ALL}, "value"),
          State({"type": "al-field", "action": ALL}, "id"), State("al-selected", "data"),
          State("al-lang", "data"), prevent_initial_call=True)
def act(clicks, values, ids, alert_id, lang):
    """An officer's action; the actor is the logged-in account (dashboard/access.py), never typed.
    Resolving while the condition holds asks first ("resolve_held" is the answer yes)."""
    lang, alert_id = lang_arg(lang), id_arg(alert_id)
    nothing = no_update, no_update, no_update, no_update
    if not ctx.triggered_id or not isinstance(clicks, list) or not any(c for c in clicks if isinstance(c, int)):
        return nothing
    action = mapping(ctx.triggered_id).get("action")
    if action == "cancel":
        return "", no_update, True, ""
    confirmed = action == "resolve_held"
    action = "resolve" if confirmed else action
    if not isinstance(action, str) or action not in OFFICER_ACTIONS or alert_id is None:
        return nothing
    # the text box next to each button: {action: what was typed}
    typed = {mapping(i).get("action"): v for i, v in zip(ids if isinstance(ids, list) else [],
                                                         values if isinstance(values, list) else [])}
    try:
        if action == "resolve" and not confirmed:
            person_text("reason", typed.get(action), True)   # a missing reason is said before the question
            a = screen_data().alert(alert_id)
            if a is not None and still_holds(a):
                return "", no_update, False, t("resolve_holds", lang, value=num(a["value"]),
                                               level=t(f"level_{a['level']}", lang))
        take(action, alert_id, typed.get(action))
    except TextError as e:
        return refused(e, lang), no_update, True, ""
    except DBAPIError as e:
        return not_recorded(e, lang), no_update, True, ""
    except (AlertConflict, AlertNotFound) as e:
        return conflict_text(e, lang), -1, True, ""
    return t("done", lang), -1, True, ""  # -1: redraws queue and detail now (the push of the new version again)


# ---------------------------------------------------------------- silences (sitroom.silences)
def _minutes_label(n: int, lang: str) -> str:
    return t("silence_for_h", lang, n=n // 60) if n % 60 == 0 else t("silence_for_min", lang, n=n)


def _silence_box(lang: str) -> html.Div:
    """Under the actions: the alert's silence (until when, by whom, why; Lift), or the form to silence its
    (rule, region) for a chosen time with a reason. Built once, like the actions."""
    return html.Div(id="al-silence", className="al-silence", hidden=True, children=[
        html.Div(id="al-silence-state", className="al-silence-state"),
        html.Div(id="al-silence-form", className="al-silence-form", hidden=True, title=t("silence_hint", lang),
                 children=[
            dcc.Dropdown(id="al-silence-minutes", value=60, clearable=False, searchable=False,
                         className="al-silence-minutes",
                         options=[{"label": _minutes_label(n, lang), "value": n} for n in SILENCE_CHOICES]),
            dcc.Input(id="al-silence-reason", placeholder=t("silence_reason", lang), className="field",
                      maxLength=2000),
            html.Button(t("silence", lang), id="al-silence-btn", className="act-btn")]),
        html.Span(id="al-silence-message", className="alert-message"),
    ])


def _lift_button(silence_id: int, where: str, lang: str):
    return html.Button(t("lift_silence", lang), id={"type": "al-lift", "silence": silence_id, "where": where},
                       className="act-btn lift-btn")


@callback(Output("al-silence", "hidden"), Output("al-silence-state", "children"),
          Output("al-silence-form", "hidden"),
          Input("al-selected", "data"), Input("al-version", "data"), State("al-lang", "data"))
def silence_panel(alert_id, _v, lang):
    """The chosen alert's silence for everyone who sees it; the form and Lift for an officer."""
    lang, alert_id = lang_arg(lang), id_arg(alert_id)
    a = screen_data().alert(alert_id) if alert_id is not None else None
    if a is None or a["state"] == "resolved":
        return True, [], True
    until = silenced_until(a)
    if until is None:
        return False, [], not can("act")
    x = a["silence"]
    state = [html.Span(t("silence_state", lang, by=x["created_by"], at=local_time(until, "%m-%d %H:%M"),
                         reason=x["reason"]), id="al-silence-text")]
    if can("act"):
        state += [" ", _lift_button(x["id"], "detail", lang)]
    return False, state, True


@callback(Output("al-silences", "children"), Output("al-silences-section", "hidden"),
          Input("al-version", "data"), State("al-lang", "data"))
def silences_list(_v, lang):
    """Every silence in force of the account's regions, the soonest to end first, with Lift."""
    lang = lang_arg(lang)
    rows = screen_data().silences()
    if not rows:
        return [], True
    can_act = can("act")
    rules = {r.id: r.config.title.model_dump()[lang] for r in screen_data().rt.rules().rules}
    head = html.Tr([html.Th(t(c, lang)) for c in ("col_region", "col_rule", "col_until", "col_silenced_by",
                                                  "col_reason")] + [html.Th("")])
    body = [html.Tr([
        html.Td(x["region_name_en"] if lang == "en" else x["region_name"]), html.Td(rules.get(x["rule"], x["rule"])),
        html.Td(local_time(x["ends"], "%m-%d %H:%M"), className="num"), html.Td(x["created_by"]),
        html.Td(x["reason"]), html.Td(_lift_button(x["id"], "list", lang) if can_act else ""),
    ], id=f"al-silence-row-{x['id']}", className="silence-row", **{"data-region": x["region"], "data-rule": x["rule"]})
        for x in rows]
    return html.Div(html.Table([html.Thead(head), html.Tbody(body)], className="grid silences", id="al-silences-table"),
                    className="table-scroll"), False


@callback(Output("al-silence-message", "children"), Output("al-silences-message", "children"),
          Output("al-silence-reason", "value"), Output("al-version", "data", allow_duplicate=True),
          Input("al-silence-btn", "n_clicks"), Input({"type": "al-lift", "silence": ALL, "where": ALL}, "n_clicks"),
          State("al-selected", "data"), State("al-silence-minutes", "value"), State("al-silence-reason", "value"),
          State("al-lang", "data"), prevent_initial_call=True)
def silence_act(_silence_clicks, _lift_clicks, alert_id, minutes, reason, lang):
    """Silence the chosen alert's (rule, region), or lift a silence (from the detail or the list); the actor
    is the logged-in account; checked as the API checks it (alert_actions)."""
    lang, alert_id = lang_arg(lang), id_arg(alert_id)
    if not ctx.triggered or not isinstance(ctx.triggered[0].get("value"), int) or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update, no_update
    lifting = ctx.triggered_id != "al-silence-btn"
    where = mapping(ctx.triggered_id).get("where") if lifting else "detail"

    def say(text, clear=False, moved=False):
        detail, listed = (text, "") if where == "detail" else ("", text)
        return detail, listed, "" if clear else no_update, -1 if moved else no_update
    try:
        if lifting:
            silence_id = id_arg(mapping(ctx.triggered_id).get("silence"))
            if silence_id is None:
                return no_update, no_update, no_update, no_update
            lift(silence_id)
            return say(t("silence_lifted_done", lang), moved=True)
        a = screen_data().alert(alert_id) if alert_id is not None else None
        if a is None:
            return say(t("select_alert", lang))
        made = silence(a["rule"], a["region"], minutes, reason)
        return say(t("silence_done", lang, at=local_time(made["ends"], "%m-%d %H:%M")), clear=True, moved=True)
    except TextError as e:
        return say(refused(e, lang, SILENCE_LABELS))
    except SilenceRefused as e:
        return say(t(f"silence_refused_{e.code}", lang))
    except SilenceConflict as e:
        if lifting:
            return say(t("silence_over", lang), moved=True)
        return say(t("silence_conflict", lang, by=e.by, at=local_time(e.ends.isoformat() + "Z", "%m-%d %H:%M")),
                   moved=True)
    except (SilenceNotFound, LookupError):   # gone, or outside the account's regions: the same answer
        return say(t("silence_not_found", lang), moved=True)
    except DBAPIError as e:
        return say(not_recorded(e, lang))
