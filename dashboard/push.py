"""Screens are told when the data moved (server-sent events) instead of each page polling every second.

One watcher thread per web process reads the store's data version every WATCH_SECONDS (one
indexed one-row read, however many screens are open) and the sources' health every second.
Every open stream (GET /api/v1/push, text/event-stream) gets a message when either moves, and
the same message again every BEAT_SECONDS so the page knows the server is there:

    {"key": "<version>.<minute>.<rules digest>", "status": "<digest of stale or failing sources>",
     "as_of": "2026-12-01 17:31:05"}

assets/push.js puts the message into the stores `push-version`, `push-status`, `push-beat`
(in the app's layout, so they outlive page changes); a page follows `push-version` with its
own store (`follow()`), which moves only when the key moves: a new data version, the next
minute (the 24-hour windows slide; each screen takes that one within a random few seconds), or
changed rules. Nothing changed: nothing is asked of the server.

Threads: a stream holds one of the web server's threads while it is open (waitress, and
gunicorn's gthread worker, run one request per thread). `sitroom serve` runs --threads for
requests plus --push-streams for streams, and refuses a stream over that number (503; the page
tries again later), so requests always have their threads.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from flask import Blueprint, Response, current_app
from sqlalchemy import select

from sitroom.series import LOCAL_OFFSET
from sitroom.store.models import DataVersion

from .screen_data import SLIDE_SECONDS, ScreenData

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.05      # a new version reaches the screens within this (plus the send)
STATUS_SECONDS = 1.0      # sources' health: as often as the loaders poll
BEAT_SECONDS = 5.0        # a message at least this often; push.js calls the server lost after 3 missed
CHECK_SECONDS = 1.0       # an open stream re-checks its screen's login this often (a revoked wall leaves)
RETRY_MS = 2000           # the browser's reconnect delay after a dropped stream (a server restart)
DEFAULT_STREAMS = 100

push_api = Blueprint("push", __name__)


class PushFull(Exception):
    pass


class PushHub:
    """The current message and the open streams of one web process."""

    def __init__(self, data: ScreenData, limit: int = DEFAULT_STREAMS):
        self.data, self.limit = data, limit
        self._cond = threading.Condition()
        self._seq = 0
        self._message: dict | None = None
        self._version: int | None = None
        self.streams = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # ------------------------------------------------------------------ the watcher
    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._refresh(force=True)
                self._thread = threading.Thread(target=self._run, name="push-watch", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        last_status = time.monotonic()
        failing = False
        while not self._stop.wait(WATCH_SECONDS):
            try:
                due = time.monotonic() - last_status >= STATUS_SECONDS
                self._refresh(force=due)
                if due:
                    last_status = time.monotonic()
                if failing:
                    log.info("push: the store answers again")
                failing = False
            except Exception as e:  # the store is away: say so (the wall's banner tells why), try again
                if not failing:
                    log.warning("push: cannot read the data version: %s", str(e).splitlines()[0])
                    self._publish_status("store-away")
                failing = True
                self._stop.wait(1.0)

    def _publish_status(self, status: str) -> None:
        with self._cond:
            if self._message is not None and self._message["status"] != status:
                self._message = {**self._message, "status": status}
                self._seq += 1
                self._cond.notify_all()

    def _read_version(self) -> int:
        with self.data.engine.connect() as c:
            return int(c.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one())

    def _refresh(self, force: bool) -> None:
        version = self._read_version()
        slot = int(time.time() // SLIDE_SECONDS)
        old = self._message
        if not force and old is not None and version == self._version and old["slot"] == slot:
            return
        if version != self._version:
            self.data.saw_version(version)   # callbacks that follow this message read this version or newer
            self._version = version
        message = self._compose(version, slot)
        with self._cond:
            self._message = message
            if old is None or message["key"] != old["key"] or message["status"] != old["status"]:
                self._seq += 1
                self._cond.notify_all()

    def _compose(self, version: int, slot: int) -> dict:
        from .components.alert_banner import local_time
        beat, health = self.data.heartbeat(), self.data.health()
        rules = (self.data.rt.rules().digest or "")[:8]
        sources = [(s["name"], "down" if s["error"] else "stale" if s["stale"] else "ok", (s["error"] or "")[:120],
                   # a stale source's age, in beats: its banner line counts up while it lasts
                   int((s["age_seconds"] or 0) // BEAT_SECONDS) if s["stale"] else 0) for s in beat["sources"]]
        store = health["store"]
        state = [sources, store.get("reachable"), store.get("writable"), health["loaders"].get("running")]
        status = hashlib.sha1(json.dumps(state, default=str).encode()).hexdigest()[:12]
        return {"key": f"{version}.{slot}.{rules}", "status": status, "slot": slot,
                "as_of": local_time(beat["as_of"], "%Y-%m-%d %H:%M:%S")}

    # ------------------------------------------------------------------ what pages and streams read
    def message(self) -> dict:
        self.start()
        return self._message

    def key(self) -> str | None:
        try:
            return self.message()["key"]
        except Exception:  # no store: the page draws what it can, the first push message sets the key
            return None

    def open_stream(self, allowed=lambda: None):
        """The event stream of one screen (a generator of SSE text); PushFull when the limit is reached.
        `allowed()` (access.Access.still_allowed) is asked every CHECK_SECONDS: "denied" ends the stream
        with a `denied` event (push.js goes to the login page), "idle" ends it quietly."""
        self.start()
        with self._cond:
            if self.streams >= self.limit:
                raise PushFull(f"{self.streams} push streams are open, the most this server keeps (--push-streams)")
            self.streams += 1
        return self._stream(allowed)

    def _stream(self, allowed):
        try:
            with self._cond:
                seq, message = self._seq, self._message
            yield f"retry: {RETRY_MS}\n" + _event(message)
            sent = time.monotonic()
            while not self._stop.is_set():
                with self._cond:
                    moved = self._cond.wait_for(lambda: self._seq != seq or self._stop.is_set(), timeout=CHECK_SECONDS)
                    seq, message = self._seq, self._message
                if self._stop.is_set():
                    return
                refused = allowed()
                if refused == "denied":
                    yield "event: denied\ndata: {\"login\":\"/login\"}\n\n"
                    return
                if refused:
                    return
                if moved or time.monotonic() - sent >= BEAT_SECONDS:
                    yield _event(message)   # news, or the same message as a beat
                    sent = time.monotonic()
        finally:  # the screen went away (the next write failed) or the server stops
            with self._cond:
                self.streams -= 1


def _event(message: dict) -> str:
    body = {k: message[k] for k in ("key", "status", "as_of")}
    return "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"


def hub() -> PushHub:
    return current_app.extensions["sitroom_push"]


@push_api.get("/api/v1/push")
def push_stream():
    try:
        stream = hub().open_stream(current_app.extensions["sitroom_access"].still_allowed())
    except PushFull as e:
        resp = Response(json.dumps({"error": str(e)}), status=503, mimetype="application/json")
        resp.headers["Retry-After"] = "10"
        return resp
    resp = Response(stream, mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache, no-transform"
    resp.headers["X-Accel-Buffering"] = "no"   # a reverse proxy must pass each message on at once
    return resp


def install(app, streams: int = DEFAULT_STREAMS) -> PushHub:
    server = app.server
    the_hub = PushHub(server.config["SITROOM_DATA"], streams)
    server.extensions["sitroom_push"] = the_hub
    server.register_blueprint(push_api)
    return the_hub


def stores() -> list:
    """What push.js writes into; in the app's layout, so a page change keeps them."""
    return [dcc.Store(id="push-version"), dcc.Store(id="push-status"), dcc.Store(id="push-beat"),
            html.Div(id="push-bridge", hidden=True)]


def current_key(by_day: bool = False) -> str | None:
    """The key a page is drawn for (its follower store's first value: no second drawing on load);
    `by_day`: its `data_key`."""
    key = hub().key()
    return data_key(key) if by_day and key else key


def data_key(key: str) -> str:
    """"<version>.<local day number>" of a pushed key: it moves with the data and at local midnight,
    not every minute nor with the rules. What a page of whole days follows (/trends): it has no
    sliding 24-hour window to redraw each minute. Twin of push.js `dataKey`."""
    version, slot = key.split(".")[:2]
    return f"{version}.{(int(slot) * SLIDE_SECONDS + int(LOCAL_OFFSET.total_seconds())) // 86400}"


def current_as_of() -> str:
    try:
        return hub().message()["as_of"]
    except Exception:
        return "—"


def follow(store_id: str, by_day: bool = False) -> None:
    """The page's store `store_id` takes the pushed key when it differs (in the browser: no request);
    `by_day`: its `data_key`, so the page redraws for new data or a new day only.
    Not on the page's first drawing: a callback that leaves its output alone then would keep the
    page's own first callbacks (which follow that store) from running at all."""
    clientside_callback(ClientsideFunction("sitroomPush", "followData" if by_day else "follow"),
                        Output(store_id, "data"), Input("push-version", "data"), State(store_id, "data"),
                        prevent_initial_call=True)


def follow_when_drawn(store_id: str, drawn_id: str) -> None:
    """As follow(by_day=True), for a page whose drawing may take longer than versions take to move
    (/trends computes every region's figures): `store_id` moves on only once the page's callback has
    drawn the version it holds (it writes that version as "version" into store `drawn_id`), so a new
    version never cancels a drawing under way (Dash drops a callback's answer when its input moved
    again): the page draws the newest version when done, and nothing is asked twice at once.
    The page puts a dcc.Store `<store_id>-sink` in its layout (this callback's formal output)."""
    clientside_callback(ClientsideFunction("sitroomPush", "followDrawn"), Output(f"{store_id}-sink", "data"),
                        Input("push-version", "data"), Input(drawn_id, "data"), State(store_id, "data"),
                        State(store_id, "id"), prevent_initial_call=True)
