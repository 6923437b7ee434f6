/* Session form at the point of care (DESIGN 10). Mark pain regions with their side on the figure, get muscle
   suggestions, add treated points (figure dot, suggestion button or search result), tap 0-10 on a scale, time
   a compression, pick a start time in one tap, and keep a draft on the server as the therapist works.
   Numbers come from data.rules (clinic/rules.py). Without JavaScript the same form works with its submit
   buttons. */
(function () {
  "use strict";
  var element = window.Knotwork.element;  // js/dom.js, loaded first

  /* ---- arithmetic kept apart so it can be checked on its own ---- */
  /* Seconds held, from the start time rather than from ticks: right after the screen slept. */
  function elapsedSeconds(startMs, nowMs) { return Math.max(0, Math.floor((nowMs - startMs) / 1000)); }
  /* Which cue a hold has reached: "" before the first, "min" from the first (30 s), "max" from the last (90 s). */
  function timerCue(seconds, cues) { return seconds >= cues[1] ? "max" : seconds >= cues[0] ? "min" : ""; }
  function words(text) { return text.toLowerCase().replace(/[^a-z0-9]+/g, " ").split(" ").filter(Boolean); }

  /* Mirrors clinic/kb/search.py `score` (the browser tests compare the two). */
  var FILLER = ["point", "points", "tp", "trigger", "no"];
  function parseQuery(text) {
    var tokens = words(text);
    var numbers = tokens.filter(function (t) { return /^[0-9]+$/.test(t); });
    return {
      words: tokens.filter(function (t) { return !/^[0-9]+$/.test(t) && FILLER.indexOf(t) === -1; }),
      number: numbers.length ? parseInt(numbers[numbers.length - 1], 10) : null
    };
  }
  function wordQuality(word, tokens) {
    var best = 0;
    for (var i = 0; i < tokens.length; i++) {
      if (tokens[i] === word) { return 2; }
      if (tokens[i].indexOf(word) === 0) { best = 1; }
    }
    return best;
  }
  function average(list) { return list.reduce(function (a, b) { return a + b; }, 0) / list.length; }
  function scorePoint(names, location, number, query) {
    if (!query.words.length) { return 0; }
    var best = 0;
    names.forEach(function (name) {
      if (query.words.join(" ") === name.join(" ")) { best = Math.max(best, 100); return; }
      var q = query.words.map(function (w) { return wordQuality(w, name); });
      if (q.every(Boolean)) { best = Math.max(best, 60 + 5 * average(q) + 10 * query.words.length / name.length); }
    });
    if (!best) {
      var every = [].concat.apply([], names);
      var q2 = query.words.map(function (w) { return wordQuality(w, every); });
      if (q2.every(Boolean)) { best = 40 + 5 * average(q2); }
    }
    if (!best) {
      var q3 = query.words.map(function (w) { return wordQuality(w, location); });
      if (q3.every(Boolean)) { best = 10 + average(q3); }
    }
    if (!best) { return 0; }
    if (query.number !== null) { best += query.number === number ? 15 : -30; }
    return Math.max(best, 0.5);
  }

  window.Knotwork = window.Knotwork || {};
  window.Knotwork.timer = { elapsedSeconds: elapsedSeconds, cue: timerCue };

  var form = document.querySelector("[data-session-form]");
  if (!form) { return; }
  var pageData = JSON.parse(document.getElementById("session-form-data").textContent);

  /* The form's knowledge-base parts (the picker's figures, the rows and pictures it copies, every muscle and point)
     come in its kit, a document of its own the browser keeps (clinic/treatments/page.py form_kit): parsed, never
     run. Until it is in, the form is the one that works without JavaScript; if it cannot be had, it stays so and
     says the picker is missing. session-safety.js waits for the same data: `sessionForm` gives it (null without). */
  window.Knotwork.sessionForm = loadKit(form.dataset.kitUrl).then(function (kitData) {
    var data = Object.assign({}, kitData, pageData);
    enhance(data);
    form.dataset.kit = "ready";
    return data;
  }, function () {
    form.querySelector("[data-kit-unavailable]").hidden = false;
    form.dataset.kit = "unavailable";
    return null;
  });

  function loadKit(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("the form's kit: " + response.status); }
      return response.text();
    }).then(function (text) {
      var kit = new DOMParser().parseFromString(text, "text/html");
      var ids = ["picker-figures", "point-row-template", "point-options", "mini-figures", "session-form-kit-data"];
      var parts = ids.map(function (id) { return kit.getElementById(id); });
      if (parts.indexOf(null) !== -1) { throw new Error("the form's kit is incomplete"); }
      var kitData = JSON.parse(parts[4].textContent);
      var figures = Array.from(parts[0].children).map(function (figure) { return document.importNode(figure, true); });
      var pair = form.querySelector("[data-picker-figures]");
      pair.replaceChildren.apply(pair, figures);
      parts.slice(1, 4).forEach(function (template) { document.body.appendChild(document.importNode(template, true)); });
      return kitData;
    });
  }

  function enhance(data) {
    var chartApi = window.Knotwork.bodyChart;
    var rows = form.querySelector("[data-point-rows]");
    var rowTemplate = document.getElementById("point-row-template");
    var miniTemplate = document.getElementById("mini-figures");
    var optionsTemplate = document.getElementById("point-options");
    var nextIndex = rows.querySelectorAll("[data-point-row]").length;

    function changed() { form.dispatchEvent(new CustomEvent("knotwork:changed")); scheduleDraft(); markDots(); }

    /* The points already on the form show red on the figure (its dot and, zoomed in, its core). */
    function markDots() {
      var on = {};
      form.querySelectorAll("[data-point-row]").forEach(function (row) {
        var id = row.querySelector("select").value;
        var checked = row.querySelector("input[type=radio]:checked");
        if (!id) { return; }
        (checked && checked.value !== "both" ? [checked.value] : ["left", "right"]).forEach(function (side) { on[id + "|" + side] = true; });
      });
      form.querySelectorAll("svg[data-point-picker] .tp-dot").forEach(function (dot) {
        var key = (dot.dataset.tp || dot.dataset.mirrorOf) + "|" + dot.dataset.side;
        dot.classList.toggle("is-on-form", !!on[key]);
      });
      form.querySelectorAll("svg[data-point-picker] .tp-core").forEach(function (core) {
        core.classList.toggle("is-on-form", !!on[core.dataset.coreOf]);
      });
    }

    /* ---- 0-10 scales ---- */
    function showScales(root) {
      root.querySelectorAll("[data-scale-for]").forEach(function (scale) { scale.hidden = false; });
    }
    function paintScale(input) {
      var scale = input.id && form.querySelector('[data-scale-for="' + CSS.escape(input.id) + '"]');
      if (!scale) { return; }
      scale.querySelectorAll("[data-scale-value]").forEach(function (step) {
        step.setAttribute("aria-pressed", step.dataset.scaleValue === input.value ? "true" : "false");
      });
    }
    showScales(form);
    form.addEventListener("click", function (event) {
      var step = event.target.closest("[data-scale-value]");
      if (!step) { return; }
      var input = form.querySelector("#" + CSS.escape(step.closest("[data-scale-for]").dataset.scaleFor));
      input.value = step.dataset.scaleValue;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    form.addEventListener("input", function (event) {
      if (event.target.matches("input")) { paintScale(event.target); }
    });

    /* ---- start time quick choices ---- */
    var timeChoices = form.querySelector("[data-time-choices]");
    var startedAt = form.querySelector('input[name="started_at"]');
    timeChoices.hidden = false;
    timeChoices.addEventListener("click", function (event) {
      var choice = event.target.closest("[data-time]");
      if (!choice) { return; }
      var date = (startedAt.value || "").slice(0, 10) || new Date().toISOString().slice(0, 10);
      startedAt.value = date + "T" + choice.dataset.time;
      startedAt.dispatchEvent(new Event("input", { bubbles: true }));
      timeChoices.querySelectorAll("[data-time]").forEach(function (b) { b.setAttribute("aria-pressed", b === choice ? "true" : "false"); });
    });

    /* ---- where it hurts (with sides), and the suggestions it gives ---- */
    var painSection = form.querySelector("[data-pain-chart]");
    var regionBoxes = painSection.querySelectorAll('input[name="pain_regions"]');
    var suggestionList = painSection.querySelector("[data-suggestions]");
    var requestNumber = 0;
    var painChart = chartApi.attach(painSection, showRegions, { sided: true });
    painSection.querySelector('button[name="suggest"]').hidden = true;
    painChart.set(Array.from(regionBoxes).filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));

    regionBoxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (!box.checked) { box.value = box.dataset.regionId; }
        var values = Array.from(regionBoxes).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
        painChart.set(values);
        showRegions(values, true);
      });
    });

    function regionLabel(value) {
      var parts = value.split(":");
      var side = parts[1] === "both" ? "both sides" : parts[1];
      return data.regionNames[parts[0]] + (side ? " (" + side + ")" : "");
    }

    function showRegions(values, fromList) {
      var sides = {};
      values.forEach(function (value) { var parts = value.split(":"); sides[parts[0]] = parts[1] || ""; });
      regionBoxes.forEach(function (box) {
        var id = box.dataset.regionId;
        box.checked = id in sides;
        box.value = id in sides && sides[id] ? id + ":" + sides[id] : id;
      });
      painSection.querySelector("[data-selection]").textContent = values.length
        ? values.map(regionLabel).join(", ") : "nothing yet: tap the body (the side you tap is kept)";
      if (!fromList) { changed(); }
      var ids = Object.keys(sides);
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

    /* ---- the point picker: zoom on touch, one tab stop, names shown ---- */
    var picker = form.querySelector("[data-point-picker]");
    picker.hidden = false;
    var dotName = picker.querySelector("[data-dot-name]");
    var lastPointer = "mouse";
    var pickerZoom = chartApi.zoomer(picker.querySelector(".picker-figures"), function (svg) {
      if (svg) { svg.dataset.labelHalf = Number(svg.dataset.zoomCentre.split(",")[0]) < 120 ? "viewer-left" : "viewer-right"; }
      picker.querySelectorAll("svg[data-point-picker]").forEach(function (each) {
        var scale = each.getBoundingClientRect().width / Number((each.getAttribute("viewBox") || "0 0 240 520").split(" ")[2]);
        var radius = each === svg ? (chartApi.TARGET_PX / 2 + 1) / scale : 4.5;
        each.querySelectorAll(".tp-dot").forEach(function (dot) { dot.setAttribute("r", radius.toFixed(2)); });
      });
    });
    picker.querySelectorAll("svg[data-point-picker]").forEach(function (svg) {
      chartApi.roving(svg, ".tp-dot", function (dot) { dotName.textContent = dot.getAttribute("aria-label"); });
    });

    function nearestDot(svg, at) {
      var best = null, bestDistance = Infinity;
      svg.querySelectorAll(".tp-dot").forEach(function (dot) {
        var dx = Number(dot.getAttribute("cx")) - at.x, dy = Number(dot.getAttribute("cy")) - at.y;
        var distance = Math.sqrt(dx * dx + dy * dy);
        if (distance < bestDistance) { best = dot; bestDistance = distance; }
      });
      return best && bestDistance <= Number(best.getAttribute("r")) ? best : null;
    }

    picker.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType || "mouse"; });
    picker.addEventListener("pointerover", function (event) {
      var dot = event.target.closest(".tp-dot");
      if (dot && event.pointerType === "mouse") { dotName.textContent = dot.getAttribute("aria-label"); }
    });

    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-point]");
      if (add) { event.preventDefault(); addPoint(add.dataset.addPoint, null); return; }
      var svg = event.target.closest("svg[data-point-picker]");
      if (svg) {
        var at = chartApi.toFigure(svg, event.clientX, event.clientY);
        if (chartApi.isTouch(event, lastPointer) && pickerZoom.zoomed() !== svg) { pickerZoom.zoomTo(svg, at); return; }
        var dot = pickerZoom.zoomed() === svg ? nearestDot(svg, at) : event.target.closest(".tp-dot");
        if (dot) { addPoint(dot.dataset.tp || dot.dataset.mirrorOf, dot.dataset.side); }
        return;
      }
      if (event.target.closest("[data-add-row]")) {
        event.preventDefault();
        newRow().querySelector("select").focus();
        return;
      }
      var remove = event.target.closest("[data-remove-point]");
      if (remove) { removeRow(remove.closest("[data-point-row]")); changed(); }
    });
    picker.addEventListener("keydown", function (event) {
      var dot = event.target.closest(".tp-dot");
      if (dot && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); addPoint(dot.dataset.tp || dot.dataset.mirrorOf, dot.dataset.side); }
    });

    function pointName(id) { var p = data.points[id]; return data.muscles[p.muscle].name + " · point " + p.number; }

    function rowsWith(id) {
      return Array.from(rows.querySelectorAll("[data-point-row]")).filter(function (row) { return row.querySelector("select").value === id; });
    }

    function addPoint(id, side) {
      var same = rowsWith(id).filter(function (row) {
        var checked = row.querySelector("input[type=radio]:checked");
        return side && checked && checked.value === side;
      });
      if (same.length) {
        dotName.textContent = pointName(id) + " (" + side + ") is already on the form.";
        flash(same[0]);
        same[0].querySelector("[data-pressure]").focus({ preventScroll: true });
        same[0].scrollIntoView({ block: "nearest" });
        return;
      }
      var row = blankRow() || newRow();
      row.querySelector("select").value = id;
      row.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.checked = radio.value === side; });
      describeRow(row);
      flash(row);
      dotName.textContent = "Added " + pointName(id) + (side ? ", " + side + " side" : ": choose its side");
      row.querySelector("[data-pressure]").focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
      changed();
    }

    function flash(row) {
      row.classList.add("just-added");
      window.setTimeout(function () { row.classList.remove("just-added"); }, 1200);
    }

    function blankRow() {
      return Array.from(rows.querySelectorAll("[data-point-row]")).find(function (row) {
        return !row.querySelector("select").value && !row.querySelector("[data-pressure]").value &&
          !row.querySelector("[data-pain]").value;
      });
    }

    /* Each row's select arrives with only its chosen point; the page carries the whole list once. */
    function fillOptions(select) {
      if (!select.hasAttribute("data-point-options")) { return; }
      var chosen = select.value;
      var list = optionsTemplate.content.firstElementChild.cloneNode(true);
      select.replaceChildren.apply(select, Array.from(list.children));
      Array.from(select.options).forEach(function (option) {
        option.defaultSelected = option.value === chosen;
      });
      select.value = chosen;
      select.removeAttribute("data-point-options");
    }
    rows.querySelectorAll("select[data-point-options]").forEach(fillOptions);

    function newRow() {
      var holder = document.createElement("div");
      holder.innerHTML = rowTemplate.innerHTML.replace(/__index__/g, String(nextIndex++));
      var row = holder.firstElementChild;
      fillOptions(row.querySelector("select[data-point-options]"));
      rows.appendChild(row);
      showScales(row);
      row.querySelector("[data-timer]").hidden = false;
      showRemoveButtons();
      return row;
    }

    function removeRow(row) {
      stopTimer(row, false);
      if (rows.querySelectorAll("[data-point-row]").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input[type=number], input[type=text], select").forEach(function (input) { input.value = ""; });
        row.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (box) { box.checked = false; });
        describeRow(row);
        warn(row);
      }
      showRemoveButtons();
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
      // a side chosen for a point still without its hold: on to the hold, no extra tap
      var pressure = row && row.querySelector("[data-pressure]");
      if (event.target.type === "radio" && pressure && !pressure.value) { pressure.focus({ preventScroll: true }); }
    });
    rows.addEventListener("input", function (event) {
      var row = event.target.closest("[data-point-row]");
      if (row && (event.target.matches("[data-pressure]") || event.target.matches("[data-pain]"))) { warn(row); }
    });
    rows.querySelectorAll("[data-timer]").forEach(function (button) { button.hidden = false; });
    showRemoveButtons();
    markDots();
    rows.addEventListener("change", markDots);

    /* ---- compression timer: one tap starts, one tap stops and fills the hold ---- */
    var ticking = null;
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-timer]");
      if (!button) { return; }
      var row = button.closest("[data-point-row]");
      if (row.dataset.timerStart) { stopTimer(row, true); } else { startTimer(row); }
    });

    function startTimer(row) {
      row.dataset.timerStart = String(Date.now());
      row.querySelector("[data-timer]").classList.add("is-running");
      row.querySelector("[data-timer]").setAttribute("aria-pressed", "true");
      row.querySelector("[data-timer-label]").textContent = "Stop";
      tick();
      if (!ticking) { ticking = window.setInterval(tick, 250); }
    }

    function stopTimer(row, fill) {
      if (!row.dataset.timerStart) { return; }
      var seconds = elapsedSeconds(Number(row.dataset.timerStart), Date.now());
      delete row.dataset.timerStart;
      var button = row.querySelector("[data-timer]");
      button.classList.remove("is-running", "cue-min", "cue-max");
      button.setAttribute("aria-pressed", "false");
      row.querySelector("[data-timer-label]").textContent = "Start timer";
      row.querySelector("[data-timer-time]").textContent = "";
      row.querySelector("[data-timer-cue]").hidden = true;
      if (fill) {
        var pressure = row.querySelector("[data-pressure]");
        pressure.value = String(Math.max(1, seconds));
        pressure.dispatchEvent(new Event("input", { bubbles: true }));
      }
      if (!rows.querySelector("[data-point-row][data-timer-start]")) { window.clearInterval(ticking); ticking = null; }
    }

    function tick() {
      var now = Date.now();
      rows.querySelectorAll("[data-point-row][data-timer-start]").forEach(function (row) {
        var seconds = elapsedSeconds(Number(row.dataset.timerStart), now);
        var cue = timerCue(seconds, data.rules.timerCues);
        var button = row.querySelector("[data-timer]");
        row.querySelector("[data-timer-time]").textContent = seconds + " s";
        button.classList.toggle("cue-min", cue === "min");
        button.classList.toggle("cue-max", cue === "max");
        var cueText = row.querySelector("[data-timer-cue]");
        var text = cue === "max" ? data.rules.timerCues[1] + " s: release now" :
          cue === "min" ? data.rules.timerCues[0] + " s: in the advised range" : "";
        if (cueText.textContent !== text) { cueText.textContent = text; }
        cueText.hidden = !text;
      });
    }

    /* ---- search: names, aliases and numbers first; Enter takes the top result ---- */
    var search = form.querySelector("[data-point-search]");
    var results = form.querySelector("[data-search-results]");
    var index = data.pointOrder.map(function (id, order) {
      var point = data.points[id];
      return { id: id, order: order, names: data.muscles[point.muscle].names, location: words(point.location), number: point.number };
    });

    function ranked(text) {
      var query = parseQuery(text);
      return index.map(function (entry) {
        return { entry: entry, score: scorePoint(entry.names, entry.location, entry.number, query) };
      }).filter(function (found) { return found.score > 0; }).sort(function (a, b) {
        return b.score - a.score || a.entry.order - b.entry.order;
      }).slice(0, 8).map(function (found) { return found.entry.id; });
    }
    window.Knotwork.searchPoints = ranked;

    search.addEventListener("input", function () {
      results.replaceChildren();
      ranked(search.value).forEach(function (id) {
        var item = document.createElement("li");
        var button = element("button", "search-result", pointName(id));
        button.type = "button";
        button.dataset.addPoint = id;
        if (rowsWith(id).length) { button.appendChild(element("span", "badge on-form", "on the form")); }
        button.appendChild(element("span", "muted small", data.points[id].location));
        item.appendChild(button);
        results.appendChild(item);
      });
      results.scrollTop = 0;  // the best match first, in view
      // never under the sticky Save bar: bring the box up when the list would reach it
      var bar = form.querySelector(".sticky-actions");
      var limit = window.innerHeight - (bar ? bar.getBoundingClientRect().height : 0);
      if (results.firstElementChild && results.getBoundingClientRect().bottom > limit) {
        search.scrollIntoView({ block: "start" });
      }
    });
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var first = results.querySelector("[data-add-point]");
      if (first) { addPoint(first.dataset.addPoint, null); search.value = ""; results.replaceChildren(); }
    });

    /* ---- the draft on the server ---- */
    var draftTimer = null;
    var draftStatus = form.querySelector("[data-draft-status]");
    function scheduleDraft() {
      window.clearTimeout(draftTimer);
      draftTimer = window.setTimeout(saveDraft, 1500);
    }
    form.addEventListener("input", scheduleDraft);
    form.addEventListener("change", scheduleDraft);

    function saveDraft() {
      var fields = {};
      new FormData(form).forEach(function (value, name) {
        if (name === "csrf_token") { return; }
        (fields[name] = fields[name] || []).push(String(value));
      });
      fetch(data.draft.save, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": form.querySelector('input[name="csrf_token"]').value
        },
        body: JSON.stringify({ scope: data.draft.scope, fields: fields })
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        draftStatus.textContent = "Draft kept on the server at " + new Date().toTimeString().slice(0, 5) + ".";
        var offer = document.querySelector("[data-draft-offer]");
        if (offer) { offer.hidden = true; }
      }).catch(function () { draftStatus.textContent = "The draft could not be kept just now; the form is still here."; });
    }

    function names(ids) { return ids.map(function (id) { return data.regionNames[id]; }).join(", "); }
  }
})();
