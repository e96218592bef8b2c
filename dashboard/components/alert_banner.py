"""The alert banner: the most severe open warnings, in the level's colour, with Acknowledge."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dash import dcc, html

from ..i18n import t

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOWN = 3


def local_time(iso: str | None, fmt: str = "%H:%M:%S") -> str:
    """UTC ISO text from the API -> Asia/Shanghai clock time for people."""
    if not iso:
        return "—"
    dt = datetime.fromisoformat(iso.removesuffix("Z")).replace(tzinfo=timezone.utc)
    return dt.astimezone(SHANGHAI).strftime(fmt)


def _value(x: float) -> str:
    return f"{x:g}"


def alert_row(a: dict, lang: str) -> html.Div:
    region = a["region_name_en"] if lang == "en" else a["region_name"]
    text = t("alert_text", lang, level=t(f"level_{a['level']}", lang), region=region,
             rule=a["rule_title"][lang], value=_value(a["value"]), threshold=_value(a["threshold"]))
    if a["state"] == "firing":
        action = html.Button(t("ack", lang), id={"type": "ack-btn", "alert": a["id"]}, className="ack-btn", n_clicks=0)
    else:
        action = html.Span(t("acked_by", lang, by=a["acked_by"], at=local_time(a["acked_at"], "%m-%d %H:%M")),
                           className="acked-by")
    return html.Div([html.Span(text, className="alert-text"), action],
                    className=f"alert-row level-{a['level']} {a['state']}" + (" escalated" if a["escalated_at"] else ""),
                    id=f"alert-{a['id']}",
                    **{"data-region": a["region"]})


def banner(alerts: list[dict], lang: str, message: str | None = None) -> list:
    if not alerts:
        rows = [html.Div(t("no_alerts", lang), className="alert-row none")]
    else:
        rows = [alert_row(a, lang) for a in alerts[:SHOWN]]
        if len(alerts) > SHOWN:
            rows.append(html.Div(t("more_alerts", lang, n=len(alerts) - SHOWN), className="alert-more"))
    if message:
        rows.append(html.Div(message, className="alert-message", id="ack-message"))
    return rows


def officer_box(lang: str) -> html.Div:
    return html.Div([
        dcc.Input(id="ack-name", type="text", placeholder=t("ack_name", lang), maxLength=100,
                  persistence=True, persistence_type="local", className="ack-name", debounce=False),
    ], className="officer-box")
