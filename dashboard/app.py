"""The Dash app: pages, the JSON API and the boundary files, all served by one Flask server.

Every asset is served by the app itself (serve_locally); the command centre's
network is closed, so nothing is fetched from a CDN or a public tile server.
"""
from __future__ import annotations

from pathlib import Path

import dash

from sitroom.runtime import Runtime

from .api import api
from .screen_data import ScreenData

HERE = Path(__file__).resolve().parent


def create_app(rt: Runtime) -> dash.Dash:
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
    app.server.config["SITROOM_DATA"] = ScreenData(rt)
    app.server.register_blueprint(api)
    app.layout = dash.html.Div([dash.page_container], className="app")
    return app


def screen_data() -> ScreenData:
    from flask import current_app
    return current_app.config["SITROOM_DATA"]
