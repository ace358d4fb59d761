"""Who a case is about: its account, its additional contacts and its lead.

Trusted engine functions (``rules.parties`` asks the access decision first): each change
is audited on the case with what was before and what is after, and answers whether
anything changed.  The main contact stays on the case row: it decides the customer group
the case belongs to (seed 002), so it is not removed here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from engine import audit
from engine.errors import Conflict, InvalidInput
from engine.runtime import UnitOfWork
from engine.store.db import changed_rows
from engine.store.models import Account, Case, CaseContact, Contact
from engine.store.parties import CaseParty, Lead


def _record(
    work: UnitOfWork,
    case: Case,
    action: str,
    actor_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action=action,
        before=before,
        after=after,
    )


def _open(case: Case) -> None:
    if case.status == "closed":
        raise Conflict(f"case {case.number} is closed; reopen it first")


def party(work: UnitOfWork, case_id: int) -> CaseParty:
    return work.session.get(CaseParty, case_id) or CaseParty(case_id=case_id)


def _name(work: UnitOfWork, model: type[Account] | type[Lead], row_id: int | None) -> str | None:
    if row_id is None:
        return None
    return work.session.scalar(select(model.name).where(model.id == row_id))


def set_account(
    work: UnitOfWork, case: Case, account: Account | None, *, actor_id: int | None
) -> bool:
    """Link the case to ``account`` (None: to no account); one account per case."""
    _open(case)
    row = party(work, case.id)
    new = account.id if account else None
    if row.account_id == new:
        return False
    before = _name(work, Account, row.account_id)
    row.account_id = new
    work.session.add(row)
    work.session.flush()
    after = {"account": _name(work, Account, new)}
    _record(work, case, "account_set", actor_id, {"account": before}, after)
    return True


def set_lead(work: UnitOfWork, case: Case, lead: Lead | None, *, actor_id: int | None) -> bool:
    """Link the case to ``lead`` (None: to no lead); one lead per case."""
    _open(case)
    row = party(work, case.id)
    new = lead.id if lead else None
    if row.lead_id == new:
        return False
    before = _name(work, Lead, row.lead_id)
    row.lead_id = new
    work.session.add(row)
    work.session.flush()
    after = {"lead": lead.name, "email": lead.email} if lead else {"lead": None}
    _record(work, case, "lead_set", actor_id, {"lead": before}, after)
    return True


def contact_ids(work: UnitOfWork, case: Case) -> list[int]:
    """The case's contacts: the main contact first, then the additional ones."""
    extra = work.session.scalars(
        select(CaseContact.contact_id)
        .where(CaseContact.case_id == case.id)
        .order_by(CaseContact.contact_id)
    )
    main = [case.main_contact_id] if case.main_contact_id is not None else []
    return main + [c for c in extra if c != case.main_contact_id]


def add_contact(work: UnitOfWork, case: Case, contact: Contact, *, actor_id: int | None) -> bool:
    """Name ``contact`` on the case (False: it already is)."""
    _open(case)
    if contact.id in contact_ids(work, case):
        return False
    work.session.add(CaseContact(case_id=case.id, contact_id=contact.id))
    work.session.flush()
    named = {"contact": contact.id, "name": contact.name}
    _record(work, case, "contact_added", actor_id, None, named)
    return True


def remove_contact(work: UnitOfWork, case: Case, contact: Contact, *, actor_id: int | None) -> bool:
    """Take ``contact`` off the case (False: it was not on it); never the main contact."""
    _open(case)
    if contact.id == case.main_contact_id:
        raise InvalidInput(
            f"cannot remove a contact of {case.number}",
            {"contact": f"{contact.id} is the main contact (it decides the case's customer group)"},
        )
    removed = changed_rows(
        work.session,
        delete(CaseContact).where(
            CaseContact.case_id == case.id, CaseContact.contact_id == contact.id
        ),
    )
    if not removed:
        return False
    named = {"contact": contact.id, "name": contact.name}
    _record(work, case, "contact_removed", actor_id, named, None)
    return True
