"""Case-level restrictions: who may switch them on, and when they must be refused.

A restriction replaces system permissions with explicit grants.  It is refused when
it could not be kept: an item linked to the case also belongs to another case, the
case is already restricted, an item is checked out to another organisation, or the
case or one of its items is attached to a to-do that also carries other cases or
items (such a to-do would leak what the restriction hides).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select

from engine import audit
from engine.errors import Conflict, InvalidInput
from engine.runtime import UnitOfWork
from engine.store.access import CaseAccess, CaseGrant, CaseItem, Item, TodoAttachment
from engine.store.models import Case, Group, User

from .case_acts import require
from .subject import Subject


def _numbers(work: UnitOfWork, case_ids: Iterable[int]) -> str:
    return ", ".join(
        n or "?"
        for n in work.session.scalars(
            select(Case.number).where(Case.id.in_(sorted(set(case_ids)))).order_by(Case.id)
        )
    )


def _todo_load(work: UnitOfWork, todo_ids: Iterable[int]) -> dict[int, tuple[set[int], set[int]]]:
    """What each to-do carries: (case ids, record ids)."""
    ids = sorted(set(todo_ids))
    load: dict[int, tuple[set[int], set[int]]] = {t: (set(), set()) for t in ids}
    for todo, case_id in work.session.execute(
        select(CaseItem.item_id, CaseItem.case_id).where(CaseItem.item_id.in_(ids))
    ):
        load[todo][0].add(case_id)
    for todo, item_id in work.session.execute(
        select(TodoAttachment.todo_id, TodoAttachment.item_id).where(
            TodoAttachment.todo_id.in_(ids)
        )
    ):
        load[todo][1].add(item_id)
    return load


def _crowded(
    work: UnitOfWork, todo_ids: Iterable[int], case_ids: set[int], item_ids: set[int]
) -> list[str]:
    """To-dos that carry cases or records besides ``case_ids`` and ``item_ids``: each named
    with what else it carries (seed 004: such a to-do would leak what a restriction hides)."""
    reasons = []
    for todo, (cases, items) in sorted(_todo_load(work, todo_ids).items()):
        other_cases, other_items = cases - case_ids, items - item_ids - {todo}
        if not (other_cases or other_items):
            continue
        what = [_numbers(work, other_cases)] if other_cases else []
        what += [f"record {i}" for i in sorted(other_items)]
        reasons.append(f"to-do {todo} also carries {', '.join(what)}")
    return reasons


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
    own = set(session.scalars(items))
    todos = set(session.scalars(select(Item.id).where(Item.id.in_(own), Item.kind == "todo")))
    todos |= set(
        session.scalars(select(TodoAttachment.todo_id).where(TodoAttachment.item_id.in_(own)))
    )
    reasons += [
        f"the case or an item is attached to a to-do that carries other cases or items: {r}"
        for r in _crowded(work, todos, {case.id}, own)
    ]
    return reasons


def record_blockers(work: UnitOfWork, item: Item) -> list[str]:
    """Every reason a child record cannot be restricted now (seed 004, rule 5, for one item):
    it belongs to more than one case, it is restricted already, it is checked out to
    another organisation, or it is (or rides on) a to-do that carries other cases or items."""
    session = work.session
    reasons: list[str] = []
    case_ids = set(session.scalars(select(CaseItem.case_id).where(CaseItem.item_id == item.id)))
    if len(case_ids) > 1:
        others = sorted(case_ids)[1:]
        reasons.append(
            f"record {item.id} is linked to {len(others)} other case(s): " + _numbers(work, others)
        )
    if item.restricted:
        reasons.append(f"record {item.id} is already restricted")
    if item.checked_out_to is not None:
        reasons.append(f"record {item.id} is checked out to {item.checked_out_to}")
    todos = set(
        session.scalars(select(TodoAttachment.todo_id).where(TodoAttachment.item_id == item.id))
    )
    if item.kind == "todo":
        todos.add(item.id)
    first_case = set(sorted(case_ids)[:1])
    reasons += _crowded(work, todos, first_case if item.kind != "todo" else case_ids, {item.id})
    return reasons


def _grant_rows(
    work: UnitOfWork,
    case: Case,
    users: Iterable[tuple[str, str]],
    groups: Iterable[tuple[str, str]],
) -> list[CaseGrant]:
    """Grant rows for (name, level) pairs; bad names and levels are named, all at once."""
    session = work.session
    grants, errors = [], {}
    for kind, model, entries in (("user", User, users), ("group", Group, groups)):
        name_col = User.username if model is User else Group.name
        for name, level in entries:
            if level not in ("read", "full"):
                errors[name] = "level must be read or full"
                continue
            target = session.scalar(select(model.id).where(name_col == name))
            if target is None:
                errors[name] = f"no {kind} of that name"
                continue
            grants.append(
                CaseGrant(
                    case_id=case.id,
                    level=level,
                    user_id=target if kind == "user" else None,
                    group_id=target if kind == "group" else None,
                )
            )
    if errors:
        raise InvalidInput("invalid grant", errors)
    return grants


def _record(
    work: UnitOfWork, subject: Subject, case: Case, action: str, after: dict[str, object]
) -> None:
    audit.record(
        work,
        actor_id=subject.user_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action=action,
        after=after,
    )


def restrict(
    work: UnitOfWork,
    subject: Subject,
    case: Case,
    *,
    users: Iterable[tuple[str, str]] = (),
    groups: Iterable[tuple[str, str]] = (),
) -> None:
    """Restrict a case to the given (name, level) grants; levels are ``read`` or ``full``.

    Only administrators may do this (seed 004, rule 1); with no grants only administrators
    see the case (rule 4).  Refused when the case cannot be kept restricted (rule 5).
    """
    require(work, subject, case, "restrict")
    users, groups = list(users), list(groups)
    blockers = restriction_blockers(work, case)
    if blockers:
        raise Conflict(f"case {case.number} cannot be restricted: " + "; ".join(blockers))
    grants = _grant_rows(work, case, users, groups)
    access = work.session.get(CaseAccess, case.id) or CaseAccess(case_id=case.id)
    access.restricted, access.restricted_by_id, access.restricted_at = (
        True,
        subject.user_id,
        work.now,
    )
    work.session.add(access)
    work.session.add_all(grants)
    _record(
        work,
        subject,
        case,
        "restricted",
        {"users": [list(u) for u in users], "groups": [list(g) for g in groups]},
    )


def grant(
    work: UnitOfWork,
    subject: Subject,
    case: Case,
    *,
    users: Iterable[tuple[str, str]] = (),
    groups: Iterable[tuple[str, str]] = (),
) -> bool:
    """Grant case-level permissions.  They replace system permissions (seed 004, rule 3),
    so granting on a case that is not restricted restricts it (with rule 5's refusals);
    on a restricted case the grants are added.  True when this restricted the case."""
    users, groups = list(users), list(groups)
    if not (users or groups):
        raise InvalidInput("nothing to grant", {"grant": "name a user or a group"})
    require(work, subject, case, "grant")
    access = work.session.get(CaseAccess, case.id)
    if access is None or not access.restricted:
        restrict(work, subject, case, users=users, groups=groups)
        return True
    work.session.add_all(_grant_rows(work, case, users, groups))
    _record(
        work,
        subject,
        case,
        "granted",
        {"users": [list(u) for u in users], "groups": [list(g) for g in groups]},
    )
    return False


def unrestrict(work: UnitOfWork, subject: Subject, case: Case) -> None:
    """Lift a case's restriction: its grants go and system permissions apply again.
    Administrators only, audited with the grants that were removed."""
    require(work, subject, case, "unrestrict")
    access = work.session.get(CaseAccess, case.id)
    if access is None or not access.restricted:
        raise Conflict(f"case {case.number} is not restricted")
    removed = work.session.execute(
        select(User.username, Group.name, CaseGrant.level)
        .select_from(CaseGrant)
        .outerjoin(User, User.id == CaseGrant.user_id)
        .outerjoin(Group, Group.id == CaseGrant.group_id)
        .where(CaseGrant.case_id == case.id)
        .order_by(CaseGrant.id)
    ).all()
    work.session.execute(delete(CaseGrant).where(CaseGrant.case_id == case.id))
    access.restricted, access.restricted_by_id, access.restricted_at = False, None, None
    _record(
        work,
        subject,
        case,
        "unrestricted",
        {
            "removed": [
                [("user:" + u) if u else ("group:" + (g or "?")), level] for u, g, level in removed
            ]
        },
    )
