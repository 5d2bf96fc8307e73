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

  function drawPanel(canvas, spec, panel) {
    var datasets = panel.datasets.map(function (ds, i) {
      var colour = palette[i % palette.length];
      return { label: ds.label, data: ds.data, backgroundColor: colour, borderColor: colour,
               spanGaps: true, tension: 0.2 };
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
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } }
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
