"""What the rules need to know about one case, read in a few small queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BindParameter, bindparam, select

from engine.run.tasks import eligible
from engine.runtime import UnitOfWork
from engine.store.access import CaseAccess, CaseCollaborator, CaseGrant
from engine.store.fast import Prepared
from engine.store.models import Case, CaseContact, HumanTask

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
_COLLABORATORS = Prepared(select(CaseCollaborator.user_id).where(CaseCollaborator.case_id == _CASE))
_TASK_USER = Prepared(
    select(HumanTask.id)
    .where(HumanTask.case_id == _CASE, HumanTask.state == "open", eligible(bindparam("uid")))
    .limit(1)
)


def load_facts(work: UnitOfWork, case: Case, subject: Subject) -> CaseFacts:
    session = work.session
    this = {"case_id": case.id}
    access = _ACCESS.first(session, this)
    restricted, hidden = (bool(access[0]), bool(access[1])) if access else (False, False)
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
        task_user=_TASK_USER.first(session, {**this, "uid": subject.user_id}) is not None,
    )
