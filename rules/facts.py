"""What the rules need to know about one case, read in a few small queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import BindParameter, bindparam, select

from engine.run.task_queries import eligible
from engine.runtime import UnitOfWork
from engine.store.access import CaseAccess, CaseCollaborator, CaseGrant
from engine.store.fast import Prepared
from engine.store.models import Case, CaseContact, HumanTask
from engine.store.parties import CaseParty

from .subject import Subject


@dataclass(frozen=True)
class CaseFacts:
    case_id: int
    case_type_id: int
    customer_group_id: int | None
    raiser_id: int | None
    main_contact_id: int | None
    contact_ids: frozenset[int]
    restricted: bool
    hidden_from_portal: bool
    grants: tuple[tuple[int | None, int | None, str], ...]  # (user_id, group_id, level)
    collaborators: frozenset[int]
    task_user: bool  # the subject may act on an open task of the case
    escalated: bool = False  # ... and one of those tasks is an escalation task
    holds_task: bool = False  # the subject has claimed an open task of the case
    assignee_id: int | None = None  # who the case is assigned to
    account_id: int | None = None  # the account the case is linked to


# Prepared once: the facts are read for every case a request decides on, five small
# indexed reads whose cost was mostly the ORM's own (see engine/store/fast.py).
_CASE: BindParameter[int] = bindparam("case_id")
_ACCESS = Prepared(
    select(CaseAccess.restricted, CaseAccess.hidden_from_portal).where(CaseAccess.case_id == _CASE)
)
_CONTACTS = Prepared(select(CaseContact.contact_id).where(CaseContact.case_id == _CASE))
_GRANTS = Prepared(
    select(CaseGrant.user_id, CaseGrant.group_id, CaseGrant.level).where(CaseGrant.case_id == _CASE)
)
_ACCOUNT = Prepared(select(CaseParty.account_id).where(CaseParty.case_id == _CASE))
_COLLABORATORS = Prepared(select(CaseCollaborator.user_id).where(CaseCollaborator.case_id == _CASE))
#: The open tasks of the case the subject may act on, escalation tasks first (one read
#: answers both "task user?" and "escalated?").
_MY_OPEN_TASK = Prepared(
    select(HumanTask.role)
    .where(HumanTask.case_id == _CASE, HumanTask.state == "open", eligible(bindparam("uid")))
    .order_by((HumanTask.role == "escalation").desc())
    .limit(1)
)
_HELD_TASK = Prepared(
    select(HumanTask.id)
    .where(
        HumanTask.case_id == _CASE,
        HumanTask.state == "open",
        HumanTask.claimed_by_id == bindparam("uid"),
    )
    .limit(1)
)


class CaseColumns(Protocol):
    """The columns of a case the rules read (a ``Case`` row has them)."""

    @property
    def id(self) -> int: ...
    @property
    def case_type_id(self) -> int: ...
    @property
    def customer_group_id(self) -> int | None: ...
    @property
    def raiser_id(self) -> int | None: ...
    @property
    def main_contact_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...


@dataclass(frozen=True)
class _Columns:
    id: int
    case_type_id: int
    customer_group_id: int | None
    raiser_id: int | None
    main_contact_id: int | None
    assignee_id: int | None


_CASE_COLUMNS = Prepared(
    select(
        Case.id,
        Case.case_type_id,
        Case.customer_group_id,
        Case.raiser_id,
        Case.main_contact_id,
        Case.assignee_id,
    ).where(Case.id == _CASE)
)


def facts_of(work: UnitOfWork, case_id: int, subject: Subject) -> CaseFacts:
    """The facts of a case known by id only (a ``Case`` row carries its whole workflow
    state: reading five columns instead is most of the cost of a decision)."""
    row = _CASE_COLUMNS.first(work.session, {"case_id": case_id})
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    return load_facts(work, _Columns(*row), subject)


def load_facts(work: UnitOfWork, case: CaseColumns, subject: Subject) -> CaseFacts:
    session = work.session
    this = {"case_id": case.id}
    access = _ACCESS.first(session, this)
    restricted, hidden = (bool(access[0]), bool(access[1])) if access else (False, False)
    my_task = _MY_OPEN_TASK.first(session, {**this, "uid": subject.user_id})
    # only the portal rule reads the account: agents' decisions skip the read
    account = _ACCOUNT.first(session, this) if subject.portal is not None else None
    return CaseFacts(
        case_id=case.id,
        case_type_id=case.case_type_id,
        customer_group_id=case.customer_group_id,
        raiser_id=case.raiser_id,
        main_contact_id=case.main_contact_id,
        contact_ids=frozenset(row[0] for row in _CONTACTS.rows(session, this)),
        restricted=restricted,
        hidden_from_portal=hidden,
        grants=tuple(_GRANTS.rows(session, this)),
        collaborators=frozenset(row[0] for row in _COLLABORATORS.rows(session, this)),
        task_user=my_task is not None,
        escalated=my_task is not None and my_task[0] == "escalation",
        holds_task=_HELD_TASK.first(session, {**this, "uid": subject.user_id}) is not None,
        assignee_id=case.assignee_id,
        account_id=account[0] if account else None,
    )
