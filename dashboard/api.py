"""JSON API on the same server as the pages: /healthz, /api/v1/*, and the boundary files."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from sitroom import notify
from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound
from sitroom.regions import RegionError

from .screen_data import ScreenData

api = Blueprint("api", __name__)
ALERT_STATES = ("active", "firing", "acknowledged", "resolved", "all", "pending")
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
    if state == "pending":  # conditions waiting out their rule's for_minutes: not alerts yet, no id
        return jsonify(data().pending())
    return jsonify(data().alerts(None if state == "all" else state))


@api.get("/api/v1/rules/status")
def rules_status():
    """Is rules.yaml on disk what the loaders run? ok false: invalid, the rules loaded at loaded_at run on."""
    return jsonify(data().rules_status())


@api.get("/api/v1/notify/status")
def notify_status():
    """The same for notify.yaml ("count": targets running; ok null: no loader follows a notify.yaml)."""
    return jsonify(data().notify_status())


def _text(body: dict, key: str, required: bool, limit: int) -> str | None:
    """A text field of a request body; raises ValueError with the reason a person can act on."""
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be text")
    if len(value) > limit:
        raise ValueError(f"'{key}' is longer than {limit} characters")
    return value.strip()


# action -> (the body field it needs besides 'by', whether that field is required)
ACTION_FIELDS = {"ack": ("note", False), "note": ("note", True), "assign": ("to", True), "resolve": ("reason", True)}


@api.post("/api/v1/alerts/<int:alert_id>/<action>")
def alert_action(alert_id: int, action: str):
    """A duty officer's action; 'by' names the officer (free text until user accounts exist)."""
    if action not in OFFICER_ACTIONS:
        return bad_request(f"unknown action '{action}'; one of {', '.join(OFFICER_ACTIONS)}", 404)
    func, (field, required) = OFFICER_ACTIONS[action], ACTION_FIELDS[action]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return bad_request(f'body must be a JSON object such as {{"by": "张三", "{field}": "..."}}')
    try:
        by = _text(body, "by", True, 100)
        value = _text(body, field, required, 100 if field == "to" else 2000)
    except ValueError as e:
        return bad_request(str(e))
    d = data()
    try:
        with d.sessions.begin() as s:
            out = d.alert_dict(func(s, alert_id, by, value))
    except AlertNotFound:
        return bad_request(f"no alert {alert_id}", 404)
    except AlertConflict as e:
        return jsonify({"error": str(e), "alert": d.alert(alert_id)}), 409
    d.forget()
    return jsonify(out)


@api.get("/api/v1/alerts/<int:alert_id>")
def alert_detail(alert_id: int):
    found = data().alert(alert_id, with_trail=True)
    return jsonify(found) if found else bad_request(f"no alert {alert_id}", 404)


DELIVERY_STATUSES = ("pending", "delivered", "failed")


@api.get("/api/v1/deliveries")
def deliveries():
    """Webhook deliveries of alert events, newest first (read-only; the loader process sends them)."""
    args = request.args
    status, target = args.get("status") or None, args.get("target") or None
    if status and status not in DELIVERY_STATUSES:
        return bad_request(f"status must be one of {', '.join(DELIVERY_STATUSES)}; got '{status}'")
    try:
        alert_id = int(args["alert"]) if args.get("alert") else None
        limit = int(args.get("limit", 100))
    except ValueError:
        return bad_request("alert and limit must be whole numbers")
    if not 1 <= limit <= 1000:
        return bad_request("limit must be 1 to 1000")
    with data().sessions() as s:
        rows = notify.deliveries(s, alert_id=alert_id, status=status, target=target, limit=limit)
        return jsonify([notify.delivery_dict(d) for d in rows])


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


MARKER_LAYERS = ("clinics", "supply", "inflows")


@api.get("/api/v1/layers/<name>.geojson")
def layer(name: str):
    """A map layer's markers as GeoJSON (?parent= region whose children get inflow circles, ?lang=).
    The wall asks with ?v=<digest of the content>, so such a URL never changes and is cached."""
    if name not in MARKER_LAYERS:
        return bad_request(f"unknown layer '{name}'; one of {', '.join(MARKER_LAYERS)}", 404)
    d = data()
    parent = request.args.get("parent", "all")
    if parent != "all" and parent not in d.gaz.regions:
        return bad_request(f"unknown region '{parent}'", 404)
    lang = request.args.get("lang", "zh")
    if lang not in ("zh", "en"):
        return bad_request(f"lang must be zh or en; got '{lang}'")
    body, digest = d.layer(name, parent, lang)
    resp = Response(body, mimetype="application/geo+json")
    resp.headers["ETag"] = digest
    if request.args.get("v") == digest:
        resp.cache_control.public = True
        resp.cache_control.max_age = 86400
    else:
        resp.cache_control.no_cache = True
    return resp
