"""The alert banner every page shows: the open warnings in the level's colour, flashing until
acknowledged, with Acknowledge (for an account that may act: the actor is that account) and
the sound toggle.

One component, one set of callbacks (registered here, once): a page puts `header_tools()` in
its header and `alert_banner()` under it. The tone itself is played by assets/sitroom.js,
which watches the banner's rows (firing, escalated) and the toggle's remembered choice.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from sitroom.alerts import AlertConflict, AlertNotFound
from .. import push
from ..access import principal
from ..alert_actions import take
from ..app import screen_data
from ..callback_args import id_arg, lang_arg, mapping
from ..officer_text import not_recorded
from .nav import nav
from ..i18n import TEXT, num, t
from ..machine_text import actor

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOWN = 3
ON_BANNER = ("firing", "acknowledged")  # not pending (not yet a warning), not resolved


def local_time(iso: str | None, fmt: str = "%H:%M:%S") -> str:
    """UTC ISO text from the API -> Asia/Shanghai clock time for people."""
    if not iso:
        return "—"
    dt = datetime.fromisoformat(iso.removesuffix("Z")).replace(tzinfo=timezone.utc)
    return dt.astimezone(SHANGHAI).strftime(fmt)


def silenced_until(a: dict) -> str | None:
    """The end (UTC ISO) of the silence an open alert is under, or None; a silence whose end has passed
    is over here even before the loaders record it (sitroom.silences)."""
    until = a.get("silenced_until")
    if not until or a.get("state") == "resolved":
        return None
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return until if datetime.fromisoformat(until.removesuffix("Z")) > now else None


def until_text(iso: str, lang: str) -> str:
    """已静默至 HH:MM (with the date when that is another day in Beijing)."""
    today = datetime.now(timezone.utc).astimezone(SHANGHAI).strftime("%m-%d")
    at = local_time(iso, "%H:%M") if local_time(iso, "%m-%d") == today else local_time(iso, "%m-%d %H:%M")
    return t("silenced_until", lang, at=at)


def state_class(a: dict) -> str:
    """The row's state class: a silenced alert is "silenced", never "firing", so that nothing that
    reacts to a firing row (the flash in sitroom.css, the tone and the kiosk's jump in sitroom.js) does."""
    if silenced_until(a):
        return "silenced" + (" acknowledged" if a["state"] == "acknowledged" else "")
    return a["state"]


def alert_row(a: dict, lang: str, can_act: bool = True) -> html.Div:
    region = a["region_name_en"] if lang == "en" else a["region_name"]
    text = t("alert_text", lang, level=t(f"level_{a['level']}", lang), region=region,
             rule=a["rule_title"][lang], value=num(a["value"]), threshold=num(a["threshold"]))
    quiet = silenced_until(a)
    note = [html.Span(until_text(quiet, lang), className="silenced-note", title=a["silence"]["reason"])] if quiet else []
    if a["state"] == "firing" and not can_act:
        action = html.Span()
    elif a["state"] == "firing":
        action = html.Button(t("ack", lang), id={"type": "ack-btn", "alert": a["id"]}, className="ack-btn", n_clicks=0)
    else:
        action = html.Span(t("acked_by", lang, by=a["acked_by"], at=local_time(a["acked_at"], "%m-%d %H:%M")),
                           className="acked-by")
    return html.Div([html.Span(text, className="alert-text"), *note, action],
                    className=f"alert-row level-{a['level']} {state_class(a)}" + (" escalated" if a["escalated_at"] else ""),
                    id=f"alert-{a['id']}",
                    **{"data-region": a["region"], "data-alert": str(a["id"])})


def banner(alerts: list[dict], lang: str, message: str | None = None) -> list:
    alerts = [a for a in alerts if a["state"] in ON_BANNER]
    if not alerts and not screen_data().has_data():   # nothing reported yet: say so, not "no warnings"
        rows = [html.Div(t("no_data_banner", lang), className="alert-row no-data", id="no-data")]
    elif not alerts:
        rows = [html.Div(t("no_alerts", lang), className="alert-row none")]
    else:
        can_act = can("act")
        rows = [alert_row(a, lang, can_act) for a in alerts[:SHOWN]]
    # One line under the rows: how many more, and the answer to an acknowledgement (the wall's
    # banner has a fixed height, so the map never jumps; this line fits in it).
    more = [html.Span(t("more_alerts", lang, n=len(alerts) - SHOWN), className="alert-more")] \
        if len(alerts) > SHOWN else []
    said = [html.Span(message, className="alert-message", id="ack-message")] if message else []
    if more or said:
        rows.append(html.Div(more + said, className="alert-foot"))
    return rows


def account_box(lang: str) -> html.Div:
    """Who is logged in (the actor of every action here), the admin pages for an admin, and Log out."""
    p = principal()
    if p is None:
        return html.Div(className="officer-box")
    who = t("signed_in_as", lang, name=p.display, role=t(f"role_{p.role}", lang))
    parts = [html.Span(who, id="signed-in-as", className="signed-in-as")]
    if p.can("admin"):
        parts.append(html.A(t("nav_admin", lang), href=f"/admin?lang={lang}", className="nav-link", id="admin-link"))
    if p.kind == "user":
        parts.append(html.Form(html.Button(t("logout", lang), type="submit", className="logout-btn", id="logout"),
                               method="POST", action=f"/logout?lang={lang}", className="logout-form"))
    return html.Div(parts, className="officer-box")


def sound_toggle(lang: str, wall: bool) -> html.Div:
    """On by default on the wall (dashboard.yaml sound_on_wall), off elsewhere; the browser
    remembers a person's choice per kind of screen (assets/sitroom.js)."""
    default_on = wall and screen_data().rt.config.dashboard.sound_on_wall
    on, off = t("sound_on", lang), t("sound_off", lang)
    return html.Div(className="sound-box", children=[
        html.Button(on if default_on else off, id="sound-toggle", className="sound-toggle", title=t("sound_title", lang),
                    **{"data-context": "wall" if wall else "desk", "data-default": "on" if default_on else "off",
                       "data-label-on": on, "data-label-off": off, "data-state": "off"}),
        html.Span(t("sound_blocked", lang), id="sound-note", className="sound-note", hidden=True),
    ])


def header_tools(lang: str, wall: bool = False) -> list:
    """What every page header carries for the banner: the sound toggle and the officer's name."""
    return [sound_toggle(lang, wall), account_box(lang)]


def alert_banner(lang: str, wall: bool = False) -> html.Div:
    """The banner, redrawn only when the pushed data version moves (push.py); and the sign that
    the push is lost (assets/push.js shows it), so a frozen screen says so."""
    return html.Div(className="alert-banner-box", children=[
        dcc.Store(id="ab-lang", data=lang),
        dcc.Store(id="ab-version", data=push.current_key()),
        html.Div(t("push_lost", lang), id="push-lost", className="stale-banner push-lost", hidden=True),
        html.Div(id="alert-banner", className="alert-banner " + ("banner-wall" if wall else "banner-desk")),
    ])


push.follow("ab-version")


@callback(Output("alert-banner", "children"), Input("ab-version", "data"), State("ab-lang", "data"))
def _refresh(_version, lang):
    lang = lang_arg(lang)
    return banner(screen_data().alerts("active"), lang)


@callback(Output("alert-banner", "children", allow_duplicate=True),
          Input({"type": "ack-btn", "alert": ALL}, "n_clicks"),
          State("ab-lang", "data"), prevent_initial_call=True)
def _acknowledge_clicked(clicks, lang):
    lang = lang_arg(lang)
    if not ctx.triggered_id or not isinstance(clicks, list) or not any(c for c in clicks if isinstance(c, int)):
        return no_update
    d = screen_data()
    alert_id = id_arg(mapping(ctx.triggered_id).get("alert"))
    if alert_id is None:
        return no_update
    message = None
    try:
        take("ack", alert_id, None)
    except DBAPIError as e:
        return banner(d.alerts("active"), lang, not_recorded(e, lang))
    except AlertConflict as e:
        message = conflict_text(e, lang)
    except AlertNotFound as e:
        message = conflict_text(e, lang)
    return banner(d.alerts("active"), lang, message)


def conflict_text(e: AlertConflict | AlertNotFound, lang: str) -> str:
    """Who got there first (or that there is no such alert), in the page's language."""
    if isinstance(e, AlertNotFound):
        m = re.search(r"\d+", str(e))
        return t("alert_not_found", lang, id=m.group(0)) if m else str(e)
    if e.by and e.state == "acknowledged":
        return t("acked_by", lang, by=actor(e.by, lang), at=local_time(e.at.isoformat() + "Z", "%m-%d %H:%M"))
    if e.state == "resolved":
        return t("conflict_resolved", lang, id=e.alert_id, by=actor(getattr(e, "resolved_by", None) or "system", lang))
    return t("conflict_state", lang, id=e.alert_id, state=t(f"state_{e.state}", lang) if f"state_{e.state}" in TEXT
             else e.state)


def can(cap: str) -> bool:
    p = principal()
    return p is not None and p.can(cap)


def desk_page_top(title: str, lang: str, path: str) -> list:
    """The top of a desk page (/alerts, /sources): title, sound and officer tools, links, the banner."""
    return [html.Header(className="page-header", children=[
                html.H1(title), html.Div([*header_tools(lang), nav(lang, path)], className="header-right")]),
            alert_banner(lang)]
