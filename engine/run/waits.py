"""What a case's workflow waits for: messages and signals, as the case row records them.

Kept apart from ``messages.py`` (which delivers) because every save computes it: the
case row's ``waits_for`` (``|message:paid|signal:outage|``) lets a signal find the
cases of a type that wait for it, and ``correlation_key`` (the value of the type's
``[messages] correlation`` variable) lets a message find its case, without loading any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import (
    MessageEventDefinition,
    MultipleEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from engine.definitions.config import CaseTypeConfig
from engine.run.workflow_timers import all_tasks


@dataclass(frozen=True)
class Wait:
    """One event a case waits for, and where it is drawn."""

    kind: str  # message | signal
    name: str
    element_id: str
    element_name: str | None

    def label(self) -> str:
        return f"{self.kind} '{self.name}' at '{self.element_name or self.element_id}'"


@dataclass(frozen=True)
class Catcher:
    """A WAITING task and one message or signal it catches (an event-based gateway's task
    catches each event of its branches; the branches' own events are blank in the engine)."""

    task: SpiffTask
    kind: str
    definition: EventDefinition

    @property
    def name(self) -> str:
        return str(self.definition.name)

    def wait(self) -> Wait:
        spec = self.task.task_spec
        return Wait(self.kind, self.name, spec.bpmn_id, spec.bpmn_name)


def _kind(definition: EventDefinition) -> str | None:
    if isinstance(definition, MessageEventDefinition):
        return "message"
    if isinstance(definition, SignalEventDefinition):
        return "signal"
    return None


def waiting(workflow: BpmnWorkflow) -> Iterator[Catcher]:
    """Each message or signal a WAITING task of the workflow catches."""
    state = TaskState.WAITING
    for task in all_tasks(workflow):
        if task.state != state:
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        inner = (
            definition.event_definitions
            if isinstance(definition, MultipleEventDefinition)
            else [definition]
        )
        for item in inner:
            kind = _kind(item)
            if kind is not None:
                yield Catcher(task, kind, item)


def waits(workflow: BpmnWorkflow) -> list[Wait]:
    """The messages and signals the workflow waits for now."""
    return [catcher.wait() for catcher in waiting(workflow)]


def wait_columns(workflow: BpmnWorkflow, config: CaseTypeConfig) -> dict[str, Any]:
    """The case columns a save writes: what it waits for and its correlation key."""
    found = sorted({f"{w.kind}:{w.name}" for w in waits(workflow)})
    text = "|" + "|".join(found) + "|" if found else None
    key = None
    prop = config.events.get("correlation")
    if prop:
        last = workflow.last_task or workflow.task_tree
        value = last.data.get(prop) if last is not None else None
        key = None if value is None else str(value)[:200]
    return {"waits_for": text if text and len(text) <= 1000 else None, "correlation_key": key}
