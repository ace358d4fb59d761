"""What the rules need to know about one case, read in a few small queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import BindParameter, bindparam, select, union_all

from engine.run.task_queries import eligible
from engine.runtime import UnitOfWork
from engine.store.access import CaseAccess, CaseCollaborator, CaseGrant
from engine.store.fast import Prepared, tagged
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


# Prepared once: the facts are read for every case a request decides on.  They are small
# indexed reads keyed by the case, sent as one tagged statement (one round trip):
# a access flags (restricted, hidden from portal), k contacts, g grants (user, group,
# level), l collaborators, p the linked account, o the roles of the open tasks the subject
# may act on, h the open tasks the subject has claimed.
_CASE: BindParameter[int] = bindparam("case_id")
_UID: BindParameter[int] = bindparam("uid")
_CASE_FACTS = Prepared(
    union_all(
        tagged("a", CaseAccess.restricted, CaseAccess.hidden_from_portal).where(
            CaseAccess.case_id == _CASE
        ),
        tagged("k", CaseContact.contact_id).where(CaseContact.case_id == _CASE),
        tagged("g", CaseGrant.user_id, CaseGrant.group_id, text=CaseGrant.level).where(
            CaseGrant.case_id == _CASE
        ),
        tagged("l", CaseCollaborator.user_id).where(CaseCollaborator.case_id == _CASE),
        tagged("p", CaseParty.account_id).where(CaseParty.case_id == _CASE),
        tagged("o", text=HumanTask.role).where(
            HumanTask.case_id == _CASE, HumanTask.state == "open", eligible(_UID)
        ),
        tagged("h", HumanTask.id).where(
            HumanTask.case_id == _CASE,
            HumanTask.state == "open",
            HumanTask.claimed_by_id == _UID,
        ),
    )
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
    rows: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in "akglpoh"}
    for kind, *row in _CASE_FACTS.rows(work.session, {"case_id": case.id, "uid": subject.user_id}):
        rows[kind].append(tuple(row))
    access = rows["a"][0] if rows["a"] else (False, False)
    task_roles = {role for _, _, _, role in rows["o"]}
    return CaseFacts(
        case_id=case.id,
        case_type_id=case.case_type_id,
        customer_group_id=case.customer_group_id,
        raiser_id=case.raiser_id,
        main_contact_id=case.main_contact_id,
        contact_ids=frozenset(contact for contact, _, _, _ in rows["k"]),
        restricted=bool(access[0]),
        hidden_from_portal=bool(access[1]),
        grants=tuple((user, group, level) for user, group, _, level in rows["g"]),
        collaborators=frozenset(user for user, _, _, _ in rows["l"]),
        task_user=bool(rows["o"]),
        escalated="escalation" in task_roles,
        holds_task=bool(rows["h"]),
        assignee_id=case.assignee_id,
        account_id=rows["p"][0][0] if rows["p"] else None,
    )
