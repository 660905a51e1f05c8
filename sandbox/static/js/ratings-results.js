// Results charts (Chart.js, vendored): objective means with 95% intervals, a radar per
// model, the Pareto scatter, agreement per objective. Labels are set as text by Chart.js
// (canvas), never as HTML.
(function () {
  "use strict";
  var dataNode = document.getElementById("results-data");
  if (!dataNode || typeof Chart === "undefined") { return; }
  var data = JSON.parse(dataNode.textContent);
  var text = document.getElementById("chart-text").dataset;
  var palette = ["#1f5fbf", "#b54708", "#067647", "#b42318", "#6941c6", "#0e7090", "#c11574",
    "#4e5ba6"];
  var labelOf = {};
  data.models.forEach(function (m) { labelOf[m.key] = m.label; });
  var numeric = data.objectives.filter(function (o) { return o.scale !== "categorical"; });
  var mean = {};
  data.means.forEach(function (r) { mean[r.model + "|" + r.objective] = r; });
  var scaleRange = { "likert-1-5": [1, 5], "likert-0-4": [0, 4], "binary": [0, 1] };

  function normalised(model, objective) {
    var r = mean[model + "|" + objective.key];
    if (!r || r.mean === null) { return null; }
    var range = scaleRange[objective.scale];
    return (r.mean - range[0]) / (range[1] - range[0]);
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { return new Chart(canvas, config); }
    return null;
  }

  // Objective means (normalised to 0-1 so scales compare) with interval bars.
  var meanSets = [];
  data.models.forEach(function (m, i) {
    var colour = palette[i % palette.length];
    meanSets.push({
      label: m.label + " · " + text.mean, backgroundColor: colour,
      data: numeric.map(function (o) { return normalised(m.key, o); })
    });
    meanSets.push({
      label: m.label + " · " + text.interval, backgroundColor: "rgba(29,36,48,0.35)",
      barPercentage: 0.15, grouped: true,
      data: numeric.map(function (o) {
        var r = mean[m.key + "|" + o.key];
        if (!r || r.ci_low === null) { return null; }
        var range = scaleRange[o.scale];
        return [(r.ci_low - range[0]) / (range[1] - range[0]),
          (r.ci_high - range[0]) / (range[1] - range[0])];
      })
    });
  });
  chart("chart-means", {
    type: "bar",
    data: { labels: numeric.map(function (o) { return o.label; }), datasets: meanSets },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
      scales: { y: { min: 0, max: 1 } } }
  });

  // A radar per model.
  var grid = document.getElementById("radar-grid");
  if (grid) {
    data.models.forEach(function (m, i) {
      var box = document.createElement("div");
      box.className = "radar-box";
      var title = document.createElement("h3");
      title.textContent = m.label;
      var canvas = document.createElement("canvas");
      canvas.className = "radar-canvas";
      box.appendChild(title);
      box.appendChild(canvas);
      grid.appendChild(box);
      new Chart(canvas, {
        type: "radar",
        data: { labels: numeric.map(function (o) { return o.label; }),
          datasets: [{ label: m.label, borderColor: palette[i % palette.length],
            backgroundColor: "rgba(31,95,191,0.15)",
            data: numeric.map(function (o) { return normalised(m.key, o); }) }] },
        options: { animation: false, plugins: { legend: { display: false } },
          scales: { r: { min: 0, max: 1, ticks: { stepSize: 0.25 } } } }
      });
    });
  }

  // Pareto scatter over two chosen objectives, front highlighted.
  var front = (data.pareto && data.pareto.front) || [];
  var xSel = document.getElementById("pareto-x");
  var ySel = document.getElementById("pareto-y");
  var pareto = null;
  function drawPareto() {
    var xo = numeric[xSel.selectedIndex];
    var yo = numeric[ySel.selectedIndex];
    function points(onFront) {
      return data.models.filter(function (m) {
        return (front.indexOf(m.key) >= 0) === onFront;
      }).map(function (m) {
        return { x: normalised(m.key, xo), y: normalised(m.key, yo), label: m.label };
      });
    }
    var config = {
      type: "scatter",
      data: { datasets: [
        { label: text.front, data: points(true), backgroundColor: "#067647", pointRadius: 7 },
        { label: text.dominated, data: points(false), backgroundColor: "#98a2b3",
          pointRadius: 6 }] },
      options: { animation: false, scales: {
        x: { min: 0, max: 1, title: { display: true, text: xo.label } },
        y: { min: 0, max: 1, title: { display: true, text: yo.label } } },
        plugins: { tooltip: { callbacks: { label: function (ctx) {
          return ctx.raw.label + " (" + ctx.raw.x.toFixed(2) + ", " + ctx.raw.y.toFixed(2) + ")";
        } } } } }
    };
    if (pareto) { pareto.destroy(); }
    pareto = chart("chart-pareto", config);
  }
  if (xSel && ySel && numeric.length) {
    numeric.forEach(function (o) {
      [xSel, ySel].forEach(function (sel) {
        var option = document.createElement("option");
        option.value = o.key;
        option.textContent = o.label;
        sel.appendChild(option);
      });
    });
    ySel.selectedIndex = Math.min(1, numeric.length - 1);
    xSel.addEventListener("change", drawPareto);
    ySel.addEventListener("change", drawPareto);
    drawPareto();
  }

  // Agreement per objective, with the 0.667 and 0.800 reference lines.
  var rows = data.agreement.filter(function (a) { return a.alpha !== null; });
  chart("chart-agreement", {
    type: "bar",
    data: { labels: rows.map(function (a) {
      return (a.kind === "preference" ? "↔ " : "") + a.objective; }),
      datasets: [
        { type: "bar", label: text.alpha, backgroundColor: "#1f5fbf",
          data: rows.map(function (a) { return a.alpha; }) },
        { type: "line", label: "0.800", borderColor: "#067647", pointRadius: 0,
          data: rows.map(function () { return 0.8; }) },
        { type: "line", label: "0.667", borderColor: "#b54708", pointRadius: 0,
          data: rows.map(function () { return 0.667; }) }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { min: -0.2, max: 1 } } }
  });

  // Export links follow the chosen criterion.
  var criterion = document.getElementById("export-criterion");
  if (criterion) {
    criterion.addEventListener("change", function () {
      document.querySelectorAll("a.export-link").forEach(function (link) {
        link.href = link.dataset.base + "?criterion=" + encodeURIComponent(criterion.value);
      });
    });
  }
})();
