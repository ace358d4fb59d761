"""DMN decision tables deployed beside the BPMN file, run by business rule tasks.

The case type's TOML lists its DMN files (``decisions = ["approver.dmn"]`` under
``[case_type]``, paths relative to the TOML); each file's decision table becomes part of
the version (its content is hashed into the version's identity, and the parsed table is
stored with the spec).  A business rule task names its decision in Camunda Modeler
(*Implementation*: DMN, *Decision reference*: the decision's id); the matching rule's
outputs become process variables.

Cells are Python expressions over the process variables, as everywhere in Casework, with
SpiffWorkflow's shorthand for a comparison with the column's input (``< 1000``,
``"gold"``).  Camunda's FEEL ranges, which modelers write all the time, are read as the
comparison they mean: ``[250..1000]`` is ``250 <= ? <= 1000`` (``]`` or ``(`` excludes an
end); the rest of FEEL is not translated.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser, SpiffTaskParser

from engine.errors import Problem

from .collector import Collector
from .forms import CAMUNDA_NS

_RANGE = re.compile(r"^\s*([\[\]()])\s*([^.\[\]()]+?)\s*\.\.\s*([^.\[\]()]+?)\s*([\[\]()])\s*$")
Decisions = list[tuple[str, etree._Element]]


def feel_range(text: str) -> str:
    """``[1..5]`` -> ``1 <= ? <= 5``; ``]1..5[`` or ``(1..5)`` exclude the ends."""
    found = _RANGE.match(text)
    if found is None:
        return text
    opening, low, high, closing = found.groups()
    left = "<=" if opening == "[" else "<"
    right = "<=" if closing == "]" else "<"
    return f"{low} {left} ? {right} {high}"


def read_decisions(names: tuple[str, ...], config_source: str, out: Collector) -> Decisions:
    """The DMN files a case type lists, parsed, with FEEL ranges rewritten in place."""
    found: Decisions = []
    base = Path(config_source).parent
    for name in names:
        path = base / name
        try:
            data = path.read_bytes()
            root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except OSError as exc:
            out.problems.append(Problem(config_source, f"decisions: cannot read {path}: {exc}"))
            continue
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            message = f"not well-formed XML: {exc.msg}"
            out.problems.append(Problem(str(path), message, line=line, column=column))
            continue
        if etree.QName(root).localname != "definitions" or root.find("{*}decision") is None:
            out.problems.append(Problem(str(path), "not a DMN file: no <decision> in it", line=1))
            continue
        for text in root.iter("{*}text"):
            if text.text and etree.QName(text.getparent()).localname == "inputEntry":
                text.text = feel_range(text.text)
        found.append((str(path), root))
    return found


def decision_ids(decisions: Decisions) -> set[str]:
    return {d.get("id") or "" for _, root in decisions for d in root.iter("{*}decision")}


def decision_ref(node: etree._Element) -> str | None:
    """The decision a business rule task names (Camunda's or SpiffWorkflow's attribute)."""
    camunda = node.get(f"{{{CAMUNDA_NS}}}decisionRef")
    if camunda:
        return camunda.strip()
    called = SpiffTaskParser._parse_extensions(node).get("calledDecisionId")
    return str(called).strip() if called else None


class DecisionTaskParser(BusinessRuleTaskParser):
    """SpiffWorkflow's business rule task parser, also reading ``camunda:decisionRef``."""

    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return decision_ref(node)
