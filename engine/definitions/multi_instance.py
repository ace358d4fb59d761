"""Multi-instance tasks as Camunda Modeler draws them: one instance per item of a list.

Camunda Modeler writes the list as ``camunda:collection`` and the item's name as
``camunda:elementVariable``; SpiffWorkflow reads the standard BPMN elements
``loopDataInputRef`` and ``inputDataItem``.  This rewrites the first into the second
(on the tree handed to SpiffWorkflow; the stored file stays the designer's), so a
parallel or sequential "Approve" over ``${approvers}`` runs one instance per approver.
With ``camunda:assignee="${approver}"`` (the element variable) each instance is the
task of that member alone, still only while they belong to the lane's groups
(``routing`` and ``engine.run.multi_instance``).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from engine.sandbox import camunda

from .forms import CAMUNDA_NS
from .parser import BPMN_NS
from .tree import parent

Report = Callable[..., None]


def _tag(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def read_camunda_loops(process: etree._Element, report: Report) -> None:
    """Rewrite ``camunda:collection``/``elementVariable`` as the BPMN loop data elements."""
    for loop in process.iter(_tag("multiInstanceLoopCharacteristics")):
        collection = (loop.get(f"{{{CAMUNDA_NS}}}collection") or "").strip()
        drawn = loop.find(_tag("loopCardinality")) is not None
        if not collection or drawn or loop.find(_tag("loopDataInputRef")) is not None:
            continue
        owner = parent(loop)
        variable = _variable(collection)
        if variable is None:
            report(
                f"multi-instance '{owner.get('name') or owner.get('id')}' loops over "
                f"camunda:collection {collection!r}, which is not the name of a process "
                "variable: name the variable holding the list, e.g. ${approvers}",
                node=owner,
            )
            continue
        reference = etree.SubElement(loop, _tag("loopDataInputRef"))
        reference.text = variable
        element = (loop.get(f"{{{CAMUNDA_NS}}}elementVariable") or "").strip()
        if element:
            item = etree.SubElement(loop, _tag("inputDataItem"))
            item.set("id", element)
            item.set("name", element)


def _variable(collection: str) -> str | None:
    """The variable ``approvers`` or ``${approvers}`` names; None for anything else."""
    text = collection
    if camunda.is_juel(collection):
        try:
            text = camunda.to_python(collection)
        except camunda.JuelError:
            return None
    return text if text.isidentifier() else None
