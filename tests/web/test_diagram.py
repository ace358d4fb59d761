"""The BPMN diagram drawn as SVG from the file's diagram interchange, marked by case state."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import PROCESSES
from web.diagram import MARKS, case_marks, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def shapes(svg: str) -> dict[str, list[etree._Element]]:
    root = etree.fromstring(svg.encode())
    found: dict[str, list[etree._Element]] = {}
    for node in root.iter():
        if isinstance(node.tag, str):
            found.setdefault(node.tag.replace(SVG, ""), []).append(node)
    return found


def classes(svg: str, css: str) -> int:
    return sum(css in (n.get("class") or "").split() for n in etree.fromstring(svg).iter())


def test_the_support_process_is_drawn_with_every_shape_and_flow():
    svg = str(render_svg((PROCESSES / "support.bpmn").read_text()))
    drawn = shapes(svg)
    xml = (PROCESSES / "support.bpmn").read_text()
    assert len(drawn["rect"]) >= xml.count("<bpmn:userTask") + xml.count("<bpmn:lane ")
    assert len(drawn["polyline"]) == xml.count("<bpmndi:BPMNEdge")
    assert len(drawn["circle"]) >= xml.count("<bpmn:startEvent") + xml.count("<bpmn:endEvent")
    texts = " ".join("".join(t.itertext()) for t in drawn["text"])
    assert "Triage case" in texts and "Service desk" in texts


def test_states_colour_the_elements_they_name():
    xml = (PROCESSES / "support.bpmn").read_text()
    marks = case_marks(
        [("Task_Triage", "completed"), ("Task_ProposeResolution", "open")],
        ["BoundaryEvent_TriageOverdue:6f1c"],
        closed=False,
        starts=["StartEvent_CaseRaised"],
    )
    assert marks == {
        "StartEvent_CaseRaised": "completed",
        "Task_Triage": "completed",
        "Task_ProposeResolution": "active",
        "BoundaryEvent_TriageOverdue": "waiting",
    }
    svg = str(render_svg(xml, marks))
    assert classes(svg, "completed") == 2 and classes(svg, "active") == 1
    assert classes(svg, "waiting") == 1
    assert set(MARKS) == {"completed", "active", "waiting"}


def test_names_from_the_file_are_escaped():
    xml = (
        (PROCESSES / "support.bpmn")
        .read_text()
        .replace('name="Triage case"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    )
    svg = str(render_svg(xml))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert shapes(svg)["svg"]


def test_a_file_without_diagram_interchange_draws_nothing():
    xml = (PROCESSES / "support.bpmn").read_text()
    assert str(render_svg(xml[: xml.index("<bpmndi:BPMNDiagram")] + "</bpmn:definitions>")) == ""


@pytest.mark.parametrize(
    "name",
    [
        "bpmn-js/kitchen-sink.bpmn",
        "bpmn-js/vertical-pools.bpmn",
        "camunda-bpm-examples/invoicePayment.bpmn",
        "camunda-bpm-examples/loan-granting.bpmn",
    ],
)
def test_corpus_files_render_to_well_formed_svg(corpus: Path, name: str):
    xml = (corpus / "bpmn" / name).read_bytes()
    svg = str(render_svg(xml))
    drawn = shapes(svg)
    assert drawn["svg"][0].get("viewBox")
    assert len(drawn.get("rect", [])) + len(drawn.get("circle", [])) >= 3
    assert len(drawn.get("polyline", [])) == xml.count(b"BPMNEdge ") + xml.count(b"BPMNEdge\n")
