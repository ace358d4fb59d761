"""Each instance of a per-member multi-instance task is that member's task.

The deploy-time routing (``engine.definitions.routing``) says which instance variable
names the member; here, when an instance becomes a task row, the member named in it
becomes its candidate *as a member of the lane's groups*: a ``member`` candidate row
per group, which lets them act only while they still belong to that group (membership
is checked when they act, as for every task).  A name that is nobody, or somebody
outside every lane group, stops the step like any failing process step: nothing is
stored and the one who acted is told which element and value.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from sqlalchemy import select

from engine.definitions.routing import TaskRouting
from engine.errors import ProcessError
from engine.runtime import UnitOfWork
from engine.store.fast import prepared_insert
from engine.store.models import Membership, TaskCandidate, User

_INSERT = prepared_insert(TaskCandidate.__table__, ["task_id", "kind", "group_id", "user_id"])


def insert_member(
    work: UnitOfWork,
    task_id: int,
    route: TaskRouting,
    workflow: BpmnWorkflow,
    engine_id: str,
    case_number: str,
) -> None:
    """Candidate rows for the member named by the instance (one per lane group)."""
    variable = route.member_variable or ""
    spiff_task = workflow.get_task_from_id(UUID(engine_id))
    named: Any = spiff_task.data.get(variable)
    user_id = (
        work.session.scalar(select(User.id).where(User.username == named, User.is_active.is_(True)))
        if isinstance(named, str)
        else None
    )
    member_of = (
        set(
            work.session.scalars(
                select(Membership.group_id).where(
                    Membership.user_id == user_id, Membership.group_id.in_(route.group_ids)
                )
            )
        )
        if user_id is not None
        else set()
    )
    if user_id is None or not member_of:
        raise ProcessError(
            f"{variable} = {named!r} names no member of {', '.join(route.groups)}, who "
            f"alone may act in the lane of '{route.name}'; correct the list the task loops "
            "over, or add them to the group",
            case=case_number or None,
            element_id=route.element_id,
            element_name=route.name,
        )
    _INSERT.execute_many(
        work.session,
        [
            {"task_id": task_id, "kind": "member", "group_id": group_id, "user_id": user_id}
            for group_id in route.group_ids
        ],
    )


def forget_instance_item(spiff_task: SpiffTask) -> None:
    """Drop an instance's item variable before the instance is merged back.

    Without an output collection SpiffWorkflow merges each finished instance's data into
    the case's, item variable included; the next sequential instance (or a later loop
    with the same variable) would then find it set and stop.  In Camunda, which the
    modeler files follow, the element variable belongs to its instance alone.
    """
    loop = spiff_task.parent.task_spec if spiff_task.parent is not None else None
    item = getattr(loop, "input_item", None)
    if item is not None and getattr(loop, "output_item", None) is None:
        spiff_task.data.pop(item.bpmn_id, None)
