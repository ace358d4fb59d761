"""Accounts, contacts and leads as a user may see them, and linking them to cases.

Every list here is filtered by the one visibility decision: an account by the customer
group it belongs to (agents: customer-group permission, seed 002; portal users: the
accounts of their own contacts, and their child accounts with the parent toggle, seed
003), a contact by :func:`rules.checks.contact_filter`, a case by
:func:`rules.visibility.case_filter`.  What a user may not see answers "not found",
exactly as what does not exist.  Linking is a case edit: it needs write access to the case
(``edit``), and the account or contacts linked must be visible to whoever links them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true

from engine.errors import NotFound
from engine.run import case_parties
from engine.runtime import UnitOfWork
from engine.store.models import Account, Case, CaseContact, Contact, CustomerGroup
from engine.store.parties import CaseParty, Lead
from people import accounts as directory_accounts

from .case_acts import case_for_action
from .case_view import summary_for
from .checks import contact_filter, reads_internal_posts
from .levels import Level
from .subject import ALL, Subject
from .visibility import case_filter

#: How many rows a page lists at most (newest cases first)
LIMIT = 200
#: The longest search a picker or list takes
MAX_SEARCH = 200


def matching(search: str | None, *columns: Any) -> ColumnElement[bool]:
    """Rows where every word of ``search`` is in one of ``columns`` (any case; ``%`` and
    ``_`` are plain characters): a picker narrows to any row as the user types."""
    words = (search or "")[:MAX_SEARCH].casefold().split()
    return and_(
        true(),
        *(or_(*(func.lower(c).contains(word, autoescape=True) for c in columns)) for word in words),
    )


def account_filter(subject: Subject) -> ColumnElement[bool]:
    """Accounts the subject may see (see the module's description)."""
    if subject.is_admin:
        return true()
    portal = subject.portal
    if portal is not None:
        mine = set(portal.own_accounts)
        if portal.view_all:
            mine |= portal.child_accounts
        return Account.id.in_(sorted(mine))
    if subject.customer_groups == ALL:
        return true()
    return Account.customer_group_id.in_(sorted(subject.customer_groups))


def _cases(subject: Subject, *where: ColumnElement[bool]) -> Select[tuple[Case]]:
    return (
        select(Case)
        .where(*where, case_filter(subject, Level.READ))
        .order_by(Case.id.desc())
        .limit(LIMIT)
    )


def _contact_row(contact: Contact, account: str | None) -> dict[str, Any]:
    return {"id": contact.id, "name": contact.name, "email": contact.email, "account": account}


def _account_names(work: UnitOfWork, subject: Subject, ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = work.session.execute(
        select(Account.id, Account.name).where(Account.id.in_(wanted), account_filter(subject))
    )
    return dict(rows.tuples().all())


def visible_account(work: UnitOfWork, subject: Subject, name: str) -> Account:
    account = work.session.scalar(
        select(Account).where(Account.name == name, account_filter(subject))
    )
    if account is None:
        raise NotFound(f"no account '{name}'")
    return account


def visible_contact(work: UnitOfWork, subject: Subject, contact_id: int) -> Contact:
    contact = work.session.scalar(
        select(Contact).where(Contact.id == contact_id, contact_filter(subject))
    )
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    return contact


def list_accounts(
    work: UnitOfWork, subject: Subject, *, search: str | None = None, limit: int = LIMIT
) -> list[dict[str, Any]]:
    """The accounts the subject may see, by name; ``search``: only those whose name or
    customer group holds every word typed, so any one of thousands can be picked."""
    rows = work.session.execute(
        select(Account, CustomerGroup.name)
        .join(CustomerGroup, CustomerGroup.id == Account.customer_group_id)
        .where(account_filter(subject), matching(search, Account.name, CustomerGroup.name))
        .order_by(Account.name)
        .limit(limit)
    ).tuples()
    found = list(rows)
    parents = _account_names(work, subject, {a.parent_id for a, _ in found})
    return [
        {
            "id": a.id,
            "name": a.name,
            "customer": group,
            "parent": parents.get(a.parent_id) if a.parent_id else None,
        }
        for a, group in found
    ]


def account_page(work: UnitOfWork, subject: Subject, name: str) -> dict[str, Any]:
    """One account: its parent and child accounts, contacts and linked cases, each only
    as far as the subject may see them."""
    account = visible_account(work, subject, name)
    names = _account_names(work, subject, {account.parent_id})
    children = work.session.scalars(
        select(Account.name)
        .where(Account.parent_id == account.id, account_filter(subject))
        .order_by(Account.name)
    )
    contacts = work.session.scalars(
        select(Contact)
        .where(Contact.account_id == account.id, contact_filter(subject))
        .order_by(Contact.name, Contact.id)
        .limit(LIMIT)
    )
    linked = select(CaseParty.case_id).where(CaseParty.account_id == account.id)
    cases = work.session.scalars(_cases(subject, Case.id.in_(linked)))
    group = work.session.scalar(
        select(CustomerGroup.name).where(CustomerGroup.id == account.customer_group_id)
    )
    return {
        "id": account.id,
        "name": account.name,
        "customer": group,
        "parent": names.get(account.parent_id) if account.parent_id else None,
        "children": list(children),
        "contacts": [_contact_row(c, account.name) for c in contacts],
        "cases": [summary_for(work, subject, c) for c in cases],
    }


def list_contacts(
    work: UnitOfWork,
    subject: Subject,
    account: str | None = None,
    *,
    search: str | None = None,
    leave_out: Collection[int] = (),
    limit: int = LIMIT,
) -> list[dict[str, Any]]:
    """The contacts the subject may see, by name; ``search``: only those whose name or
    address holds every word typed; ``leave_out``: ids not wanted (those on a case)."""
    query = select(Contact).where(
        contact_filter(subject), matching(search, Contact.name, Contact.email)
    )
    if account is not None:
        query = query.where(Contact.account_id == visible_account(work, subject, account).id)
    if leave_out:
        query = query.where(Contact.id.not_in(sorted(leave_out)))
    contacts = list(work.session.scalars(query.order_by(Contact.name, Contact.id).limit(limit)))
    names = _account_names(work, subject, {c.account_id for c in contacts})
    return [_contact_row(c, names.get(c.account_id or 0)) for c in contacts]


def contact_page(work: UnitOfWork, subject: Subject, contact_id: int) -> dict[str, Any]:
    """One contact and the cases naming them (main or additional contact) that the
    subject may read: a case they may not see is simply not listed."""
    contact = visible_contact(work, subject, contact_id)
    names = _account_names(work, subject, {contact.account_id})
    additional = select(CaseContact.case_id).where(CaseContact.contact_id == contact.id)
    cases = work.session.scalars(
        _cases(subject, or_(Case.main_contact_id == contact.id, Case.id.in_(additional)))
    )
    return {
        **_contact_row(contact, names.get(contact.account_id or 0)),
        "cases": [summary_for(work, subject, c) for c in cases],
    }


# --- the parties of one case ---------------------------------------------------------------


def parties_of(work: UnitOfWork, subject: Subject, number: str) -> dict[str, Any]:
    """The account (with its parent account), contacts and lead of a case the subject may
    read.  Contacts and accounts are listed only when visible to them; the lead is for
    agents only (a prospective customer is the service desk's business, like internal
    posts)."""
    case, _ = case_for_action(work, subject, number, "read")
    row = case_parties.party(work, case.id)
    ids = case_parties.contact_ids(work, case)
    contacts = list(
        work.session.scalars(select(Contact).where(Contact.id.in_(ids), contact_filter(subject)))
    )
    account = work.session.get(Account, row.account_id) if row.account_id else None
    parent_id = account.parent_id if account else None
    names = _account_names(
        work, subject, {row.account_id, parent_id, *(c.account_id for c in contacts)}
    )
    contacts.sort(key=lambda c: ids.index(c.id))
    shown = names.get(row.account_id) if row.account_id else None
    answer: dict[str, Any] = {
        "number": case.number,
        "account": shown,
        # a holding and its subsidiaries (seed 003): the parent only beside a visible account
        "account_parent": names.get(parent_id) if shown and parent_id else None,
        "contacts": [
            {**_contact_row(c, names.get(c.account_id or 0)), "main": c.id == case.main_contact_id}
            for c in contacts
        ],
    }
    if reads_internal_posts(subject):  # agents
        lead = work.session.get(Lead, row.lead_id) if row.lead_id else None
        answer["lead"] = (
            {"name": lead.name, "email": lead.email, "company": lead.company, "status": lead.status}
            if lead
            else None
        )
    return answer


def link_account(work: UnitOfWork, subject: Subject, number: str, account: str | None) -> bool:
    """Link the case to an account the subject may see (None: to no account)."""
    case, _ = case_for_action(work, subject, number, "edit")
    found = visible_account(work, subject, account) if account is not None else None
    return case_parties.set_account(work, case, found, actor_id=subject.user_id)


def change_contacts(
    work: UnitOfWork, subject: Subject, number: str, *, add: list[int], remove: list[int]
) -> list[int]:
    """Add and remove additional contacts (ones the subject may see); answers the ids that
    changed."""
    case, _ = case_for_action(work, subject, number, "edit")
    changed: list[int] = []
    for contact_id, present in [(c, True) for c in add] + [(c, False) for c in remove]:
        contact = visible_contact(work, subject, contact_id)
        act = case_parties.add_contact if present else case_parties.remove_contact
        if act(work, case, contact, actor_id=subject.user_id):
            changed.append(contact_id)
    return changed


def link_lead(
    work: UnitOfWork,
    subject: Subject,
    number: str,
    *,
    email: str | None,
    name: str | None = None,
    company: str | None = None,
    status: str | None = None,
) -> bool:
    """Link the case to the lead with this address, created or updated with what is given
    (``email`` None: unlink the lead)."""
    case, _ = case_for_action(work, subject, number, "edit")
    lead, edited = None, False
    if email is not None:
        lead, edited = directory_accounts.set_lead(
            work, email=email, name=name, company=company, status=status, actor_id=subject.user_id
        )
    linked = case_parties.set_lead(work, case, lead, actor_id=subject.user_id)
    return linked or edited
