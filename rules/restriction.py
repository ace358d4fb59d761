"""Case-level restrictions: who may switch them on, and when they must be refused.

A restriction replaces system permissions with explicit grants.  It is refused when
it could not be kept: an item linked to the case also belongs to another case, the
case is already restricted, an item is checked out to another organisation, or the
case or one of its items is attached to a to-do that also carries other cases or
items (such a to-do would leak what the restriction hides).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select

from engine import audit
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.runtime import UnitOfWork
from engine.store.access import CaseAccess, CaseGrant, CaseItem, Item, WorkTaskAttachment
from engine.store.models import Case, Group, User

from .subject import Subject


def restriction_blockers(work: UnitOfWork, case: Case) -> list[str]:
    """Every reason the case cannot be restricted now (empty: it can)."""
    session = work.session
    reasons: list[str] = []
    access = session.get(CaseAccess, case.id)
    if access is not None and access.restricted:
        reasons.append(f"case {case.number} is already restricted")
    items = select(CaseItem.item_id).where(CaseItem.case_id == case.id)
    shared = session.execute(
        select(Item.name, func.count(CaseItem.case_id))
        .join(CaseItem, CaseItem.item_id == Item.id)
        .where(Item.id.in_(items))
        .group_by(Item.id, Item.name)
        .having(func.count(CaseItem.case_id) > 1)
    ).all()
    reasons += [
        f"item '{name}' also belongs to {count - 1} other case(s)" for name, count in shared
    ]
    reasons += [
        f"item '{name}' is checked out to {org}"
        for name, org in session.execute(
            select(Item.name, Item.checked_out_to).where(
                Item.id.in_(items), Item.checked_out_to.is_not(None)
            )
        )
    ]
    mine = or_(WorkTaskAttachment.case_id == case.id, WorkTaskAttachment.item_id.in_(items))
    todos = select(WorkTaskAttachment.work_task_id).where(mine)
    crowded = session.scalars(
        select(WorkTaskAttachment.work_task_id)
        .where(WorkTaskAttachment.work_task_id.in_(todos))
        .group_by(WorkTaskAttachment.work_task_id)
        .having(func.count() > 1)
    ).all()
    reasons += [
        f"the case or an item is attached to to-do {t}, which carries other cases or items"
        for t in crowded
    ]
    return reasons


def restrict(
    work: UnitOfWork,
    subject: Subject,
    case: Case,
    *,
    users: Iterable[tuple[str, str]] = (),
    groups: Iterable[tuple[str, str]] = (),
) -> None:
    """Restrict a case to the given (name, level) grants; levels are ``read`` or ``full``.

    Only administrators may do this; with no grants only administrators see the case.
    """
    if not subject.is_admin:
        raise Forbidden("only administrators may restrict access to a case")
    blockers = restriction_blockers(work, case)
    if blockers:
        raise Conflict(f"case {case.number} cannot be restricted: " + "; ".join(blockers))
    session = work.session
    grants = []
    for kind, model, entries in (("user", User, users), ("group", Group, groups)):
        name_col = User.username if model is User else Group.name
        for name, level in entries:
            if level not in ("read", "full"):
                raise InvalidInput("invalid grant", {name: "level must be read or full"})
            target = session.scalar(select(model.id).where(name_col == name))
            if target is None:
                raise InvalidInput("invalid grant", {name: f"no {kind} of that name"})
            grants.append(
                CaseGrant(
                    case_id=case.id,
                    level=level,
                    user_id=target if kind == "user" else None,
                    group_id=target if kind == "group" else None,
                )
            )
    access = session.get(CaseAccess, case.id) or CaseAccess(case_id=case.id)
    access.restricted, access.restricted_by_id, access.restricted_at = (
        True,
        subject.user_id,
        work.now,
    )
    session.add(access)
    session.add_all(grants)
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="restricted",
        after={"users": [list(u) for u in users], "groups": [list(g) for g in groups]},
    )


def hide_from_portal(work: UnitOfWork, subject: Subject, case: Case, hidden: bool = True) -> None:
    if not (subject.is_admin or subject.writes_type(case.case_type_id)):
        raise Forbidden("only users who may change the case can hide it from the portal")
    access = work.session.get(CaseAccess, case.id) or CaseAccess(case_id=case.id)
    access.hidden_from_portal = hidden
    work.session.add(access)
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="portal_visibility",
        after={"hidden": hidden},
    )
