"""/trends/export.csv and /trends/export.png: the trends page's chart and table as files, from the
same query arguments as the page (so a link exports what it shows)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from sitroom.series import local_day
from sitroom.store.db import utcnow

from . import trends_view as tv

trends_export = Blueprint("trends_export", __name__)


def _state():
    from .app import screen_data
    d = screen_data()   # the account's regions only
    cfg = d.rt.config.dashboard
    args = {k: v for k, v in request.args.items()}
    return d, tv.parse_state(args, d.gaz, cfg.language, cfg.trends_max_regions, scope=d.scope), tv.serial_weights(cfg)


def _what() -> str | None:
    what = request.args.get("what", "chart")
    return what if what in ("chart", "table") else None


def _bad(what: str) -> Response:
    return Response(f"unknown export '{what}': what=chart or what=table\n", status=400, mimetype="text/plain")


@trends_export.get("/trends/export.csv")
def export_csv():
    what = _what()
    if what is None:
        return _bad(request.args.get("what", ""))
    d, st, w = _state()
    today = local_day(utcnow())
    if what == "chart":
        body = tv.chart_csv([tv.region_trend(d, c, st.metric, st.start, st.end, today, w) for c in st.regions],
                            d.gaz, st.metric, st.lang)
        name = f"sitroom-trends-{st.metric}-{st.start}-{st.end}.csv"
    else:
        body = tv.table_csv(tv.table_rows(d, st, today, w), st.lang)
        name = f"sitroom-regions-{st.level}-{st.end}.csv"
    # a BOM, so that a spreadsheet reads the Chinese names as UTF-8
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@trends_export.get("/trends/export.png")
def export_png():
    """The ranked table as a picture (the chart has plotly's own PNG button in the browser)."""
    if _what() != "table":
        return _bad(request.args.get("what", ""))
    d, st, w = _state()
    rows = tv.table_rows(d, st, local_day(utcnow()), w)
    try:
        png = tv.table_figure(rows, st).to_image(format="png", width=1200, height=max(300, 60 + 26 * (len(rows) + 1)))
    except Exception as e:  # kaleido raises its own errors, e.g. when no Chromium is installed
        return Response(f"cannot draw the PNG here ({type(e).__name__}); use the CSV\n", status=503,
                        mimetype="text/plain")
    return Response(png, mimetype="image/png",
                    headers={"Content-Disposition": f'attachment; filename="sitroom-regions-{st.level}-{st.end}.png"'})
