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
