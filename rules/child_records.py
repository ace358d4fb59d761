"""Who sees and changes a case's child records (mails, calls, notes, attachments, to-dos).

Seed 000: access to a child record "is not determined by access to the Case record" - an
agent who works a case sees only the children whose access list names them or one of their
groups (or whom the case type's ``[children]`` switch put there).  Two more rules keep the
house's one door: a record is never shown to someone who cannot read any case it belongs to
(it answers "not found", exactly like a record that does not exist), and customers never see
child records.  Administrators see every record of the cases they can read.

Adding a record needs the right to post internal notes on each case it goes to; changing
one (sharing, checking out, linking, attaching to a to-do) needs to see it and to work one
of its cases; restricting it is for administrators only and is refused while the seed-004
guards (``rules.restriction.record_blockers``) say it could not be kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.run import child_records
from engine.runtime import UnitOfWork
from engine.store.access import CaseItem, Item, ItemGrant
from engine.store.models import Case, Group, User
from people.directory import group_by_name, user_by_name

from .case_acts import case_for_action
from .decision import decide
from .facts import load_facts
from .levels import Level
from .restriction import record_blockers
from .subject import Subject, load_subject
from .visibility import case_filter


def _listed(subject: Subject) -> ColumnElement[bool]:
    """SQL over ``items``: the access list names the subject or one of their groups."""
    if subject.is_admin:
        return true()
    mine = or_(
        ItemGrant.user_id == subject.user_id, ItemGrant.group_id.in_(sorted(subject.group_ids))
    )
    own = or_(~Item.restricted, ItemGrant.propagated.is_(False))
    return exists().where(ItemGrant.item_id == Item.id, mine, own)


def record_filter(subject: Subject) -> ColumnElement[bool]:
    """SQL ``WHERE`` over ``items``: child records the subject may see (module docstring)."""
    if subject.portal is not None:
        return false()
    readable = select(CaseItem.item_id).join(Case, Case.id == CaseItem.case_id)
    readable = readable.where(case_filter(subject, Level.READ))
    return and_(Item.kind.in_(child_records.KINDS), Item.id.in_(readable), _listed(subject))


def records_query(subject: Subject, case_id: int) -> Select[tuple[Item]]:
    """The children of one case the subject may see, oldest first."""
    of_case = Item.id.in_(select(CaseItem.item_id).where(CaseItem.case_id == case_id))
    return select(Item).where(of_case, record_filter(subject)).order_by(Item.id)


def _linked_cases(work: UnitOfWork, item: Item) -> list[Case]:
    return list(
        work.session.scalars(
            select(Case)
            .join(CaseItem, CaseItem.case_id == Case.id)
            .where(CaseItem.item_id == item.id)
            .order_by(Case.id)
        )
    )


def _on_list(work: UnitOfWork, subject: Subject, item: Item) -> bool:
    return subject.is_admin or any(
        (g.user_id == subject.user_id or g.group_id in subject.group_ids)
        and not (item.restricted and g.propagated)
        for g in work.session.scalars(select(ItemGrant).where(ItemGrant.item_id == item.id))
    )


def may_see(work: UnitOfWork, subject: Subject, item: Item) -> bool:
    """The decision for one record (the Python twin of :func:`record_filter`)."""
    if subject.portal is not None or item.kind not in child_records.KINDS:
        return False
    readable = any(
        decide(subject, load_facts(work, case, subject), "read").allowed
        for case in _linked_cases(work, item)
    )
    return readable and _on_list(work, subject, item)


def record_for(work: UnitOfWork, subject: Subject, record_id: int | str) -> Item:
    """The record if the subject may see it; "not found" otherwise (as for no record)."""
    item = child_records.record_by_id(work, record_id)
    if not may_see(work, subject, item):
        raise NotFound(f"no record {record_id}")
    return item


def _changeable(work: UnitOfWork, subject: Subject, record_id: int | str, what: str) -> Item:
    """A record the subject sees and may change: they work (write) one of its cases."""
    item = record_for(work, subject, record_id)
    if not any(
        decide(subject, load_facts(work, case, subject), "edit").allowed
        for case in _linked_cases(work, item)
    ):
        raise Forbidden(
            f"{subject.username} may not {what} record {item.id}: they do not work its case"
        )
    return item


def _people(
    work: UnitOfWork, users: Sequence[str], groups: Sequence[str]
) -> tuple[list[User], list[Group]]:
    """Users and groups by name; customers are refused (they never see child records)."""
    found_users = [user_by_name(work, u) for u in users]
    for user in found_users:
        if load_subject(work, user).portal is not None:
            raise InvalidInput("cannot share", {"user": f"{user.username} is a portal customer"})
    return found_users, [group_by_name(work, g) for g in groups]


def describe(work: UnitOfWork, subject: Subject, item: Item) -> dict[str, object]:
    """A record as the subject may see it: its cases are only the ones they can read."""
    readable = [
        c.number
        for c in _linked_cases(work, item)
        if decide(subject, load_facts(work, c, subject), "read").allowed
    ]
    answer: dict[str, object] = {
        "id": item.id,
        "kind": item.kind,
        "title": item.name,
        "ref": item.ref,
        "cases": readable,
        "restricted": item.restricted,
        "checked_out_to": item.checked_out_to,
        "access": child_records.grants_of(work, item.id),
        "created_at": item.created_at.isoformat() if item.created_at else None,
        "history": child_records.history(work, item.id),
    }
    if item.kind == "todo":
        answer["carries"] = [
            i
            for i in child_records.attached_to(work, item.id)
            if may_see(work, subject, child_records.record_by_id(work, i))
        ]
    return answer


def may_restrict(subject: Subject) -> bool:
    """Seed 004, rule 1: only administrators restrict a record or lift its restriction."""
    return subject.is_admin


def records_for_case(work: UnitOfWork, subject: Subject, case: Case) -> list[dict[str, object]]:
    """The children of a case already shown to the subject, described for a page; for
    those who may restrict, each unrestricted record also names every seed-004 conflict
    that would refuse its restriction now (``blockers``), so the page can say why instead
    of offering a form that must fail."""
    rows = []
    for item in work.session.scalars(records_query(subject, case.id)):
        row = describe(work, subject, item)
        if may_restrict(subject) and not item.restricted:
            row["blockers"] = record_blockers(work, item)
        rows.append(row)
    return rows


def list_records(work: UnitOfWork, subject: Subject, number: str) -> list[Item]:
    """The case's children the subject may see (the case itself: "read")."""
    case, _ = case_for_action(work, subject, number, "read")
    return list(work.session.scalars(records_query(subject, case.id)))


def add_record(
    work: UnitOfWork,
    subject: Subject,
    creator: User,
    numbers: list[str],
    *,
    kind: str,
    title: str,
    ref: str | None = None,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> Item:
    """Add a child record to one or more cases (internal posters of each: agents)."""
    linked = [case_for_action(work, subject, n, "post_internal")[0] for n in numbers]
    people, teams = _people(work, users, groups)
    return child_records.create(
        work, linked, kind=kind, name=title, ref=ref, creator=creator, users=people, groups=teams
    )


def share_record(
    work: UnitOfWork,
    subject: Subject,
    record_id: int | str,
    *,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
    remove: bool = False,
) -> list[str]:
    """Add names to (or take them off) the record's access list; the names changed.
    A restricted record's list is the restriction: administrators change it."""
    if not (users or groups):
        raise InvalidInput("nothing to share", {"user": "name a user or a group"})
    item = _changeable(work, subject, record_id, "share")
    if item.restricted and not subject.is_admin:
        raise Forbidden(f"record {item.id} is restricted: only administrators change who sees it")
    people, teams = _people(work, users, groups)
    change = child_records.unshare if remove else child_records.share
    return change(work, item, users=people, groups=teams, actor_id=subject.user_id)


def restrict_record(
    work: UnitOfWork,
    subject: Subject,
    record_id: int | str,
    *,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> Item:
    """Restrict a record to its own grants (seed 004: administrators only, and refused
    with every conflict named when the restriction could not be kept)."""
    item = record_for(work, subject, record_id)
    if not may_restrict(subject):
        raise Forbidden(
            f"{subject.username} may not restrict record {item.id}: only administrators do"
        )
    blockers = record_blockers(work, item)
    if blockers:
        raise Conflict(f"record {item.id} cannot be restricted: " + "; ".join(blockers))
    people, teams = _people(work, users, groups)
    child_records.restrict(work, item, users=people, groups=teams, actor_id=subject.user_id)
    return item


def unrestrict_record(work: UnitOfWork, subject: Subject, record_id: int | str) -> Item:
    item = record_for(work, subject, record_id)
    if not may_restrict(subject):
        raise Forbidden(f"{subject.username} may not lift record {item.id}'s restriction")
    child_records.unrestrict(work, item, actor_id=subject.user_id)
    return item


def check_out(work: UnitOfWork, subject: Subject, record_id: int | str, to: str) -> Item:
    item = _changeable(work, subject, record_id, "check out")
    child_records.check_out(work, item, to, actor_id=subject.user_id)
    return item


def check_in(work: UnitOfWork, subject: Subject, record_id: int | str) -> Item:
    item = _changeable(work, subject, record_id, "check in")
    child_records.check_in(work, item, actor_id=subject.user_id)
    return item


def link_record(work: UnitOfWork, subject: Subject, record_id: int | str, number: str) -> bool:
    """Link a record to one more case (they change the record and post on that case)."""
    item = _changeable(work, subject, record_id, "link")
    case, _ = case_for_action(work, subject, number, "post_internal")
    return child_records.link(work, item, case, actor_id=subject.user_id)


def attach_to_todo(
    work: UnitOfWork, subject: Subject, todo_id: int | str, record_id: int | str
) -> bool:
    """Attach a record the subject sees to a to-do they may change."""
    todo = _changeable(work, subject, todo_id, "attach to")
    item = record_for(work, subject, record_id)
    return child_records.attach(work, todo, item, actor_id=subject.user_id)
