"""``can`` and ``explain`` for single objects; filters for lists of cases, contacts and posts.

Everything here goes through the rule list in :mod:`rules.visibility`, so a list
never shows a case that ``can(user, "read", case)`` would refuse, and ``explain``
prints the same reasoning the filters compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, or_, select, true

from engine.errors import NotFound
from engine.run.cases import case_by_number
from engine.runtime import UnitOfWork
from engine.store.access import CaseLink, Item
from engine.store.models import Case, CaseContact, Contact, StreamPost, User

from .facts import load_facts
from .levels import Level, needed
from .sections import roles_on_case, sections_for
from .subject import ALL, Subject
from .visibility import Step, case_filter, decide


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    level: Level
    trail: list[Step]

    def as_dict(self) -> dict[str, Any]:
        """The decision as plain data (the CLI's ``--json`` and the API answer this)."""
        return {
            "allowed": self.allowed,
            "action": self.action,
            "level": self.level.name.lower(),
            "trail": [
                {
                    "rule": s.rule,
                    "level": s.level.name.lower() if s.level is not None else None,
                    "reason": s.reason,
                    "decides": s.final,
                }
                for s in self.trail
            ],
        }

    def lines(self) -> list[str]:
        out = [
            f"{'ALLOWED' if self.allowed else 'DENIED'}: {self.action} needs "
            f"{needed(self.action).name.lower()}, access is {self.level.name.lower()}"
        ]
        for number, step in enumerate(self.trail, 1):
            result = "n/a" if step.level is None else step.level.name.lower()
            out.append(
                f"  {number}. {step.rule:<13} {result:<8} {step.reason}"
                + ("  (decides)" if step.final else "")
            )
        return out


def access_level(work: UnitOfWork, subject: Subject, case: Case) -> tuple[Level, list[Step]]:
    return decide(subject, load_facts(work, case, subject))


def explain(work: UnitOfWork, subject: Subject, case: Case, action: str = "read") -> Decision:
    """The decision for one action on one case with the ordered rule trail."""
    level, trail = access_level(work, subject, case)
    return Decision(allows(subject, level, action), action, level, trail)


def allows(subject: Subject, level: Level, action: str) -> bool:
    """Whether ``level`` is enough for ``action``; internal actions never for portal users."""
    return level >= needed(action) and not (action.endswith("_internal") and subject.portal)


def case_sections(work: UnitOfWork, subject: Subject, case: Case) -> frozenset[str]:
    """The sections of the case page this subject sees (GOSS permission summary)."""
    return level_and_sections(work, subject, case)[1]


def level_and_sections(
    work: UnitOfWork, subject: Subject, case: Case
) -> tuple[Level, frozenset[str]]:
    """The subject's access level and case-page sections from one reading of the facts
    (a page needs both; reading the facts is the costly part)."""
    facts = load_facts(work, case, subject)
    level, _ = decide(subject, facts)
    owner = facts.raiser_id == subject.user_id or bool(
        subject.contact_ids & ({facts.main_contact_id} | facts.contact_ids)
    )
    roles = roles_on_case(
        is_admin=subject.is_admin,
        level=level,
        type_roles=subject.roles_by_type.get(case.case_type_id, frozenset()),
        is_owner=owner,
    )
    return level, sections_for(roles)


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
    if level < Level.READ:
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
