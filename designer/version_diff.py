"""What changed between two versions of a case type, in the designer's terms.

Tasks are compared with SpiffWorkflow's ``SpecDiff``, the same alignment that later
moves running cases (by BPMN id first, then by position in the flow, so a task whose
id was changed in the modeler is found as *renamed*).  Sequence flows are not task
specs, so they are compared on the BPMN text: by id, source, target and condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff

from engine.definitions.parser import BPMN_NS

#: Attributes every structural change touches; the flow lines already say it.
_STRUCTURAL = {"inputs", "outputs", "cond_task_specs", "default_task_spec"}


@dataclass
class VersionDiff:
    """Tasks and flows added, removed and changed from one version to the next."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    flows_added: list[str] = field(default_factory=list)
    flows_removed: list[str] = field(default_factory=list)
    flows_changed: list[str] = field(default_factory=list)
    #: BPMN ids of the removed tasks, to find the cases that wait in them.
    removed_ids: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.added,
                self.removed,
                self.renamed,
                self.changed,
                self.flows_added,
                self.flows_removed,
                self.flows_changed,
            )
        )

    def lines(self) -> list[str]:
        """One line per change, ``+`` added, ``-`` removed, ``~`` changed."""
        out = [f"+ task {t}" for t in self.added]
        out += [f"- task {t}" for t in self.removed]
        out += [f"~ task {old} is now {new}" for old, new in self.renamed]
        out += [f"~ task {t}: {', '.join(attrs)}" for t, attrs in self.changed.items()]
        out += [f"+ flow {f}" for f in self.flows_added]
        out += [f"- flow {f}" for f in self.flows_removed]
        out += [f"~ flow {f}" for f in self.flows_changed]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks_added": self.added,
            "tasks_removed": self.removed,
            "tasks_renamed": [list(pair) for pair in self.renamed],
            "tasks_changed": self.changed,
            "flows_added": self.flows_added,
            "flows_removed": self.flows_removed,
            "flows_changed": self.flows_changed,
        }


def _label(spec: Any) -> str:
    name = getattr(spec, "bpmn_name", None)
    return f"{spec.bpmn_id} '{name}'" if name else str(spec.bpmn_id)


def _is_element(spec: Any) -> bool:
    """Specs drawn in the modeler (SpiffWorkflow adds Start, End and joins of its own)."""
    return getattr(spec, "bpmn_id", None) is not None


def diff_versions(
    registry: Any,
    old: BpmnProcessSpec,
    new: BpmnProcessSpec,
    old_xml: str,
    new_xml: str,
) -> VersionDiff:
    """Compare two compiled versions (specs and their BPMN text)."""
    tasks = SpecDiff(registry, old, new)
    removed = [s for s in tasks.removed if _is_element(s)]
    result = VersionDiff(
        added=[_label(s) for s in tasks.added if _is_element(s)],
        removed=[_label(s) for s in removed],
        removed_ids=[s.bpmn_id for s in removed],
    )
    for before, after in tasks.alignment.items():
        if after is None or not _is_element(before):
            continue
        if before.name != after.name:
            result.renamed.append((_label(before), _label(after)))
            continue
        attrs = [a for a in tasks.comparisons.get(before, []) if a not in _STRUCTURAL]
        if attrs:
            result.changed[_label(after)] = sorted(_describe_change(a, before) for a in attrs)
    _diff_flows(old_xml, new_xml, result)
    return result


def _describe_change(attribute: str, before: Any) -> str:
    if attribute == "bpmn_name":
        return f"name (was '{before.bpmn_name}')"
    if attribute == "lane":
        return f"lane (was '{before.lane}')"
    if attribute == "extensions":
        return "form or candidates"
    return attribute


def _flows(xml: str) -> dict[str, tuple[str, str, str]]:
    root = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    found = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        text = (condition.text or "").strip() if condition is not None else ""
        found[flow.get("id") or ""] = (
            flow.get("sourceRef") or "",
            flow.get("targetRef") or "",
            text,
        )
    return found


def _describe(flow_id: str, flow: tuple[str, str, str]) -> str:
    source, target, condition = flow
    when = f" when {condition}" if condition else ""
    return f"{flow_id} {source} -> {target}{when}"


def _diff_flows(old_xml: str, new_xml: str, result: VersionDiff) -> None:
    old, new = _flows(old_xml), _flows(new_xml)
    result.flows_added = [_describe(i, new[i]) for i in new if i not in old]
    result.flows_removed = [_describe(i, old[i]) for i in old if i not in new]
    result.flows_changed = [_describe(i, new[i]) for i in new if i in old and old[i] != new[i]]
