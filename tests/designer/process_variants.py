"""Later versions of the shipped support process, as a designer would edit it in the modeler.

Used by the migration tests and ``bench/migrate.py``.
"""

from __future__ import annotations

from lxml import etree

from tests.conftest import PROCESSES

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _tag(name: str) -> str:
    return f"{{{BPMN}}}{name}"


def _load() -> etree._Element:
    return etree.fromstring((PROCESSES / "support.bpmn").read_bytes())


def _by_id(root: etree._Element, element_id: str) -> etree._Element:
    return root.xpath("//*[@id=$id]", id=element_id)[0]


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def renamed_and_added() -> bytes:
    """Triage relabelled, Propose resolution given a new id, a survey after confirmation."""
    root = _load()
    _by_id(root, "Task_Triage").set("name", "Triage the case")
    for node in root.iter():
        for attribute in ("id", "sourceRef", "targetRef", "bpmnElement"):
            if node.get(attribute) == "Task_ProposeResolution":
                node.set(attribute, "Task_Propose")
        if node.text == "Task_ProposeResolution":
            node.text = "Task_Propose"
    confirm_flow = _by_id(root, "Flow_0z8iq9y")
    confirm_flow.set("targetRef", "Task_Survey")
    survey = etree.Element(_tag("userTask"), id="Task_Survey", name="Send satisfaction survey")
    etree.SubElement(survey, _tag("incoming")).text = "Flow_0z8iq9y"
    etree.SubElement(survey, _tag("outgoing")).text = "Flow_Survey"
    confirm_flow.addnext(survey)
    survey.addnext(
        etree.Element(
            _tag("sequenceFlow"),
            id="Flow_Survey",
            sourceRef="Task_Survey",
            targetRef="Gateway_Resolved",
        )
    )
    gateway = _by_id(root, "Gateway_Resolved")
    gateway.find(_tag("incoming")).text = "Flow_Survey"
    lane = _by_id(root, "Lane_ServiceDesk")
    etree.SubElement(lane, _tag("flowNodeRef")).text = "Task_Survey"
    return _dump(root)


def without_investigation() -> bytes:
    """Specialists no longer investigate: the 'yes' branch goes straight to the proposal."""
    root = _load()
    investigate = _by_id(root, "Task_Investigate")
    investigate.getparent().remove(investigate)
    back = _by_id(root, "Flow_0q4f5zr")
    back.getparent().remove(back)
    _by_id(root, "Flow_NeedsSpecialist_Yes").set("targetRef", "Task_ProposeResolution")
    propose = _by_id(root, "Task_ProposeResolution")
    for incoming in propose.findall(_tag("incoming")):
        if incoming.text == "Flow_0q4f5zr":
            incoming.text = "Flow_NeedsSpecialist_Yes"
    for ref in root.iter(_tag("flowNodeRef")):
        if ref.text == "Task_Investigate":
            ref.getparent().remove(ref)
    return _dump(root)
