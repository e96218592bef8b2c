/* /alerts, the officer's queue. A click on a row chooses its alert (here, not as a row callback:
   a click on the row's tick box or Acknowledge button must not open the detail as well). Between
   redraws the age column counts its minutes on (each cell carries its start and its text). */
(function () {
  document.addEventListener("click", function (e) {
    const row = e.target.closest && e.target.closest("#al-queue tr.al-row");
    if (!row || e.target.closest(".al-pick-cell, .al-ack-cell")) return;
    const id = Number(row.dataset.alert);
    if (Number.isInteger(id) && window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("al-selected", {data: id});
    }
  });
  setInterval(function () {
    const now = Date.now();
    document.querySelectorAll("#al-queue .al-age[data-since]").forEach(function (td) {
      const n = Math.max(0, Math.floor((now - Date.parse(td.dataset.since)) / 60000));
      const text = (td.dataset.text || "").replace("{n}", String(n));
      // the text node React wrote, changed in place (React keeps updating that node)
      if (td.firstChild && td.firstChild.nodeType === 3 && td.firstChild.nodeValue !== text) td.firstChild.nodeValue = text;
    });
  }, 30000);
})();
