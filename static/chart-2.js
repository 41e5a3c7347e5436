// coupond console: charts. A figure with data-chart holds a table whose
// rows are the points (the first cell labels the row; data-x on the row
// is its time in Unix seconds) and whose columns marked data-series are
// the lines, their cells holding plain numbers in data-value. Without
// this script the table is the figure; with it, uPlot (vendored) draws
// the same numbers above the table, which stays for screen readers and
// for reading exact values. Figures htmx swaps in are drawn too.
(function () {
  "use strict";

  var colors = ["#0172ad", "#c0392b", "#2e7d32", "#8e44ad"];

  function draw(figure) {
    if (figure.getAttribute("data-drawn") === "true" || typeof uPlot === "undefined") {
      return;
    }
    var table = figure.querySelector("table");
    if (!table) {
      return;
    }
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-series]"));
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-x]"));
    if (rows.length === 0 || heads.length === 0) {
      return;
    }
    var data = [rows.map(function (r) { return Number(r.getAttribute("data-x")); })];
    var series = [{}];
    heads.forEach(function (h, i) {
      var column = Array.prototype.indexOf.call(h.parentNode.children, h);
      data.push(rows.map(function (r) {
        var cell = r.children[column];
        return cell ? Number(cell.getAttribute("data-value")) : null;
      }));
      series.push({
        label: h.textContent.trim(),
        stroke: colors[i % colors.length],
        width: 2,
        scale: i === 0 ? "y" : "y" + i,
        points: { show: rows.length <= 31 },
      });
    });
    var axes = [{}];
    heads.forEach(function (h, i) {
      axes.push({ scale: i === 0 ? "y" : "y" + i, side: i === 0 ? 3 : 1, grid: { show: i === 0 }, stroke: colors[i % colors.length] });
    });
    var holder = document.createElement("div");
    holder.className = "chart-canvas";
    holder.setAttribute("aria-hidden", "true");
    figure.insertBefore(holder, figure.firstChild);
    var width = Math.max(280, figure.clientWidth || 600);
    var zone = figure.getAttribute("data-zone") || "UTC";
    // One point (a period of one day) leaves uPlot no span to lay the
    // time axis on (it guesses years): half a day either side is one.
    var scales = {};
    if (rows.length === 1) {
      scales.x = { time: true, auto: false, range: [data[0][0] - 43200, data[0][0] + 43200] };
    }
    new uPlot({
      width: width,
      height: 260,
      scales: scales,
      series: series,
      axes: axes,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), zone); },
    }, data, holder);
    // The chart shows the numbers; the table stays one click away, and
    // for screen readers, which are not shown the chart.
    var wrap = table.closest(".table-wrap") || table;
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "The numbers as a table";
    wrap.parentNode.insertBefore(details, wrap);
    details.appendChild(summary);
    details.appendChild(wrap);
    figure.setAttribute("data-drawn", "true");
  }

  function drawAll(root) {
    if (root.matches && root.matches("figure[data-chart]")) {
      draw(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll("figure[data-chart]").forEach(draw);
    }
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
})();
