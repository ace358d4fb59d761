"""Child records of cases: mails, calls, notes, attachments and to-dos linked to one or more
cases, each with its own access list.

These are the engine's trusted functions: they check the records' own state (kinds, names,
restriction) but not who asks; ``rules.child_records`` asks the access decision first.
Seeing a case does not mean seeing its children (seed 000): a record's access list
(:class:`ItemGrant`) names who may.  A case type's ``[children]`` switch propagates the
case's assignee and teams onto the lists of its children, when a record is added or linked
and whenever the assignee changes; a restricted record keeps only its own grants.
Attachments here only name an attachment (its id or file name); files live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, select

from engine import audit
from engine.definitions.children import propagation
from engine.errors import Conflict, InvalidInput, NotFound
from engine.numbers import whole_number
from engine.runtime import UnitOfWork
from engine.store.access import CaseItem, Item, ItemGrant, TodoAttachment
from engine.store.models import AuditEntry, Case, CaseType, CaseTypeVersion, Group, User

#: The kinds of child record (``resource`` items are not children: see rules.checks).
KINDS = ("mail", "call", "note", "attachment", "todo")
_CONFIG = (
    select(CaseTypeVersion.config)
    .join(CaseType, CaseType.current_version_id == CaseTypeVersion.id)
    .where(CaseType.id == bindparam("type_id"))
)


def record_by_id(work: UnitOfWork, record_id: int | str) -> Item:
    """A child record by its id; anything else (a resource, a malformed id) is not found."""
    number = whole_number(record_id)
    item = None if number is None else work.session.get(Item, number)
    if item is None or item.kind not in KINDS:
        raise NotFound(f"no record {record_id}")
    return item


def case_ids_of(work: UnitOfWork, item_id: int) -> list[int]:
    return list(
        work.session.scalars(
            select(CaseItem.case_id).where(CaseItem.item_id == item_id).order_by(CaseItem.case_id)
        )
    )


def case_numbers_of(work: UnitOfWork, item_id: int) -> list[str]:
    return [
        n or ""
        for n in work.session.scalars(
            select(Case.number)
            .join(CaseItem, CaseItem.case_id == Case.id)
            .where(CaseItem.item_id == item_id)
            .order_by(Case.id)
        )
    ]


def _record(work: UnitOfWork, item: Item, action: str, actor_id: int | None, **after: Any) -> None:
    """Audited as the record's own history, never in its cases' (whose readers may not see
    the record: seed 000)."""
    audit.record(
        work,
        actor_id=actor_id,
        entity="record",
        entity_id=item.id,
        action=action,
        after=after or None,
    )


def history(work: UnitOfWork, item_id: int) -> list[dict[str, Any]]:
    """The record's audit trail, oldest first (this unit's entries, not yet stored, too)."""
    rows: list[tuple[Any, int | None, str, Any]] = [
        (at, actor, action, after)
        for at, actor, action, after in work.session.execute(
            select(AuditEntry.at, AuditEntry.actor_id, AuditEntry.action, AuditEntry.after)
            .where(AuditEntry.entity == "record", AuditEntry.entity_id == str(item_id))
            .order_by(AuditEntry.id)
        )
    ]
    rows += [
        (r["at"], r["actor_id"], r["action"], r["after"])
        for r in work.audit_rows
        if r["entity"] == "record" and r["entity_id"] == str(item_id)
    ]
    ids = {actor for _, actor, _, _ in rows if actor is not None}
    found = work.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    names: dict[int | None, str] = {user_id: name for user_id, name in found}
    return [
        {"at": at.isoformat(), "actor": names.get(actor), "action": action, "after": after}
        for at, actor, action, after in rows
    ]


def _propagated_to(work: UnitOfWork, case: Case) -> tuple[set[int], set[int]]:
    """(user ids, group ids) the case's type propagates onto its children now."""
    config = work.session.scalar(_CONFIG, {"type_id": case.case_type_id}) or {}
    head = config.get("case_type") or {}
    switch = propagation(head.get("children"))
    users = {case.assignee_id} if "assignee" in switch and case.assignee_id else set()
    groups: set[int] = set()
    if "teams" in switch:
        names = (head.get("roles") or {}).get("manager") or []
        groups = set(work.session.scalars(select(Group.id).where(Group.name.in_(names))))
    return users, groups


def repropagate(work: UnitOfWork, item_ids: Iterable[int]) -> None:
    """Put the assignees and teams of the records' cases on their access lists again (the
    old propagated entries go); restricted records get none."""
    session = work.session
    for item_id in sorted(set(item_ids)):
        session.execute(
            delete(ItemGrant).where(ItemGrant.item_id == item_id, ItemGrant.propagated.is_(True))
        )
        item = session.get(Item, item_id)
        if item is None or item.restricted:
            continue
        users: set[int] = set()
        groups: set[int] = set()
        for case in session.scalars(
            select(Case)
            .join(CaseItem, CaseItem.case_id == Case.id)
            .where(CaseItem.item_id == item_id)
        ):
            more_users, more_groups = _propagated_to(work, case)
            users |= more_users
            groups |= more_groups
        session.add_all(ItemGrant(item_id=item_id, user_id=u, propagated=True) for u in users)
        session.add_all(ItemGrant(item_id=item_id, group_id=g, propagated=True) for g in groups)
    session.flush()


def propagate_case(work: UnitOfWork, case: Case) -> None:
    """The case's assignee changed: its children's propagated entries follow."""
    repropagate(
        work, work.session.scalars(select(CaseItem.item_id).where(CaseItem.case_id == case.id))
    )


def _add_grants(
    work: UnitOfWork, item: Item, users: Iterable[User], groups: Iterable[Group]
) -> list[str]:
    """Hand-made grants (none twice); answers the names newly added."""
    have = {
        (g.user_id, g.group_id)
        for g in work.session.scalars(
            select(ItemGrant).where(ItemGrant.item_id == item.id, ItemGrant.propagated.is_(False))
        )
    }
    added = []
    for user in users:
        if (user.id, None) not in have:
            work.session.add(ItemGrant(item_id=item.id, user_id=user.id))
            have.add((user.id, None))
            added.append(user.username)
    for group in groups:
        if (None, group.id) not in have:
            work.session.add(ItemGrant(item_id=item.id, group_id=group.id))
            have.add((None, group.id))
            added.append(f"group:{group.name}")
    work.session.flush()
    return added


def create(
    work: UnitOfWork,
    cases: list[Case],
    *,
    kind: str,
    name: str,
    ref: str | None = None,
    creator: User,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
) -> Item:
    """A new child record of ``cases``, shared with its creator, ``users`` and ``groups``
    (and whoever the cases' types propagate)."""
    name = (name or "").strip()
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if not name:
        errors["title"] = "is required"
    elif len(name) > 300:
        errors["title"] = "must be at most 300 characters"
    if ref is not None and len(ref) > 300:
        errors["ref"] = "must be at most 300 characters"
    if not cases:
        errors["case"] = "link the record to a case"
    if errors:
        raise InvalidInput("cannot add the record", errors)
    item = Item(kind=kind, name=name, ref=ref, created_by_id=creator.id, created_at=work.now)
    work.session.add(item)
    work.session.flush()
    work.session.add_all(
        CaseItem(case_id=c.id, item_id=item.id) for c in {c.id: c for c in cases}.values()
    )
    _add_grants(work, item, [creator, *users], groups)
    repropagate(work, [item.id])
    _record(work, item, "record_added", creator.id, kind=kind, name=name)
    return item


def link(work: UnitOfWork, item: Item, case: Case, *, actor_id: int | None) -> bool:
    """Link the record to one more case; False when it already was.  A restricted record
    belongs to one case only (seed 004: its restriction could not be kept)."""
    if work.session.get(CaseItem, (case.id, item.id)) is not None:
        return False
    if item.restricted:
        raise Conflict(f"record {item.id} is restricted; it cannot be linked to another case")
    work.session.add(CaseItem(case_id=case.id, item_id=item.id))
    work.session.flush()
    repropagate(work, [item.id])
    _record(work, item, "record_linked", actor_id, case=case.number)
    return True


def share(
    work: UnitOfWork,
    item: Item,
    *,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
    actor_id: int | None,
) -> list[str]:
    """Add users and groups to the record's access list; the names newly added."""
    added = _add_grants(work, item, users, groups)
    if added:
        _record(work, item, "record_shared", actor_id, added=added)
    return added


def unshare(
    work: UnitOfWork,
    item: Item,
    *,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
    actor_id: int | None,
) -> list[str]:
    """Take users and groups off the hand-made access list (propagated entries follow the
    case); the names removed."""
    removed = []
    for column, rows, label in (
        (ItemGrant.user_id, list(users), lambda u: u.username),
        (ItemGrant.group_id, list(groups), lambda g: f"group:{g.name}"),
    ):
        for row in rows:
            gone = work.session.execute(
                delete(ItemGrant).where(
                    ItemGrant.item_id == item.id,
                    ItemGrant.propagated.is_(False),
                    column == row.id,
                )
            )
            if getattr(gone, "rowcount", 0):
                removed.append(label(row))
    if removed:
        _record(work, item, "record_unshared", actor_id, removed=removed)
    return removed


def restrict(
    work: UnitOfWork,
    item: Item,
    *,
    users: Iterable[User] = (),
    groups: Iterable[Group] = (),
    actor_id: int | None,
) -> None:
    """The restriction's grants replace the record's access list (seed 004, rule 3: with
    none, administrators only) and the case no longer propagates to it.  The caller
    checked the seed-004 guards."""
    before = grants_of(work, item.id)
    work.session.execute(delete(ItemGrant).where(ItemGrant.item_id == item.id))
    item.restricted = True
    work.session.flush()
    added = _add_grants(work, item, users, groups)
    _record(work, item, "record_restricted", actor_id, removed=before, granted=added)


def unrestrict(work: UnitOfWork, item: Item, *, actor_id: int | None) -> None:
    """Lift the restriction: its grants stay as the record's access list, and the case
    propagates to it again."""
    if not item.restricted:
        raise Conflict(f"record {item.id} is not restricted")
    item.restricted = False
    work.session.flush()
    repropagate(work, [item.id])
    _record(work, item, "record_unrestricted", actor_id)


def check_out(work: UnitOfWork, item: Item, organisation: str, *, actor_id: int | None) -> None:
    """Hand the record to another organisation until it is checked in again."""
    organisation = (organisation or "").strip()
    if not organisation or len(organisation) > 200:
        raise InvalidInput(
            f"cannot check out record {item.id}", {"to": "name the organisation (200 at most)"}
        )
    if item.checked_out_to is not None:
        raise Conflict(f"record {item.id} is already checked out to {item.checked_out_to}")
    item.checked_out_to = organisation
    work.session.flush()
    _record(work, item, "record_checked_out", actor_id, to=organisation)


def check_in(work: UnitOfWork, item: Item, *, actor_id: int | None) -> None:
    if item.checked_out_to is None:
        raise Conflict(f"record {item.id} is not checked out")
    before = item.checked_out_to
    item.checked_out_to = None
    work.session.flush()
    _record(work, item, "record_checked_in", actor_id, back_from=before)


def attach(work: UnitOfWork, todo: Item, item: Item, *, actor_id: int | None) -> bool:
    """Attach a record to a to-do; False when it already was."""
    if todo.kind != "todo":
        raise InvalidInput("cannot attach", {"todo": f"record {todo.id} is not a to-do"})
    if todo.id == item.id:
        raise InvalidInput("cannot attach", {"record": "a to-do cannot carry itself"})
    if work.session.get(TodoAttachment, (todo.id, item.id)) is not None:
        return False
    if todo.restricted or item.restricted:
        which = todo if todo.restricted else item
        raise Conflict(f"record {which.id} is restricted; a to-do carrying it would leak it")
    work.session.add(TodoAttachment(todo_id=todo.id, item_id=item.id))
    work.session.flush()
    _record(work, todo, "todo_attached", actor_id, record=item.id)
    return True


def grants_of(work: UnitOfWork, item_id: int) -> dict[str, list[str]]:
    """The record's access list by name: users and groups, shared by hand or propagated."""
    rows = work.session.execute(
        select(User.username, Group.name, ItemGrant.propagated)
        .select_from(ItemGrant)
        .outerjoin(User, User.id == ItemGrant.user_id)
        .outerjoin(Group, Group.id == ItemGrant.group_id)
        .where(ItemGrant.item_id == item_id)
    ).all()
    out: dict[str, list[str]] = {"users": [], "groups": [], "propagated": []}
    for user, group, propagated in rows:
        name = user if user is not None else f"group:{group}"
        if propagated:
            out["propagated"].append(name)
        elif user is not None:
            out["users"].append(user)
        else:
            out["groups"].append(group or "")
    return {k: sorted(set(v)) for k, v in out.items()}


def attached_to(work: UnitOfWork, todo_id: int) -> list[int]:
    """Ids of the records a to-do carries."""
    return list(
        work.session.scalars(
            select(TodoAttachment.item_id)
            .where(TodoAttachment.todo_id == todo_id)
            .order_by(TodoAttachment.item_id)
        )
    )
