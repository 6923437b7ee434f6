/* Session form safety: each point's cautions (marked where they meet the client's precautions), self-care that does
   not suit the client, the red flags of the marked regions and the suggested release order (keys before their
   satellites). The server renders the same markup (clinic/safety.py); this script keeps it current as points and
   regions are added by clicking, before anything is saved. It watches the form rather than hooking into
   session-form.js, so either script can change without the other; it takes only its data from it (the page's with
   the form kit's, once loaded). */
(function () {
  "use strict";
  var element = window.Knotwork.element;  // js/dom.js, loaded first
  var form = document.querySelector("[data-session-form]");
  if (!form) { return; }
  // the page's data with its kit's (session-form.js loads it); null when the kit could not be had
  window.Knotwork.sessionForm.then(function (data) { if (data) { watch(data); } });

  function watch(data) {
    var safety = data.safety;
    var rows = form.querySelector("[data-point-rows]");
    var satellites = {};
    Object.keys(safety.keys).forEach(function (satellite) {
      safety.keys[satellite].forEach(function (key) { (satellites[key] = satellites[key] || []).push(satellite); });
    });

    function rowMuscle(row) {
      var select = row.querySelector("select");
      var point = select && data.points[select.value];
      return point ? point.muscle : null;
    }

    function renderCautions(row) {
      var box = row.querySelector("[data-point-cautions]");
      if (!box) { return; }
      var slug = rowMuscle(row);
      if (box.dataset.shown === (slug || "")) { return; }
      box.dataset.shown = slug || "";
      box.replaceChildren();
      if (!slug) { return; }
      var cautions = safety.cautions[slug] || [];
      if (cautions.length) {
        box.appendChild(element("p", "point-cautions-title", "Cautions"));
        var list = element("ul", "caution-list");
        cautions.forEach(function (caution) {
          var item = element("li", caution.met.length ? "caution-met" : "caution");
          if (caution.met.length) {
            item.appendChild(element("strong", "caution-flag", "For this client (" + caution.met.join(", ").toLowerCase() + "):"));
            item.appendChild(document.createTextNode(" "));
          }
          item.appendChild(document.createTextNode(caution.text));
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      (safety.unsuitableSelfCare[slug] || []).forEach(function (note) {
        var p = element("p", "caution-met self-care-unsuitable");
        p.appendChild(element("strong", "caution-flag", "Self-care not suitable for this client (" + note.unsuitable.join(", ").toLowerCase() + "):"));
        p.appendChild(document.createTextNode(" " + note.text));
        box.appendChild(p);
      });
    }

    /* Keys before satellites: the same walk as clinic.safety.release_order. */
    function releaseOrder(onForm) {
      var involved = onForm.slice();
      var queue = onForm.slice();
      while (queue.length) {
        (safety.keys[queue.shift()] || []).forEach(function (key) {
          if (involved.indexOf(key) === -1) { involved.push(key); queue.push(key); }
        });
      }
      function within(list) { return (list || []).filter(function (slug) { return involved.indexOf(slug) !== -1; }); }
      var related = involved.filter(function (slug) { return within(satellites[slug]).length || within(safety.keys[slug]).length; });
      var waiting = {};
      related.forEach(function (slug) { waiting[slug] = within(safety.keys[slug]).length; });
      var ordered = [];
      while (Object.keys(waiting).length) {
        var ready = related.find(function (slug) { return waiting[slug] === 0; });
        if (!ready) { ordered = ordered.concat(related.filter(function (slug) { return slug in waiting; })); break; }
        ordered.push(ready);
        delete waiting[ready];
        within(satellites[ready]).forEach(function (slug) { if (slug in waiting) { waiting[slug] -= 1; } });
      }
      return ordered.map(function (slug) {
        return { slug: slug, onForm: onForm.indexOf(slug) !== -1, keepsActive: within(satellites[slug]) };
      });
    }

    function renderReleaseOrder() {
      var section = form.querySelector("[data-release-order]");
      var onForm = [];
      rows.querySelectorAll("[data-point-row]").forEach(function (row) {
        var slug = rowMuscle(row);
        if (slug && onForm.indexOf(slug) === -1) { onForm.push(slug); }
      });
      var steps = releaseOrder(onForm);
      var list = section.querySelector("[data-release-steps]");
      list.replaceChildren();
      steps.forEach(function (step) {
        var muscle = data.muscles[step.slug];
        var item = element("li", step.onForm ? "" : "suggested");
        item.dataset.releaseMuscle = step.slug;
        var link = element("a", "", muscle.name);
        link.href = muscle.url;
        link.target = "_blank";
        link.rel = "noopener";
        item.appendChild(link);
        if (!step.onForm) { item.appendChild(document.createTextNode(" ")); item.appendChild(element("span", "badge", "check first: not on the form")); }
        if (step.keepsActive.length) {
          item.appendChild(document.createTextNode(" "));
          item.appendChild(element("span", "muted", "often keeps " + step.keepsActive.map(function (slug) {
            return data.muscles[slug].name.toLowerCase();
          }).join(", ") + " active"));
        }
        list.appendChild(item);
      });
      section.hidden = steps.length === 0;
    }

    function renderRedFlags() {
      var section = form.querySelector("[data-session-red-flags]");
      var list = section.querySelector("[data-red-flag-list]");
      var seen = {};
      list.replaceChildren();
      form.querySelectorAll('input[name="pain_regions"]').forEach(function (box) {
        var region = box.value.split(":")[0];
        if (!box.checked) { return; }
        (safety.redFlags[region] || []).forEach(function (text) {
          if (seen[text]) { return; }
          seen[text] = true;
          var item = element("li", "", text + " ");
          item.dataset.flagRegion = region;
          item.appendChild(element("span", "muted", "(" + data.regionNames[region] + ")"));
          list.appendChild(item);
        });
      });
      section.hidden = list.children.length === 0;
    }

    function refreshPoints() {
      rows.querySelectorAll("[data-point-row]").forEach(renderCautions);
      renderReleaseOrder();
    }

    rows.querySelectorAll("[data-point-cautions]").forEach(function (box) {
      box.dataset.shown = rowMuscle(box.closest("[data-point-row]")) || "";
    });
    // session-form.js redraws a row's pattern whenever its point changes, and adds or removes rows: watch for that.
    new MutationObserver(refreshPoints).observe(rows, { childList: true, subtree: true });
    rows.addEventListener("change", refreshPoints);
    var selection = form.querySelector("[data-pain-chart] [data-selection]");
    if (selection) { new MutationObserver(renderRedFlags).observe(selection, { childList: true, characterData: true, subtree: true }); }
    form.addEventListener("change", function (event) { if (event.target.name === "pain_regions") { renderRedFlags(); } });
  }
})();
