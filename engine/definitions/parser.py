"""Our SpiffWorkflow parser flavour.

SpiffWorkflow's own parser drops the Camunda attributes process designers use every
day (``candidateGroups``, ``candidateUsers``, ``assignee``, ``formKey``, form
fields).  We plug in one user-task parser that keeps them in the task spec's
``extensions`` (which SpiffWorkflow serializes with the spec) and otherwise leave
the library alone, the way SpiffWorkflow's own flavours plug in.

:func:`normalise_dialect` rewrites the one Camunda idiom whose meaning is
unambiguous: an ISO 8601 timer written without quotes (``PT4H``) is a literal in
Camunda, but SpiffWorkflow would evaluate it as a Python name and fail when the
timer is reached.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser, UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import (
    BusinessRuleTask,
    CallActivity,
    ManualTask,
    ServiceTask,
    UserTask,
)

from .call_activities import CaseCallParser
from .connectors import ConnectorTaskParser
from .dmn import DecisionTaskParser
from .forms import CAMUNDA_NS, parse_form_fields

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
EXTENSION_KEY = "casework"

_ISO_TIMER = re.compile(
    r"^(R\d*/)?"  # optional repetition
    r"(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"  # duration
    r"|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)"  # or a date/time
    r"(/P.*)?$"
)


def _split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def human_task_extensions(node: etree._Element) -> dict[str, Any]:
    """The Camunda attributes of a user or manual task, as stored in the spec."""
    return {
        "candidateGroups": _split_list(node.get(f"{{{CAMUNDA_NS}}}candidateGroups")),
        "candidateUsers": _split_list(node.get(f"{{{CAMUNDA_NS}}}candidateUsers")),
        "assignee": node.get(f"{{{CAMUNDA_NS}}}assignee"),
        "formKey": node.get(f"{{{CAMUNDA_NS}}}formKey"),
        "form": [field.to_dict() for field in parse_form_fields(node)],
    }


class HumanTaskParser(UserTaskParser):
    """User-task parser that also keeps the Camunda routing and form attributes."""

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        node = self.node if node is None else node
        extensions: dict[str, Any] = SpiffTaskParser._parse_extensions(node)
        extensions[EXTENSION_KEY] = human_task_extensions(node)
        return extensions


class ManualHumanTaskParser(HumanTaskParser):
    """The same for manual tasks, which people also complete from their inbox."""

    def create_task(self) -> ManualTask:
        return ManualTask(self.spec, self.bpmn_id, **self.bpmn_attributes)


class CaseParser(SpiffBpmnParser):
    """SpiffBpmnParser with our human-task parsers registered."""

    OVERRIDE_PARSER_CLASSES = {  # noqa: RUF012 - the library's own class attribute
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (HumanTaskParser, UserTask),
        full_tag("manualTask"): (ManualHumanTaskParser, ManualTask),
        full_tag("serviceTask"): (ConnectorTaskParser, ServiceTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, BusinessRuleTask),
        full_tag("callActivity"): (CaseCallParser, CallActivity),
    }


def normalise_dialect(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Quote unquoted ISO 8601 timer values in place; return (element, text as written)."""
    changes = []
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            text = (node.text or "").strip()
            if text and _ISO_TIMER.match(text):
                node.text = repr(text)
                changes.append((node, text))
    return changes
