"""Call activities: a call to a process of the same file runs it as a sub-process; a call
to anything else starts a linked child case of another deployed case type and waits.

In Camunda Modeler *Called element* names the case type (its key, or the process id of
its current version).  ``camunda:in`` and ``camunda:out`` mappings (source -> target)
choose the variables the child starts with and those the parent gets back when the child
closes; without them the child starts with the parent's variables (those its start form
declares, if it has one) and all the child's variables come back.  The task waits like a
manual task nobody works: ``engine.run.call_activities`` opens the child, links the two
cases and completes the task when the child closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.task_spec import CallActivityParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask

from .forms import CAMUNDA_NS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

EXTENSION = "case_call"
Report = Callable[..., None]


def _called(node: etree._Element) -> str:
    return (node.get("calledElement") or "").strip()


def _mappings(node: etree._Element, kind: str) -> dict[str, str]:
    """``camunda:in``/``camunda:out`` source -> target (``variables="all"`` adds none)."""
    found = {}
    for mapping in node.iterfind(f"./{{*}}extensionElements/{{{CAMUNDA_NS}}}{kind}"):
        source = mapping.get("source")
        if source:
            found[source] = mapping.get("target") or source
    return found


def check_call_activities(root: etree._Element, process: etree._Element, report: Report) -> None:
    """A call activity names a process of this file or a case type; say which it starts."""
    known = {p.get("id") for p in root.findall(f"{{{BPMN_NS}}}process")}
    for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
        called = _called(call)
        label = f"'{call.get('name') or call.get('id')}'"
        if not called:
            report(
                f"call activity {label} names no process to call: set its Called element to a "
                "process of this file or to a deployed case type",
                node=call,
            )
        elif called not in known:
            report(
                f"call activity {label} starts a case of type '{called}' (a deployed case "
                "type's key or process id) and waits until it closes",
                node=call,
                severity="info",
            )


class CaseCallParser(CallActivityParser):
    """Calls to a process of this file parse as before; any other call waits for a case."""

    def _in_file(self) -> bool:
        return _called(self.node) in self.process_parser.parser.process_parsers

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        node = self.node if node is None else node
        extensions: dict[str, Any] = SpiffTaskParser._parse_extensions(node)
        if not self._in_file():
            extensions[EXTENSION] = {
                "case_type": _called(node),
                "in": _mappings(node, "in"),
                "out": _mappings(node, "out"),
            }
        return extensions

    def create_task(self) -> Any:
        if self._in_file():
            return super().create_task()
        return ManualTask(self.spec, self.bpmn_id, **self.bpmn_attributes)
