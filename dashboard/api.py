"""JSON API on the same server as the pages: /healthz, /api/v1/*, and the boundary files."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from sitroom.alerts import AlertConflict, AlertNotFound, acknowledge
from sitroom.regions import RegionError

from .screen_data import ScreenData

api = Blueprint("api", __name__)
ALERT_STATES = ("active", "firing", "acknowledged", "resolved", "all")
LEVEL_NAMES = ("province", "prefecture", "county")


def data() -> ScreenData:
    return current_app.config["SITROOM_DATA"]


def bad_request(reason: str, status: int = 400):
    return jsonify({"error": reason}), status


@api.get("/healthz")
def healthz():
    try:
        beat = data().heartbeat()
    except OperationalError as e:
        return jsonify({"status": "error", "error": str(e).splitlines()[0]}), 503
    return jsonify({"status": "ok", "version": beat["version"], "stale": beat["stale"]})


@api.get("/api/v1/regions")
def regions():
    gaz = data().gaz
    level, parent = request.args.get("level"), request.args.get("parent")
    if level and level not in LEVEL_NAMES:
        return bad_request(f"level must be one of {', '.join(LEVEL_NAMES)}; got '{level}'")
    if parent:
        try:
            parent = gaz.resolve(parent)
        except RegionError as e:
            return bad_request(f"parent: {e}")
    rows = [r for r in gaz.regions.values()
            if (not level or r.level == level) and (not parent or r.parent == parent)]
    return jsonify([{"adcode": r.adcode, "name": r.name, "name_en": r.name_en, "level": r.level,
                     "parent": r.parent, "population": r.population, "lat": r.lat, "lon": r.lon}
                    for r in sorted(rows, key=lambda r: r.adcode)])


@api.get("/api/v1/summary")
def summary():
    d = data()
    beat = d.heartbeat()
    return jsonify({"as_of": beat["as_of"], "version": beat["version"], "stale": beat["stale"],
                    "totals": d.totals(), "regions": d.region_values("all")})


@api.get("/api/v1/alerts")
def alerts():
    state = request.args.get("state", "active")
    if state not in ALERT_STATES:
        return bad_request(f"state must be one of {', '.join(ALERT_STATES)}; got '{state}'")
    return jsonify(data().alerts(None if state == "all" else state))


@api.post("/api/v1/alerts/<int:alert_id>/ack")
def ack(alert_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return bad_request('body must be a JSON object such as {"by": "张三", "note": "..."}')
    by, note = body.get("by"), body.get("note")
    if not isinstance(by, str) or not by.strip():
        return bad_request("'by' is required: the name of the person acknowledging")
    if len(by) > 100:
        return bad_request("'by' is longer than 100 characters")
    if note is not None and not isinstance(note, str):
        return bad_request("'note' must be text")
    d = data()
    try:
        with d.sessions.begin() as s:
            alert = acknowledge(s, alert_id, by.strip(), (note or "").strip() or None)
            out = d.alert_dict(alert)
    except AlertNotFound:
        return bad_request(f"no alert {alert_id}", 404)
    except AlertConflict as e:
        return jsonify({"error": str(e), "alert": d.alert(alert_id)}), 409
    return jsonify(out)


@api.get("/api/v1/sources")
def sources():
    return jsonify(data().sources())


@api.get("/api/v1/quarantine")
def quarantine():
    known = [s.name for s in data().rt.config.sources.sources]
    source, reason = request.args.get("source") or None, request.args.get("reason") or None
    if source and source not in known:
        return bad_request(f"unknown source '{source}'; known: {', '.join(known)}")
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        return bad_request("limit and offset must be whole numbers")
    if not (1 <= limit <= 1000) or offset < 0:
        return bad_request("limit must be 1 to 1000 and offset 0 or more")
    return jsonify(data().quarantine(source, reason, limit, offset))


@api.get("/geo/<parent>.json")
def boundaries(parent: str):
    """Boundaries are static for a run: sent once, cached by the browser, coloured by hideout."""
    gaz = data().gaz
    if parent != "all" and parent not in gaz.regions:
        return bad_request(f"unknown region '{parent}'", 404)
    body = gaz.boundaries_json(parent)
    resp = Response(body, mimetype="application/json")
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp
