/* The clickable body figure, used by the symptom checker and the session form.
   - Regions toggle on click, Enter or Space; the same region id stays in step across the front and back views.
   - With `sided`, a region carries the side that was tapped ("temple:left"); tapping the other side makes it
     "both", tapping a chosen side again takes that side off.
   - On touch, the whole body is too small to hit a region or a point with a finger: the first tap zooms into
     the spot tapped (8 CSS px per figure unit, so the smallest region, the ear, is about 47 px wide and every
     point's target at least 44 px); "Whole body" zooms out, "Turn over" shows the other view of the same spot.
   - Keyboard: each figure is one tab stop (roving tabindex); arrow keys move between its regions or points.
   The figure's coordinate space is 240 x 520 (clinic/kb/schema.py); x < 120 is the client's right side on the
   front view and x > 120 on the back view. */
(function () {
  "use strict";

  var WIDTH = 240, HEIGHT = 520, MIDLINE = 120;
  var ZOOM_SCALE = 8;      // CSS px per figure unit when zoomed
  var TARGET_PX = 44;      // the smallest tap target

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  /* Which side of the client a point of a view lies on. */
  function sideAt(view, x) {
    if (Math.abs(x - MIDLINE) < 1.5) { return "both"; }
    var leftOfViewer = x < MIDLINE;
    return (view === "front") === leftOfViewer ? "right" : "left";
  }

  function toFigure(svg, clientX, clientY) {
    var matrix = svg.getScreenCTM();
    if (!matrix) { return { x: 0, y: 0 }; }
    var point = svg.createSVGPoint();
    point.x = clientX;
    point.y = clientY;
    var local = point.matrixTransform(matrix.inverse());
    return { x: local.x, y: local.y };
  }

  function isTouch(event, last) {
    return event.pointerType === "touch" || (!event.pointerType && last === "touch");
  }

  /* Zoom and turn the figures of one container. `onZoom(svg|null)` is told when the zoom changes. */
  function zoomer(container, onZoom) {
    var pair = container.querySelector(".figure-pair");
    var svgs = Array.from(pair.querySelectorAll("svg.body-figure"));
    var zoomed = null;
    var bar = document.createElement("div");
    bar.className = "zoom-bar";
    bar.hidden = true;
    bar.innerHTML = '<button type="button" class="button" data-zoom-out>Whole body</button>' +
      '<button type="button" class="button" data-turn-over>Turn over</button>' +
      '<span class="muted zoom-hint">Tap a point or area to choose it.</span>';
    pair.parentNode.insertBefore(bar, pair);

    function zoomTo(svg, centre) {
      svgs.forEach(function (other) {
        other.closest(".figure-view").hidden = other !== svg;
        other.classList.toggle("is-zoomed", other === svg);
      });
      pair.classList.add("is-zoomed");
      bar.hidden = false;
      var rect = svg.getBoundingClientRect();
      var w = rect.width / ZOOM_SCALE, h = rect.height / ZOOM_SCALE;
      var x = w >= WIDTH ? (WIDTH - w) / 2 : clamp(centre.x - w / 2, 0, WIDTH - w);
      var y = h >= HEIGHT ? (HEIGHT - h) / 2 : clamp(centre.y - h / 2, 0, HEIGHT - h);
      svg.setAttribute("viewBox", [x, y, w, h].map(function (n) { return n.toFixed(2); }).join(" "));
      svg.dataset.zoomCentre = centre.x + "," + centre.y;
      zoomed = svg;
      onZoom(svg);
    }

    function zoomOut() {
      svgs.forEach(function (svg) {
        svg.closest(".figure-view").hidden = false;
        svg.classList.remove("is-zoomed");
        svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + HEIGHT);
      });
      pair.classList.remove("is-zoomed");
      bar.hidden = true;
      zoomed = null;
      onZoom(null);
    }

    bar.addEventListener("click", function (event) {
      if (event.target.closest("[data-zoom-out]")) { zoomOut(); }
      if (event.target.closest("[data-turn-over]") && zoomed) {
        var centre = zoomed.dataset.zoomCentre.split(",").map(Number);
        var other = svgs.find(function (svg) { return svg !== zoomed; });
        zoomOut();
        zoomTo(other, { x: WIDTH - centre[0], y: centre[1] });
      }
    });

    return {
      zoomTo: zoomTo,
      zoomOut: zoomOut,
      zoomed: function () { return zoomed; }
    };
  }

  /* One tab stop per figure; arrow keys move inside it. */
  function roving(svg, selector, onFocus) {
    var items = Array.from(svg.querySelectorAll(selector));
    items.forEach(function (item, index) { item.setAttribute("tabindex", index === 0 ? "0" : "-1"); });
    svg.addEventListener("keydown", function (event) {
      var current = event.target.closest(selector);
      if (!current) { return; }
      var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
      if (event.key === "Home") { step = -items.length; }
      if (event.key === "End") { step = items.length; }
      if (!step) { return; }
      event.preventDefault();
      var index = clamp(items.indexOf(current) + step, 0, items.length - 1);
      current.setAttribute("tabindex", "-1");
      items[index].setAttribute("tabindex", "0");
      items[index].focus();
    });
    svg.addEventListener("focusin", function (event) {
      var item = event.target.closest(selector);
      if (item && onFocus) { onFocus(item); }
    });
  }

  function attach(container, onChange, options) {
    options = options || {};
    var sided = !!options.sided;
    var chosen = new Map();  // region id -> side ("left", "right", "both") or "" when no side is kept
    var lastPointer = "mouse";
    var zoom = zoomer(container, function () {});

    container.querySelectorAll("svg[data-interactive]").forEach(function (svg) {
      svg.querySelectorAll(".region[data-region] path").forEach(function (path) {
        var box = path.getBBox();
        path.dataset.side = sideAt(svg.dataset.view, box.x + box.width / 2);
      });
      roving(svg, ".region[data-region]");
    });

    function regionsNamed(id) {
      return container.querySelectorAll('svg[data-interactive] .region[data-region="' + CSS.escape(id) + '"]');
    }

    function paint(id) {
      var side = chosen.get(id);
      regionsNamed(id).forEach(function (region) {
        var on = chosen.has(id);
        region.classList.toggle("is-selected", on && !sided);
        region.classList.toggle("is-chosen", on);
        region.setAttribute("aria-pressed", on ? "true" : "false");
        if (sided) {
          region.querySelectorAll("path").forEach(function (path) {
            var pathSide = path.dataset.side;
            path.classList.toggle("is-on", on && (side === "both" || !side || pathSide === "both" || pathSide === side));
          });
          var name = region.querySelector("title") ? region.querySelector("title").textContent : id;
          region.setAttribute("aria-label", name + (on ? " (" + (side === "both" ? "both sides" : side || "chosen") + ")" : ""));
        }
      });
    }

    function values() {
      return Array.from(chosen.entries()).map(function (entry) {
        return entry[1] ? entry[0] + ":" + entry[1] : entry[0];
      });
    }

    function toggle(id, side) {
      if (!sided) {
        if (chosen.has(id)) { chosen.delete(id); } else { chosen.set(id, ""); }
      } else {
        var current = chosen.get(id);
        if (current === undefined) { chosen.set(id, side); }
        else if (current === side || side === "both" || !current) { chosen.delete(id); }
        else if (current === "both") { chosen.set(id, side === "left" ? "right" : "left"); }
        else { chosen.set(id, "both"); }
      }
      paint(id);
      onChange(values());
    }

    container.querySelectorAll("svg[data-interactive] .region[data-region]").forEach(function (region) {
      if (region.classList.contains("is-selected")) { chosen.set(region.dataset.region, ""); }
    });

    container.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType || "mouse"; });
    container.addEventListener("click", function (event) {
      var svg = event.target.closest("svg[data-interactive]");
      if (!svg) { return; }
      var at = toFigure(svg, event.clientX, event.clientY);
      if (isTouch(event, lastPointer) && zoom.zoomed() !== svg) {
        zoom.zoomTo(svg, at);
        return;
      }
      var region = event.target.closest(".region[data-region]");
      if (region) { toggle(region.dataset.region, sideAt(svg.dataset.view, at.x)); }
    });
    container.addEventListener("keydown", function (event) {
      var region = event.target.closest("svg[data-interactive] .region[data-region]");
      if (region && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        toggle(region.dataset.region, sided ? "both" : "");
      }
    });

    return {
      selected: values,
      set: function (list) {
        var previous = Array.from(chosen.keys());
        chosen = new Map();
        list.forEach(function (value) {
          var parts = value.split(":");
          chosen.set(parts[0], parts[1] || "");
        });
        previous.concat(Array.from(chosen.keys())).forEach(paint);
      },
      zoom: zoom
    };
  }

  /* Shade a (non-interactive) copy of the figure with a muscle's referral pattern. */
  function shade(root, primary, secondary, chosenIds) {
    root.querySelectorAll(".region[data-region]").forEach(function (region) {
      var id = region.dataset.region;
      region.classList.toggle("is-primary", primary.indexOf(id) !== -1);
      region.classList.toggle("is-secondary", secondary.indexOf(id) !== -1);
      region.classList.toggle("is-selected", chosenIds.indexOf(id) !== -1);
    });
  }

  window.Knotwork = window.Knotwork || {};
  window.Knotwork.bodyChart = {
    attach: attach, shade: shade, zoomer: zoomer, roving: roving, sideAt: sideAt, toFigure: toFigure,
    isTouch: isTouch, ZOOM_SCALE: ZOOM_SCALE, TARGET_PX: TARGET_PX
  };
})();
