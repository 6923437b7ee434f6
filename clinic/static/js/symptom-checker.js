/* Symptom checker: choosing regions (figure or list) re-ranks the candidate muscles from the JSON API
   without a page reload. Without JavaScript the same page works as a plain form. */
(function () {
  "use strict";
  var element = window.Knotwork.element;  // js/dom.js, loaded first
  var container = document.querySelector("[data-checker]");
  if (!container) { return; }
  var data = JSON.parse(document.getElementById("checker-data").textContent);
  var miniTemplate = document.getElementById("mini-figures");
  var list = container.querySelector("[data-candidates]");
  var checkboxes = container.querySelectorAll('input[type="checkbox"][name="region"]');
  var requestNumber = 0;

  var chart = window.Knotwork.bodyChart.attach(container, update);

  checkboxes.forEach(function (box) {
    box.addEventListener("change", function () {
      var ids = Array.from(checkboxes).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      chart.set(ids);
      update(ids);
    });
  });
  container.querySelector("[data-clear]").addEventListener("click", function (event) {
    event.preventDefault();
    chart.set([]);
    update([]);
  });

  function update(ids) {
    checkboxes.forEach(function (box) { box.checked = ids.indexOf(box.value) !== -1; });
    var names = ids.map(function (id) { return data.regionNames[id]; });
    container.querySelector("[data-selection]").textContent =
      names.length ? names.join(", ") : "nothing yet: click or tap the body, or use the list below";
    container.querySelector("[data-clear]").hidden = !ids.length;
    var url = new URL(window.location.href);
    url.search = ids.length ? "?regions=" + ids.join(",") : "";
    window.history.replaceState(null, "", url);

    var mine = ++requestNumber;
    if (!ids.length) { render([], [], []); return; }
    fetch(data.api + "?regions=" + encodeURIComponent(ids.join(",")), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (result) { if (mine === requestNumber) { render(result.regions, result.candidates, result.red_flags || []); } })
      .catch(function () {
        if (mine === requestNumber) { showMessage("The list could not be updated. Check the connection and try again."); }
      });
  }

  function render(chosen, candidates, flags) {
    renderFlags(flags);
    list.replaceChildren();
    candidates.forEach(function (candidate) { list.appendChild(candidateItem(candidate, chosen)); });
    container.querySelector("[data-count]").textContent = chosen.length ? String(candidates.length) : "";
    container.querySelector("[data-empty]").hidden = chosen.length > 0;
    container.querySelector("[data-none]").hidden = !chosen.length || candidates.length > 0;
    showMessage("");
  }

  /* Red flags of the chosen regions, worded for the public: see a physician first. */
  function renderFlags(flags) {
    var box = container.querySelector("[data-red-flags]");
    var flagList = box.querySelector("[data-red-flag-list]");
    flagList.replaceChildren();
    flags.forEach(function (flag) {
      var item = element("li", "", flag.text + " ");
      item.dataset.flagRegion = flag.region;
      item.appendChild(element("span", "muted", "(" + data.regionNames[flag.region] + ")"));
      flagList.appendChild(item);
    });
    box.hidden = flags.length === 0;
  }

  function candidateItem(candidate, chosen) {
    var muscle = data.muscles[candidate.slug];
    var item = element("li", "candidate");
    var text = element("div", "candidate-text");
    var link = element("a", "candidate-name", candidate.name);
    link.href = muscle.url;
    text.appendChild(link);
    var why = element("p", "why");
    if (candidate.primary.length) { why.appendChild(element("span", "why-primary", "Main zone: " + regionNames(candidate.primary))); }
    if (candidate.secondary.length) { why.appendChild(element("span", "why-secondary", "Spillover: " + regionNames(candidate.secondary))); }
    text.appendChild(why);
    item.appendChild(text);
    var figures = miniTemplate.content.firstElementChild.cloneNode(true);
    window.Knotwork.bodyChart.shade(figures, muscle.primary, muscle.secondary, chosen);
    figures.querySelectorAll("svg").forEach(function (svg) { svg.setAttribute("viewBox", muscle.viewBox); });
    item.appendChild(figures);
    return item;
  }

  function regionNames(ids) {
    return ids.map(function (id) { return data.regionNames[id]; }).join(", ");
  }

  function showMessage(message) {
    var error = container.querySelector("[data-error]");
    error.textContent = message;
    error.hidden = !message;
  }
})();
