"""The case visibility rules: one ordered list, each rule in Python and in SQL.

Order and meaning (from the user's source documents):

1. ``admin`` - administrators always have full access and cannot be restricted.
2. ``restriction`` - a restricted case is visible only through its grants (users or
   groups, read-only or full); with no grants only administrators see it.  It
   replaces every other rule, system permissions included.
3. ``portal`` - customers in the portal never see cases hidden from the portal; they
   see their own cases (raised by them or naming them as a contact) and, with the
   "all" view level, every case of their customer group, plus its child customers'
   cases when the parent-visibility toggle is on.  Nothing else applies to them.
4. ``system`` - read permission on the case's type (process) AND on the customer group
   of its main contact; write permission on the type raises it to write.
5. ``collaborator`` - read access for collaborators whose roles grant any access to
   the case type.
6. ``raiser`` - whoever raised a case may read it.
7. ``task_user`` - whoever may act on an open task of the case sees its summary.

Rules 1-3 decide on their own; 4-7 grant the highest level any of them gives.
:func:`decide` evaluates them for one case (with the trail ``explain`` prints);
:func:`case_filter` compiles the same list into a SQL ``WHERE`` clause for lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    false,
    or_,
    select,
    true,
    union_all,
)

from engine.run.tasks import eligible
from engine.store.access import CaseAccess, CaseCollaborator, CaseGrant
from engine.store.models import Case, CaseContact, HumanTask

from .facts import CaseFacts
from .levels import Level
from .subject import ALL, Subject


@dataclass(frozen=True)
class Step:
    """One line of an explanation: which rule, what it gave, and why."""

    rule: str
    level: Level | None  # None: the rule does not apply
    reason: str
    final: bool = False


# --- the rules in Python ----------------------------------------------------------------


def _admin(s: Subject, f: CaseFacts) -> Step:
    if s.is_admin:
        return Step("admin", Level.WRITE, "administrators always have full access", final=True)
    return Step("admin", None, "not an administrator")


def _restriction(s: Subject, f: CaseFacts) -> Step:
    if not f.restricted:
        return Step("restriction", None, "the case is not restricted")
    best = Level.NONE
    for user_id, group_id, level in f.grants:
        if user_id == s.user_id or (group_id is not None and group_id in s.group_ids):
            best = max(best, Level.WRITE if level == "full" else Level.READ)
    reason = (
        "restricted case: granted " + best.name.lower()
        if best
        else "restricted case: no grant for this user or their groups"
    )
    return Step("restriction", best, reason, final=True)


def _portal(s: Subject, f: CaseFacts) -> Step:
    p = s.portal
    if p is None:
        return Step("portal", None, "not a portal user")
    if f.hidden_from_portal:
        return Step("portal", Level.NONE, "the case is hidden from the portal", final=True)
    own = f.raiser_id == s.user_id or bool(s.contact_ids & ({f.main_contact_id} | f.contact_ids))
    if own:
        return Step(
            "portal", Level.WRITE, "own case (raised by or naming this contact)", final=True
        )
    if p.view_all and f.customer_group_id in p.customer_groups:
        level = Level.WRITE if p.edit_all else Level.READ
        return Step(
            "portal",
            level,
            "portal role sees all cases of the customer"
            + (" and its child customers" if p.parent_visibility else ""),
            final=True,
        )
    return Step(
        "portal", Level.NONE, "not an own case and not visible to the portal role", final=True
    )


def _system(s: Subject, f: CaseFacts) -> Step:
    if not s.reads_type(f.case_type_id):
        return Step("system", None, "no read permission for the case type")
    if not s.reads_customer(f.customer_group_id):
        return Step(
            "system",
            None,
            "read permission for the case type but not for the customer group of its main contact",
        )
    if s.writes_type(f.case_type_id):
        return Step(
            "system",
            Level.WRITE,
            "write permission for the case type and read permission for its customer group",
        )
    return Step("system", Level.READ, "read permission for the case type and its customer group")


def _collaborator(s: Subject, f: CaseFacts) -> Step:
    if s.user_id not in f.collaborators:
        return Step("collaborator", None, "not a collaborator")
    if not s.reads_type(f.case_type_id):
        return Step(
            "collaborator", None, "collaborator, but their roles grant no access to the case type"
        )
    return Step("collaborator", Level.READ, "collaborator with access to the case type")


def _raiser(s: Subject, f: CaseFacts) -> Step:
    if f.raiser_id == s.user_id:
        return Step("raiser", Level.READ, "raised the case")
    return Step("raiser", None, "did not raise the case")


def _task_user(s: Subject, f: CaseFacts) -> Step:
    if f.task_user:
        return Step("task_user", Level.SUMMARY, "may act on an open task of the case")
    return Step("task_user", None, "no open task of the case is for this user")


RULES: list[Callable[[Subject, CaseFacts], Step]] = [
    _admin,
    _restriction,
    _portal,
    _system,
    _collaborator,
    _raiser,
    _task_user,
]


def decide(subject: Subject, facts: CaseFacts) -> tuple[Level, list[Step]]:
    """The subject's access level to the case, and the trail of rules that led to it."""
    trail: list[Step] = []
    best = Level.NONE
    for rule in RULES:
        step = rule(subject, facts)
        trail.append(step)
        if step.final:
            return step.level or Level.NONE, trail
        if step.level is not None:
            best = max(best, step.level)
    return best, trail


# --- the same rules in SQL ------------------------------------------------------------


def _ids_clause(
    column: SQLColumnExpression[int | None], ids: frozenset[int]
) -> ColumnElement[bool]:
    if ids == ALL:
        return true()
    return column.in_(sorted(ids)) if ids else false()


def _restricted() -> ColumnElement[bool]:
    return exists().where(CaseAccess.case_id == Case.id, CaseAccess.restricted.is_(True))


def _hidden() -> ColumnElement[bool]:
    return exists().where(CaseAccess.case_id == Case.id, CaseAccess.hidden_from_portal.is_(True))


def _granted(s: Subject, level: Level) -> ColumnElement[bool]:
    who = CaseGrant.user_id == s.user_id
    if s.group_ids:
        who = or_(who, CaseGrant.group_id.in_(sorted(s.group_ids)))
    condition = [CaseGrant.case_id == Case.id, who]
    if level >= Level.WRITE:
        condition.append(CaseGrant.level == "full")
    return exists().where(*condition)


def _own_sources(s: Subject) -> list[Select[tuple[int]]]:
    """Selects of the ids of a portal user's own cases (raised by them or naming them)."""
    contacts = sorted(s.contact_ids)
    sources = [select(Case.id).where(Case.raiser_id == s.user_id)]
    if contacts:
        sources.append(select(Case.id).where(Case.main_contact_id.in_(contacts)))
        sources.append(select(CaseContact.case_id).where(CaseContact.contact_id.in_(contacts)))
    return sources


def _shared(s: Subject, level: Level) -> ColumnElement[bool]:
    """The portal role's "all" level: every case of the customer (and its children)."""
    p = s.portal
    assert p is not None
    if p.view_all and (level <= Level.READ or p.edit_all) and p.customer_groups:
        return Case.customer_group_id.in_(sorted(p.customer_groups))
    return false()


def _grant_ids(s: Subject, level: Level) -> Select[tuple[int]]:
    who = CaseGrant.user_id == s.user_id
    if s.group_ids:
        who = or_(who, CaseGrant.group_id.in_(sorted(s.group_ids)))
    query = select(CaseGrant.case_id).where(who)
    return query.where(CaseGrant.level == "full") if level >= Level.WRITE else query


def _agent_sql(s: Subject, level: Level) -> ColumnElement[bool]:
    types = s.writable_types if level >= Level.WRITE else s.readable_types
    system = and_(
        _ids_clause(Case.case_type_id, types),
        or_(
            Case.customer_group_id.is_(None), _ids_clause(Case.customer_group_id, s.customer_groups)
        ),
    )
    if level >= Level.WRITE:
        return system
    granted = [
        system,
        and_(
            _ids_clause(Case.case_type_id, s.readable_types),
            exists().where(
                CaseCollaborator.case_id == Case.id, CaseCollaborator.user_id == s.user_id
            ),
        ),
        Case.raiser_id == s.user_id,
    ]
    if level <= Level.SUMMARY:
        granted.append(
            select(HumanTask.id)
            .where(HumanTask.case_id == Case.id, HumanTask.state == "open", eligible(s.user_id))
            .correlate(Case)
            .exists()
        )
    return or_(*granted)


def case_filter(subject: Subject, level: Level = Level.READ) -> ColumnElement[bool]:
    """SQL ``WHERE`` clause over ``cases``: the subject has at least ``level`` access."""
    if subject.is_admin:
        return true()
    restricted = _restricted()
    granted = and_(restricted, _granted(subject, level))
    if subject.portal is None:
        return or_(granted, and_(~restricted, _agent_sql(subject, level)))
    # Own cases and grants are few: look them up by index from id lists.  The "all" level
    # is a plain predicate, so lists of large customers scan newest-first and stop early.
    own = _own_sources(subject)
    candidates = Case.id.in_(union_all(*own, _grant_ids(subject, level)))
    shared = _shared(subject, level)
    portal = and_(~restricted, ~_hidden(), or_(Case.id.in_(union_all(*own)), shared))
    return and_(or_(candidates, shared), or_(granted, portal))
