/* The managers' dashboard charts (/insights/), drawn by the vendored Chart.js from the page's
   own JSON (#insights-chart): no network, no inline script. Right-to-left under Persian: the
   time axis runs from the right, the value axis stands on the right, legends and tooltips
   read right-to-left, and every number is written with Persian digits. */
(function () {
  "use strict";

  function start() {
    var source = document.getElementById("insights-chart");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var Chart = window.Chart;
    var rtl = !!data.rtl;
    var numbers = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 2 });
    var style = getComputedStyle(document.body);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = "#5f6b7a";
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;

    function options(extra) {
      var value = {
        position: rtl ? "right" : "left",
        beginAtZero: true,
        ticks: { callback: function (v) { return numbers.format(v); } },
      };
      var result = {
        locale: data.locale,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr", labels: { boxWidth: 12 } },
          tooltip: {
            rtl: rtl,
            textDirection: rtl ? "rtl" : "ltr",
            callbacks: {
              label: function (item) {
                var v = item.parsed.y === undefined ? item.parsed : item.parsed.y;
                return item.dataset.label + ": " + (v === null ? "—" : numbers.format(v));
              },
            },
          },
        },
        scales: { x: { reverse: rtl, ticks: { autoSkip: true, maxRotation: 0 } }, y: value },
      };
      if (extra) extra(result);
      return result;
    }

    function line(id, keys, colours, extra) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: keys.map(function (key, i) {
            return {
              label: data.names[key], data: data.series[key], borderColor: colours[i],
              backgroundColor: colours[i], spanGaps: true, tension: 0.25, pointRadius: 2,
            };
          }),
        },
        options: options(extra),
      });
    }

    line("chart-volume", ["opened", "resolved"], ["#0f766e", "#f59e0b"]);
    line("chart-sla", ["first_response_attainment", "resolution_attainment"],
      ["#0f766e", "#7c3aed"], function (o) { o.scales.y.max = 100; });
    line("chart-times", ["first_response_minutes_mean", "resolution_minutes_mean"],
      ["#2563eb", "#b42318"]);
    line("chart-feedback", ["nps", "csat"], ["#7c3aed", "#f59e0b"],
      function (o) { o.scales.y.beginAtZero = false; o.scales.y.suggestedMin = 0; o.scales.y.max = 100; });

    var channels = document.getElementById("chart-channels");
    if (channels) {
      new Chart(channels, {
        type: "bar",
        data: {
          labels: data.channels.labels,
          datasets: [
            { label: data.names.opened, data: data.channels.opened, backgroundColor: "#0f766e" },
            { label: data.names.interactions, data: data.channels.interactions,
              backgroundColor: "#9ec9c4" },
          ],
        },
        options: options(),
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
