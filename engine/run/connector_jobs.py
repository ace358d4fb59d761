"""The job row of a connector service task, written when the task becomes ready.

Kept apart from ``connectors`` (which runs the jobs and needs ``workflows``) so that
``workflows.save`` can write the rows in the transaction that reached the task.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions.connectors import EXTENSION
from engine.runtime import LoadedVersion, UnitOfWork
from engine.store.fast import prepared_insert
from engine.store.models import Timer

SOURCE = "connector"
_INSERT = prepared_insert(
    Timer.__table__,
    ["case_id", "source", "name", "threshold", "cycle", "due_at", "state", "attempts"],
)


def sync_jobs(
    work: UnitOfWork,
    case_id: int,
    version: LoadedVersion,
    workflow: BpmnWorkflow,
    ready_before: Collection[str],
) -> None:
    """A job row, due now, for each connector task that became ready in this transaction."""
    if EXTENSION not in version.extensions:
        return
    new = [
        task
        for task in workflow.get_tasks(state=TaskState.READY, manual=True)
        if EXTENSION in (getattr(task.task_spec, "extensions", None) or {})
        and str(task.id) not in ready_before
    ]
    if new:
        _INSERT.execute_many(
            work.session,
            [_row(case_id, f"{t.task_spec.bpmn_id}:{t.id}", work.now) for t in new],
        )


def _row(case_id: int, name: str, now: datetime) -> dict[str, object]:
    return {
        "case_id": case_id,
        "source": SOURCE,
        "name": name,
        "threshold": 1.0,
        "cycle": 0,
        "due_at": now,
        "state": "waiting",
        "attempts": 0,
    }
