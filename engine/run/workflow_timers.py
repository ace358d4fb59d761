"""What a workflow waits on in time: its timer events and their due moments.

Kept apart from ``workflows.py`` (load, run, save): the timer sweep, message delivery and
the case row's ``next_timer_due`` read these without the save machinery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState


def all_tasks(workflow: BpmnWorkflow) -> Iterator[SpiffTask]:
    """Every task of the workflow and of its subprocesses, in creation order.

    A flat pass over the task dictionaries: ``get_tasks`` walks the whole tree on each
    call, and a save needs both the READY human tasks and the WAITING timers.
    """
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


class FixedNow:
    """One transaction sees one instant."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


@dataclass(frozen=True)
class WaitingTimer:
    """A BPMN timer the workflow waits on; ``cycle`` counts down the repetitions left."""

    name: str
    cycle: int
    due_at: datetime


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """The timer events the workflow waits on, with their due times (set by the engine)."""
    found = []
    waiting = TaskState.WAITING
    for task in all_tasks(workflow):
        if task.state != waiting:
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition):  # an event-based gateway's timer
            definition = next(
                (d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)),
                None,
            )
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task.internal_data.get("event_value")
        cycle = 0
        if isinstance(value, dict):  # a cycle: {"cycles": n, "next": iso, "duration": s}
            cycle, value = int(value.get("cycles", 0)), value.get("next")
        if not isinstance(value, str):
            continue
        moment = TimerEventDefinition.get_datetime(value)
        due = datetime.fromtimestamp(moment.timestamp(), tz=UTC)
        found.append(WaitingTimer(f"{task.task_spec.bpmn_id}:{task.id}", cycle, due))
    return found


def next_timer_due(timers: list[WaitingTimer]) -> datetime | None:
    """Earliest due time of the timers the workflow waits on (indexed on the case row)."""
    return min((t.due_at for t in timers), default=None)
