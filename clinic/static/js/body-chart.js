/* The clickable body figure: regions toggle on click, tap, Enter or Space; the same region id stays
   in step across the front and back views. Used by the symptom checker and the session form. */
(function () {
  "use strict";

  function attach(container, onChange) {
    var selected = new Set();

    function regionsNamed(id) {
      return container.querySelectorAll('svg[data-interactive] .region[data-region="' + CSS.escape(id) + '"]');
    }

    function paint(id) {
      regionsNamed(id).forEach(function (region) {
        var on = selected.has(id);
        region.classList.toggle("is-selected", on);
        region.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    function toggle(id) {
      if (selected.has(id)) { selected.delete(id); } else { selected.add(id); }
      paint(id);
      onChange(Array.from(selected));
    }

    container.querySelectorAll("svg[data-interactive] .region[data-region]").forEach(function (region) {
      if (region.classList.contains("is-selected")) { selected.add(region.dataset.region); }
    });

    container.addEventListener("click", function (event) {
      var region = event.target.closest("svg[data-interactive] .region[data-region]");
      if (region) { toggle(region.dataset.region); }
    });
    container.addEventListener("keydown", function (event) {
      var region = event.target.closest("svg[data-interactive] .region[data-region]");
      if (region && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        toggle(region.dataset.region);
      }
    });

    return {
      selected: function () { return Array.from(selected); },
      set: function (ids) {
        var previous = Array.from(selected);
        selected = new Set(ids);
        previous.concat(ids).forEach(paint);
      }
    };
  }

  /* Shade a (non-interactive) copy of the figure with a muscle's referral pattern. */
  function shade(root, primary, secondary, chosen) {
    root.querySelectorAll(".region[data-region]").forEach(function (region) {
      var id = region.dataset.region;
      region.classList.toggle("is-primary", primary.indexOf(id) !== -1);
      region.classList.toggle("is-secondary", secondary.indexOf(id) !== -1);
      region.classList.toggle("is-selected", chosen.indexOf(id) !== -1);
    });
  }

  window.Knotwork = window.Knotwork || {};
  window.Knotwork.bodyChart = { attach: attach, shade: shade };
})();
