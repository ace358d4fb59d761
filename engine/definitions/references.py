"""Every reference in a process points at something, and every wait can end.

Modelers leave dangling references behind when elements are deleted or pasted
between files: a flow to a removed task, a boundary event on a task that is gone, a
message event naming a message defined in another file.  The XSD declares most of
these as QNames, so the schema check lets them through, and SpiffWorkflow then fails
with a message about something else (or not at all: a boundary event on nothing is
silently dropped).

Casework delivers no BPMN messages or signals from outside a case, so an event that
waits for one that nothing in the process throws would wait forever: a warning says
so where it is drawn.
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


def check_waits(root: etree._Element, process: etree._Element, report: Report) -> None:
    """Warn where the process waits for a message or signal nothing in it throws."""
    thrown: dict[str, set[str | None]] = {"message": set(), "signal": set()}
    for kind in ("message", "signal"):
        for definition in process.iter(_tag(f"{kind}EventDefinition")):
            event = definition.getparent()
            if event is not None and etree.QName(event).localname in (
                "intermediateThrowEvent",
                "endEvent",
            ):
                thrown[kind].add(definition.get(f"{kind}Ref"))
        for send in process.iter(_tag("sendTask")):
            if kind == "message":
                thrown[kind].add(send.get("messageRef"))
    names = {
        node.get("id"): node.get("name") or node.get("id")
        for kind in thrown
        for node in root.iter(_tag(kind))
    }
    for kind in ("message", "signal"):
        for definition in process.iter(_tag(f"{kind}EventDefinition")):
            event = definition.getparent()
            if event is None or etree.QName(event).localname not in (
                "startEvent",
                "intermediateCatchEvent",
                "boundaryEvent",
            ):
                continue
            ref = definition.get(f"{kind}Ref")
            if ref not in thrown[kind]:
                _warn_wait(event, kind, names.get(ref, ref), report)
    for receive in process.iter(_tag("receiveTask")):
        ref = receive.get("messageRef")
        if ref and ref not in thrown["message"]:
            _warn_wait(receive, "message", names.get(ref, ref), report)


def _warn_wait(node: etree._Element, kind: str, name: str | None, report: Report) -> None:
    what = f"{kind} '{name}'" if name else f"a {kind}"
    report(
        f"{_label(node)} waits for {what}, which nothing in this process sends and Casework "
        "does not deliver from outside a case: a case would wait here forever (use a user "
        "task or a timer)",
        node=node,
        severity="warning",
    )


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
