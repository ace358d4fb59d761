"""The one decision applied: ``can``, ``explain`` and ``visible_case`` check one case;
the ``*_query`` and ``*_filter`` functions filter lists of cases, contacts and posts.

:mod:`rules.decision` decides from facts alone; this module loads the facts and builds
the SQL.  Everything here goes through the rule list in :mod:`rules.visibility`, so a list
never shows a case that ``can(user, "read", case)`` would refuse, and ``explain``
prints the same reasoning the filters compile.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, or_, select, true

from engine.errors import NotFound
from engine.run.cases import case_by_number
from engine.runtime import UnitOfWork
from engine.store.access import CaseLink, Item
from engine.store.models import Case, CaseContact, Contact, StreamPost, User

from .decision import Decision, decide
from .facts import CaseFacts, load_facts
from .levels import Level, need
from .sections import check_section
from .subject import ALL, Subject
from .visibility import case_filter


def explain(
    work: UnitOfWork,
    subject: Subject,
    case: Case,
    action: str = "read",
    section: str | None = None,
) -> Decision:
    """The decision for one action (in one section) on one case, with the rule trail."""
    need(action)  # bad input is refused before anything is read
    check_section(section)
    return decide(subject, load_facts(work, case, subject), action, section)


def decide_on(
    work: UnitOfWork, subject: Subject, case: Case, action: str = "read"
) -> tuple[Decision, CaseFacts]:
    """The decision and the facts it was made on (a page needs both)."""
    facts = load_facts(work, case, subject)
    return decide(subject, facts, action), facts


def allows(subject: Subject, level: Level, action: str) -> bool:
    """Whether ``level`` is enough for ``action`` by level and audience alone (no facts):
    the SQL side of :func:`decide` for lists that filter by an action's level."""
    wanted = need(action)
    if wanted.agents_only and subject.portal is not None:
        return False
    return level >= wanted.level and not (wanted.admin_only and not subject.is_admin)


def can(work: UnitOfWork, subject: Subject, action: str, case: Case) -> bool:
    return explain(work, subject, case, action).allowed


def visible_case(work: UnitOfWork, subject: Subject, number: str, action: str = "read") -> Case:
    """The case if the subject may do ``action`` on it; otherwise "not found", never "forbidden",
    so that a forged number reveals nothing about cases the user cannot see."""
    case = case_by_number(work, number)
    if not can(work, subject, action, case):
        raise NotFound(f"no case {number}")
    return case


def cases_query(subject: Subject, level: Level = Level.READ) -> Select[tuple[Case]]:
    """``SELECT cases`` the subject may see at ``level`` (newest first): lists, search, counts."""
    return select(Case).where(case_filter(subject, level)).order_by(Case.id.desc())


def search_query(
    subject: Subject,
    text: str = "",
    *,
    status: str | None = None,
    priority: str | None = None,
    case_type_id: int | None = None,
) -> Select[tuple[Case]]:
    """Quick search (number or words of the subject) and detailed search (field filters),
    both within what the subject may see."""
    query = cases_query(subject)
    for word in text.split():
        pattern = "%" + word.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        query = query.where(
            or_(Case.number.ilike(pattern, escape="!"), Case.subject.ilike(pattern, escape="!"))
        )
    for column, value in (
        (Case.status, status),
        (Case.priority, priority),
        (Case.case_type_id, case_type_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


def related_cases_query(subject: Subject, case_id: int) -> Select[tuple[Case]]:
    """Cases linked to ``case_id`` that the subject may read; unreadable ones are left out."""
    # IN (links of this case), not a correlated EXISTS: the database starts from the few links
    # instead of testing every case row.
    linked = Case.id.in_(select(CaseLink.other_case_id).where(CaseLink.case_id == case_id))
    return select(Case).where(linked, case_filter(subject)).order_by(Case.id)


def contact_filter(subject: Subject) -> ColumnElement[bool]:
    """Contacts the subject may see: by customer-group permission; portal users see themselves
    and, with the "all" level, the contacts of their customers."""
    if subject.is_admin:
        return true()
    if subject.portal is not None:
        mine = Contact.id.in_(sorted(subject.contact_ids))
        if subject.portal.view_all:
            return or_(mine, Contact.customer_group_id.in_(sorted(subject.portal.customer_groups)))
        return mine
    if subject.customer_groups == ALL:
        return true()
    return Contact.customer_group_id.in_(sorted(subject.customer_groups))


def resource_filter(subject: Subject) -> ColumnElement[bool]:
    """Resources (items of kind ``resource``) the subject may see: read permission on their
    resource type; other items follow the case they belong to."""
    if subject.is_admin:
        return true()
    return and_(Item.kind == "resource", Item.resource_type.in_(sorted(subject.resource_types)))


def reads_internal_posts(subject: Subject) -> bool:
    """Internal posts never reach portal users, whatever else they may see."""
    return subject.portal is None


def posts_query(subject: Subject, case_id: int) -> Select[tuple[StreamPost]]:
    """Stream posts of a case the subject may read (see :func:`reads_internal_posts`)."""
    readable = exists().where(Case.id == case_id, case_filter(subject, Level.READ))
    query = select(StreamPost).where(StreamPost.case_id == case_id, readable)
    if not reads_internal_posts(subject):
        query = query.where(StreamPost.internal.is_(False))
    return query.order_by(StreamPost.id)


_POSTS_WITH_AUTHORS = (
    select(StreamPost, User.username)
    .outerjoin(User, User.id == StreamPost.author_id)
    .where(StreamPost.case_id == bindparam("case_id"))
    .order_by(StreamPost.id)
)
_PUBLIC_POSTS_WITH_AUTHORS = _POSTS_WITH_AUTHORS.where(StreamPost.internal.is_(False))


def posts_at_level(
    work: UnitOfWork, subject: Subject, case_id: int, level: Level
) -> list[tuple[StreamPost, str | None]]:
    """The posts (with their authors' usernames) :func:`posts_query` gives, for a case whose
    access level the caller has already decided: a case page decides it once, and then need
    not compile the visibility filter into the query a second time."""
    if not allows(subject, level, "read"):
        return []
    query = _POSTS_WITH_AUTHORS if reads_internal_posts(subject) else _PUBLIC_POSTS_WITH_AUTHORS
    return [(post, author) for post, author in work.session.execute(query, {"case_id": case_id})]


def additional_contacts_query(subject: Subject, case_id: int) -> Select[tuple[Contact]]:
    """Additional contacts of a case; those of unreadable customer groups are not shown."""
    return (
        select(Contact)
        .join(
            CaseContact, and_(CaseContact.contact_id == Contact.id, CaseContact.case_id == case_id)
        )
        .where(contact_filter(subject))
        .order_by(Contact.id)
    )
