"""Who gets new work: round-robin and least-busy assignment per case type and group.

Only members who may act on the work are ever picked, and the pick happens inside the
transaction that created the work, so two workers never hand the same case to two
people (the cursor row is updated with the assignment).
"""

from __future__ import annotations

from sqlalchemy import func, select

from engine import audit
from engine.runtime import UnitOfWork
from engine.store.access import AssignmentCursor
from engine.store.models import Group, HumanTask, Membership, TaskCandidate, User


def candidates_for_task(work: UnitOfWork, task_id: int) -> list[int]:
    """Active members of the task's candidate groups, plus its candidate users, by id."""
    groups = select(TaskCandidate.group_id).where(
        TaskCandidate.task_id == task_id, TaskCandidate.kind == "group"
    )
    users = select(TaskCandidate.user_id).where(
        TaskCandidate.task_id == task_id, TaskCandidate.kind == "user"
    )
    members = select(Membership.user_id).where(Membership.group_id.in_(groups))
    return sorted(
        work.session.scalars(
            select(User.id).where(User.is_active.is_(True), User.id.in_(members.union(users)))
        )
    )


def members_of(work: UnitOfWork, group: str) -> list[int]:
    return sorted(
        work.session.scalars(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.name == group, User.is_active.is_(True))
        )
    )


def pick(
    work: UnitOfWork, rule: str, people: list[int], *, case_type_id: int, group_id: int, kind: str
) -> int | None:
    """Choose one of ``people`` by ``rule`` (``round_robin`` or ``least_busy``)."""
    if not people:
        return None
    if rule == "least_busy":
        load = dict(
            work.session.execute(
                select(HumanTask.claimed_by_id, func.count())
                .where(HumanTask.state == "open", HumanTask.claimed_by_id.in_(people))
                .group_by(HumanTask.claimed_by_id)
            )
            .tuples()
            .all()
        )
        return min(people, key=lambda user_id: (load.get(user_id, 0), user_id))
    cursor = work.session.get(AssignmentCursor, (case_type_id, group_id, kind))
    after = cursor.last_user_id if cursor else 0
    chosen = next((p for p in people if p > after), people[0])
    if cursor is None:
        work.session.add(
            AssignmentCursor(
                case_type_id=case_type_id, group_id=group_id, kind=kind, last_user_id=chosen
            )
        )
    else:
        cursor.last_user_id = chosen
    return chosen


def record(
    work: UnitOfWork, *, case_id: int, entity: str, entity_id: int, rule: str, user_id: int
) -> None:
    audit.record(
        work,
        actor_id=None,
        entity=entity,
        entity_id=entity_id,
        case_id=case_id,
        action="assigned",
        after={"rule": rule, "user_id": user_id},
    )
