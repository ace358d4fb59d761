"""The case access rules: one ordered list, each rule in Python and in SQL.

Order and meaning (the seed documents' rules, see ``docs/permissions.md``):

1. ``admin`` - administrators have full access and cannot be locked out (seed 004, rule
   2), except that an administrator named individually in a grant of a restricted case
   gets that grant's level there (seed 004's example of Mike).
2. ``portal_hidden`` - portal users never see a case hidden from the portal (seed 000).
3. ``restriction`` - a restricted case is visible only through its grants (users or
   groups, ``read`` or ``full``); with no grants only administrators see it.  It replaces
   every other rule, system permissions included (seed 004, rules 3 and 4).
4. ``portal`` - portal users see their own cases (raised by them or naming them as a
   contact) and may post there; with the "all" view level every case of their customer
   or linked to their account (post there too with the "all" edit level), and with the
   parent toggle their child customers' and child accounts' cases, view only (seed 003).
   Nothing else applies to them.
5. ``system`` - read permission on the case's type (process) AND on the customer group
   of its main contact; write permission on the type raises it to write (seed 002).
6. ``escalation`` - while an escalation task the user may act on is open, write on a
   case they may read (seed 001: escalation users work the escalated case).
7. ``collaborator`` - read and stream access, unless the user's roles give the case type
   the level "no" (seed 000).
8. ``raiser`` - whoever raised a case owns it: read and stream access (seed 001).
9. ``task_user`` - whoever may act on an open task of the case sees its summary, when the
   customer group of its main contact is readable to them (seeds 001 and 002).

Rules 1-4 decide on their own when they apply; 5-9 give the highest level any of them
gives.  :func:`decide` evaluates them for one case (with the trail ``explain`` prints);
:func:`case_filter` compiles the same list into a SQL ``WHERE`` clause for every list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    false,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from engine.run.task_queries import eligible
from engine.store.access import CaseAccess, CaseCollaborator, CaseGrant
from engine.store.models import Case, CaseContact, HumanTask
from engine.store.parties import CaseParty

from .facts import CaseFacts
from .levels import Level
from .subject import ALL, Subject

GRANT_LEVELS = {"read": Level.READ, "full": Level.WRITE}


@dataclass(frozen=True)
class Step:
    """One line of an explanation: which rule, what it gave, and why."""

    rule: str
    level: Level | None  # None: the rule does not apply
    reason: str
    final: bool = False


# --- the rules in Python ----------------------------------------------------------------


def _own_grants(s: Subject, f: CaseFacts) -> Level | None:
    """The best level the case's grants name this user individually with (None: none)."""
    levels = [GRANT_LEVELS.get(g, Level.NONE) for user, _, g in f.grants if user == s.user_id]
    return max(levels) if levels else None


def _admin(s: Subject, f: CaseFacts) -> Step:
    if not s.is_admin:
        return Step("admin", None, "not an administrator")
    if f.restricted and _own_grants(s, f) is not None:
        return Step(
            "admin",
            None,
            "administrator, but named individually in this restricted case's grants: "
            "the grant decides",
        )
    return Step("admin", Level.WRITE, "administrators always have full access", final=True)


def _portal_hidden(s: Subject, f: CaseFacts) -> Step:
    if s.portal is None:
        return Step("portal_hidden", None, "not a portal user")
    if f.hidden_from_portal:
        return Step("portal_hidden", Level.NONE, "the case is hidden from the portal", final=True)
    return Step("portal_hidden", None, "the case is not hidden from the portal")


def _restriction(s: Subject, f: CaseFacts) -> Step:
    if not f.restricted:
        return Step("restriction", None, "the case is not restricted")
    if s.is_admin:  # reached only when named individually (see _admin)
        best = _own_grants(s, f) or Level.NONE
    else:
        best = Level.NONE
        for user_id, group_id, level in f.grants:
            if user_id == s.user_id or (group_id is not None and group_id in s.group_ids):
                best = max(best, GRANT_LEVELS.get(level, Level.NONE))
    if not best:
        return Step(
            "restriction",
            Level.NONE,
            "restricted case: no grant for this user or their groups",
            final=True,
        )
    if s.portal is not None and best > Level.STREAM:
        return Step(
            "restriction",
            Level.STREAM,
            "restricted case: granted full, which for a customer is read and post",
            final=True,
        )
    return Step("restriction", best, f"restricted case: granted {best.name.lower()}", final=True)


def _portal(s: Subject, f: CaseFacts) -> Step:
    p = s.portal
    if p is None:
        return Step("portal", None, "not a portal user")
    own = f.raiser_id == s.user_id or bool(s.contact_ids & ({f.main_contact_id} | f.contact_ids))
    if own:
        return Step(
            "portal", Level.STREAM, "own case (raised by or naming this contact)", final=True
        )
    if p.view_all and f.customer_group_id in p.own_customers:
        if p.edit_all:
            return Step(
                "portal",
                Level.STREAM,
                "portal role views and edits all cases of the customer",
                final=True,
            )
        return Step("portal", Level.READ, "portal role views all cases of the customer", final=True)
    if p.view_all and f.account_id is not None and f.account_id in p.own_accounts:
        if p.edit_all:
            return Step(
                "portal",
                Level.STREAM,
                "portal role views and edits all cases of the account",
                final=True,
            )
        return Step("portal", Level.READ, "portal role views all cases of the account", final=True)
    if p.view_all and f.customer_group_id in p.child_customers:
        return Step(
            "portal",
            Level.READ,
            "parent customer's contact: views the child customer's cases, view only",
            final=True,
        )
    if p.view_all and f.account_id is not None and f.account_id in p.child_accounts:
        return Step(
            "portal",
            Level.READ,
            "parent account's contact: views the child account's cases, view only",
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


def _escalation(s: Subject, f: CaseFacts) -> Step:
    if not f.escalated:
        return Step("escalation", None, "no open escalation task of the case is for this user")
    if not (s.reads_type(f.case_type_id) and s.reads_customer(f.customer_group_id)):
        return Step(
            "escalation",
            None,
            "an escalation task is for this user, but they may not read the case "
            "(case type and customer group)",
        )
    return Step("escalation", Level.WRITE, "escalated to this user: works the case while it lasts")


def _collaborator(s: Subject, f: CaseFacts) -> Step:
    if s.user_id not in f.collaborators:
        return Step("collaborator", None, "not a collaborator")
    if s.denies_type(f.case_type_id):
        return Step(
            "collaborator", None, 'collaborator, but their roles\' level for the case type is "no"'
        )
    return Step("collaborator", Level.STREAM, "collaborator: read and stream access")


def _raiser(s: Subject, f: CaseFacts) -> Step:
    if f.raiser_id == s.user_id:
        return Step("raiser", Level.STREAM, "raised the case (its owner): read and stream access")
    return Step("raiser", None, "did not raise the case")


def _task_user(s: Subject, f: CaseFacts) -> Step:
    if not f.task_user:
        return Step("task_user", None, "no open task of the case is for this user")
    if not s.reads_customer(f.customer_group_id):
        return Step(
            "task_user",
            None,
            "an open task is for this user, but not the customer group of the case's main contact",
        )
    return Step("task_user", Level.SUMMARY, "may act on an open task of the case")


RULES: list[Callable[[Subject, CaseFacts], Step]] = [
    _admin,
    _portal_hidden,
    _restriction,
    _portal,
    _system,
    _escalation,
    _collaborator,
    _raiser,
    _task_user,
]
RULE_NAMES = (
    "admin",
    "portal_hidden",
    "restriction",
    "portal",
    "system",
    "escalation",
    "collaborator",
    "raiser",
    "task_user",
)


def decide_level(subject: Subject, facts: CaseFacts) -> tuple[Level, list[Step]]:
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
    return _in(column, ids) if ids else false()


def _ids(ids: frozenset[int] | set[int]) -> list[ColumnElement[int]]:
    """Ids written into the SQL itself (they are integers from the database): the clause
    is kept per subject and its statements are compiled once (``Prepared``), which cannot
    expand a list parameter."""
    return [literal_column(str(int(i))) for i in sorted(ids)]


def _in(column: SQLColumnExpression[Any], ids: Any) -> ColumnElement[bool]:
    return column.in_(_ids(ids))


def _restricted() -> ColumnElement[bool]:
    return exists().where(CaseAccess.case_id == Case.id, CaseAccess.restricted.is_(True))


def _hidden() -> ColumnElement[bool]:
    return exists().where(CaseAccess.case_id == Case.id, CaseAccess.hidden_from_portal.is_(True))


def _grant_levels(level: Level) -> list[str]:
    """Grant levels that give at least ``level``."""
    return [name for name, given in GRANT_LEVELS.items() if given >= level]


def _grant_ids(s: Subject, level: Level, *, individually: bool = False) -> Select[tuple[int]]:
    """Ids of cases whose grants give the subject at least ``level`` (any level: ``NONE``)."""
    who = CaseGrant.user_id == s.user_id
    if s.group_ids and not individually:
        who = or_(who, _in(CaseGrant.group_id, s.group_ids))
    query = select(CaseGrant.case_id).where(who)
    if level > Level.NONE:
        query = query.where(or_(*(CaseGrant.level == name for name in _grant_levels(level))))
    return query


def _customer_readable(s: Subject) -> ColumnElement[bool]:
    return or_(
        Case.customer_group_id.is_(None), _ids_clause(Case.customer_group_id, s.customer_groups)
    )


def _my_open_task(s: Subject, *, escalation: bool = False) -> ColumnElement[bool]:
    condition = [HumanTask.case_id == Case.id, HumanTask.state == "open", eligible(s.user_id)]
    if escalation:
        condition.append(HumanTask.role == "escalation")
    return select(HumanTask.id).where(*condition).correlate(Case).exists()


def _not_denied(s: Subject) -> ColumnElement[bool]:
    if not s.denied_types:
        return true()
    readable = _ids_clause(Case.case_type_id, s.readable_types)
    if s.denied_types == ALL:
        return readable
    return or_(readable, Case.case_type_id.not_in(_ids(s.denied_types)))


def _agent_sql(s: Subject, level: Level) -> ColumnElement[bool]:
    """Rules 5-9 for an unrestricted case: some rule gives at least ``level``."""
    readable = and_(_ids_clause(Case.case_type_id, s.readable_types), _customer_readable(s))
    if level <= Level.READ:
        system = readable
    else:
        system = and_(_ids_clause(Case.case_type_id, s.writable_types), _customer_readable(s))
    granted = [system]
    if level > Level.READ:  # at read and below, readable alone already holds
        granted.append(and_(readable, _my_open_task(s, escalation=True)))
    if level <= Level.STREAM:
        granted.append(
            and_(
                exists().where(
                    CaseCollaborator.case_id == Case.id, CaseCollaborator.user_id == s.user_id
                ),
                _not_denied(s),
            )
        )
        granted.append(Case.raiser_id == s.user_id)
    if level <= Level.SUMMARY:
        granted.append(and_(_my_open_task(s), _customer_readable(s)))
    return or_(*granted)


def _own_sources(s: Subject) -> list[Select[tuple[int]]]:
    """Selects of the ids of a portal user's own cases (raised by them or naming them)."""
    contacts = sorted(s.contact_ids)
    sources = [select(Case.id).where(Case.raiser_id == s.user_id)]
    if contacts:
        sources.append(select(Case.id).where(_in(Case.main_contact_id, contacts)))
        sources.append(select(CaseContact.case_id).where(_in(CaseContact.contact_id, contacts)))
    return sources


def _shared(s: Subject, level: Level) -> ColumnElement[bool]:
    """The portal role's "all" levels: the customer's cases, and its children's (view only)."""
    p = s.portal
    assert p is not None
    groups: set[int] = set()
    accounts: set[int] = set()
    if p.view_all and (level <= Level.READ or (level <= Level.STREAM and p.edit_all)):
        groups |= p.own_customers
        accounts |= p.own_accounts
    if p.view_all and level <= Level.READ:
        groups |= p.child_customers
        accounts |= p.child_accounts
    shared = [_in(Case.customer_group_id, groups)] if groups else []
    if accounts:
        linked = select(CaseParty.case_id).where(_in(CaseParty.account_id, accounts))
        shared.append(Case.id.in_(linked))
    return or_(*shared) if shared else false()


def _admin_sql(s: Subject, level: Level) -> ColumnElement[bool]:
    """Administrators see every case, except where a grant names them individually."""
    named = Case.id.in_(_grant_ids(s, Level.NONE, individually=True))
    enough = Case.id.in_(_grant_ids(s, level, individually=True))
    return or_(~_restricted(), ~named, enough)


@lru_cache(maxsize=1024)
def case_filter(subject: Subject, level: Level = Level.READ) -> ColumnElement[bool]:
    """SQL ``WHERE`` clause over ``cases``: the subject has at least ``level`` access.

    Kept per subject (its every permission is part of its identity, so a changed permission
    is a new subject): building the clause costs more than running it, and the inbox and
    every task action ask it on each request."""
    if level <= Level.NONE:
        return true()
    if subject.is_admin:
        return _admin_sql(subject, level)
    restricted = _restricted()
    if subject.portal is None:
        granted = and_(restricted, Case.id.in_(_grant_ids(subject, level)))
        return or_(granted, and_(~restricted, _agent_sql(subject, level)))
    if level > Level.STREAM:
        return false()  # customers never work a case
    # Own cases and grants are few: look them up by index from id lists.  The "all" level
    # is a plain predicate, so lists of large customers scan newest-first and stop early.
    own = _own_sources(subject)
    grants = _grant_ids(subject, level)
    shared = _shared(subject, level)
    candidates = or_(Case.id.in_(union_all(*own, grants)), shared)
    granted = and_(restricted, Case.id.in_(grants))
    portal = and_(~restricted, or_(Case.id.in_(union_all(*own)), shared))
    return and_(candidates, ~_hidden(), or_(granted, portal))
