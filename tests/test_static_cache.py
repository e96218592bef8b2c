"""Page weight on the real app (Flask's test client, a real store): compression, cache headers of
versioned bundles, no unused bundles, the basic plotly.js bundle."""
from __future__ import annotations

import re

import brotli
import gzip
import pytest


from conftest import REPO, runtime_on

BR = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.fixture
def client(store, gaz, tmp_path, login):
    url, _ = store
    rt = runtime_on(url, gaz, tmp_path)
    from dashboard.app import create_app
    return login(create_app(rt), "officer")


def scripts(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'<script src="([^"]+)"', html)


def test_pages_callbacks_and_api_are_compressed(client):
    page = client.get("/", headers=BR)
    assert page.headers["Content-Encoding"] == "br" and "Accept-Encoding" in page.headers["Vary"]
    assert b"_dash-config" in brotli.decompress(page.data)
    deps = client.get("/_dash-dependencies", headers={"Accept-Encoding": "gzip"})
    assert deps.headers["Content-Encoding"] == "gzip" and gzip.decompress(deps.data).startswith(b"[")
    summary = client.get("/api/v1/summary", headers=BR)
    assert summary.headers["Content-Encoding"] == "br" and b"totals" in brotli.decompress(summary.data)
    geo = client.get("/geo/all.json", headers=BR)
    assert geo.headers["Content-Encoding"] == "br" and len(geo.data) < len(brotli.decompress(geo.data)) / 3
    plain = client.get("/api/v1/summary")   # a client that asks for no encoding gets none
    assert "Content-Encoding" not in plain.headers and plain.json["totals"]


def test_versioned_bundles_are_cached_for_a_year_and_unversioned_ones_revalidated(client):
    srcs = scripts(client)
    suites = [s for s in srcs if s.startswith("/_dash-component-suites/")]
    assert suites, srcs
    for src in suites:
        r = client.get(src, headers=BR)
        assert r.status_code == 200, src
        cc = r.headers["Cache-Control"]
        assert "max-age=31536000" in cc and "immutable" in cc and "public" in cc, (src, cc)
        assert r.headers["Content-Encoding"] == "br", src
    asset = next(s for s in srcs if s.startswith("/assets/sitroom.js?m="))
    assert "max-age=31536000" in client.get(asset).headers["Cache-Control"]
    assert client.get("/assets/sitroom.js").headers["Cache-Control"] == "no-cache"
    # a lazily loaded chunk has no version in its URL: cached, but asked again each time (304 while unchanged)
    chunk = client.get("/_dash-component-suites/dash/dcc/async-graph.js", headers=BR)
    assert chunk.headers["Cache-Control"] == "no-cache" and chunk.headers["ETag"]
    again = client.get("/_dash-component-suites/dash/dcc/async-graph.js",
                       headers={**BR, "If-None-Match": chunk.headers["ETag"]})
    assert again.status_code == 304


def test_the_compressed_bundle_is_made_once_per_process(client):
    src = next(s for s in scripts(client) if "dash_core_components.v" in s)
    first = client.get(src, headers=BR).data
    app = client.application
    compress = next(f for f in app.after_request_funcs[None] if getattr(f, "__name__", "") == "after_request")
    cache = compress.__self__.cache
    assert any(k.startswith("br;") and "dash_core_components" in k for k in cache.data)
    assert client.get(src, headers=BR).data == first
    client.get("/api/v1/summary", headers=BR)
    assert not any("summary" in k for k in cache.data)   # dynamic answers are not kept


def test_no_unused_bundles_on_the_pages(client):
    srcs = scripts(client)
    assert not [s for s in srcs if "dash_table" in s], srcs
    # and no page module draws a DataTable, which would then have no bundle
    for path in (REPO / "dashboard").rglob("*.py"):
        assert path.name == "static_cache.py" or "DataTable(" not in path.read_text(encoding="utf-8"), path


def test_plotly_js_is_the_basic_bundle_with_the_pythons_major_version(client):
    from plotly.offline import get_plotlyjs_version
    r = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js", headers=BR)
    body = brotli.decompress(r.data)
    head = body[:200].decode()
    assert "plotly.js (basic - minified) v" in head, head
    assert head.split(" v", 1)[1].split(".")[0] == get_plotlyjs_version().split(".")[0]
    assert len(body) < 1_500_000 and len(r.data) < 400_000
    assert r.headers["Cache-Control"] == "no-cache"
    assert client.get("/_dash-component-suites/plotly/package_data/plotly.min.js",
                      headers={**BR, "If-None-Match": r.headers["ETag"]}).status_code == 304


BASIC_TRACES = {"scatter", "bar", "pie"}   # what plotly.js's basic bundle draws
# drawn to PNG on the server (kaleido, with the plotly package's full bundle), never in a browser:
# the trends table's export (trends_view.table_figure)
SERVER_ONLY = {"table"}


def test_pages_draw_only_trace_types_of_the_basic_bundle():
    import plotly.graph_objects as go
    from plotly.basedatatypes import BaseTraceType
    traces = {n.lower() for n in dir(go) if isinstance(getattr(go, n), type) and issubclass(getattr(go, n), BaseTraceType)}
    used = set()
    for path in (REPO / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        words = re.findall(r"\bgo\.([A-Z]\w+)\(", text) + re.findall(r"\.add_(\w+)\(", text) \
            + re.findall(r'["\']type["\']\s*:\s*["\'](\w+)["\']', text) + re.findall(r"\btype=[\"'](\w+)[\"']", text)
        used |= {w.lower() for w in words} & traces
    assert "scatter" in used and "bar" in used   # the scan sees the wall's trend
    used -= SERVER_ONLY
    assert used <= BASIC_TRACES, f"{used - BASIC_TRACES} needs a bigger plotly.js bundle (dashboard/vendor/README.md)"
