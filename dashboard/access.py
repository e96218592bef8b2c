"""Who may see and do what: the one guard in front of every Flask route and Dash callback.

`guard()` runs before every request. It finds who is asking (a session from /login, a wall
device's cookie, an API token, or the reverse proxy's trusted header) and looks up what the
endpoint needs in ROUTES (Flask endpoints), PAGES (Dash pages) or CALLBACKS (server-side Dash
callbacks). Whatever is not declared there is refused: a route or callback added later answers
403 until someone decides who may call it (tests/test_access_matrix.py enumerates the app's own
routes and callbacks against these tables). What a request may *see* is its region scope,
applied by ScreenData.scoped(); an out-of-scope id answers 404 like one that does not exist.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, jsonify, make_response, redirect, render_template_string, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, login_user, logout_user
from markupsafe import Markup

from sitroom.auth import accounts, audit, credentials
from sitroom.auth.roles import capabilities
from sitroom.auth.scope import Scope
from sitroom.auth.secret import session_key
from sitroom.store.db import utcnow

from .i18n import pick_lang, t

PUBLIC, ANYONE, PAGE, CALLBACK = "public", "anyone", "page", "callback"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WALL_COOKIE = "sitroom_wall"
PEER = "sitroom.peer"  # WSGI environ: the address that connected (REMOTE_ADDR is the client's behind a proxy)
TOUCH_SECONDS = 15     # a wall's / token's last contact is written at most this often per process
CACHE_SECONDS = 0.5    # an account or wall row is re-read at least this often (disable/revoke take effect)

# Flask endpoint -> what it needs: PUBLIC (no login), ANYONE (logged in or not), PAGE (see PAGES),
# CALLBACK (see CALLBACKS) or a capability of sitroom.auth.roles.
ROUTES = {
    "static": PUBLIC, "_dash_assets.static": PUBLIC, "/_favicon.ico": PUBLIC, "sitroom_plotly_js": PUBLIC,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": PUBLIC,
    "/_dash-layout": "view", "/_dash-dependencies": "view", "/_reload-hash": "view",
    "/_dash-update-component": CALLBACK,
    "/": PAGE, "/<path:path>": PAGE,
    "api.healthz": PUBLIC,
    "api.regions": "view", "api.summary": "view", "api.alerts": "view", "api.alert_detail": "view",
    "api.rules_status": "view", "api.notify_status": "view", "api.deliveries": "view", "api.sources": "view",
    "api.boundaries": "view", "api.layer": "view",
    "api.totals_check": "view", "push.push_stream": "view",
    "api.openapi_json": PUBLIC,   # the description of the API (no figures): for clients before they log in
    "trends_export.export_csv": "export", "trends_export.export_png": "export",
    "api.alert_action": "act",
    "api.silences_list": "view", "api.silence_create": "act", "api.silence_lift": "act",
    "api.quarantine": "admin",
    "access.login": PUBLIC, "access.logout": ANYONE, "access.wall_login": PUBLIC,
    "admin.index": "admin", "admin.audit": "admin", "admin.audit_csv": "admin",
}
# Dash page path -> capability (a path no page has: Dash's not-found page, "view")
PAGES = {"/": "view", "/alerts": "view", "/sources": "view", "/trends": "view"}
# server-side Dash callback (module.qualname of its function) -> capability, or PAGE for the page router
CALLBACKS = {
    "dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update": PAGE,
    "dashboard.components.alert_banner._refresh": "view",
    "dashboard.components.alert_banner._acknowledge_clicked": "act",
    "pages.wall.heartbeat": "view", "pages.wall.drill": "view", "pages.wall.colour_map": "view",
    "pages.wall.marker_urls": "view", "pages.wall.select_marker": "view", "pages.wall.marker_detail": "view",
    "pages.wall.kpis": "view", "pages.wall.trend": "view", "pages.wall.kiosk_queue": "view",
    "pages.alerts.version": "view", "pages.alerts.config_notices": "view", "pages.alerts.queue": "view",
    "pages.alerts.detail": "view", "pages.alerts.sort_by": "view", "pages.alerts.pick": "view",
    "pages.alerts.act": "act", "pages.alerts.queue_ack": "act",
    "pages.alerts.silence_panel": "view", "pages.alerts.silences_list": "view", "pages.alerts.silence_act": "act",
    "pages.sources.sources_table": "view", "pages.sources.feed_checks": "view",
    "pages.sources.quarantine_table": "admin",
    "dashboard.components.resync.resync_clicked": "admin",
    "pages.trends.update": "view", "pages.trends.resort": "view",
}
# Props a person changes (a click, a choice, a page): a callback they trigger is use of the session;
# one a timer triggers (n_intervals, a version store) is not, so an open page still expires.
USER_PROPS = ("n_clicks", "value", "clickData", "pathname", "search")
# What a page fetches by itself (its stream reopening, a map layer redrawn for new data): no use either
PAGE_FETCHES = ("push.push_stream", "api.layer")


@dataclass(frozen=True, eq=False)
class Principal(UserMixin):
    """Who is asking: an account (session, token or single sign-on) or a wall device."""
    id: str                       # Flask-Login's session id of an account: "<account id>:<credentials stamp>"
    kind: str                     # user | sso | token | wall
    name: str
    display: str                  # the actor written on actions
    role: str
    caps: frozenset
    scope: Scope = field(default=Scope.ALL)
    layers: str | None = None     # a wall's ?layers=

    def get_id(self) -> str:
        return self.id

    def can(self, cap: str) -> bool:
        return cap in self.caps


# ---------------------------------------------------------------- who is asking
class _Recent:
    """A few rows re-read at most every CACHE_SECONDS: one read per poll is not needed."""

    def __init__(self):
        self._rows: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, load):
        now = time.monotonic()
        with self._lock:
            hit = self._rows.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._rows) > 1000:
                self._rows.clear()
            self._rows[key] = (now, value)
        return value

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._rows.pop(key, None)


def _principal_of(acc, kind: str, gaz, token_scope: str | None = None) -> Principal:
    return Principal(id=f"{acc.id}:{acc.credentials_at.isoformat()}", kind=kind, name=acc.name, display=acc.display,
                     role=acc.role, caps=capabilities(acc.role, token_scope), scope=_scope(acc.regions, gaz))


def _scope(codes, gaz) -> Scope:
    return Scope(tuple(codes or ()), gaz) if codes else Scope.ALL


class Access:
    """The guard, the identity loaders and the login routes of one app."""

    def __init__(self, server: Flask, data):
        self.data = data                              # ScreenData: its sessions and gazetteer
        self.cfg = data.rt.config.dashboard.auth
        self.recent = _Recent()
        self._touched: dict[str, float] = {}
        self.proxies = [ipaddress.ip_network(n, strict=False) for n in self.cfg.trusted_proxies]
        server.secret_key = session_key(data.sessions)
        server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                             SESSION_COOKIE_NAME="sitroom_session",
                             PERMANENT_SESSION_LIFETIME=self.cfg.idle_minutes * 60)
        server.session_interface = _Sessions(self.cfg.secure_cookies)
        lm = LoginManager()
        lm.init_app(server)
        lm.user_loader(self._load_session_user)
        lm.request_loader(self._load_from_request)
        server.extensions["sitroom_access"] = self
        if self.proxies:
            server.wsgi_app = _FromProxies(server.wsgi_app, self.proxies)
        server.before_request(self.guard)
        server.register_blueprint(routes)

    # -- identity
    def _load_session_user(self, sid: str) -> Principal | None:
        return self._session_principal(sid, session.get("login"))

    def _session_principal(self, sid: str, nonce) -> Principal | None:
        """The account of a session cookie, while the account is as it was (not disabled or reset since)
        and the login the cookie names is live (not logged out: a copied cookie is of no use after)."""
        acc_id, _, stamp = sid.partition(":")
        if not acc_id.isdigit() or not isinstance(nonce, str) or not nonce:
            return None   # a cookie made before logins were kept names none: log in again
        p = self.recent.get(("user", acc_id), lambda: self._account_principal(int(acc_id)))
        if p is None or p.id != sid:
            return None
        return p if self.recent.get(("login", credentials.digest(nonce)), lambda: self._login_live(nonce)) else None

    def _login_live(self, nonce: str) -> bool:
        with self.data.sessions() as s:
            return credentials.login_live(s, nonce)

    def end_login(self) -> None:
        """This browser's login is over (logout, idle): on the server too."""
        nonce = session.get("login")
        if isinstance(nonce, str) and nonce:
            with self.data.sessions.begin() as s:
                credentials.end_login(s, nonce)
            self.recent.forget(("login", credentials.digest(nonce)))

    def _account_principal(self, acc_id: int) -> Principal | None:
        from sitroom.auth.models import Account
        with self.data.sessions() as s:
            acc = s.get(Account, acc_id)
            return None if acc is None or acc.disabled else _principal_of(acc, "user", self.data.gaz)

    def _load_from_request(self, req) -> Principal | None:
        header = req.headers.get("Authorization", "")
        if header:
            return self._bearer(header)
        token = req.cookies.get(WALL_COOKIE)
        if token:
            return self._wall(token)
        return self._trusted_header(req)

    def _bearer(self, header: str) -> Principal | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        found = self._token_lookup(token.strip())
        if found is None:
            return None
        self._touch("token", found[0])
        return found[1]

    def _token_lookup(self, token: str) -> tuple[int, Principal] | None:
        def load():
            with self.data.sessions() as s:
                found = credentials.token_account(s, token)
                return (found[0].id, _principal_of(found[1], "token", self.data.gaz, found[0].scope)) if found else None
        return self.recent.get(("token", credentials.digest(token)), load)

    def _wall(self, token: str) -> Principal | None:
        p = self._wall_lookup(token)
        if p is not None:
            self._touch("wall", int(p.id.split(":")[1]))
        return p

    def _wall_lookup(self, token: str) -> Principal | None:
        def load():
            with self.data.sessions() as s:
                w = credentials.wall_by_token(s, token)
                return None if w is None else Principal(
                    id=f"wall:{w.id}", kind="wall", name=w.name, display=w.name, role="wall",
                    caps=capabilities("wall"), scope=_scope(w.regions, self.data.gaz), layers=w.layers)
        return self.recent.get(("wall", credentials.digest(token)), load)

    def _trusted_header(self, req) -> Principal | None:
        if not self.cfg.trusted_header or not self.proxies:
            return None
        name = req.headers.get(self.cfg.trusted_header, "").strip()
        if not name or not self._from_proxy(req.environ.get(PEER, req.remote_addr)):
            return None
        p = self._sso_lookup(name)
        if p is not None and session.get("sso") != name:   # once per browser session: a login in the audit log
            session["sso"] = name
            self.write_audit("login", target=None, actor=name, detail=f"single sign-on ({self.cfg.trusted_header})")
        return p

    def _sso_lookup(self, name: str) -> Principal | None:
        def load():
            with self.data.sessions() as s:
                acc = accounts.get(s, name)
                return None if acc is None or acc.disabled else _principal_of(acc, "sso", self.data.gaz)
        return self.recent.get(("sso", name), load)

    def still_allowed(self):
        """For a response that outlasts its request (the push stream): a check, callable outside the
        request, that whoever asked still may (a wall not revoked, an account not disabled or reset,
        a token not revoked), read through the same cache as every request. It answers None (yes),
        "denied" (revoked, disabled, reset: the page goes to /login) or "idle" (the session's idle time
        is up as of the stream's start: the stream ends and the browser asks again with its cookie)."""
        p = principal()
        if p.kind == "wall":
            token = request.cookies.get(WALL_COOKIE, "")
            look = lambda: self._wall_lookup(token)  # noqa: E731
        elif p.kind == "token":
            token = request.headers.get("Authorization", "").partition(" ")[2].strip()
            look = lambda: (self._token_lookup(token) or (None, None))[1]  # noqa: E731
        elif p.kind == "sso":
            look = lambda: self._sso_lookup(p.name)  # noqa: E731
        else:
            nonce = session.get("login")
            look = lambda: self._session_principal(p.id, nonce)  # noqa: E731
        # a session ends when unused for idle_minutes; the stream is no use of it
        until = session.get("seen", 0) + self.cfg.idle_minutes * 60 + 1 if p.kind == "user" else float("inf")

        def check() -> str | None:
            try:
                now = look()
            except Exception:   # the store is away: no news of a revoke (the stream says the store is away)
                return None
            return "denied" if now is None or now.id != p.id else "idle" if time.time() >= until else None
        return check

    def _from_proxy(self, addr: str | None) -> bool:
        return _within(addr, self.proxies)

    def _touch(self, kind: str, row_id: int) -> None:
        """Last contact of a wall / last use of a token, written at most every TOUCH_SECONDS."""
        key, now = f"{kind}:{row_id}", time.monotonic()
        if now - self._touched.get(key, -1e9) < TOUCH_SECONDS:
            return
        self._touched[key] = now
        from sitroom.auth.models import ApiToken, Wall
        with self.data.sessions.begin() as s:
            if kind == "wall":
                w = s.get(Wall, row_id)
                w.last_seen_at, w.last_address = utcnow(), (request.remote_addr or "")[:64]
            else:
                s.get(ApiToken, row_id).last_used_at = utcnow()

    # -- the guard
    def guard(self):
        need = ROUTES.get(request.endpoint) if request.endpoint else PUBLIC  # no route: Flask's 404
        if need is None:
            return _refuse(403, f"'{request.endpoint}' is not declared in dashboard/access.py ROUTES")
        if need == PUBLIC:
            return None
        from flask_login import current_user
        p = current_user._get_current_object()   # the object, not the proxy: a stream checks it after the request
        p = p if isinstance(p, Principal) else None
        if p is not None and p.kind == "user" and self._idle(p):
            return _unauthenticated(expired=True)
        if need == ANYONE:
            return None
        if p is None:
            return _unauthenticated(bad_token=bool(request.headers.get("Authorization")))
        g.principal = p
        if request.method not in SAFE_METHODS and p.kind != "token" and not same_origin():
            # a cookie (session, wall, single sign-on) rides along on a cross-site request; a token does not
            self.write_audit("csrf_refused", target=request.path, ok=False,
                             detail=f"Origin {request.headers.get('Origin')!r} Referer {request.headers.get('Referer')!r}")
            return _refuse(403, "refused: the request did not come from this site (Origin/Referer)")
        if need == CALLBACK:
            need = self._callback_need()
            if need is None:
                return _refuse(403, "this callback is not declared in dashboard/access.py CALLBACKS")
        if need == PAGE:
            need = PAGES.get(_page_path(request.path), "view")
        if need == "view" and (request.path.endswith(".csv") or request.args.get("format") == "csv"):
            need = "export"   # the same figures as a file to take away: leaders' right, and audited
        if not p.can(need):
            return _refuse(403, t("forbidden", _lang()) if _wants_page() else f"this account may not do this ({need})")
        if need == "export":   # every export is in the audit log, whatever route makes it
            self.write_audit("export", target=request.full_path.rstrip("?")[:200])
        return None

    def _idle(self, p: Principal) -> bool:
        """A session unused for idle_minutes ends; a use (not a timer's poll) moves the clock."""
        now = int(time.time())
        seen = session.get("seen", 0)
        if now - seen > self.cfg.idle_minutes * 60:
            self.write_audit("logout", actor=p.name, detail="idle")
            self.end_login()
            logout_user()
            session.clear()
            return True
        if now - seen >= 10 and _is_use():
            session["seen"] = now
        return False

    def _callback_need(self) -> str | None:
        body = _callback_body()
        if body is None:   # not a callback request at all: the callback route answers 400 for it
            return "view"
        output = body.get("output")
        entry = current_app.extensions["sitroom_dash"].callback_map.get(output) if isinstance(output, str) else None
        fn = entry and entry.get("callback")
        if fn is None:
            return None
        need = CALLBACKS.get(f"{fn.__module__}.{fn.__qualname__}")
        if need == PAGE:  # the page router: what the page needs
            path = next((i.get("value") for i in body.get("inputs", []) if isinstance(i, dict)
                         and i.get("id") == "_pages_location" and i.get("property") == "pathname"), "/")
            need = PAGES.get(_page_path(path or "/"), "view")
        return need

    # -- the audit log
    def write_audit(self, action: str, target: str | None = None, ok: bool = True, detail: str | None = None,
                    actor: str | None = None, s=None) -> None:
        """An audit row; inside `s` (the action's own transaction) when given."""
        who = actor or (g.principal.name if "principal" in g else None)
        if s is not None:
            audit.record(s, action, who, target, ok, request.remote_addr, detail)
            return
        with self.data.sessions.begin() as own:
            audit.record(own, action, who, target, ok, request.remote_addr, detail)


def _within(addr: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address((addr or "").strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


class _FromProxies:
    """Behind the centre's reverse proxy (auth.trusted_proxies): the client's address, for the audit log
    and the login throttle, is the one those proxies forwarded: X-Forwarded-For read from the right, past
    every configured proxy. The scheme and host the browser used are the nearest proxy's X-Forwarded-Proto
    and X-Forwarded-Host: a proxy that ends TLS makes the page https, so the same-origin check matches the
    page's Origin and the session cookie is Secure (the Host allow-list then checks the forwarded host).
    From any other peer these headers are ignored (anyone can send them)."""

    def __init__(self, app, proxies):
        self.app, self.proxies = app, proxies

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        environ[PEER] = peer   # the single sign-on header is believed from a proxy peer only
        if _within(peer, self.proxies):
            client = peer
            for hop in reversed(environ.get("HTTP_X_FORWARDED_FOR", "").split(",")):
                try:
                    client = str(ipaddress.ip_address(hop.strip()))
                except ValueError:
                    break   # not an address: the chain from here on is not the proxies'
                if not _within(client, self.proxies):
                    break
            environ["REMOTE_ADDR"] = client
            proto = _nearest(environ.get("HTTP_X_FORWARDED_PROTO")).lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = _nearest(environ.get("HTTP_X_FORWARDED_HOST"))
            if host:
                environ["HTTP_HOST"] = host
        return self.app(environ, start_response)


def _nearest(header: str | None) -> str:
    """The value the nearest proxy added to a comma-separated forwarded header (its last)."""
    return (header or "").rsplit(",", 1)[-1].strip()


class _Sessions(SecureCookieSessionInterface):
    """Session cookies marked Secure when served over TLS (or as dashboard.yaml auth.secure_cookies says)."""

    def __init__(self, secure: bool | None):
        self.secure = secure

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure if self.secure is None else self.secure


# ---------------------------------------------------------------- helpers for pages, callbacks and the API
def principal() -> Principal | None:
    """Who the current request is from (set by the guard)."""
    return g.get("principal")


def actor() -> str:
    """The name written on an action: the logged-in account's display name, never a typed one."""
    return principal().display


def record(action: str, target: str | None = None, ok: bool = True, detail: str | None = None, s=None) -> None:
    current_app.extensions["sitroom_access"].write_audit(action, target, ok, detail, s=s)


def scope() -> Scope:
    p = principal()
    return p.scope if p is not None else Scope.ALL


def same_origin() -> bool:
    """Origin (or, without it, Referer) names this server: the request was made by one of its pages."""
    src = request.headers.get("Origin") or request.headers.get("Referer")
    if not src or src == "null":
        return False
    u = urlsplit(src)
    return f"{u.scheme}://{u.netloc}".lower() == request.host_url.rstrip("/").lower()


def _page_path(path) -> str:
    return "/" + path.strip("/") if isinstance(path, str) else "/"   # a router input no browser sends: the wall's


def _is_use() -> bool:
    if request.endpoint in PAGE_FETCHES:
        return False
    if request.endpoint != "/_dash-update-component":
        return True
    body = _callback_body() or {}
    changed = body.get("changedPropIds") or []
    return any(str(c).rsplit(".", 1)[-1] in USER_PROPS for c in changed)


def _callback_body() -> dict | None:
    """A Dash callback request's JSON body, parsed as http_guard does (depth-limited); None if it is not one."""
    from .http_guard import BadBody, json_body
    if "callback_body" not in g:   # parsed once per request
        try:
            body = json_body()
        except BadBody:
            body = None
        g.callback_body = body if isinstance(body, dict) else None
    return g.callback_body


def _wants_page() -> bool:
    return request.method == "GET" and request.endpoint in ("/", "/<path:path>", "admin.index", "admin.audit")


def _lang() -> str:
    return pick_lang(request.args.get("lang"), "zh")


def _refuse(status: int, message: str):
    if _wants_page():
        return make_response(render_template_string(PAGE_HTML, lang=_lang(), title=t("login_title", _lang()),
                                                    body=Markup("<p class='login-error'>{}</p>").format(message)), status)
    return jsonify({"error": message}), status


def _unauthenticated(expired: bool = False, bad_token: bool = False):
    login = "/login" + ("?expired=1" if expired else "")
    if _wants_page():
        nxt = request.full_path.rstrip("?") if request.query_string else request.path
        return redirect(f"/login?next={_quote(nxt)}" + ("&expired=1" if expired else ""))
    error = "invalid or revoked API token" if bad_token else ("session expired" if expired else "login required")
    return jsonify({"error": error, "login": login}), 401


def _quote(s: str) -> str:
    from urllib.parse import quote
    return quote(s, safe="/")


def _safe_next(nxt: str | None) -> str:
    """Only a path on this server (never //host or a scheme): no open redirect."""
    nxt = nxt or "/"
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"


# ---------------------------------------------------------------- /login, /logout, /wall/<token>
routes = Blueprint("access", __name__)

PAGE_HTML = """<!doctype html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sitroom · {{ title }}</title><link rel="stylesheet" href="/assets/sitroom.css"><link rel="stylesheet" href="/assets/access.css"></head>
<body class="login-page"><main class="login-box"><h1>sitroom</h1>{{ body }}</main></body></html>"""

LOGIN_FORM = """<form method="post" action="/login" class="login-form">
<input type="hidden" name="next" value="{{ next }}"><input type="hidden" name="lang" value="{{ lang }}">
<label>{{ t('login_name', lang) }}<input name="name" id="login-name" autocomplete="username" required maxlength="64" value="{{ name }}"></label>
<label>{{ t('login_password', lang) }}<input name="password" id="login-password" type="password" autocomplete="current-password" required></label>
{% if message %}<p class="login-error" id="login-message">{{ message }}</p>{% endif %}
<button type="submit" id="login-submit">{{ t('login_submit', lang) }}</button>
<a class="nav-link lang" href="/login?lang={{ 'zh' if lang == 'en' else 'en' }}&next={{ next|urlencode }}">{{ t('lang_switch', lang) }}</a>
</form>"""


def _login_page(lang: str, message: str | None, name: str = "", nxt: str = "/", status: int = 200):
    body = Markup(render_template_string(LOGIN_FORM, t=t, lang=lang, message=message, name=name, next=nxt))
    resp = make_response(render_template_string(PAGE_HTML, lang=lang, title=t("login_title", lang), body=body), status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@routes.route("/login", methods=["GET", "POST"])
def login():
    access: Access = current_app.extensions["sitroom_access"]
    form = request.form if request.method == "POST" else request.args
    lang = pick_lang(form.get("lang"), access.data.rt.config.dashboard.language)
    nxt = _safe_next(form.get("next"))
    if request.method == "GET":
        message = None
        if request.args.get("expired"):
            message = t("login_expired", lang)
        elif request.cookies.get(WALL_COOKIE):
            message = t("wall_revoked", lang)
        return _login_page(lang, message, nxt=nxt)
    if request.headers.get("Origin") and not same_origin():   # a login forced from another site
        return _login_page(lang, t("login_cross_site", lang), nxt=nxt, status=403)
    name = form.get("name", "")
    with access.data.sessions.begin() as s:
        result = accounts.authenticate(s, name, form.get("password", ""), request.remote_addr, access.cfg)
        p = _principal_of(result.account, "user", access.data.gaz) if result.account else None
        nonce = credentials.start_login(s, result.account.id) if p is not None else None
    if p is None:
        from dashboard.components.alert_banner import local_time
        message = {"locked": lambda: t("login_locked", lang, until=local_time(
                       result.locked_until.isoformat() + "Z", "%H:%M")),
                   "throttled": lambda: t("login_throttled", lang),
                   "disabled": lambda: t("login_disabled", lang)}.get(result.reason, lambda: t("login_bad", lang))()
        # the form again with the reason; 200, so the browser logs no failed resource on the page
        return _login_page(lang, message, name=name[:64], nxt=nxt)
    session.clear()
    login_user(p)
    session.permanent = True
    session["seen"] = int(time.time())
    session["login"] = nonce
    resp = redirect(nxt)
    resp.delete_cookie(WALL_COOKIE)
    return resp


@routes.post("/logout")
def logout():
    from flask_login import current_user
    p = current_user._get_current_object()
    if isinstance(p, Principal) and not same_origin():
        return _refuse(403, "refused: the request did not come from this site (Origin/Referer)")
    if isinstance(p, Principal):
        current_app.extensions["sitroom_access"].write_audit("logout", actor=p.name)
        current_app.extensions["sitroom_access"].end_login()
    logout_user()
    session.clear()
    lang = pick_lang(request.args.get("lang"), "zh")
    resp = _login_page(lang, t("login_out", lang))
    resp.delete_cookie(WALL_COOKIE)
    return resp


@routes.get("/wall/<token>")
def wall_login(token: str):
    """A wall display opens its URL once: the token moves into a cookie (HttpOnly, ten years), so the
    screen stays logged in through reloads and restarts until the wall is revoked."""
    access: Access = current_app.extensions["sitroom_access"]
    with access.data.sessions() as s:
        w = credentials.wall_by_token(s, token)
        layers = w.layers if w else None
        name = w.name if w else None
    if name is None:
        access.write_audit("login_failed", actor=None, ok=False, detail="wall token unknown or revoked")
        return _login_page(_lang(), t("wall_revoked", _lang()), status=404)
    access.write_audit("login", actor=name, detail="wall device")
    session.clear()
    resp = redirect("/" + (f"?layers={_quote(layers)}" if layers else ""))
    resp.set_cookie(WALL_COOKIE, token, max_age=10 * 365 * 86400, httponly=True, samesite="Lax",
                    secure=request.is_secure if access.cfg.secure_cookies is None else access.cfg.secure_cookies)
    return resp
