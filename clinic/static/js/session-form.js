/* Session form: mark pain regions on the figure, get muscle suggestions, add treated points with one
   click (figure dot, suggestion button or search result), and warn about holds outside the advised range
   or compression pain above the target (both from data.rules, set in clinic/rules.py). Without JavaScript the same form works with its submit buttons. */
(function () {
  "use strict";
  var form = document.querySelector("[data-session-form]");
  if (!form) { return; }
  var data = JSON.parse(document.getElementById("session-form-data").textContent);
  var chartApi = window.Knotwork.bodyChart;
  var rows = form.querySelector("[data-point-rows]");
  var rowTemplate = document.getElementById("point-row-template");
  var miniTemplate = document.getElementById("mini-figures");
  var nextIndex = rows.querySelectorAll("[data-point-row]").length;

  /* ---- where it hurts, and the suggestions it gives ---- */
  var painSection = form.querySelector("[data-pain-chart]");
  var regionBoxes = painSection.querySelectorAll('input[name="pain_regions"]');
  var suggestionList = painSection.querySelector("[data-suggestions]");
  var requestNumber = 0;
  var painChart = chartApi.attach(painSection, showRegions);
  painSection.querySelector('button[name="suggest"]').hidden = true;

  regionBoxes.forEach(function (box) {
    box.addEventListener("change", function () {
      var ids = Array.from(regionBoxes).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      painChart.set(ids);
      showRegions(ids);
    });
  });

  function showRegions(ids) {
    regionBoxes.forEach(function (box) { box.checked = ids.indexOf(box.value) !== -1; });
    painSection.querySelector("[data-selection]").textContent = ids.length
      ? ids.map(function (id) { return data.regionNames[id]; }).join(", ") : "nothing yet: click the body";
    var mine = ++requestNumber;
    if (!ids.length) { renderSuggestions([]); return; }
    fetch(data.api + "?regions=" + encodeURIComponent(ids.join(",")), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (result) { if (mine === requestNumber) { renderSuggestions(result.candidates.slice(0, data.rules.suggestions)); } })
      .catch(function () { /* suggestions are a help, not a need: the form still works */ });
  }

  function renderSuggestions(candidates) {
    suggestionList.replaceChildren();
    painSection.querySelector("[data-suggestions-empty]").hidden = candidates.length > 0;
    candidates.forEach(function (candidate) {
      var item = document.createElement("li");
      var muscle = data.muscles[candidate.slug];
      var link = element("a", "suggestion-name", candidate.name);
      link.href = muscle.url;
      link.target = "_blank";
      link.rel = "noopener";
      item.appendChild(link);
      var why = [];
      if (candidate.primary.length) { why.push("main zone: " + names(candidate.primary)); }
      if (candidate.secondary.length) { why.push("spillover: " + names(candidate.secondary)); }
      item.appendChild(element("span", "muted why", why.join("; ")));
      var buttons = element("span", "add-buttons");
      muscle.points.forEach(function (id) {
        var button = element("button", "button small", "+ point " + data.points[id].number);
        button.type = "button";
        button.dataset.addPoint = id;
        button.title = data.points[id].location;
        buttons.appendChild(button);
      });
      item.appendChild(buttons);
      suggestionList.appendChild(item);
    });
  }

  /* ---- adding points ---- */
  var picker = form.querySelector("[data-point-picker]");
  picker.hidden = false;

  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-point]");
    if (add) { event.preventDefault(); addPoint(add.dataset.addPoint); return; }
    var dot = event.target.closest("svg[data-point-picker] .tp-dot[data-tp]");
    if (dot) { addPoint(dot.dataset.tp); return; }
    if (event.target.closest("[data-add-row]")) {
      event.preventDefault();
      newRow().querySelector("select").focus();
      return;
    }
    var remove = event.target.closest("[data-remove-point]");
    if (remove) { removeRow(remove.closest("[data-point-row]")); }
  });
  picker.addEventListener("keydown", function (event) {
    var dot = event.target.closest(".tp-dot[data-tp]");
    if (dot && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); addPoint(dot.dataset.tp); }
  });

  function addPoint(id) {
    var row = blankRow() || newRow();
    var select = row.querySelector("select");
    select.value = id;
    setSide(row, lastSide(row));
    describeRow(row);
    row.classList.add("just-added");
    window.setTimeout(function () { row.classList.remove("just-added"); }, 1200);
    var pressure = row.querySelector("[data-pressure]");
    pressure.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function blankRow() {
    return Array.from(rows.querySelectorAll("[data-point-row]")).find(function (row) {
      return !row.querySelector("select").value && !row.querySelector("[data-pressure]").value &&
        !row.querySelector("[data-pain]").value;
    });
  }

  function newRow() {
    var holder = document.createElement("div");
    holder.innerHTML = rowTemplate.innerHTML.replace(/__index__/g, String(nextIndex++));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    setSide(row, lastSide(row));
    showRemoveButtons();
    return row;
  }

  function removeRow(row) {
    if (rows.querySelectorAll("[data-point-row]").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input[type=number], input[type=text], select").forEach(function (input) { input.value = ""; });
      row.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = false; });
      describeRow(row);
      warn(row);
    }
    showRemoveButtons();
  }

  function lastSide(except) {
    var filled = Array.from(rows.querySelectorAll("[data-point-row]")).filter(function (row) {
      return row !== except && row.querySelector("select").value;
    });
    var checked = filled.length && filled[filled.length - 1].querySelector('input[type=radio]:checked');
    return checked ? checked.value : "right";
  }

  function setSide(row, side) {
    var radio = row.querySelector('input[type=radio][value="' + side + '"]');
    if (radio) { radio.checked = true; }
  }

  function showRemoveButtons() {
    rows.querySelectorAll("[data-remove-point]").forEach(function (button) { button.hidden = false; });
  }

  /* ---- each row: title, referral pattern, warnings ---- */
  function describeRow(row) {
    var point = data.points[row.querySelector("select").value];
    var muscle = point && data.muscles[point.muscle];
    row.querySelector("[data-point-title]").textContent = point ? muscle.name + " · point " + point.number : "New point";
    var pattern = row.querySelector("[data-point-pattern]");
    pattern.replaceChildren();
    if (!point) { return; }
    var figures = miniTemplate.content.firstElementChild.cloneNode(true);
    chartApi.shade(figures, muscle.primary, muscle.secondary, []);
    figures.querySelectorAll("svg").forEach(function (svg) { svg.setAttribute("viewBox", muscle.viewBox); });
    pattern.appendChild(figures);
    var link = element("a", "", muscle.name + ": referral pattern");
    link.href = muscle.url;
    link.target = "_blank";
    link.rel = "noopener";
    pattern.appendChild(link);
  }

  function warn(row) {
    var pressure = row.querySelector("[data-pressure]").value;
    var pain = row.querySelector("[data-pain]").value;
    var seconds = Number(pressure);
    row.querySelector("[data-pressure-warning]").hidden =
      pressure === "" || (seconds >= data.rules.advisedPressure[0] && seconds <= data.rules.advisedPressure[1]);
    row.querySelector("[data-pain-warning]").hidden = pain === "" || Number(pain) <= data.rules.compressionPainTarget;
  }

  rows.addEventListener("change", function (event) {
    var row = event.target.closest("[data-point-row]");
    if (row && event.target.tagName === "SELECT") { describeRow(row); }
  });
  rows.addEventListener("input", function (event) {
    var row = event.target.closest("[data-point-row]");
    if (row && (event.target.matches("[data-pressure]") || event.target.matches("[data-pain]"))) { warn(row); }
  });
  showRemoveButtons();

  /* ---- search ---- */
  var search = form.querySelector("[data-point-search]");
  var results = form.querySelector("[data-search-results]");
  var searchable = Object.keys(data.points).map(function (id) {
    var point = data.points[id];
    var name = data.muscles[point.muscle].name;
    return { id: id, text: (name + " " + point.number + " point " + point.location).toLowerCase() };
  });
  search.addEventListener("input", function () {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    results.replaceChildren();
    if (!words.length) { return; }
    searchable.filter(function (entry) {
      return words.every(function (word) { return entry.text.indexOf(word) !== -1; });
    }).slice(0, 8).forEach(function (entry) {
      var point = data.points[entry.id];
      var item = document.createElement("li");
      var button = element("button", "search-result", data.muscles[point.muscle].name + " · point " + point.number);
      button.type = "button";
      button.dataset.addPoint = entry.id;
      button.appendChild(element("span", "muted small", point.location));
      item.appendChild(button);
      results.appendChild(item);
    });
  });
  search.addEventListener("keydown", function (event) {
    var first = results.querySelector("[data-add-point]");
    if (event.key === "Enter") {
      event.preventDefault();
      if (first) { addPoint(first.dataset.addPoint); search.value = ""; results.replaceChildren(); }
    }
  });

  function names(ids) { return ids.map(function (id) { return data.regionNames[id]; }).join(", "); }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }
})();
