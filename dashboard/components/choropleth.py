"""The regions map: boundaries by URL (sent once), colours and tooltips by `hideout`."""
from __future__ import annotations

import math

import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from ..i18n import num as _num, t
from ..plain import tip

ns = Namespace("dashExtensions", "sitroom")  # functions live in assets/sitroom.js (no assign() at import)
# Fixed classes per metric keep the legend stable on the wall; new_24h follows the warning thresholds.
CLASSES = {
    "new_24h": [1, 5, 10, 30, 80, 150, 300],
    "cumulative": [1, 50, 200, 500, 1000, 2000, 5000],
    "per_100k": [0.1, 1, 2, 5, 10, 20, 50],
}
COLOURS = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04"]
NO_DATA = "#2b3a4a"        # nothing reported for the region (missing is not zero)
PREFECTURE_ONLY = "#4a4466"  # a county whose prefecture reports only its total
ZERO = "#1d4d3c"


def fit_zoom(bounds, width_px: int = 1150, height_px: int = 700) -> float:
    """The Web-Mercator zoom at which `bounds` fits the map (Leaflet's fitBounds, done server-side,
    because a map also needs center and zoom at first render)."""
    (s, w), (n, e) = bounds
    def merc(lat):
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    zx = math.log2(width_px * 360 / (256 * max(e - w, 1e-6)))
    zy = math.log2(height_px * 2 * math.pi / (256 * max(merc(n) - merc(s), 1e-6)))
    return max(3.0, min(12.0, math.floor(min(zx, zy) * 4) / 4))  # the map snaps to quarter zooms


def hideout(values: dict[str, dict], metric: str, names: dict[str, str], lang: str,
            alert_levels: dict[str, str] | None = None, corrections: dict[str, list] | None = None,
            show_values: bool = True, missing: dict[str, str] | None = None) -> dict:
    """Colours and tooltips (as data: dashboard.plain.tip) per region; corrections (negative
    differences of cumulative counts) are named in the tooltip. show_values=False (case layer
    off): a neutral base map with names only. missing: regions with nothing of their own reported
    ("none": 无数据, "prefecture_only": 仅报地市合计), drawn as such, never as zero."""
    label = t(f"metric_{metric}", lang)
    shown, tips, fills = {}, {}, {}
    for code, v in values.items():
        title = [("tip-title", names.get(code, code))]
        if not show_values:
            tips[code] = tip(title)
            continue
        gap = (missing or {}).get(code)
        if gap:
            shown[code] = None
            fills[code] = PREFECTURE_ONLY if gap == "prefecture_only" else NO_DATA
            tips[code] = tip(title, [("tip-missing", t(f"missing_{gap}", lang))])
            continue
        x = v.get(metric)
        shown[code] = x
        lines = [title, [f"{label}: {'—' if x is None else _num(x)}"],
                 [f"{t('kpi_confirmed', lang)}: {v['confirmed']} · {t('kpi_suspected', lang)}: {v['suspected']}"]]
        fixes = (corrections or {}).get(code)
        if fixes:
            lines.append([("tip-correction", " · ".join(
                f"{c['day'][5:]} {t('correction', lang, delta=signed(c['delta']))}"
                + ("" if c["metric"] == "confirmed" else f" ({t('kpi_' + c['metric'], lang)})")
                for c in fixes[:3]))])
        tips[code] = tip(*lines)
    return {"values": shown, "tips": tips, "fills": fills, "classes": CLASSES[metric], "colours": COLOURS,
            "zero": ZERO, "nodata": NO_DATA, "alerts": alert_levels or {}}


def legend(metric: str, lang: str, prefecture_only: bool = False) -> list:
    edges = CLASSES[metric]
    items = [(NO_DATA, t("legend_no_data", lang))]
    if prefecture_only:
        items.append((PREFECTURE_ONLY, t("missing_prefecture_only", lang)))
    items.append((ZERO, f"< {_num(edges[0])}"))
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        items.append((COLOURS[i], f"{_num(lo)} – {_num(hi)}" if hi is not None else f"≥ {_num(lo)}"))
    return [html.Div(t(f"metric_{metric}", lang), className="legend-title")] + [
        html.Div([html.Span(className="swatch", style={"background": c}), html.Span(txt)], className="legend-row")
        for c, txt in items]


def region_map(center, zoom, bounds, tile_url: str | None, attribution: str, initial_hideout: dict,
               overlays: list | None = None, view: str = "all", zoom_buttons: bool = True) -> dl.Map:
    """center/zoom give the first frame; the viewport then fits the bounds to the real panel size.
    `overlays` (marker layers) are drawn over the regions; `view` is the region shown ('all')."""
    layers = [dl.TileLayer(url=tile_url, attribution=attribution)] if tile_url else []
    layers.append(dl.GeoJSON(
        id="regions-geo", url=f"/geo/{view}.json", hideout=initial_hideout,
        style=ns("style"), onEachFeature=ns("bindTip"),
        hoverStyle=ns("hover"), zoomToBounds=False,
    ))
    layers += overlays or []
    return dl.Map(layers, id="map", center=center, zoom=zoom, zoomSnap=0.25, attributionControl=bool(tile_url),
                  zoomControl=zoom_buttons,
                  viewport={"bounds": bounds, "transition": "fitBounds"},
                  className="region-map", style={"height": "100%", "width": "100%"})


def signed(n: float) -> str:
    """-3 -> '−3' (a real minus sign, readable from across the room), 3 -> '+3'."""
    return f"−{_num(-n)}" if n < 0 else f"+{_num(n)}"
