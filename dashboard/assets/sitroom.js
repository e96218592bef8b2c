/* Map functions referenced from Python with dash_extensions.javascript.Namespace("dashExtensions", "sitroom"). */
window.dashExtensions = Object.assign({}, window.dashExtensions, {
  sitroom: (function () {
    let latest = {};  // the newest hideout; tooltips read it so they never show old figures
    function colourOf(v, h) {
      if (v === null || v === undefined) return h.nodata;
      if (v < h.classes[0]) return h.zero;
      let c = h.colours[0];
      for (let i = 0; i < h.classes.length; i++) if (v >= h.classes[i]) c = h.colours[i];
      return c;
    }
    return {
      style: function (feature, context) {
        const h = context.hideout || {};
        latest = h;
        const code = feature.properties.adcode;
        const alert = (h.alerts || {})[code];
        return {
          fillColor: colourOf((h.values || {})[code], h), fillOpacity: 0.88,
          color: alert || "#0b1520", weight: alert ? 4 : 1,
          className: "region region-" + code,
        };
      },
      hover: function () { return {weight: 3, color: "#e8f1ff"}; },
      bindTip: function (feature, layer) {
        const code = feature.properties.adcode;
        layer.bindTooltip(function () {
          return (latest.tips || {})[code] || feature.properties.name;
        }, {sticky: true, className: "region-tip"});
      },
    };
  })(),
});

/* Marker layers (dashboard/components/map_layers.py): clinics, supply points, inflows. Features carry
   their colour and a severity rank; a cluster takes the colour of its worst member. */
window.dashExtensions.sitroom = Object.assign(window.dashExtensions.sitroom, (function () {
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
      className: "mk mk-" + kind + " mk-sev-" + p.sev, iconSize: [size, size], iconAnchor: [size / 2, size / 2],
      html: '<svg class="mk-body" data-id="' + esc(p.id) + '" viewBox="0 0 32 32" width="' + size + '" height="' + size +
            '" style="fill:' + p.colour + '">' + body + "</svg>",
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
      return L.marker(latlng, {icon: icon("supply mk-shape-" + p.shape, p, shape, 28), riseOnHover: true});
    },
    worstCluster: function (feature, latlng, index) {
      const leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      let worst = leaves[0].properties;
      for (const l of leaves) if (l.properties.sev > worst.sev) worst = l.properties;
      const n = feature.properties.point_count;
      const size = n < 10 ? 40 : n < 100 ? 48 : 56;
      return L.marker(latlng, {icon: L.divIcon({
        className: "mk mk-cluster mk-cluster-" + worst.layer + " mk-sev-" + worst.sev, iconSize: [size, size],
        html: '<div class="mk-cluster-body" style="background:' + worst.colour + '"><span>' + n + "</span></div>",
      })});
    },
    inflowCircle: function (feature, latlng) {
      const p = feature.properties;
      return L.circleMarker(latlng, {
        radius: p.radius, fillColor: p.colour, fillOpacity: 0.55, color: "#ffffff", weight: p.risk ? 3 : 1.5,
        className: "inflow inflow-" + p.id + (p.risk ? " inflow-risk" : ""),
      });
    },
    bindMarkerTip: function (feature, layer) {
      const p = feature.properties;
      if (p.cluster || !p.tip) return;
      layer.bindTooltip(p.tip, {className: "marker-tip", direction: "top", offset: [0, -14]});
    },
  };
})());

/* Clientside callbacks of the wall page. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  sitroomPage: {
    layersToUrl: function (layers) {
      const url = new URL(window.location.href);
      url.searchParams.set("layers", (layers || []).join(","));
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
      return window.dash_clientside.no_update;
    },
  },
});
