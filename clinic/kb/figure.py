"""The body figure (clinic/static/svg/body-<view>.svg) rendered inline, with regions and points marked.

Inline rather than <img> so regions can be shaded, clicked and focused; rendered on the server so
pages read correctly without JavaScript. The SVG files are this project's own, so their markup is trusted."""

import copy
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from clinic.kb import sides
from clinic.kb.schema import FIGURE_HEIGHT, FIGURE_WIDTH, REGION_GROUPS, TriggerPoint

SVG_NS = "http://www.w3.org/2000/svg"
SVG_DIR = Path(__file__).resolve().parent.parent / "static" / "svg"
ET.register_namespace("", SVG_NS)

# Where each body area lies in the figure (x, y, width, height), to zoom small figures onto a pattern.
AREA_WINDOWS = {
    "Head and neck": (65, 0, 110, 112),
    "Shoulder and arm": (0, 70, 240, 280),
    "Trunk": (45, 85, 150, 230),
    "Leg and foot": (45, 250, 150, 270),
}


@lru_cache(maxsize=2)
def _template(view: str) -> ET.Element:
    return ET.parse(SVG_DIR / f"body-{view}.svg").getroot()


def figure_regions(view: str) -> list[str]:
    return [group.get("data-region") for group in _template(view).iter(f"{{{SVG_NS}}}g") if group.get("data-region")]


def render_figure(
    view: str,
    *,
    primary: Iterable[str] = (),
    secondary: Iterable[str] = (),
    selected: Iterable[str] = (),
    points: Iterable[TriggerPoint] = (),
    interactive: bool = False,
    css_class: str = "",
    viewbox: str | None = None,
    point_names: dict[str, str] | None = None,
) -> Markup:
    """One view of the figure. `interactive` keeps regions focusable buttons; otherwise it is a picture.
    With `point_names` (trigger point id -> name), the trigger point dots become buttons instead. The same
    arguments give the same markup, so it is built once per process and kept (the last FIGURE_CACHE kinds)."""
    primary, secondary, selected = frozenset(primary), frozenset(secondary), frozenset(sides.region_ids(selected))
    points = tuple(points)
    key = (
        view,
        primary,
        secondary,
        selected,
        tuple((p.id, p.number, p.location, p.position.view, p.position.x, p.position.y) for p in points),
        interactive,
        css_class,
        viewbox,
        tuple(sorted(point_names.items())) if point_names else None,
    )
    markup = _rendered.get(key)
    if markup is None:
        markup = _render(view, primary, secondary, selected, points, interactive, css_class, viewbox, point_names)
        with _rendered_lock:  # threads of one worker share the cache
            if len(_rendered) >= FIGURE_CACHE:
                _rendered.pop(next(iter(_rendered)))  # the oldest
            _rendered[key] = markup
    return markup


FIGURE_CACHE = 256
_rendered: dict[tuple, Markup] = {}
_rendered_lock = threading.Lock()


def _render(view, primary, secondary, selected, points, interactive, css_class, viewbox, point_names) -> Markup:
    root = copy.deepcopy(_template(view))
    root.set("class", " ".join(filter(None, [root.get("class", "body-figure"), css_class])))
    if viewbox:
        root.set("viewBox", viewbox)
    if interactive:
        root.set("data-interactive", "true")
    elif point_names:
        root.set("data-point-picker", "true")
    else:
        root.set("aria-hidden", "true")
        root.attrib.pop("role", None)
    for group in root.iter(f"{{{SVG_NS}}}g"):
        region = group.get("data-region")
        if region is None:
            continue
        classes = [group.get("class", "region")]
        classes += [
            name
            for name, chosen in (("is-primary", primary), ("is-secondary", secondary), ("is-selected", selected))
            if region in chosen
        ]
        group.set("class", " ".join(classes))
        if interactive:
            group.set("aria-pressed", "true" if region in selected else "false")
        else:
            for attribute in ("tabindex", "role", "aria-label"):
                group.attrib.pop(attribute, None)
    layer = next((g for g in root.iter(f"{{{SVG_NS}}}g") if "tp-layer" in g.get("class", "")), root)
    for point in points:
        if point.position.view != view:
            continue
        if point_names:
            _picker_dots(layer, view, point, point_names[point.id])
            continue
        dot = ET.SubElement(
            layer,
            f"{{{SVG_NS}}}circle",
            {
                "class": "tp-dot",
                "cx": f"{point.position.x:g}",
                "cy": f"{point.position.y:g}",
                "r": "4.5",
                "data-tp": point.id,
            },
        )
        ET.SubElement(dot, f"{{{SVG_NS}}}title").text = f"Trigger point {point.number}: {point.location}"
        label = ET.SubElement(
            layer,
            f"{{{SVG_NS}}}text",
            {"class": "tp-label", "x": f"{point.position.x + 6:g}", "y": f"{point.position.y - 5:g}"},
        )
        label.text = str(point.number)
    return Markup(ET.tostring(root, encoding="unicode"))


def _picker_dots(layer: ET.Element, view: str, point: TriggerPoint, name: str) -> None:
    """A point on the client's right side (where the knowledge base places it) and its mirror on the left, each
    a button named with its side; a name label beside it shows when the figure is zoomed in (figure.css)."""
    x, y = point.position.x, point.position.y
    places = [("right", x)] if abs(x - FIGURE_WIDTH / 2) < 2 else [("right", x), ("left", FIGURE_WIDTH - x)]
    for side, cx in places:
        label = f"{name}, {side} side"
        dot = ET.SubElement(
            layer,
            f"{{{SVG_NS}}}circle",
            {
                "class": "tp-dot",
                "cx": f"{cx:g}",
                "cy": f"{y:g}",
                "r": "4.5",
                # the contract's data-tp marks the point where the knowledge base places it (client's right);
                # its mirror names the same point for the left side
                ("data-tp" if side == "right" else "data-mirror-of"): point.id,
                "data-side": side,
                "tabindex": "-1",
                "role": "button",
                "aria-label": label,
            },
        )
        ET.SubElement(dot, f"{{{SVG_NS}}}title").text = label
        # what the eye sees when zoomed in; the circle above is the (then larger, clear) target for a finger
        ET.SubElement(
            layer,
            f"{{{SVG_NS}}}circle",
            {"class": "tp-core", "cx": f"{cx:g}", "cy": f"{y:g}", "r": "1.5", "data-core-of": f"{point.id}|{side}"},
        )
        # written toward the midline, where a zoomed window around the body keeps it in view
        right_of_viewer = cx > FIGURE_WIDTH / 2
        text = ET.SubElement(
            layer,
            f"{{{SVG_NS}}}text",
            {
                "class": "tp-name",
                "x": f"{cx + (-2.2 if right_of_viewer else 2.2):g}",
                "y": f"{y - 2.2:g}",
                "text-anchor": "end" if right_of_viewer else "start",
                "data-half": "viewer-right" if right_of_viewer else "viewer-left",
                "aria-hidden": "true",
            },
        )
        text.text = name.replace(", point ", " ")


def focus_viewbox(regions: Iterable[str]) -> str:
    """The smallest of our area windows that shows all these regions (the whole figure if none)."""
    regions = set(regions)
    boxes = [AREA_WINDOWS[area] for area, ids in REGION_GROUPS.items() if regions & set(ids)]
    if not boxes:
        return f"0 0 {FIGURE_WIDTH} {FIGURE_HEIGHT}"
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return f"{left} {top} {right - left} {bottom - top}"


# --- one figure shared by many small ones (the session form's rows) ------------------------------------------


def base_id(view: str) -> str:
    return f"figure-base-{view}"


@lru_cache(maxsize=2)
def render_base(view: str) -> Markup:
    """The plain figure once, as a definition that small figures reuse with <use href> (hidden by figure.css):
    a page with many small figures carries the body's outline and regions once instead of per figure."""
    root = copy.deepcopy(_template(view))
    base = ET.Element(f"{{{SVG_NS}}}g", {"id": base_id(view)})
    for child in list(root):
        base.append(child)
    for group in base.iter(f"{{{SVG_NS}}}g"):
        if group.get("data-region") is not None:
            for attribute in ("tabindex", "role", "aria-label"):
                group.attrib.pop(attribute, None)
    sprite = ET.Element(
        f"{{{SVG_NS}}}svg",
        {"class": "body-figure figure-sprite", "data-view": view, "aria-hidden": "true", "focusable": "false"},
    )
    ET.SubElement(sprite, f"{{{SVG_NS}}}defs").append(base)
    return Markup(ET.tostring(sprite, encoding="unicode"))


@lru_cache(maxsize=2)
def _region_groups(view: str) -> dict[str, ET.Element]:
    return {
        group.get("data-region"): group for group in _template(view).iter(f"{{{SVG_NS}}}g") if group.get("data-region")
    }


def render_reused(
    view: str, *, primary: Iterable[str] = (), secondary: Iterable[str] = (), viewbox: str | None = None
) -> Markup:
    """A small picture: the shared figure (render_base, once on the page) with only the shaded regions drawn over
    it. The same markup as render_figure for a picture (aria-hidden, regions classed is-primary/is-secondary)."""
    return _reused(view, frozenset(primary), frozenset(secondary), viewbox)


@lru_cache(maxsize=FIGURE_CACHE)
def _reused(view: str, primary: frozenset, secondary: frozenset, viewbox: str | None) -> Markup:
    template = _template(view)
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "viewBox": viewbox or template.get("viewBox"),
            "class": "body-figure",
            "data-view": view,
            "aria-hidden": "true",
            "data-reuses": base_id(view),
        },
    )
    ET.SubElement(root, f"{{{SVG_NS}}}use", {"href": f"#{base_id(view)}"})
    for region, group in _region_groups(view).items():
        classes = [name for name, chosen in (("is-primary", primary), ("is-secondary", secondary)) if region in chosen]
        if not classes:
            continue
        shaded = ET.SubElement(
            root, f"{{{SVG_NS}}}g", {"class": " ".join([group.get("class", "region"), *classes]), "data-region": region}
        )
        for child in group:
            shaded.append(copy.deepcopy(child))
    return Markup(ET.tostring(root, encoding="unicode"))
