"""/admin: accounts, wall displays (with their last contact, so a dark screen is noticed), API
tokens; /admin/audit: the audit log with filters and its CSV export. Admin only (dashboard/access.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, render_template_string, request

from sitroom.auth import audit, accounts, credentials

from .access import PAGE_HTML, record
from .components.alert_banner import local_time
from .i18n import pick_lang, t
from .machine_text import actor, reason

admin = Blueprint("admin", __name__)

TABLES = """<nav class="nav"><a class="nav-link" href="/?lang={{ lang }}">{{ t('nav_wall', lang) }}</a>
<a class="nav-link" href="/alerts?lang={{ lang }}">{{ t('nav_alerts', lang) }}</a>
<a class="nav-link" href="/admin?lang={{ lang }}">{{ t('admin_title', lang) }}</a>
<a class="nav-link" href="/admin/audit?lang={{ lang }}">{{ t('admin_audit', lang) }}</a></nav>
{% for title, id, head, rows in tables %}
<h2>{{ title }}</h2><table class="grid" id="{{ id }}"><thead><tr>{% for h in head %}<th>{{ t(h, lang) }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% endfor %}"""

AUDIT_FORM = """<form method="get" action="/admin/audit" class="filters" id="audit-filters">
<input type="hidden" name="lang" value="{{ lang }}">
<input name="actor" placeholder="{{ t('col_actor', lang) }}" value="{{ args.actor or '' }}">
<input name="action" placeholder="{{ t('col_action', lang) }}" value="{{ args.action or '' }}">
<input name="since" placeholder="{{ t('audit_since', lang) }} YYYY-MM-DD" value="{{ args.since or '' }}">
<input name="until" placeholder="{{ t('audit_until', lang) }} YYYY-MM-DD" value="{{ args.until or '' }}">
<button type="submit">{{ t('audit_filter', lang) }}</button>
<a class="nav-link" id="audit-csv" href="/admin/audit.csv?{{ query }}">{{ t('audit_csv', lang) }}</a></form>
{% if error %}<p class="login-error">{{ error }}</p>{% endif %}"""


def _lang() -> str:
    return pick_lang(request.args.get("lang"), current_app.config["SITROOM_DATA"].rt.config.dashboard.language)


def _page(lang: str, title: str, body: str) -> str:
    from markupsafe import Markup
    return render_template_string(PAGE_HTML.replace("login-page", "admin-page").replace("login-box", "admin-box"),
                                  lang=lang, title=title, body=Markup(body))


def _when(dt: datetime | None, lang: str) -> str:
    return local_time(dt.isoformat() + "Z", "%Y-%m-%d %H:%M:%S") if dt else t("never", lang)


@admin.get("/admin")
def index():
    lang = _lang()
    d = current_app.config["SITROOM_DATA"]
    with d.sessions() as s:
        users = [(a.name, a.display, t(f"role_{a.role}", lang), ", ".join(a.regions) or t("all_scope", lang),
                  t("state_disabled" if a.disabled else "state_active_acc", lang)) for a in accounts.listing(s)]
        walls = [(w.name, ", ".join(w.regions) or t("all_scope", lang), w.layers or "",
                  t("state_revoked", lang) if w.revoked_at else t("state_active_acc", lang),
                  _when(w.last_seen_at, lang), w.last_address or "") for w in credentials.walls(s)]
        tokens = [(tok.id, tok.prefix + "…", acc.name, tok.scope, _when(tok.expires_at, lang) if tok.expires_at else "—",
                   t("state_revoked", lang) if tok.revoked_at else t("state_active_acc", lang),
                   _when(tok.last_used_at, lang)) for tok, acc in credentials.tokens(s)]
    tables = [(t("admin_users", lang), "admin-users", ("col_account", "col_display", "col_role", "col_regions", "col_active"), users),
              (t("admin_walls", lang), "admin-walls", ("col_account", "col_regions", "col_layers", "col_active",
                                                       "col_last_contact", "col_address"), walls),
              (t("admin_tokens", lang), "admin-tokens", ("col_id", "col_token", "col_account", "col_scope", "col_expires",
                                                         "col_active", "col_last_use"), tokens)]
    body = f"<h1>{t('admin_title', lang)}</h1>" + render_template_string(TABLES, t=t, lang=lang, tables=tables)
    return _page(lang, t("admin_title", lang), body)


def _filters(lang: str) -> tuple[dict, str | None]:
    args, out, error = request.args, {}, None
    out["actor"] = (args.get("actor") or "").strip()[:64] or None
    out["action"] = (args.get("action") or "").strip()[:32] or None
    for key in ("since", "until"):
        value = (args.get(key) or "").strip()
        if value:
            try:
                day = datetime.strptime(value, "%Y-%m-%d")
                out[key] = day + timedelta(days=1) if key == "until" else day  # until: the whole day
            except ValueError:
                error = t("audit_bad_date", lang, value=value[:40])
    return out, error


@admin.get("/admin/audit", endpoint="audit")
def audit_page():
    lang = _lang()
    filters, error = _filters(lang)
    with current_app.config["SITROOM_DATA"].sessions() as s:
        rows = [] if error else audit.entries(s, **filters, limit=500)
    # an action's detail is what the person typed, unless it was refused (then sitroom's words)
    table = [(_when(e.at, lang), actor(e.actor, lang), e.action, reason(e.target or "", lang),
              t("ok_yes" if e.ok else "ok_no", lang), e.address or "",
              e.detail or "" if e.ok and e.action.startswith("alert.") else reason(e.detail or "", lang)) for e in rows]
    head = ("col_at", "col_actor", "col_action", "col_target", "col_ok", "col_address", "col_detail")
    body = (f"<h1>{t('admin_audit', lang)}</h1>"
            + render_template_string(AUDIT_FORM, t=t, lang=lang, args=request.args, error=error,
                                     query=request.query_string.decode("latin-1"))
            + render_template_string(TABLES, t=t, lang=lang, tables=[("", "audit-table", head, table)]))
    return _page(lang, t("admin_audit", lang), body)


@admin.get("/admin/audit.csv")
def audit_csv():
    filters, error = _filters(_lang())
    if error:
        return {"error": error}, 400
    with current_app.config["SITROOM_DATA"].sessions() as s:
        body = audit.to_csv(audit.entries(s, **filters, limit=None))
    record("export", "audit.csv", detail=request.query_string.decode("latin-1")[:200] or None)
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=audit.csv",
                                                       "Cache-Control": "no-store"})
