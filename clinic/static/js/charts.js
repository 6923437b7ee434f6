/* Draw the Plotly figures the server built (JSON block #chart-data) into [data-chart] boxes. */
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || !window.Plotly) { return; }
  var figures = JSON.parse(block.textContent);
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  var drawn = Array.from(document.querySelectorAll("[data-chart]")).map(function (box) {
    var figure = figures[box.dataset.chart];
    return figure ? window.Plotly.newPlot(box, figure.data, figure.layout, config) : Promise.resolve();
  });
  Promise.all(drawn).then(function () { document.body.dataset.chartsReady = "true"; });
  // Printing: redraw at the paper's width so nothing is cut off.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      if (box.data) { window.Plotly.Plots.resize(box); }
    });
  });
})();
