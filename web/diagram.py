"""The case's process diagram as SVG, drawn on the server from the BPMN diagram interchange.

Modelers store where each element sits (``BPMNShape`` bounds, ``BPMNEdge`` waypoints)
beside the process; we draw those boxes, circles, diamonds and arrows and colour
each element by how far the case has come: completed, active (a human task open)
or waiting (a timer).  No script and no CDN: the page stays static and safe, and
every name from the file is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from markupsafe import Markup
from sqlalchemy import select

from engine.runtime import UnitOfWork
from engine.store.models import Case, CaseTypeVersion, HumanTask, Timer

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
MARKS = ("completed", "active", "waiting")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _kind(tag: str) -> str:
    local = etree.QName(tag).localname
    if local.endswith("Event"):
        return "event"
    if local.endswith("Gateway"):
        return "gateway"
    if local in ("participant", "lane"):
        return "lane"
    if local in ("textAnnotation", "dataObjectReference", "dataStoreReference", "group"):
        return "artifact"
    return "task"


def _num(node: etree._Element, name: str) -> float:
    try:
        return float(node.get(name, "0"))
    except ValueError:
        return 0.0


def _shape(kind: str, x: float, y: float, w: float, h: float, css: str) -> str:
    cls = quoteattr(f"{kind} {css}".strip())
    if kind == "event":
        r = min(w, h) / 2
        return f'<circle class={cls} cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" r="{r:.1f}"/>'
    if kind == "gateway":
        cx, cy = x + w / 2, y + h / 2
        points = f"{cx:.1f},{y:.1f} {x + w:.1f},{cy:.1f} {cx:.1f},{y + h:.1f} {x:.1f},{cy:.1f}"
        return f"<polygon class={cls} points={quoteattr(points)}/>"
    rounding = 0 if kind in ("lane", "artifact") else 10
    return (
        f'<rect class={cls} x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'rx="{rounding}"/>'
    )


def _label(kind: str, name: str, x: float, y: float, w: float, h: float) -> str:
    if not name:
        return ""
    if kind == "lane":  # written along the left edge, as modelers show it
        cx, cy = x + 15, y + h / 2
        return (
            f'<text class="lane-label" x="{cx:.1f}" y="{cy:.1f}" '
            f'transform="rotate(-90 {cx:.1f} {cy:.1f})">{escape(name)}</text>'
        )
    if kind in ("event", "gateway"):
        return f'<text x="{x + w / 2:.1f}" y="{y + h + 14:.1f}">{escape(name)}</text>'
    words, lines, line = name.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > max(8, int(w / 7)):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    top = y + h / 2 - (len(lines) - 1) * 7
    spans = "".join(
        f'<tspan x="{x + w / 2:.1f}" y="{top + i * 14 + 4:.1f}">{escape(t)}</tspan>'
        for i, t in enumerate(lines[:4])
    )
    return f"<text>{spans}</text>"


def render_svg(bpmn_xml: str | bytes, marks: dict[str, str] | None = None) -> Markup:
    """SVG of the first diagram in the file; ``marks`` maps element ids to a state in
    :data:`MARKS`.  A file without diagram interchange gives an empty string."""
    marks = marks or {}
    data = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    root = etree.fromstring(data, _PARSER)
    elements = {
        node.get("id"): node
        for node in root.iter()
        if isinstance(node.tag, str) and node.get("id") is not None
    }
    plane = root.find(".//bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        return Markup("")
    shapes, edges, labels = [], [], []
    xs, ys = [], []
    for shape in plane.iterfind("bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        element = elements.get(shape.get("bpmnElement"))
        if bounds is None or element is None:
            continue
        x, y, w, h = (_num(bounds, k) for k in ("x", "y", "width", "height"))
        kind = _kind(element.tag)
        state = marks.get(element.get("id", ""), "")
        xs += [x, x + w]
        ys += [y, y + h + 20]
        shapes.append((kind, _shape(kind, x, y, w, h, state)))
        labels.append(_label(kind, element.get("name") or "", x, y, w, h))
    for edge in plane.iterfind("bpmndi:BPMNEdge", NS):
        points = [(_num(p, "x"), _num(p, "y")) for p in edge.iterfind("di:waypoint", NS)]
        if len(points) < 2:
            continue
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        element = elements.get(edge.get("bpmnElement"))
        kind = etree.QName(element.tag).localname if element is not None else "flow"
        edges.append(f'<polyline class={quoteattr(kind)} points="{path}"/>')
    if not xs:
        return Markup("")
    left, top = min(xs) - 10, min(ys) - 10
    width, height = max(xs) - left + 10, max(ys) - top + 10
    ordered = [s for k, s in shapes if k == "lane"] + [s for k, s in shapes if k != "lane"]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn" role="img" '
        f'viewBox="{left:.0f} {top:.0f} {width:.0f} {height:.0f}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>" + "".join(ordered) + "".join(edges) + "".join(labels) + "</svg>"
    )


def case_marks(
    tasks: Iterable[tuple[str, str]], timers: Iterable[str], *, closed: bool, starts: Iterable[str]
) -> dict[str, str]:
    """Element states from the case's human tasks ``(element, state)`` and waiting timers
    (the engine names them ``element:uuid``); an open task wins over an earlier completion."""
    marks = {element: "completed" for element in starts}
    for element, state in tasks:
        if state == "completed" and marks.get(element) != "active":
            marks[element] = "completed"
        elif state == "open":
            marks[element] = "active"
    for name in timers:
        marks[name.split(":", 1)[0]] = "waiting"
    if closed:
        marks = {k: v for k, v in marks.items() if v != "active"}
    return marks


def case_diagram(work: UnitOfWork, case: Case) -> Markup:
    """The diagram of the case's version, marked by its task and timer states."""
    xml = work.session.scalar(
        select(CaseTypeVersion.bpmn_xml).where(CaseTypeVersion.id == case.version_id)
    )
    if not xml:
        return Markup("")
    tasks = work.session.execute(
        select(HumanTask.element_id, HumanTask.state).where(HumanTask.case_id == case.id)
    ).tuples()
    timers = work.session.scalars(
        select(Timer.name).where(
            Timer.case_id == case.id, Timer.source == "bpmn", Timer.state == "waiting"
        )
    )
    try:
        root = etree.fromstring(xml.encode(), _PARSER)
    except etree.XMLSyntaxError:
        return Markup("")
    starts = [n.get("id", "") for n in root.iterfind(".//bpmn:startEvent", NS)]
    return render_svg(xml, case_marks(tasks, timers, closed=case.status == "closed", starts=starts))
