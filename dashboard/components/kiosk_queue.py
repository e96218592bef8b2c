"""The kiosk wall's alert queue (a playlist view): every open warning, in the level's colour, large."""
from __future__ import annotations

from dash import html

from ..i18n import num, t
from .alert_banner import ON_BANNER, local_time, silenced_until, state_class, until_text


def queue_table(alerts: list[dict], lang: str) -> list:
    shown = [a for a in alerts if a["state"] in ON_BANNER]
    title = html.H2(t("kiosk_queue_title", lang, n=len(shown)), className="kiosk-queue-title")
    if not shown:
        return [title, html.Div(t("no_alerts", lang), className="muted kiosk-queue-empty")]
    head = html.Tr([html.Th(t(c, lang)) for c in ("col_level", "col_region", "col_rule", "col_value", "col_threshold",
                                                  "col_fired", "col_state")])
    rows = [html.Tr([
        html.Td(html.Span(t(f"level_{a['level']}", lang), className=f"level-chip level-{a['level']}")),
        html.Td(a["region_name_en"] if lang == "en" else a["region_name"]),
        html.Td(a["rule_title"][lang]),
        html.Td(num(a["value"]), className="num"), html.Td(num(a["threshold"]), className="num"),
        html.Td(local_time(a["fired_at"], "%m-%d %H:%M")),
        html.Td(until_text(silenced_until(a), lang) if silenced_until(a) and a["state"] == "firing"
                else t(f"state_{a['state']}", lang) if a["state"] == "firing"
                else t("acked_by", lang, by=a["acked_by"] or "", at=local_time(a["acked_at"], "%m-%d %H:%M")),
                className=f"state {state_class(a)}"),
    ], className=f"kq-row {state_class(a)}", **{"data-region": a["region"]}) for a in shown]
    return [title, html.Table([html.Thead(head), html.Tbody(rows)], className="grid kiosk-grid")]
