"""Every reference in a process points at something, and every wait can end.

Modelers leave dangling references behind when elements are deleted or pasted
between files: a flow to a removed task, a boundary event on a task that is gone, a
message event naming a message defined in another file.  The XSD declares most of
these as QNames, so the schema check lets them through, and SpiffWorkflow then fails
with a message about something else (or not at all: a boundary event on nothing is
silently dropped).

A wait for a message or signal that nothing in the process throws is no fault: it is
delivered from outside (``run.py case message``, the API, a mail reply; see
``engine/run/messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .parser import BPMN_NS
from .tree import parent

Report = Callable[..., None]
_DEFINITIONS = {
    "messageRef": "message",
    "signalRef": "signal",
    "errorRef": "error",
    "escalationRef": "escalation",
}


_ACTIVITIES = (
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "subProcess",
    "adHocSubProcess",
    "transaction",
    "callActivity",
)


def _tag(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def _label(node: etree._Element) -> str:
    return f"'{node.get('name') or node.get('id')}'"


def check_references(root: etree._Element, process: etree._Element, report: Report) -> int:
    """Report flows, boundary events and event definitions that point at nothing; return
    how many (SpiffWorkflow's own messages about a broken graph would only confuse)."""
    found = 0

    def broken(message: str, node: etree._Element) -> None:
        nonlocal found
        found += 1
        report(message, node=node)

    ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str)}
    for flow in process.iter(_tag("sequenceFlow")):
        for end in ("sourceRef", "targetRef"):
            target = flow.get(end)
            if target and target not in ids:
                broken(
                    f"the flow's {end} '{target}' is not an element of this process: delete "
                    "the flow in the modeler and draw it again",
                    flow,
                )
    activities = {node.get("id") for node in process.iter(*(_tag(n) for n in _ACTIVITIES))}
    for boundary in process.iter(_tag("boundaryEvent")):
        attached = boundary.get("attachedToRef")
        if attached and attached not in activities:
            broken(
                f"boundary event {_label(boundary)} is attached to '{attached}', which is not "
                "a task or sub-process of this process",
                boundary,
            )
    defined = {
        kind: {node.get("id") for node in root.iter(_tag(kind))} for kind in _DEFINITIONS.values()
    }
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute, kind in _DEFINITIONS.items():
            ref = node.get(attribute)
            if ref and ref not in defined[kind]:
                owner = parent(node) if node.tag.endswith("EventDefinition") else node
                broken(
                    f"{kind} '{ref}' is not defined in this file: pick one in the modeler's "
                    f"{kind.title()} field or create it",
                    owner,
                )
    return found


#: Names the engine gives its own tasks in every process; an element with one of these ids
#: would replace the engine's task and the process could not start.
RESERVED_IDS = ("Start", "End", "Root")


def check_reserved_ids(process: etree._Element, report: Report) -> int:
    """Refuse element ids the engine uses itself; return how many."""
    found = 0
    for node in process.iter():
        if isinstance(node.tag, str) and node.get("id") in RESERVED_IDS:
            found += 1
            report(
                f"the id {node.get('id')!r} is reserved by the engine; give this element "
                f"another id (e.g. {node.get('id')}Event_1)",
                node=node,
            )
    return found
