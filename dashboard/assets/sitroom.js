/* Map functions referenced from Python with dash_extensions.javascript.Namespace("dashExtensions", "sitroom").
   Names, origins and addresses come from other departments' databases: a tooltip is data
   (dashboard/plain.py `tip`: lines of [css class, text] parts) built into text nodes here, never
   a string (Leaflet would set a string with innerHTML). */
window.dashExtensions = Object.assign({}, window.dashExtensions, {
  sitroom: (function () {
    let latest = {};  // the newest hideout; tooltips read it so they never show old figures
    function tipNode(lines) {
      const box = document.createElement("div");
      for (const line of Array.isArray(lines) ? lines : []) {
        const row = box.appendChild(document.createElement("div"));
        for (const part of Array.isArray(line) ? line : []) {
          const span = row.appendChild(document.createElement("span"));
          if (part[0]) span.className = String(part[0]);
          span.textContent = String(part[1]);
        }
      }
      return box;
    }
    function colourOf(v, h) {
      if (v === null || v === undefined) return h.nodata;
      if (v < h.classes[0]) return h.zero;
      let c = h.colours[0];
      for (let i = 0; i < h.classes.length; i++) if (v >= h.classes[i]) c = h.colours[i];
      return c;
    }
    return {
      tipNode: tipNode,
      style: function (feature, context) {
        const h = context.hideout || {};
        latest = h;
        const code = feature.properties.adcode;
        const alert = (h.alerts || {})[code];
        return {
          fillColor: (h.fills || {})[code] || colourOf((h.values || {})[code], h), fillOpacity: 0.88,
          color: alert || "#0b1520", weight: alert ? 4 : 1,
          className: "region region-" + code,
        };
      },
      hover: function () { return {weight: 3, color: "#e8f1ff"}; },
      bindTip: function (feature, layer) {
        const code = feature.properties.adcode;
        layer.bindTooltip(function () {
          return tipNode((latest.tips || {})[code] || [[["tip-title", feature.properties.name]]]);
        }, {sticky: true, className: "region-tip"});
      },
    };
  })(),
});

/* The alert tone: a short beep made with the Web Audio API (no audio file) while a warning on
   the banner awaits acknowledgement; escalated warnings beep louder and faster. The toggle
   (#sound-toggle, rendered by components/alert_banner.py) is remembered in this browser per kind
   of screen ("wall" or "desk"). Browsers refuse audio before a user gesture unless started with
   --autoplay-policy=no-user-gesture-required (the wall's kiosk): then #sound-note says so. */
(function () {
  const KEY = "sitroom.sound.";
  const EVERY_MS = {normal: 5000, escalated: 1500};
  let audio = null;
  let lastBeep = 0;

  function enabled(btn) {
    const saved = window.localStorage.getItem(KEY + btn.dataset.context);
    return saved === null ? btn.dataset.default === "on" : saved === "on";
  }

  function context() {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      audio = new Ctx();  // starts suspended where autoplay is blocked; a gesture resumes it
    }
    return audio;
  }

  function beep(ctx, loud) {
    const notes = loud ? [988, 1319, 988, 1319] : [880, 660];
    const peak = loud ? 0.6 : 0.2;
    notes.forEach(function (freq, i) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const start = ctx.currentTime + i * 0.18;
      osc.type = loud ? "square" : "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(peak, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    });
  }

  function tick() {
    const btn = document.getElementById("sound-toggle");
    if (!btn) return;
    const on = enabled(btn);
    const label = on ? btn.dataset.labelOn : btn.dataset.labelOff;
    if (btn.textContent !== label) btn.textContent = label;
    btn.classList.toggle("on", on);
    const firing = document.querySelector("#alert-banner .alert-row.firing");
    const loud = !!document.querySelector("#alert-banner .alert-row.firing.escalated");
    let state = on ? "quiet" : "off";
    if (on && firing) {
      const ctx = context();
      state = ctx && ctx.state === "running" ? "playing" : "blocked";
      const now = Date.now();
      if (state === "playing" && now - lastBeep >= EVERY_MS[loud ? "escalated" : "normal"]) {
        beep(ctx, loud);
        lastBeep = now;
        btn.dataset.beeps = String(Number(btn.dataset.beeps || 0) + 1);  // what a test can see
      }
    }
    btn.dataset.state = state;
    const note = document.getElementById("sound-note");
    if (note) note.hidden = state !== "blocked";
  }

  document.addEventListener("click", function (e) {
    const btn = e.target.closest && e.target.closest("#sound-toggle");
    if (btn) {
      window.localStorage.setItem(KEY + btn.dataset.context, enabled(btn) ? "off" : "on");
      lastBeep = 0;
    }
    if (audio && audio.state === "suspended") audio.resume().catch(function () {});  // a gesture unblocks
    tick();
  }, true);
  document.addEventListener("keydown", function () {
    if (audio && audio.state === "suspended") audio.resume().catch(function () {});
  }, true);
  window.setInterval(tick, 250);
  // Show the remembered choice as soon as Dash renders the toggle, not up to a tick later.
  new MutationObserver(function () {
    const btn = document.getElementById("sound-toggle");
    if (btn && !btn.dataset.ready) {
      btn.dataset.ready = "1";
      tick();
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
/* Marker layers (dashboard/components/map_layers.py): clinics, supply points, inflows. Features carry
   their colour and a severity rank; a cluster takes the colour of its worst member. */
window.dashExtensions.sitroom = Object.assign(window.dashExtensions.sitroom, (function () {
  // The icons' markup is built here from constants; every value put into it is escaped.
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  const SHAPES = {
    circle: '<circle cx="16" cy="16" r="11"/>',
    square: '<rect x="6" y="6" width="20" height="20" rx="2"/>',
    diamond: '<polygon points="16,3 29,16 16,29 3,16"/>',
    triangle: '<polygon points="16,3 30,28 2,28"/>',
    hexagon: '<polygon points="9,4 23,4 30,16 23,28 9,28 2,16"/>',
    star: '<polygon points="16,2 20,12 30,12 22,19 25,30 16,23 7,30 10,19 2,12 12,12"/>',
  };
  function icon(kind, p, body, size) {
    return L.divIcon({
      className: "mk mk-" + kind + " mk-sev-" + esc(p.sev), iconSize: [size, size], iconAnchor: [size / 2, size / 2],
      html: '<svg class="mk-body" data-id="' + esc(p.id) + '" viewBox="0 0 32 32" width="' + size + '" height="' + size +
            '" style="fill:' + esc(p.colour) + '">' + body + "</svg>",
    });
  }
  return {
    clinicMarker: function (feature, latlng) {
      const p = feature.properties;
      const body = '<circle cx="16" cy="16" r="13" stroke="#07111c" stroke-width="2"/>' +
                   '<path d="M13 8h6v5h5v6h-5v5h-6v-5H8v-6h5z" fill="#07111c"/>';
      return L.marker(latlng, {icon: icon("clinic", p, body, 32), riseOnHover: true});
    },
    supplyMarker: function (feature, latlng) {
      const p = feature.properties;
      const shape = (SHAPES[p.shape] || SHAPES.circle).replace("/>", ' stroke="#07111c" stroke-width="2"/>');
      return L.marker(latlng, {icon: icon("supply mk-shape-" + (SHAPES[p.shape] ? p.shape : "circle"), p, shape, 28),
                               riseOnHover: true});
    },
    worstCluster: function (feature, latlng, index) {
      const leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      let worst = leaves[0].properties;
      for (const l of leaves) if (l.properties.sev > worst.sev) worst = l.properties;
      const n = feature.properties.point_count;
      const size = n < 10 ? 46 : n < 100 ? 54 : 62;
      // the count says what it counts (门诊 / 保障点): never read as cases; the layer's own shape (css)
      return L.marker(latlng, {icon: L.divIcon({
        className: "mk mk-cluster mk-cluster-" + esc(worst.layer) + " mk-sev-" + esc(worst.sev), iconSize: [size, size],
        html: '<div class="mk-cluster-body" style="background:' + esc(worst.colour) + '"><span class="mk-n">' + esc(n) +
              '</span><span class="mk-unit">' + esc(worst.unit || "") + "</span></div>",
      })});
    },
    inflowCircle: function (feature, latlng) {
      const p = feature.properties;
      return L.circleMarker(latlng, {  // in the layer's own pane: over the regions whenever they are redrawn
        pane: "inflows", radius: p.radius, fillColor: p.colour, fillOpacity: 0.55, color: "#ffffff", weight: p.risk ? 3 : 1.5,
        className: "inflow inflow-" + esc(p.id) + (p.risk ? " inflow-risk" : ""),
      });
    },
    bindMarkerTip: function (feature, layer) {
      const p = feature.properties;
      if (p.cluster || !p.tip) return;
      const tipNode = window.dashExtensions.sitroom.tipNode;
      layer.bindTooltip(function () { return tipNode(p.tip); },
                        {className: "marker-tip", direction: "top", offset: [0, -14]});
    },
  };
})());

/* The wall's map panel changes size when warnings come and go in the banner or layer legends are
   switched; Leaflet does not notice by itself. Report the panel's size to the page (#map-size),
   which has the map re-measure itself and fit the region again, unless someone moved the map by
   hand (drag, wheel, +/-, double click, a cluster opened, the keyboard) since the region was shown. */
(function () {
  let watched = null;
  let timer = null;
  const observer = new ResizeObserver(function (entries) {
    const box = entries[entries.length - 1].contentRect;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {  // one report when a layout change has settled
      // Not once the wall is gone (another page has no #map-size) or while it has no size.
      if (!watched || !watched.isConnected || !box.width || !box.height) return;
      if (window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("map-size", {data: Math.round(box.width) + "x" + Math.round(box.height)});
      }
    }, 150);
  });
  let scale = null;
  window.setInterval(function () {  // the wall is rendered (and re-rendered on navigation) by Dash
    // The wall's size unit (--u, px; see sitroom.css) for what CSS cannot size: the trend's fonts.
    const wall = document.querySelector(".wall");
    const u = wall ? Math.round(parseFloat(getComputedStyle(wall).getPropertyValue("--u")) * 100) / 100 : null;
    if (u && u !== scale && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("wall-scale", {data: u});
    }
    scale = wall ? u : null;
    const wrap = document.querySelector(".map-wrap");
    if (wrap !== watched) {
      window.clearTimeout(timer);
      if (watched) observer.unobserve(watched);
      if (wrap) observer.observe(wrap);
      watched = wrap;
      window.sitroomMapMoved = false;  // a freshly rendered wall shows its region whole
    }
  }, 500);
  function onMap(e) { return e.target.closest && e.target.closest("#map"); }
  function moved() { window.sitroomMapMoved = true; }
  let down = null;
  document.addEventListener("pointerdown", function (e) {
    down = onMap(e) ? [e.clientX, e.clientY] : null;
    if (down && e.target.closest(".leaflet-control-zoom, .mk-cluster")) moved();
  }, true);
  document.addEventListener("dblclick", function (e) { if (onMap(e)) moved(); }, true);
  document.addEventListener("keydown", function (e) { if (onMap(e)) moved(); }, true);
  document.addEventListener("pointermove", function (e) {
    if (down && e.buttons && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 4) moved();
  }, true);
  document.addEventListener("pointerup", function () { down = null; }, true);
  document.addEventListener("wheel", function (e) { if (onMap(e)) moved(); }, {capture: true, passive: true});
})();

/* Clientside callbacks of the wall page. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  sitroomPage: {
    layersToUrl: function (layers, metric, view) {
      const url = new URL(window.location.href);
      url.searchParams.set("layers", (layers || []).join(","));
      if (metric) url.searchParams.set("metric", metric);
      if (view && view !== "all") url.searchParams.set("view", view); else url.searchParams.delete("view");
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
      return window.dash_clientside.no_update;
    },
    refitMap: function (size, bounds) {
      const skip = window.dash_clientside.no_update;
      if (window.dash_clientside.callback_context.triggered_id === "wall-bounds") {
        window.sitroomMapMoved = false;  // a new region was shown: fit it from now on
        return [skip, skip];
      }
      if (!size || !bounds) return [skip, skip];
      return [size, window.sitroomMapMoved ? skip : {bounds: bounds, transition: "fitBounds"}];
    },
  },
});

/* The kiosk wall's rotation (dashboard/kiosk.py): the playlist's views in turn, each for its seconds;
   a warning that fires (a firing row on the banner) shows its region until acknowledged, then the
   view that was showing starts again. And the clock, in Beijing time. All in the browser. */
window.dash_clientside.sitroomPage.kioskStep = function (_n, steps, lang) {
  const skip = window.dash_clientside.no_update;
  const parts = {};
  new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
                                    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false})
    .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
  const clock = parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second;
  if (!steps || !steps.length) return [skip, clock, skip];
  const k = window.sitroomKiosk = window.sitroomKiosk || {i: 0, since: Date.now(), shown: null};
  const now = Date.now();
  const firing = document.querySelector("#alert-banner .alert-row.firing[data-region]");
  let step;
  if (firing) {
    step = {view: "alert", region: firing.dataset.region, alert: firing.dataset.alert};
    k.since = now;   // the interrupted view runs its full time once the warning is acknowledged
  } else {
    if (now - k.since >= steps[k.i % steps.length].seconds * 1000) {
      k.i = (k.i + 1) % steps.length;
      k.since = now;
    }
    step = Object.assign({i: k.i}, steps[k.i % steps.length]);
  }
  const key = JSON.stringify(step);
  if (key === k.shown) return [skip, clock, skip];
  k.shown = key;
  const mode = step.view === "alert" ? "region mode-alert" : step.view;
  return [step, clock, "wall-main mode-" + mode];
};
/* Leaflet's zoom buttons carry English tooltips; the map's box says them in the page's language
   (data-zoom-in / data-zoom-out, from the catalog: dashboard/pages/wall.py). */
(function () {
  function say() {
    document.querySelectorAll("[data-zoom-in] .leaflet-control-zoom a").forEach(function (a) {
      const box = a.closest("[data-zoom-in]");
      const word = a.classList.contains("leaflet-control-zoom-in") ? box.dataset.zoomIn : box.dataset.zoomOut;
      if (word && a.title !== word) {
        a.title = word;
        a.setAttribute("aria-label", word);
      }
    });
  }
  new MutationObserver(say).observe(document.documentElement, {childList: true, subtree: true});
})();
