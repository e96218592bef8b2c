"""Marker layers over the case map: fever clinics, supply points, inflows.

Each layer is a dash-leaflet GeoJSON whose data comes by URL from /api/v1/layers/<name>.geojson;
the URL carries a digest of its content, so a browser fetches markers only when they changed.
Tooltips are data (dashboard.plain.tip), never markup: names and origins come from other
departments' databases and are shown as text, whatever they hold.
Features carry their colour and a severity rank (worst = highest) so one JS function draws a
cluster in the colour of its worst member. Store coordinates are GCJ-02, as the boundaries: drawn as is.
"""
from __future__ import annotations

import math

import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from dashboard.i18n import num, t
from dashboard.plain import tip as _tip

ns = Namespace("dashExtensions", "sitroom")
LAYERS = ("cases", "clinics", "supply", "inflows")
MARKER_LAYERS = ("clinics", "supply", "inflows")
GREY = "#8a96a3"

# Marker colours never reuse the warning levels' blue, yellow, orange and red (nor the cases'
# oranges): a layer's colours are one hue getting stronger with need, its shape says which layer.
# fever-clinic load = visits in the last 24 h / capacity per day: (upper bound, colour, i18n key); purples
LOAD_CLASSES = [(0.5, "#e3d7f7", "load_low"), (0.8, "#b99be8", "load_mid"), (1.0, "#8e5fd9", "load_high"),
                (math.inf, "#6a1fd0", "load_over")]
LOAD_UNKNOWN = "#c9d6e3"
# days of cover: (upper bound, colour); greens, darkest where stock runs out first
COVER_CLASSES = [(3, "#00704a"), (7, "#1fa672"), (14, "#7ed6ad"), (math.inf, "#d5f5e6")]
SHAPES = ("circle", "square", "diamond", "triangle", "hexagon", "star")
INFLOW_PLAIN, INFLOW_RISK = "#cfd8dc", "#ff4fd8"   # grey and magenta, apart from the warning and case colours
INFLOW_MAX_RADIUS, INFLOW_MIN_RADIUS = 30, 6


def _name(region, lang: str) -> str:
    return region.name_en if lang == "en" else region.name


def _num(x) -> str:
    return num(x, 1)


def _point(lon: float, lat: float, props: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


# ------------------------------------------------------------------------------ clinics
def load_class(status: str, load: float | None) -> tuple[int, str, str]:
    """(severity rank, colour, i18n key) of a clinic."""
    if status != "open":
        return 0, GREY, "clinic_closed"
    if load is None:
        return 1, LOAD_UNKNOWN, "load_unknown"
    for i, (hi, colour, key) in enumerate(LOAD_CLASSES):
        if load < hi:
            return 2 + i, colour, key
    raise AssertionError("unreachable")


def clinic_features(clinics: list[dict], lang: str) -> dict:
    features = []
    for c in clinics:
        sev, colour, _key = load_class(c["status"], c["load"])
        load = "—" if c["load"] is None or c["status"] != "open" else f"{c['load'] * 100:.0f}%"
        tip = _tip([("tip-title", c["name"])],
                   [f"{t('clinic_status_' + c['status'], lang)} · {t('clinic_load', lang)} {load}"],
                   [f"{t('clinic_visits_24h', lang)} {c['visits_24h']:,} · "
                    f"{t('clinic_fever_24h', lang)} {c['fever_24h']:,}"])
        features.append(_point(c["lon"], c["lat"], {
            "layer": "clinics", "id": c["id"], "sev": sev, "colour": colour, "tip": tip, "unit": t("unit_clinics", lang),
            "label": "" if c["load"] is None or c["status"] != "open" else f"{c['load'] * 100:.0f}"}))
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------ supply points
def cover_class(status: str, min_cover: float | None, unlimited: bool) -> tuple[int, str]:
    if status != "open":
        return 0, GREY
    if min_cover is None:
        return (2, COVER_CLASSES[-1][1]) if unlimited else (1, LOAD_UNKNOWN)
    for i, (hi, colour) in enumerate(COVER_CLASSES):
        if min_cover < hi:
            return 5 - i, colour
    raise AssertionError("unreachable")


def kind_shapes(kinds: dict) -> dict[str, str]:
    """Configured supply kinds, in their order, get the shapes in order (kinds beyond: circle)."""
    return {k: SHAPES[i] if i < len(SHAPES) else "circle" for i, k in enumerate(kinds)}


def kind_title(kind: str, kinds: dict, lang: str) -> str:
    text = kinds.get(kind)
    return getattr(text, lang, None) or (text.get(lang) if isinstance(text, dict) else None) or kind


def item_title(item: str, items: dict, lang: str) -> tuple[str, str]:
    """(title, unit) of a supply item as configured; the raw word when it is not."""
    it = items.get(item)
    if it is None:
        return item, ""
    return getattr(it.title, lang), getattr(it.unit, lang)


def cover_text(days: float | None, lang: str) -> str:
    return "∞" if days is None else t("days", lang, n=_num(days))


def supply_features(points: list[dict], kinds: dict, lang: str) -> dict:
    shapes = kind_shapes(kinds)
    features = []
    for p in points:
        sev, colour = cover_class(p["status"], p["min_cover"], p["unlimited"])
        cover = "—" if p["min_cover"] is None and not p["unlimited"] else cover_text(p["min_cover"], lang)
        tip = _tip([("tip-title", p["name"])],
                   [f"{kind_title(p['kind'], kinds, lang)} · {t('point_status_' + p['status'], lang)}"],
                   [f"{t('cover_min', lang)} {cover}"])
        features.append(_point(p["lon"], p["lat"], {
            "layer": "supply", "id": p["id"], "sev": sev, "colour": colour, "tip": tip, "unit": t("unit_points", lang),
            "shape": shapes.get(p["kind"], "circle")}))
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------ inflows
def inflow_features(summary: dict[str, dict], gaz, lang: str) -> dict:
    """A circle per destination region at its centroid, area proportional to arrivals."""
    biggest = max((s["arrivals"] for s in summary.values()), default=0)
    features = []
    for code, s in sorted(summary.items(), key=lambda kv: -kv[1]["arrivals"]):  # small circles on top
        if code not in gaz.regions or not s["arrivals"]:
            continue
        r = gaz.get(code)
        radius = INFLOW_MIN_RADIUS + (INFLOW_MAX_RADIUS - INFLOW_MIN_RADIUS) * math.sqrt(s["arrivals"] / biggest)
        tip = _tip([("tip-title", _name(r, lang)), f" {t('inflow_14d', lang)} {s['arrivals']:,}"],
                   [f"{t('inflow_risk', lang)} {s['risk_arrivals']:,}"],
                   [("tip-sub", t("inflow_top", lang))],
                   *([f"{'⚠ ' if o['risk'] else ''}{o['origin']} {o['count']:,}"] for o in s["origins"]))
        features.append(_point(r.lon, r.lat, {
            "layer": "inflows", "id": code, "radius": round(radius, 1), "tip": tip,
            "colour": INFLOW_RISK if s["risk_arrivals"] else INFLOW_PLAIN, "risk": s["risk_arrivals"] > 0}))
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------ legends
def _row(swatch, text: str) -> html.Div:
    return html.Div([swatch, html.Span(text)], className="legend-row")


def _dot(colour: str, shape: str = "circle") -> html.Span:
    return html.Span(className=f"legend-mark shape-{shape}", style={"--mark": colour})


def clinic_legend(lang: str) -> html.Div:
    rows = [_row(_dot(c), t(k, lang)) for _hi, c, k in LOAD_CLASSES]
    rows += [_row(_dot(LOAD_UNKNOWN), t("load_unknown", lang)), _row(_dot(GREY), t("clinic_closed", lang))]
    return html.Div([html.Div(t("layer_clinics_legend", lang), className="legend-title")] + rows,
                    className="legend-block legend-clinics")


def supply_legend(kinds: dict, lang: str) -> html.Div:
    labels = [t("cover_lt", lang, n=3), t("cover_lt", lang, n=7), t("cover_lt", lang, n=14), t("cover_ge", lang, n=14)]
    rows = [_row(_dot(c), txt) for (_hi, c), txt in zip(COVER_CLASSES, labels)]
    rows.append(_row(_dot(GREY), t("point_closed_or_none", lang)))
    shapes = [_row(_dot("#e8f1ff", shape), kind_title(k, kinds, lang)) for k, shape in kind_shapes(kinds).items()]
    if shapes:
        shapes.insert(0, html.Span("|", className="legend-sep"))
    return html.Div([html.Div(t("layer_supply_legend", lang), className="legend-title")] + rows + shapes,
                    className="legend-block legend-supply")


def inflow_legend(lang: str) -> html.Div:
    return html.Div([html.Div(t("layer_inflows_legend", lang), className="legend-title"),
                     _row(_dot(INFLOW_RISK), t("inflow_with_risk", lang)),
                     _row(_dot(INFLOW_PLAIN), t("inflow_no_risk", lang)),
                     html.Div(t("inflow_size", lang), className="legend-note")],
                    className="legend-block legend-inflows")


# ------------------------------------------------------------------------------ map components
def marker_layers() -> list:
    """The three marker layers, empty until the wall's callbacks give them a URL."""
    return [
        dl.Pane(dl.GeoJSON(id="inflows-geo", pointToLayer=ns("inflowCircle"), onEachFeature=ns("bindMarkerTip"),
                           zoomToBounds=False), name="inflows"),  # over the regions (z-index in css)
        dl.GeoJSON(id="supply-geo", cluster=True, clusterToLayer=ns("worstCluster"), pointToLayer=ns("supplyMarker"),
                   onEachFeature=ns("bindMarkerTip"), zoomToBoundsOnClick=True,
                   superClusterOptions={"radius": 64, "maxZoom": 11}, zoomToBounds=False),
        dl.GeoJSON(id="clinics-geo", cluster=True, clusterToLayer=ns("worstCluster"), pointToLayer=ns("clinicMarker"),
                   onEachFeature=ns("bindMarkerTip"), zoomToBoundsOnClick=True,
                   superClusterOptions={"radius": 64, "maxZoom": 11}, zoomToBounds=False),
    ]
