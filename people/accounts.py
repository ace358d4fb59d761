"""Accounts (customer companies, with an optional parent account), the contacts on them
and leads (prospective contacts).

Who may *see* an account, a contact or a lead is the rules' business
(``rules.parties``); these functions only keep the directory consistent and audited.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from engine import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime import UnitOfWork
from engine.store.models import Account, Contact, CustomerGroup
from engine.store.parties import Lead

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
LEAD_STATUSES = ("new", "contacted", "qualified", "converted", "lost")


def email_problem(email: str) -> str | None:
    """Why ``email`` is not an address one could write to (None: it is)."""
    if len(email) > 320 or not _EMAIL.match(email):
        return f"{email!r} is not an email address"
    return None


def _customer_group_id(work: UnitOfWork, name: str) -> int:
    group_id = work.session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))
    if group_id is None:
        raise NotFound(f"no customer group '{name}'")
    return group_id


def account_by_name(work: UnitOfWork, name: str) -> Account:
    account = work.session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(f"no account '{name}'")
    return account


def add_account(
    work: UnitOfWork,
    *,
    name: str,
    customer_group: str | None = None,
    parent: str | None = None,
    actor_id: int | None = None,
) -> Account:
    """A new account; without a customer group it joins its parent's (an account always
    belongs to one: agents see accounts by customer-group permission, seed 002)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("invalid account", {"name": "is required (at most 200 characters)"})
    if work.session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise Conflict(f"account '{name}' already exists")
    above = account_by_name(work, parent) if parent else None
    if customer_group:
        group_id = _customer_group_id(work, customer_group)
    elif above is not None:
        group_id = above.customer_group_id
    else:
        raise InvalidInput("invalid account", {"customer": "name its customer group or a parent"})
    account = Account(name=name, customer_group_id=group_id, parent_id=above.id if above else None)
    work.session.add(account)
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="account",
        entity_id=account.id,
        action="created",
        after={"name": name, "customer_group_id": group_id, "parent": parent},
    )
    return account


def contact_by_email(work: UnitOfWork, email: str) -> Contact | None:
    """The (first) contact with this address, case-insensitively."""
    return work.session.scalar(
        select(Contact).where(func.lower(Contact.email) == email.lower()).order_by(Contact.id)
    )


def set_lead(
    work: UnitOfWork,
    *,
    email: str,
    name: str | None = None,
    company: str | None = None,
    status: str | None = None,
    actor_id: int | None = None,
) -> tuple[Lead, bool]:
    """The lead with this address, created or updated with what is given (one per
    address), and whether anything changed (audited with before and after)."""
    email = email.strip()
    errors: dict[str, str] = {}
    problem = email_problem(email)
    if problem:
        errors["email"] = problem
    if status is not None and status not in LEAD_STATUSES:
        errors["status"] = f"must be one of {', '.join(LEAD_STATUSES)}"
    lead = work.session.scalar(select(Lead).where(func.lower(Lead.email) == email.lower()))
    if lead is None and not (name or "").strip():
        errors["name"] = "is required for a new lead"
    if errors:
        raise InvalidInput("invalid lead", errors)
    if lead is None:
        lead = Lead(email=email, name="", company="", status="new", created_at=work.now)
        work.session.add(lead)
    before = {"name": lead.name, "company": lead.company, "status": lead.status}
    for key, value in (("name", name), ("company", company), ("status", status)):
        if value is not None and value.strip():
            setattr(lead, key, value.strip()[:200])
    after = {"name": lead.name, "company": lead.company, "status": lead.status}
    if lead.id is not None and after == before:
        return lead, False
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="lead",
        entity_id=lead.id,
        action="edited" if before["name"] else "created",
        before=before if before["name"] else None,
        after={**after, "email": lead.email},
    )
    return lead, True
