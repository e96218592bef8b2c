"""The OpenAPI 3.0 description of the JSON API (served at /api/v1/openapi.json).

What the API takes is said here (ids, enums, text limits from sitroom.validate), so that a
property-based fuzzer (tests/test_api_fuzz.py, schemathesis) can try everything it allows and
everything it does not; every answer is JSON, an error one is {"error": reason}.
"""
from __future__ import annotations

from sitroom.validate import LIMITS, MAX_ID, MAX_OFFSET, SILENCE_MINUTES

from .api import ACTION_FIELDS, ALERT_STATES, DELIVERY_STATUSES, LEVEL_NAMES, MARKER_LAYERS

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}
ANY_OBJECT = {"type": "object"}
FORMATS = (("", JSON), (".csv", "text/csv"))   # a route's JSON answer, and the same rows as CSV


def _answer(description: str, schema=None, media: str = JSON) -> dict:
    return {"description": description, "content": {media: {"schema": schema or ANY_OBJECT}}}


def _errors(*codes: int) -> dict:
    words = {400: "Bad input, with the reason", 401: "Not signed in (session or Bearer token)",
             403: "Signed in, but the role or the token's scope does not allow it",
             404: "Not found (or outside the account's regions)", 409: "Someone got there first",
             413: "Body too large", 503: "The store cannot be used now"}
    return {str(c): _answer(words[c], ERROR) for c in (*codes, 401, 403)}


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


ALERT_ID = {"name": "alert_id", "in": "path", "required": True,
            "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}}
WHOLE = {"type": "integer", "format": "int64"}
LIST = {"type": "array", "items": ANY_OBJECT}


def _get(summary: str, ok_schema=None, params=(), errors=(400,), media: str = JSON) -> dict:
    return {"get": {"summary": summary, "parameters": list(params),
                    "responses": {"200": _answer("OK", ok_schema, media), **_errors(*errors)}}}


def _action(action: str) -> dict:
    field, required = ACTION_FIELDS[action]
    # no 'by': the actor is the signed-in account (or the token's), and a body naming one is refused
    props = {field: {"type": "string", "minLength": 1, "maxLength": LIMITS[field]}}
    body = {"type": "object", "properties": props, "required": [field] if required else [],
            "additionalProperties": False}
    return {"post": {"summary": f"An officer's '{action}' of an alert (role officer or admin, token scope act)",
                     "parameters": [ALERT_ID],
                     "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
                     "responses": {"200": _answer("The alert after the action"),
                                   **_errors(400, 404, 409, 413, 503)}}}


def _silences() -> dict:
    """A (rule, region) silenced for a time: listed, made, lifted early (sitroom.silences)."""
    body = {"type": "object", "additionalProperties": False, "required": ["rule", "region", "minutes", "reason"],
            "properties": {
                "rule": {"type": "string", "minLength": 1, "maxLength": 64, "description": "a rule's id in rules.yaml"},
                "region": {"type": "string", "minLength": 1, "maxLength": 6, "description": "a region code the rule watches"},
                "minutes": {"type": "integer", "minimum": SILENCE_MINUTES[0], "maximum": SILENCE_MINUTES[1]},
                "reason": {"type": "string", "minLength": 1, "maxLength": LIMITS["reason"]}}}
    silence_id = {"name": "silence_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}}
    return {
        "/api/v1/silences": {
            **_get("Silences in force, the soonest to end first", LIST, errors=()),
            "post": {"summary": "Silence a (rule, region) for some minutes, with the reason (an officer's)",
                     "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
                     "responses": {"201": _answer("The silence"), **_errors(400, 404, 409, 413, 503)}}},
        "/api/v1/silences/{silence_id}/lift": {
            "post": {"summary": "Lift a silence before its time (an officer's)", "parameters": [silence_id],
                     "requestBody": {"required": False, "content": {JSON: {"schema": {
                         "type": "object", "additionalProperties": False, "properties": {}}}}},
                     "responses": {"200": _answer("The silence, ended"), **_errors(400, 404, 409, 413, 503)}}},
    }


def openapi() -> dict:
    paths = {
        "/healthz": {"get": {"summary": "The store (reachable, writable) and the loaders (heartbeat)",
                             "responses": {"200": _answer("Both are up"), "503": _answer("Either is down")}}},
        "/api/v1/openapi.json": _get("This description", errors=()),
        **{f"/api/v1/regions{ext}": _get("Regions of the gazetteer (in the account's scope)", LIST, [
            _query("level", {"type": "string", "enum": list(LEVEL_NAMES)}),
            _query("parent", {"type": "string"}, "name, pinyin or code of the parent region"),
            _query("figures", {"type": "string", "enum": ["1", "true", "yes", "0"]}, "with each region's figures")],
            media=media) for ext, media in FORMATS},
        **{f"/api/v1/summary{ext}": _get("Totals, per province its regions, buckets and unplaced figures",
                                         errors=(503,), media=media) for ext, media in FORMATS},
        **{f"/api/v1/totals_check{ext}": _get("Per aggregate source: the publisher's totals beside ours",
                                              errors=(503,), media=media) for ext, media in FORMATS},
        "/api/v1/alerts": _get("Alerts in a state, or the pending conditions", LIST,
                               [_query("state", {"type": "string", "enum": list(ALERT_STATES)})]),
        "/api/v1/rules/status": _get("Whether rules.yaml on disk is what runs", errors=()),
        "/api/v1/notify/status": _get("Whether notify.yaml on disk is what runs", errors=()),
        "/api/v1/alerts/{alert_id}": _get("An alert with its trail", params=[ALERT_ID], errors=(400, 404)),
        **{f"/api/v1/alerts/{{alert_id}}/{a}": _action(a) for a in ACTION_FIELDS},
        **_silences(),
        "/api/v1/deliveries": _get("Webhook deliveries, newest first", LIST, [
            _query("alert", {**WHOLE, "minimum": 1, "maximum": MAX_ID}),
            _query("status", {"type": "string", "enum": list(DELIVERY_STATUSES)}),
            _query("target", {"type": "string", "maxLength": 200}),
            _query("limit", {**WHOLE, "minimum": 1, "maximum": 1000})]),
        "/api/v1/sources": _get("Each source's health and counts", LIST, errors=()),
        "/api/v1/quarantine": _get("Quarantined rows with their reasons", params=[
            _query("source", {"type": "string"}), _query("reason", {"type": "string", "maxLength": 200}),
            _query("limit", {**WHOLE, "minimum": 1, "maximum": 1000}),
            _query("offset", {**WHOLE, "minimum": 0, "maximum": MAX_OFFSET})]),
        "/api/v1/layers/{name}.geojson": _get("A map layer's markers", params=[
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": list(MARKER_LAYERS)}},
            _query("parent", {"type": "string"}), _query("lang", {"type": "string", "enum": ["zh", "en"]}),
            _query("v", {"type": "string"})], errors=(400, 404), media="application/geo+json"),
        "/geo/{parent}.json": _get("Boundaries of a region's children ('all': every prefecture)", params=[
            {"name": "parent", "in": "path", "required": True, "schema": {"type": "string"}}], errors=(404,)),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "sitroom", "version": "1",
                 "description": "The situation room's JSON API. Every answer is JSON (a .csv route's rows are CSV); "
                                "an error is {\"error\": reason}."},
        "paths": paths,
        "components": {"schemas": {"Error": {"type": "object", "required": ["error"],
                                             "properties": {"error": {"type": "string"}}}},
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "sitroom tokens create --user NAME"},
                                           "session": {"type": "apiKey", "in": "cookie", "name": "sitroom_session"}}},
        "security": [{"token": []}, {"session": []}],
    }
