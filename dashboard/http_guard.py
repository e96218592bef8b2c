"""What every request passes before and after the pages and the API see it: the Host allow-list,
the body size limit, JSON errors for the API (404, 405, 413, 400 with the reason, 503 for store
trouble), Dash's own routes kept from answering 500, and the security headers.

Browsers call Flask routes and Dash callbacks alike, so both are guarded here, in one place:
a malformed callback request is refused before Dash reads it, and an exception a callback raises
on values no browser of ours sends is a 400 (logged with its traceback), never a 500 page.
"""
from __future__ import annotations

import functools
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass

import dash
from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

from sitroom.store.db import store_fault
from sitroom.store.health import fault_code, fault_text

log = logging.getLogger(__name__)
JSON_PREFIXES = ("/api/", "/healthz", "/geo/", "/_dash-")   # answered in JSON, errors included
CALLBACK_PATH = "/_dash-update-component"
SUITES_PREFIX = "/_dash-component-suites/"
MAX_JSON_DEPTH = 64      # deeper than any request of ours; stops a 100,000-deep body before json.loads
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int          # API bodies (dashboard.yaml max_body_bytes)
    max_callback_bytes: int      # Dash callback bodies carry component state: larger
    allowed_hosts: frozenset[str]


OWN_ADDRESSES = "(this machine's addresses)"   # in allowed_hosts: any IP address of this machine


def allowed_hosts(configured: list[str], bound_host: str | None) -> frozenset[str]:
    """dashboard.yaml's allowed_hosts, or by default the address the server is bound to and
    localhost (with a wildcard bind, this machine's own names and IP addresses as well)."""
    names = {h.strip().lower().strip("[]") for h in configured if h.strip()}
    if not names:
        names = set(LOCAL_NAMES)
        if bound_host is not None:
            names.add(bound_host.lower().strip("[]"))
            if bound_host in WILDCARD_BINDS:
                names |= {socket.gethostname().lower(), socket.getfqdn().lower(), OWN_ADDRESSES}
    return frozenset(names)


@functools.lru_cache(maxsize=256)
def own_address(host: str) -> bool:
    """Whether `host` is an IP address of this machine: only a local address can be bound. (A page
    of another site cannot reach us under an address literal, so this keeps DNS rebinding out.)"""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return False
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
    return True


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    return "*" in allowed or host in allowed or (OWN_ADDRESSES in allowed and own_address(host))


def _host_name(header: str) -> str:
    """The name in a Host header, without its port ('[::1]:8050' -> '::1')."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def json_error(reason: str, status: int, **extra) -> Response:
    resp = jsonify({"error": reason, **extra})
    resp.status_code = status
    return resp


def _wants_json(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def json_depth_ok(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects at most `limit` deep (strings skipped); a linear scan,
    so a hostile body costs its length, not the recursion json.loads would spend on it."""
    depth, in_string, escaped = 0, False, False
    for b in raw:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:      # backslash
                escaped = True
            elif b == 0x22:      # quote
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return False
        elif b in (0x5D, 0x7D):
            depth -= 1
    return True


def json_body() -> object:
    """The request's JSON body, or raises BadBody with the reason (too deep, not JSON, not UTF-8)."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadBody("the body is empty; send JSON")
    if not json_depth_ok(raw):
        raise BadBody(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadBody(f"the body is not UTF-8 (byte {e.start})") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise BadBody(f"the body is not JSON: {e}") from None


class BadBody(ValueError):
    pass


def install(app: dash.Dash, limits: Limits, csp) -> None:
    """`csp()` gives the Content-Security-Policy; it is asked once, after the first request (when
    Dash has registered every callback, so the hashes of its inline scripts are all known)."""
    server: Flask = app.server
    policy: list[str] = []
    _guard_callbacks(app, server)
    _guard_component_suites(server)

    @server.before_request
    def _before():
        host = _host_name(request.host or "")
        if not host_allowed(host, limits.allowed_hosts):
            return json_error(f"host '{host[:100]}' is not served here (dashboard.yaml allowed_hosts)", 400)
        path = request.path
        limit = limits.max_callback_bytes if path == CALLBACK_PATH else limits.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return json_error(f"the body is {request.content_length:,} bytes; at most {limit:,} are accepted", 413)
        request.max_content_length = limit  # a chunked body is cut off at the limit as it is read
        if request.method == "OPTIONS" and _wants_json(path):   # Flask's own answer would be empty HTML
            allowed = _api_methods(server) if not path.startswith("/_dash-") else ["POST"]
            resp = jsonify({"allow": allowed})
            resp.headers["Allow"] = ", ".join(allowed)
            return resp
        if _wants_json(path) and not path.startswith("/_dash-"):
            return _unknown_api_route(server)
        return None

    @server.after_request
    def _headers(resp: Response) -> Response:
        h = resp.headers
        if not policy:
            policy.append(csp())
        h.setdefault("Content-Security-Policy", policy[0])
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.pop("Server", None)
        return resp

    @server.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        if not _wants_json(request.path):
            return e
        if isinstance(e, RequestEntityTooLarge):
            return json_error(f"the body is larger than {request.max_content_length:,} bytes", 413)
        return json_error(e.description or e.name, e.code or 400)

    @server.errorhandler(DBAPIError)
    def _store_error(e: DBAPIError):
        code = fault_code(e)
        if not store_fault(e):  # not the store's trouble: a statement of ours it refused (a bug)
            log.error("store refused a statement on %s %s", request.method, request.path, exc_info=e)
            return json_error("internal error (logged)", 500)
        reason = fault_text(e)
        log.warning("store fault on %s %s: %s", request.method, request.path, reason)
        return json_error(f"not done: {reason}", 503, store=code)

    @server.errorhandler(BadBody)
    def _bad_body(e: BadBody):
        return json_error(str(e), 400)


def _api_methods(server: Flask) -> list[str]:
    """The methods an API route serves at this request's path (the Dash page's catch-all is none)."""
    adapter = server.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if not server.url_map._rules_by_endpoint[endpoint][0].rule.startswith("/<path:"):
            allowed.append(method)
    return allowed


def _unknown_api_route(server: Flask):
    """An API path no API route serves: 404, or 405 when another method would be served (never
    the Dash page that the catch-all route would answer)."""
    rule = request.url_rule
    if rule is not None and not rule.rule.startswith("/<path:") and request.method != "OPTIONS":
        return None
    allowed = _api_methods(server)
    if allowed and request.method not in allowed:
        resp = json_error(f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}", 405)
        resp.headers["Allow"] = ", ".join(allowed)
        return resp
    return json_error(f"no such API route: {request.path[:200]}", 404)


# Errors of callbacks that Python code raises on values of a type or size no page of ours sends.
BAD_INPUT = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RecursionError,
             UnicodeError, LookupError, dash.exceptions.UnsupportedRelativePath)


def _guard_callbacks(app: dash.Dash, server: Flask) -> None:
    endpoint = app.config.routes_pathname_prefix + CALLBACK_PATH.lstrip("/")
    dispatch = server.view_functions[endpoint]

    def guarded():
        try:
            body = json_body()
        except BadBody as e:
            return json_error(str(e), 400)
        problem = _callback_shape(app, body)
        if problem:
            return json_error(problem, 400)
        request._cached_json = (body, body)  # Dash reads it again with get_json()
        try:
            return dispatch()
        except (HTTPException, DBAPIError, dash.exceptions.PreventUpdate):
            raise
        except BAD_INPUT as e:
            log.warning("callback %s refused its input: %s: %s", body.get("output"), type(e).__name__, e,
                        exc_info=True)
            return json_error(f"callback input not accepted: {type(e).__name__}: {str(e)[:200]}", 400)

    guarded.__name__ = dispatch.__name__
    server.view_functions[endpoint] = guarded


def _callback_shape(app: dash.Dash, body) -> str | None:
    """Why a callback request is not one the Dash renderer sends, or None."""
    if not isinstance(body, dict):
        return "a callback request is a JSON object"
    output = body.get("output")
    if not isinstance(output, str):
        return "'output' must be text"
    cb = app.callback_map.get(output)
    if cb is None:
        return f"no callback for output '{output[:200]}'"
    for key in ("inputs", "state"):
        items = body.get(key, [])
        if not isinstance(items, list):
            return f"'{key}' must be a list"
        for item in items:
            for one in (item if isinstance(item, list) else [item]):
                if not isinstance(one, dict) or not isinstance(one.get("property"), str) or "id" not in one:
                    return f"each of '{key}' is an object with 'id' and 'property'"
    declared = len(cb.get("inputs", [])) + len(cb.get("state", []))
    if len(body.get("inputs", [])) + len(body.get("state", [])) != declared:
        return f"callback '{output[:200]}' takes {declared} inputs and states"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of text"
    outputs = body.get("outputs", [])
    if not isinstance(outputs, (list, dict)):
        return "'outputs' must be a list or an object"
    for one in (outputs if isinstance(outputs, list) else [outputs]):
        for o in (one if isinstance(one, list) else [one]):
            if not isinstance(o, dict) or not isinstance(o.get("property"), str) or "id" not in o:
                return "each of 'outputs' is an object with 'id' and 'property'"
    return None


def _guard_component_suites(server: Flask) -> None:
    """Dash raises (a 500) for a path it does not serve; such a path is simply not found."""
    for endpoint, view in list(server.view_functions.items()):
        if not endpoint.endswith("_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"):
            continue

        def guarded(package_name, fingerprinted_path, _view=view):
            try:
                return _view(package_name, fingerprinted_path)
            except (dash.exceptions.DependencyException, KeyError, OSError, ValueError):
                raise NotFound(f"no such file: {package_name[:60]}/{fingerprinted_path[:200]}") from None

        server.view_functions[endpoint] = guarded
