// Draws the dashboard charts from the JSON the page embeds (json_script "chart-data").
// Each card has one or more panels (one per currency where it shows money: amounts of
// different currencies never share an axis); each panel is its own small chart, drawn on the
// canvas "chart-<key>-<panel number>".
(function () {
  "use strict";
  var palette = ["#1f6feb", "#12b76a", "#f79009", "#f04438", "#7a5af8", "#667085", "#0ba5ec", "#ee46bc"];

  function yTicks(spec) {
    if (spec.percent) { return { callback: function (v) { return Math.round(v * 100) + "%"; } }; }
    // Counts of whole things step by whole numbers (never 0.5 of a promise).
    if (spec.whole) { return { precision: 0 }; }
    return {};
  }

  // A dataset with "band_of" is the lower or ("band_top") upper edge of an interval around the
  // line whose "arm" it names: drawn without points in that line's colour, the area between
  // the two edges shaded.
  function drawPanel(canvas, spec, panel) {
    var colours = {};
    var lines = 0;
    var datasets = panel.datasets.map(function (ds) {
      if (ds.band_of === undefined) {
        var colour = palette[lines % palette.length];
        lines += 1;
        if (ds.arm !== undefined) { colours[ds.arm] = colour; }
        return { label: ds.label, data: ds.data, backgroundColor: colour, borderColor: colour,
                 spanGaps: true, tension: 0.2 };
      }
      var edge = colours[ds.band_of] || palette[0];
      return { label: ds.label, data: ds.data, borderColor: "transparent",
               backgroundColor: edge + "33", pointRadius: 0, spanGaps: true, tension: 0.2,
               fill: ds.band_top ? "-1" : false };
    });
    new Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: {
          x: { stacked: spec.stacked },
          y: { stacked: spec.stacked, beginAtZero: true, ticks: yTicks(spec) }
        },
        plugins: { legend: { display: datasets.length > 1, position: "bottom",
                             labels: { filter: function (item) { return item.text !== ""; } } } }
      }
    });
  }

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    Object.keys(charts).forEach(function (key) {
      var spec = charts[key];
      spec.panels.forEach(function (panel, n) {
        var canvas = document.getElementById("chart-" + key + "-" + n);
        if (canvas) { drawPanel(canvas, spec, panel); }
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
