/* Draw the Plotly figures the server built (JSON block #chart-data) into [data-chart] boxes.

   Nothing here may send data anywhere: no cloud button, no link out, no logo link. On a touch screen the
   charts are read, not zoomed: a swipe scrolls the page, and no toolbar is shown; with a mouse the toolbar
   appears on hover with zoom, pan, reset and save as image only. A click or tap on a session's marker opens
   that session when the box names where sessions live (data-session-url, ending in /0). */
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || !window.Plotly) { return; }
  var figures = JSON.parse(block.textContent);
  var touch = window.matchMedia("(pointer: coarse)").matches || window.matchMedia("(hover: none)").matches;

  var config = {
    displaylogo: false,        // the logo links to plotly.com
    showSendToCloud: false,    // the "edit in Chart Studio" cloud upload button and its dialog
    plotlyServerURL: "",       // and nowhere to upload to, should anything ask
    showTips: false,
    scrollZoom: false,         // the mouse wheel scrolls the page
    responsive: true,
    displayModeBar: touch ? false : "hover",
    doubleClick: touch ? false : "reset",
    modeBarButtonsToRemove: [
      "sendChartToCloud", "sendDataToCloud", "editInChartStudio", "select2d", "lasso2d", "zoomIn2d",
      "zoomOut2d", "autoScale2d", "toggleSpikelines", "hoverClosestCartesian", "hoverCompareCartesian"
    ],
    toImageButtonOptions: { format: "png", filename: "knotwork-chart", scale: 2 }
  };

  function forTouch(layout) {
    // Nothing to drag: the axes stay put and the page scrolls under the finger.
    layout.dragmode = false;
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) { layout[key].fixedrange = true; }
    });
    return layout;
  }

  function forWidth(layout, width) {
    // A narrow box (a phone, a printed column) has room for three dated ticks, not six.
    if (width < 520 && layout.xaxis && layout.xaxis.type === "date") { layout.xaxis.nticks = 3; }
    return layout;
  }

  function openSession(box) {
    var base = box.dataset.sessionUrl;
    if (!base) { return; }
    box.on("plotly_click", function (event) {
      var point = event && event.points && event.points[0];
      var data = point && point.customdata;
      var id = Array.isArray(data) ? data[0] : null;
      if (typeof id === "number") { window.location.assign(base.replace(/\/0$/, "/" + id)); }
    });
    box.classList.add("chart-clickable");
  }

  var drawn = Array.from(document.querySelectorAll("[data-chart]")).map(function (box) {
    var figure = figures[box.dataset.chart];
    if (!figure) { return Promise.resolve(); }
    var layout = forWidth(touch ? forTouch(figure.layout) : figure.layout, box.clientWidth);
    return window.Plotly.newPlot(box, figure.data, layout, config).then(function () { openSession(box); });
  });
  Promise.all(drawn).then(function () { document.body.dataset.chartsReady = "true"; });
  // Printing: redraw at the paper's width so nothing is cut off.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      if (box.data) { window.Plotly.Plots.resize(box); }
    });
  });
})();
