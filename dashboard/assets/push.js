/* The push of the data version (dashboard/push.py): one EventSource per page. Each message goes
   into the stores push-version (only when its key moved), push-status (when the sources' health
   moved) and push-beat (the as-of time); pages follow push-version with their own store, so
   nothing is asked of the server while nothing changed. A key that moved only because the next
   minute began is taken within a random few seconds, so screens do not all ask at once.
   The stream reconnects by itself: the browser retries a dropped one after `retry:` ms; a refused
   one (503: the server has as many streams as it keeps, or a proxy between) is retried here with
   a growing delay. No message for LOST_AFTER_MS shows #push-lost (the data on screen may be old). */
(function () {
  const LOST_AFTER_MS = 16000;     // three beats of 5 s missed
  const SLIDE_SPREAD_MS = 8000;
  let source = null;
  let lastMessage = Date.now();
  let retryMs = 1000;
  let pending = null;             // the newest message, until the page can take it
  const applied = {};             // store id -> JSON of the value last written
  let slideTimer = null;

  function prefix() {
    try {
      return JSON.parse(document.getElementById("_dash-config").textContent).requests_pathname_prefix || "/";
    } catch (e) {
      return "/";
    }
  }

  function ready() {  // the app's layout (with the push stores) is drawn
    return window.dash_clientside && window.dash_clientside.set_props && document.getElementById("push-bridge");
  }

  function put(id, value) {
    const text = JSON.stringify(value);
    if (applied[id] === text) return;
    applied[id] = text;
    window.dash_clientside.set_props(id, {data: value});
  }

  function versionOf(key) { return (key || "").split(".")[0]; }

  function apply() {
    if (!pending || !ready()) return;
    const m = pending;
    put("push-beat", m.as_of);
    put("push-status", m.status);
    const shown = applied["push-version"] ? JSON.parse(applied["push-version"]) : null;
    if (m.key === shown) return;
    window.clearTimeout(slideTimer);
    if (shown === null || versionOf(m.key) !== versionOf(shown)) {
      put("push-version", m.key);             // new data: at once
    } else {
      slideTimer = window.setTimeout(function () { put("push-version", pending.key); },
                                     Math.random() * SLIDE_SPREAD_MS);
    }
  }

  function connect() {
    source = new EventSource(prefix() + "api/v1/push");
    source.onmessage = function (e) {
      lastMessage = Date.now();
      retryMs = 1000;
      try {
        pending = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      apply();
    };
    source.addEventListener("denied", function (e) {   // this screen's login was revoked (access.py)
      source.close();
      source = null;
      let login = "/login";
      try { login = JSON.parse(e.data).login || login; } catch (err) { /* the default */ }
      if (window.sitroomAccess) window.sitroomAccess.leave(login);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {  // refused: the browser gives up, this does not
        source = null;
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    };
  }

  window.setInterval(function () {
    apply();  // a message that came before the page was drawn
    const lost = Date.now() - lastMessage > LOST_AFTER_MS;
    const el = document.getElementById("push-lost");
    if (el && ready() && el.hidden === lost) {
      window.dash_clientside.set_props("push-lost", {hidden: !lost});
    }
  }, 1000);

  // A page left for another keeps its stream open while it sits in the browser's back/forward cache:
  // six such pages take every connection the browser opens to one server, and the next page hangs.
  window.addEventListener("pagehide", function () {
    if (source) { source.close(); source = null; }
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !source) { lastMessage = Date.now(); connect(); }
  });

  window.sitroomPush = {state: function () { return {pending: pending, applied: applied, open: !!source}; }};
  connect();
})();

/* Clientside callbacks of the push (dashboard/push.py follow()). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  sitroomPush: (function () {
    const SLIDE_SECONDS = 60, LOCAL_OFFSET_SECONDS = 8 * 3600;   // push.py's minute slot; Asia/Shanghai
    const DRAW_TIMEOUT_MS = 30000;   // a drawing that never came back (a failed request) stops nothing for good
    const asked = {};                // follower store id -> when it last moved on
    function dataKey(key) {   // "<version>.<local day number>": twin of push.py data_key()
      const parts = (key || "").split(".");
      if (parts.length < 2) return null;
      return parts[0] + "." + Math.floor((Number(parts[1]) * SLIDE_SECONDS + LOCAL_OFFSET_SECONDS) / 86400);
    }
    return {
      follow: function (key, seen) {
        return key && key !== seen ? key : window.dash_clientside.no_update;
      },
      followData: function (key, seen) {   // new data or a new day, not each minute (push.py follow(by_day))
        const k = dataKey(key);
        return k && k !== seen ? k : window.dash_clientside.no_update;
      },
      followDrawn: function (key, drawn, seen, id) {   // push.py follow_when_drawn()
        const k = dataKey(key);
        if (!k || k === seen) return window.dash_clientside.no_update;
        if (!(id in asked)) asked[id] = Date.now();     // the page's first drawing may be under way
        const drawing = !drawn || drawn.version !== seen;
        if (drawing && Date.now() - asked[id] < DRAW_TIMEOUT_MS) return window.dash_clientside.no_update;
        asked[id] = Date.now();
        window.dash_clientside.set_props(id, {data: k});
        return window.dash_clientside.no_update;
      },
      asOf: function (asOf) {
        return asOf || window.dash_clientside.no_update;
      },
    };
  })(),
});
