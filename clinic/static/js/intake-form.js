/* The client's intake form: tapping the body figure ticks the region in the list below it, and the list shows
   only the chosen regions (each with its side and 0-10) until "Choose from a list instead" shows them all.
   Without this script the page is a plain list of regions, which works the same. */
(function () {
  "use strict";

  var form = document.querySelector("[data-intake-form]");
  if (!form || !window.Knotwork || !window.Knotwork.bodyChart) { return; }
  var figure = form.querySelector("[data-intake-figure]");
  var list = form.querySelector("[data-region-list]");
  var showAll = form.querySelector("[data-show-all]");
  var empty = form.querySelector("[data-chosen-empty]");

  function box(id) { return form.querySelector('input[name="regions"][value="' + CSS.escape(id) + '"]'); }
  function rowOf(id) { return form.querySelector('[data-region-row="' + CSS.escape(id) + '"]'); }

  function chosen() {
    return Array.prototype.map.call(form.querySelectorAll('input[name="regions"]:checked'), function (input) {
      return input.value;
    });
  }

  function refresh() {
    var ids = chosen();
    form.querySelectorAll("[data-region-row]").forEach(function (row) {
      row.classList.toggle("is-on", ids.indexOf(row.dataset.regionRow) !== -1);
    });
    empty.hidden = ids.length > 0 || list.classList.contains("show-all");
  }

  form.classList.add("is-enhanced");
  figure.hidden = false;
  showAll.hidden = false;

  var chart = window.Knotwork.bodyChart.attach(figure, function (ids) {
    var before = chosen();
    form.querySelectorAll('input[name="regions"]').forEach(function (input) {
      input.checked = ids.indexOf(input.value) !== -1;
    });
    refresh();
    var added = ids.filter(function (id) { return before.indexOf(id) === -1; });
    if (added.length) {
      var row = rowOf(added[0]);
      var side = row && row.querySelector('input[type="radio"]');
      if (side) { side.focus({ preventScroll: true }); }
    }
  });

  list.addEventListener("change", function (event) {
    if (event.target.name === "regions") {
      chart.set(chosen());
      refresh();
    }
  });

  showAll.addEventListener("click", function () {
    var all = list.classList.toggle("show-all");
    showAll.setAttribute("aria-expanded", all ? "true" : "false");
    showAll.textContent = all ? "Show only the chosen areas" : "Choose from a list instead";
    refresh();
  });

  refresh();
})();
