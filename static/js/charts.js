// Draws the dashboard charts from the JSON the page embeds (json_script "chart-data").
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    var palette = ["#1f6feb", "#12b76a", "#f79009", "#f04438", "#7a5af8", "#667085", "#0ba5ec", "#ee46bc"];
    Object.keys(charts).forEach(function (key) {
      var canvas = document.getElementById("chart-" + key);
      if (!canvas) { return; }
      var spec = charts[key];
      var percent = spec.percent;
      var datasets = spec.datasets.map(function (ds, i) {
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
            y: { stacked: spec.stacked, beginAtZero: true,
                 ticks: percent ? { callback: function (v) { return Math.round(v * 100) + "%"; } } : {} }
          },
          plugins: { legend: { position: "bottom" } }
        }
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
