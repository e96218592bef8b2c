"""What a page weighs: compressed responses, versioned bundles cached for a year, nothing the pages do not use.

- Every text response (pages, Dash callbacks, the JSON API, bundles) is compressed with brotli
  or gzip (Flask-Compress). The compressed bytes of a static bundle are kept per process, so 50
  screens loading at once compress each bundle once.
- A bundle whose URL names its version (Dash's fingerprinted component suites, assets with
  `?m=<mtime>`, the favicon with `?v=`) is cached by the browser for a year; the few URLs
  without a version (Dash's lazily loaded chunks, plotly.js) are revalidated with their ETag.
- dash_table's bundle, which Dash puts in every page, is left out: no page uses a DataTable.
- plotly.js is the basic partial bundle (scatter, bar, pie: every chart sitroom draws), 1.1 MB
  instead of 4.85 MB; see vendor/README.md.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import dash
from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request
from flask_compress import Compress

HERE = Path(__file__).resolve().parent
PLOTLY_BUNDLE = HERE / "vendor" / "plotly-basic-3.7.0.min.js"
# The unversioned URL Dash's renderer loads plotly.js from when serving locally (window._dashPlotlyJSURL).
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"
SUITES = "/_dash-component-suites/"
YEAR = 31536000
UNUSED_LIBRARIES = ("dash_table",)   # a page that starts using dash_table.DataTable: take it out of here


class StaticOnlyCache:
    """Flask-Compress's cache of compressed bodies, for static bundles only (key "<algorithm>;<path>";
    every other response has an empty path and is compressed afresh)."""

    def __init__(self):
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):
            self.data[key] = value


def _cache_key(req) -> str:
    if req.method == "GET" and req.path.startswith(SUITES):
        return req.full_path   # the fingerprint (or the ETag-checked bytes) make it one body per path
    return ""


def install(app: dash.Dash) -> None:
    server = app.server
    compress = Compress()
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],            # brotli where the browser has it (all current ones)
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_BR_LEVEL=6,                          # 0.34 MB of plotly.js in 0.1 s, once per process
        COMPRESS_LEVEL=6,
        COMPRESS_CACHE_BACKEND=StaticOnlyCache,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    compress.init_app(server)
    compress.compress_mimetypes_set.add("application/geo+json")   # the map layers
    _leave_out_unused()
    _serve_plotly(server)
    server.after_request(_cache_headers)


def _leave_out_unused() -> None:
    """Dash adds dash_table's scripts to every page whether used or not; sitroom uses none of it."""
    for name in UNUSED_LIBRARIES:
        module = getattr(dash, name)
        module._js_dist[:] = []
        module._css_dist[:] = []


def _serve_plotly(server: Flask) -> None:
    body = PLOTLY_BUNDLE.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:20]

    def plotly_js():
        resp = Response(body, mimetype="application/javascript")
        resp.set_etag(etag)
        resp.cache_control.no_cache = True   # its URL has no version: ask each time, 304 while unchanged
        return resp.make_conditional(request)

    # an exact rule outranks Dash's /_dash-component-suites/<package>/<path> rule
    server.add_url_rule(PLOTLY_URL, "sitroom_plotly_js", plotly_js)


def _cache_headers(resp: Response) -> Response:
    path = request.path
    if request.method != "GET" or resp.status_code not in (200, 304):
        return resp
    if path.startswith(SUITES):
        versioned = check_fingerprint(path[len(SUITES):].split("/", 1)[-1])[1]
    elif path.startswith("/assets/"):
        versioned = "m" in request.args
    elif path == "/_favicon.ico":
        versioned = "v" in request.args
    else:
        return resp
    if versioned:
        resp.cache_control.public = True
        resp.cache_control.max_age = YEAR
        resp.cache_control.immutable = True
        resp.cache_control.no_cache = None
    else:
        resp.cache_control.no_cache = True
        resp.cache_control.max_age = None
    return resp
