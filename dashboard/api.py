"""JSON API on the same server as the pages: /healthz, /api/v1/*, and the boundary files."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError

from sitroom import loader_beat, notify
from sitroom.store.health import fault_text
from sitroom.alerts import OFFICER_ACTIONS, AlertConflict, AlertNotFound
from sitroom.regions import RegionError
from sitroom.validate import MAX_OFFSET, TextError, record_id

from sitroom.silences import SilenceConflict, SilenceNotFound

from .alert_actions import ACTION_FIELDS, SilenceRefused, lift, silence, take
from .http_guard import BadBody, json_body

from .screen_data import ScreenData

api = Blueprint("api", __name__)
ALERT_STATES = ("active", "firing", "acknowledged", "resolved", "all", "pending")
LEVEL_NAMES = ("province", "prefecture", "county")


def data() -> ScreenData:
    """The data as the account asking may see it (its region scope)."""
    from .app import screen_data
    return screen_data()


def bad_request(reason: str, status: int = 400):
    return jsonify({"error": reason}), status


def filter_arg(name: str) -> str | None:
    """A free-text filter from the query string (no control characters, at most 200 characters)."""
    raw = request.args.get(name) or None
    if raw is not None and (len(raw) > 200 or any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in raw)):
        raise ValueError(f"{name} must be at most 200 characters of text without control characters")
    return raw


@api.get("/healthz")
def healthz():
    """The store (reachable, writable) and the loaders (heartbeat, last batch): 503 when either is down."""
    d = data()
    health = d.health()
    body = {"status": "ok" if health["ok"] else "error", "store": health["store"], "loaders": health["loaders"]}
    problems = []
    if not health["store"]["writable"]:
        problems.append(health["store"]["error"] or "the store cannot be written")
    if health["store"]["reachable"] and not health["loaders"]["running"]:
        problems.append("the loader service is stopped: no heartbeat for "
                        f"{loader_beat.STOPPED_AFTER_SECONDS} s" + (f" (last {health['loaders']['last_beat']})"
                                                                    if health["loaders"]["last_beat"] else ""))
    try:
        beat = d.heartbeat()
        body.update(version=beat["version"], stale=beat["stale"])
    except DBAPIError as e:
        problems.append(fault_text(e))
    if problems:
        body["problems"] = problems
    return jsonify(body), 200 if not problems else 503


def _answer(rows: list[dict] | dict, csv_rows: list[dict] | None = None):
    """JSON, or CSV with ?format=csv (or a .csv route): one line per record, columns from the first."""
    if request.args.get("format", "json") == "csv" or request.path.endswith(".csv"):
        return csv_response(csv_rows if csv_rows is not None else rows)
    return jsonify(rows)


def csv_response(rows: list[dict]) -> Response:
    import csv
    import io
    buf = io.StringIO()
    cols = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        # a spreadsheet runs a cell that starts with = + - @ as a formula: source text stays text
        w.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in r.items()})
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"inline; filename={request.path.rsplit('/', 1)[-1].removesuffix('.csv')}.csv"})


def _bad_format():
    fmt = request.args.get("format", "json")
    return None if fmt in ("json", "csv") else bad_request(f"format must be json or csv; got '{fmt}'")


FIGURE_KEYS = ("confirmed", "new_24h", "active", "suspected", "asymptomatic", "cured", "dead")


@api.get("/api/v1/regions")
@api.get("/api/v1/regions.csv")
def regions():
    if (bad := _bad_format()) is not None:
        return bad
    d = data()
    gaz = d.gaz
    level, parent = request.args.get("level"), request.args.get("parent")
    figures = request.args.get("figures") in ("1", "true", "yes")
    if level and level not in LEVEL_NAMES:
        return bad_request(f"level must be one of {', '.join(LEVEL_NAMES)}; got '{level[:40]}'")
    if parent:
        try:
            parent = gaz.resolve(parent)
        except RegionError as e:
            return bad_request(f"parent: {str(e)[:200]}")
    rows = [r for r in gaz.regions.values()   # a scoped account: its regions and those below (figures of its own)
            if (not level or r.level == level) and (not parent or r.parent == parent) and d.scope.sees(r.adcode)]
    out = [{"adcode": r.adcode, "name": r.name, "name_en": r.name_en, "level": r.level,
            "parent": r.parent, "population": r.population, "lat": r.lat, "lon": r.lon}
           for r in sorted(rows, key=lambda r: r.adcode)]
    if figures:   # each region's current case figures, as the wall counts them
        for o in out:
            o.update(d.region_figures(o["adcode"]))
    return _answer(out)


@api.get("/api/v1/summary")
@api.get("/api/v1/summary.csv")
def summary():
    """The grand total, and per province: its regions, each kind of bucket, what is placed no finer than
    the province, and the publisher's totals check where a source maps one."""
    if (bad := _bad_format()) is not None:
        return bad
    d = data()
    beat = d.heartbeat()
    provinces = d.province_summary()
    body = {"as_of": beat["as_of"], "version": beat["version"], "stale": beat["stale"],
            "totals": d.totals(), "provinces": provinces, "regions": d.region_values("all"),
            "totals_check": d.feed_checks()["totals"]}
    # CSV: one line per province and part (regions, each bucket, unplaced, total)
    lines = [{"province": code, "name": p["name"], "part": part, **{k: fig.get(k, 0) for k in FIGURE_KEYS}}
             for code, p in provinces.items()
             for part, fig in [("regions", p["regions"]), *((f"bucket:{b}", f) for b, f in p["buckets"].items()),
                               ("unplaced", p["unplaced"]), ("total", p["total"])]]
    return _answer(body, lines)


@api.get("/api/v1/totals_check")
@api.get("/api/v1/totals_check.csv")
def totals_check():
    """Per aggregate source with check_totals: province, metric, the publisher's total, ours, the difference."""
    if (bad := _bad_format()) is not None:
        return bad
    return _answer(data().feed_checks()["totals"])


@api.get("/api/v1/alerts")
def alerts():
    state = request.args.get("state", "active")
    if state not in ALERT_STATES:
        return bad_request(f"state must be one of {', '.join(ALERT_STATES)}; got '{state[:40]}'")
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


def whole(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query argument (ASCII digits only) within [low, high]; ValueError with the reason."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}; got '{raw[:40]}'")
    return int(raw)


@api.post("/api/v1/alerts/<alert_id>/<action>")
def alert_action(alert_id: str, action: str):
    """A duty officer's action, made by the logged-in account (its display name is the actor)."""
    if action not in OFFICER_ACTIONS:
        return bad_request(f"unknown action '{action[:40]}'; one of {', '.join(OFFICER_ACTIONS)}", 404)
    try:
        alert_id = record_id(alert_id, "alert id")
    except ValueError as e:
        return bad_request(str(e))
    field = ACTION_FIELDS[action][0]
    body = _person_body({field}, f'{{"{field}": "..."}}', f"{action} takes '{field}'")
    if not isinstance(body, dict):
        return body
    try:
        return jsonify(take(action, alert_id, body.get(field)))
    except TextError as e:
        return jsonify({"error": str(e), "field": e.field, "code": e.code}), 400
    except AlertNotFound:
        return bad_request(f"no alert {alert_id}", 404)
    except AlertConflict as e:
        return jsonify({"error": str(e), "alert": data().alert(alert_id)}), 409


SILENCE_FIELDS = ("rule", "region", "minutes", "reason")


def _person_body(fields: set[str], example: str, takes: str):
    """A person's action's JSON body: an object of these fields and no actor (the logged-in account is
    the actor); else the 400 answer saying why."""
    try:
        body = json_body()
    except BadBody as e:
        return bad_request(f"{e}; body must be a JSON object such as {example}")
    if not isinstance(body, dict):
        return bad_request(f"body must be a JSON object such as {example}")
    if "by" in body:
        return bad_request("'by' is not taken: the actor is the logged-in account (or the token's)")
    unknown = sorted(set(body) - fields)
    if unknown:
        return bad_request(f"unknown field '{str(unknown[0])[:40]}'; {takes}")
    return body


@api.get("/api/v1/silences")
def silences_list():
    """Silences in force (of the account's regions), the soonest to end first."""
    return jsonify(data().silences())


@api.post("/api/v1/silences")
def silence_create():
    """Silence a (rule, region) for `minutes` with a `reason`, as the logged-in account (201)."""
    example = '{"rule": "new_cases_24h", "region": "410100", "minutes": 60, "reason": "..."}'
    body = _person_body(set(SILENCE_FIELDS), example, f"a silence takes {', '.join(SILENCE_FIELDS)}")
    if not isinstance(body, dict):
        return body
    for name in ("rule", "region"):
        if not isinstance(body.get(name), str) or not body[name]:
            return bad_request(f"'{name}' is required: the {name} to silence (text); body such as {example}")
    try:
        return jsonify(silence(body["rule"], body["region"], body.get("minutes"), body.get("reason"))), 201
    except TextError as e:
        return jsonify({"error": str(e), "field": e.field, "code": e.code}), 400
    except SilenceRefused as e:
        return jsonify({"error": str(e), "code": e.code}), 400
    except LookupError as e:    # no such region, or outside the account's: the same answer
        return bad_request(str(e), 404)
    except SilenceConflict as e:
        return jsonify({"error": str(e), "silence": data().silence_of(body["rule"], body["region"])}), 409


@api.post("/api/v1/silences/<silence_id>/lift")
def silence_lift(silence_id: str):
    """End a silence before its time, as the logged-in account."""
    try:
        silence_id = record_id(silence_id, "silence id")
    except ValueError as e:
        return bad_request(str(e))
    try:
        body = json_body() if request.get_data(cache=True) else {}
    except BadBody as e:
        return bad_request(f"{e}; the body is empty or {{}}")
    if body != {}:
        return bad_request("lift takes no fields: the body is empty or {}")
    try:
        return jsonify(lift(silence_id))
    except SilenceNotFound as e:
        return bad_request(str(e), 404)
    except SilenceConflict as e:
        return jsonify({"error": str(e)}), 409


@api.get("/api/v1/alerts/<alert_id>")
def alert_detail(alert_id: str):
    try:
        alert_id = record_id(alert_id, "alert id")
    except ValueError as e:
        return bad_request(str(e))
    found = data().alert(alert_id, with_trail=True)
    return jsonify(found) if found else bad_request(f"no alert {alert_id}", 404)


DELIVERY_STATUSES = ("pending", "delivered", "failed")


@api.get("/api/v1/deliveries")
def deliveries():
    """Webhook deliveries of alert events, newest first (read-only; the loader process sends them)."""
    args = request.args
    status = args.get("status") or None
    try:
        target = filter_arg("target")
    except ValueError as e:
        return bad_request(str(e))
    if status and status not in DELIVERY_STATUSES:
        return bad_request(f"status must be one of {', '.join(DELIVERY_STATUSES)}; got '{status[:40]}'")
    try:
        alert_id = record_id(args["alert"], "alert") if args.get("alert") else None
        limit = whole("limit", 100, 1, 1000)
    except ValueError as e:
        return bad_request(str(e))
    d = data()
    if alert_id is not None and d.alert(alert_id) is None:
        return bad_request(f"no alert {alert_id}", 404)
    with d.sessions() as s:
        rows = [notify.delivery_dict(x) for x in
                notify.deliveries(s, alert_id=alert_id, status=status, target=target, limit=limit,
                                  regions=d.scope.regions())]   # only of alerts in the account's regions
    return jsonify(rows)


@api.get("/api/v1/sources")
def sources():
    return jsonify(data().sources())


@api.get("/api/v1/quarantine")
def quarantine():
    known = [s.name for s in data().rt.config.sources.sources]
    source = request.args.get("source") or None
    if source and source not in known:
        return bad_request(f"unknown source '{source[:100]}'; known: {', '.join(known)}")
    try:
        reason = filter_arg("reason")
        limit = whole("limit", 100, 1, 1000)
        offset = whole("offset", 0, 0, MAX_OFFSET)
    except ValueError as e:
        return bad_request(str(e))
    return jsonify(data().quarantine(source, reason, limit, offset))


@api.get("/geo/<parent>.json")
def boundaries(parent: str):
    """Boundaries are static for a run: sent once, cached by the browser, coloured by hideout."""
    d = data()
    body = d.boundaries_json(parent) if parent == "all" or parent in d.gaz.regions else None
    if body is None:   # unknown, or outside the account's regions: the same answer
        return bad_request(f"unknown region '{parent[:40]}'", 404)
    resp = Response(body, mimetype="application/json")
    resp.cache_control.private = True  # behind a login: no shared cache keeps it
    resp.cache_control.max_age = 3600
    return resp


MARKER_LAYERS = ("clinics", "supply", "inflows")


@api.get("/api/v1/layers/<name>.geojson")
def layer(name: str):
    """A map layer's markers as GeoJSON (?parent= region whose children get inflow circles, ?lang=).
    The wall asks with ?v=<digest of the content>, so such a URL never changes and is cached."""
    if name not in MARKER_LAYERS:
        return bad_request(f"unknown layer '{name[:40]}'; one of {', '.join(MARKER_LAYERS)}", 404)
    d = data()
    parent = request.args.get("parent", "all")
    if parent != "all" and parent not in d.gaz.regions:
        return bad_request(f"unknown region '{parent[:40]}'", 404)
    lang = request.args.get("lang", "zh")
    if lang not in ("zh", "en"):
        return bad_request(f"lang must be zh or en; got '{lang[:40]}'")
    body, digest = d.layer(name, parent, lang)
    resp = Response(body, mimetype="application/geo+json")
    resp.headers["ETag"] = digest
    if request.args.get("v") == digest:
        resp.cache_control.private = True  # behind a login: no shared cache keeps it
        resp.cache_control.max_age = 86400
    else:
        resp.cache_control.no_cache = True
    return resp


@api.get("/api/v1/openapi.json")
def openapi_json():
    from .openapi import openapi
    return jsonify(openapi())
