"""Elements SpiffWorkflow would accept silently but Casework does not run as drawn.

The library skips what it does not know: a link event becomes a plain event whose
flow ends nowhere, a compensation event does nothing, a Camunda listener or
input/output mapping is dropped.  A case would then behave differently from the
diagram without a word.  Each such element is reported where it is written, with
what to draw instead; lanes that list elements which no longer exist (left behind
when a task was deleted) are reported too, so the lane mapping a designer reads is
the one that runs.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .connectors import topic
from .forms import CAMUNDA_NS
from .parser import BPMN_NS, NS, CaseParser
from .tree import elements

Report = Callable[..., None]

#: Children of a process that are not flow nodes and need no parser.
_NOT_FLOW_NODES = frozenset(
    {
        "sequenceFlow",
        "laneSet",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "textAnnotation",
        "association",
        "group",
        "ioSpecification",
        "property",
        "extensionElements",
        "documentation",
        "auditing",
        "monitoring",
        "correlationSubscription",
        "incoming",
        "outgoing",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "dataInputAssociation",
        "dataOutputAssociation",
        "completionCondition",
        # reported (or rewritten) by ``modeler``
        "complexGateway",
        "businessRuleTask",
    }
)
_CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")

_EVENT_DEFINITIONS = {
    "linkEventDefinition": (
        "link events are not run (the throwing event would end its path): draw a sequence "
        "flow to where the link leads instead"
    ),
    "compensateEventDefinition": (
        "compensation is not run: draw the undo steps as tasks on an error or escalation "
        "path instead"
    ),
}
_CAMUNDA_EXTENSIONS = {
    "executionListener": (
        "Camunda execution listeners are not run: put the work in a service task (a "
        "registered connector) or a script task on the flow"
    ),
    "taskListener": (
        "Camunda task listeners are not run: put the work in a service task (a registered "
        "connector) or a script task after the user task"
    ),
    "inputOutput": (
        "Camunda input/output mappings are not applied (process variables are passed as "
        "they are): set the variables in a form or script instead"
    ),
}


def _tag(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def _label(node: etree._Element) -> str:
    return f"'{node.get('name') or node.get('id')}'"


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor with an id (the element a designer clicks in the modeler)."""
    found = node.getparent()
    while found is not None and found.get("id") is None:
        found = found.getparent()
    return found if found is not None else node


def check_unsupported(process: etree._Element, report: Report) -> None:
    """Report flow nodes, event kinds and Camunda extensions Casework would not run."""
    known = {etree.QName(tag).localname for tag in CaseParser.PARSER_CLASSES}
    for container in process.iter(*(_tag(name) for name in _CONTAINERS)):
        for child in container:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
                continue
            local = etree.QName(child).localname
            if local in known or local in _NOT_FLOW_NODES:
                continue
            report(
                f"<bpmn:{local}> {_label(child)} is not supported: Casework would skip it; "
                "draw it as a task, event or gateway Casework runs (see the designer's guide)",
                node=child,
            )
    for kind, why in _EVENT_DEFINITIONS.items():
        for definition in process.iter(_tag(kind)):
            owner = _owner(definition)
            report(f"event {_label(owner)}: {why}", node=definition, element_id=owner.get("id"))
    for kind, why in _CAMUNDA_EXTENSIONS.items():
        for extension in process.iter(f"{{{CAMUNDA_NS}}}{kind}"):
            owner = _owner(extension)
            if kind == "inputOutput" and topic(owner) is not None:
                continue  # a connector's inputs (``connectors.py``)
            report(
                f"{_label(owner)}: {why}",
                node=extension,
                element_id=owner.get("id"),
                severity="warning",
            )


def check_lane_references(process: etree._Element, report: Report) -> int:
    """Report lanes listing elements that are not in the process; return how many."""
    ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str)}
    found = 0
    for lane in elements(process, ".//bpmn:laneSet//bpmn:lane", NS):
        for ref in lane.findall(_tag("flowNodeRef")):
            target = (ref.text or "").strip()
            if target in ids:
                continue
            found += 1
            what = f"'{target}', which is not an element of this process" if target else "nothing"
            report(
                f"lane {_label(lane)} lists {what} (left behind when an element was deleted): "
                "remove this flowNodeRef, or move any element of the lane in the modeler and "
                "save again",
                node=ref,
                element_id=lane.get("id"),
            )
    return found
