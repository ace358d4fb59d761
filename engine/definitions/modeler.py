"""What Casework does with modeler constructs it cannot run as drawn.

Real modeler files contain elements whose behaviour lives outside the diagram: a
Camunda service task calls a Java class or an external worker, a business rule task
a DMN table, a data store a database.  Casework runs none of those.  Each construct
gets one deliberate answer, reported to the designer, before SpiffWorkflow sees the
file (it would stop at the first one, or crash):

- a task the case type's TOML declares in ``[manual_steps]`` becomes a human task for
  the role named there (the common case: "someone does this by hand for now");
- an untyped task (``<bpmn:task>``) is a human task of its lane: SpiffWorkflow waits
  for someone to complete it, so it must reach somebody's inbox;
- a service or business rule task otherwise is an error whose message says how to
  declare it a manual step;
- a data store is documentation only, as in Camunda 7: it is ignored with a warning;
- a send or receive task without a message completes at once, with a warning.

The rewrites happen on the parsed tree that is handed to SpiffWorkflow; the file
stored with the version is the designer's own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from lxml import etree

from .config import CaseTypeConfig
from .connectors import check_connector
from .dmn import decision_ref
from .forms import CAMUNDA_NS
from .parser import BPMN_NS
from .tree import parent

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
Report = Callable[..., None]

_KIND = {
    "serviceTask": "service task",
    "businessRuleTask": "business rule task",
    "sendTask": "send task",
    "receiveTask": "receive task",
    "task": "task",
}


def _tag(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _label(node: etree._Element) -> str:
    return f"'{node.get('name') or node.get('id')}'"


def camunda_implementation(node: etree._Element) -> str | None:
    """How the modeler said a service task is implemented, in the modeler's words."""
    kind = node.get(f"{{{CAMUNDA_NS}}}type")
    if kind == "external":
        return f"an external worker (topic {node.get(f'{{{CAMUNDA_NS}}}topic')!r})"
    for attribute, what in (
        ("class", "the Java class"),
        ("delegateExpression", "the delegate expression"),
        ("expression", "the expression"),
    ):
        value = node.get(f"{{{CAMUNDA_NS}}}{attribute}")
        if value:
            return f"{what} {value}"
    if node.find(f".//{{{CAMUNDA_NS}}}connector") is not None:
        return "a Camunda connector"
    if kind:
        return f"camunda:type {kind!r}"
    return None


def _has_spiff_operator(node: etree._Element) -> bool:
    return node.find(f".//{{{SPIFF_NS}}}serviceTaskOperator") is not None


def _has_message(node: etree._Element) -> bool:
    return bool(node.get("messageRef")) or node.find(_tag("messageEventDefinition")) is not None


def apply_fallbacks(
    root: etree._Element,
    process: etree._Element,
    config: CaseTypeConfig,
    report: Report,
    *,
    decisions: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Rewrite ``root`` in place so SpiffWorkflow can parse it; report each decision.

    ``report(message, node=..., severity=..., file=...)`` records one problem; it is
    called before an element is renamed, so the position found is the designer's tag.
    """
    _check_manual_steps_exist(process, config, report)
    for node in list(process.iter(*(_tag(name) for name in _KIND))):
        _one_task(node, config, report, decisions)
    _ignore_data_stores(root, report)
    _refuse_unsupported(process, report)


def _refuse_unsupported(process: etree._Element, report: Report) -> None:
    """Constructs with no sensible reading in a case: say what to draw instead."""
    for gateway in process.iter(_tag("complexGateway")):
        report(
            f"complex gateway {_label(gateway)} is not supported: use an exclusive or "
            "inclusive gateway with conditions",
            node=gateway,
        )
    if process.find(_tag("startEvent")) is None:
        report(
            "the process has no start event: draw one where a case begins",
            node=process,
        )


def _ignore_data_stores(root: etree._Element, report: Report) -> None:
    """Drop data stores, their references and the associations drawn to them."""
    for store in root.findall(_tag("dataStore")):
        report(
            f"data store '{store.get('name') or store.get('id')}' is documentation only: "
            "Casework keeps case data in process variables, so reads and writes drawn to "
            "it do nothing",
            node=store,
            severity="warning",
        )
        root.remove(store)
    references = {ref.get("id"): ref for ref in root.iter(_tag("dataStoreReference"))}
    for kind in ("dataInputAssociation", "dataOutputAssociation"):
        for association in list(root.iter(_tag(kind))):
            ends = association.findall(_tag("sourceRef")) + association.findall(_tag("targetRef"))
            if any((end.text or "").strip() in references for end in ends):
                parent(association).remove(association)
    for ref in references.values():
        parent(ref).remove(ref)


def _check_manual_steps_exist(
    process: etree._Element, config: CaseTypeConfig, report: Report
) -> None:
    kinds = (*_KIND, "userTask", "manualTask")
    tasks = {node.get("id") for node in process.iter(*(_tag(name) for name in kinds))}
    for element_id in config.manual_steps:
        if element_id not in tasks:
            report(
                f"[manual_steps] names '{element_id}', which is not a task of process "
                f"'{process.get('id')}'",
                file=config.source,
                severity="error",
            )


def _one_task(
    node: etree._Element, config: CaseTypeConfig, report: Report, decisions: Collection[str]
) -> None:
    local, element_id = _local(node), node.get("id") or ""
    kind = _KIND[local]
    role = config.manual_steps.get(element_id)
    if role is not None:
        report(
            f"{kind} {_label(node)} is a manual step for role '{role}' "
            f"([manual_steps] in {config.source})",
            node=node,
            severity="info",
        )
        node.tag = _tag("manualTask")
        return
    fix = (
        f'declare it a manual step: add "{element_id}" = "<role>" to [manual_steps] in '
        f"{config.source}"
    )
    if local == "task":
        report(
            f"task {_label(node)} has no type: it is a human task of its lane (make it a "
            "user task in the modeler to say so)",
            node=node,
            severity="info",
        )
        node.tag = _tag("manualTask")
    elif local == "serviceTask" and check_connector(node, report, fix):
        return  # runs a registered connector (``connectors.py``)
    elif local == "serviceTask" and not _has_spiff_operator(node):
        how = camunda_implementation(node)
        what = f"calls {how}, which Casework cannot run" if how else "has no implementation"
        report(f"service task {_label(node)} {what}; {fix}", node=node, severity="error")
        node.tag = _tag("manualTask")  # refused anyway; let the library check the rest
    elif local == "businessRuleTask" and decision_ref(node) in decisions:
        return  # decided by a DMN table deployed beside the process (``dmn.py``)
    elif local == "businessRuleTask":
        named = decision_ref(node)
        where = (
            f"names decision '{named}', which no DMN file of [case_type] decisions in "
            f"{config.source} holds"
            if named
            else "names no DMN decision"
        )
        report(
            f"business rule task {_label(node)} {where}; list the DMN file there, {fix}, or "
            "decide with conditions on a gateway",
            node=node,
            severity="error",
        )
        node.tag = _tag("manualTask")
    elif local in ("sendTask", "receiveTask") and not _has_message(node):
        verb = "sends" if local == "sendTask" else "waits for"
        report(
            f"{kind} {_label(node)} {verb} no message, so it completes at once; {fix} if a "
            "person does it",
            node=node,
            severity="warning",
        )
