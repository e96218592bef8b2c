"""The Dash app: pages, the JSON API and the boundary files, all served by one Flask server.

Every asset is served by the app itself (serve_locally); the command centre's
network is closed, so nothing is fetched from a CDN or a public tile server.
"""
from __future__ import annotations

from pathlib import Path

import dash

from sitroom.runtime import Runtime

from . import http_guard, push, static_cache
from .api import api
from .screen_data import ScreenData
from .trends_export import trends_export

HERE = Path(__file__).resolve().parent


_COMPONENT_CALLBACKS: list = []


def _component_callbacks() -> None:
    """Callbacks of shared components (the banner) are registered once, when their module is first
    imported, and Dash hands them to the first app only; page modules are run again for every app.
    Give every app of this process (tests make many) the components' callbacks too."""
    from dash import _callback
    if not _COMPONENT_CALLBACKS:
        _COMPONENT_CALLBACKS.extend((k, v, dict(_callback.GLOBAL_CALLBACK_MAP[k]))
                                    for v in _callback.GLOBAL_CALLBACK_LIST
                                    for k in [v["output"]] if k in _callback.GLOBAL_CALLBACK_MAP
                                    and getattr(_callback.GLOBAL_CALLBACK_MAP[k].get("callback"), "__module__", "").startswith(
                                        "dashboard.components"))
        return
    for key, spec, entry in _COMPONENT_CALLBACKS:
        if key not in _callback.GLOBAL_CALLBACK_MAP:
            _callback.GLOBAL_CALLBACK_LIST.append(spec)
            _callback.GLOBAL_CALLBACK_MAP[key] = entry


def create_app(rt: Runtime, bound_host: str | None = None, push_streams: int = push.DEFAULT_STREAMS) -> dash.Dash:
    """The app; `bound_host` is the address `sitroom serve` listens on (one of the Host names allowed
    unless dashboard.yaml lists them); `push_streams` the most screens it pushes to (push.py)."""
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        title="sitroom",
        update_title=None,  # no "Updating..." flicker on the wall every second
        suppress_callback_exceptions=True,
    )
    _component_callbacks()   # after the pages (which import components) have registered theirs
    app.server.config["SITROOM_DATA"] = ScreenData(rt)
    app.server.extensions["sitroom_dash"] = app
    app.server.register_blueprint(api)
    app.server.register_blueprint(trends_export)
    static_cache.install(app)
    push.install(app, push_streams)
    app.layout = dash.html.Div([*push.stores(), dash.page_container], className="app")
    cfg = rt.config.dashboard
    http_guard.install(app, http_guard.Limits(cfg.max_body_bytes, cfg.max_callback_bytes,
                                              http_guard.allowed_hosts(cfg.allowed_hosts, bound_host)),
                       lambda: content_security_policy(app, cfg.tile_url))
    from .access import Access
    from .admin import admin
    # who may see and do what: after Dash's own before_request and the Host / body checks
    Access(app.server, app.server.config["SITROOM_DATA"])
    app.server.register_blueprint(admin)
    return app


def content_security_policy(app: dash.Dash, tile_url: str | None) -> str:
    """Scripts only from this server, plus Dash's own inline ones by their hashes (its renderer
    start and the clientside callbacks, all known once Dash has set itself up); styles inline too (plotly and Leaflet set them); map tiles
    from the configured tile server only; no framing."""
    from urllib.parse import urlsplit
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        tiles = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(app.csp_hashes()),
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob:{tiles}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def screen_data() -> ScreenData:
    """The screens' data as the account asking may see it (its region scope)."""
    from flask import current_app

    from .access import scope
    return current_app.config["SITROOM_DATA"].scoped(scope())
