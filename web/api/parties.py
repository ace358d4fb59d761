"""Accounts, contacts and the parties of a case (account, contacts, lead) over JSON.

Every list goes through ``rules.parties`` (the one visibility decision): an account,
contact or case the caller may not see is 404, exactly as one that does not exist.
Linking is a case edit (403 without write access); adding accounts and importing contacts
are for administrators.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from people import accounts, contact_import
from rules import parties

from ..answers import Answer, CaseSummary, errors
from ..auth import SIGNED_IN, acting
from ..schemas import Strict, Text
from ..unit_routes import UnitRoute
from .directory import require_admin
from .params import CaseNumber, Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api",
    tags=["accounts and contacts"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 404, 422),
)
AccountName = Annotated[Text, Path(min_length=1, max_length=200)]
Name = Annotated[Text, Field(min_length=1, max_length=200)]


class NewAccount(Strict):
    name: Name
    customer: Name | None = Field(None, description="customer group (default: the parent's)")
    parent: Name | None = None


class AccountRow(Answer):
    id: int
    name: str
    customer: str | None
    parent: str | None


class PartyContact(Answer):
    id: int
    name: str
    email: str | None
    account: str | None
    main: bool | None = None


class AccountPage(AccountRow):
    children: list[str]
    contacts: list[PartyContact]
    cases: list[CaseSummary] = Field(description="linked cases the caller may read")


class ContactPage(PartyContact):
    cases: list[CaseSummary] = Field(description="cases naming the contact the caller may read")


class ContactImport(Strict):
    csv: Annotated[Text, Field(max_length=5_000_000, description="header row: name,email,...")]


class Imported(Answer):
    created: int
    updated: int
    unchanged: int


class Lead(Answer):
    name: str
    email: str
    company: str
    status: str


class Parties(Answer):
    number: str
    account: str | None
    account_parent: str | None = Field(None, description="the account's parent account")
    contacts: list[PartyContact]
    lead: Lead | None = Field(None, description="agents only")
    changed: bool | list[int] | None = None


class AccountLink(Strict):
    account: Name | None = Field(description="the account's name; null: no account")


class LeadLink(Strict):
    email: Annotated[Text, Field(min_length=3, max_length=320)]
    name: Name | None = None
    company: Annotated[Text | None, Field(max_length=200)] = None
    status: Literal["new", "contacted", "qualified", "converted", "lost"] | None = None


@router.get("/accounts", summary="Accounts I may see", response_model=list[AccountRow])
def list_accounts(
    request: Request,
    q: Annotated[Text | None, Query(max_length=200, description="words to look for")] = None,
) -> list[dict[str, Any]]:
    """``q``: only accounts whose name or customer group holds every word."""
    with acting(request) as me:
        return parties.list_accounts(me.work, me.subject, search=q)


@router.post(
    "/accounts",
    status_code=201,
    summary="Add an account (administrators)",
    response_model=AccountRow,
    responses=errors(409),
)
def add_account(request: Request, body: NewAccount) -> dict[str, Any]:
    with acting(request) as me:
        require_admin(me)
        account = accounts.add_account(
            me.work,
            name=body.name,
            customer_group=body.customer,
            parent=body.parent,
            actor_id=me.user.id,
        )
        return parties.account_page(me.work, me.subject, account.name)


@router.get(
    "/accounts/{name}",
    summary="An account with its contacts and linked cases I may see",
    response_model=AccountPage,
    response_model_exclude_unset=True,
)
def show_account(request: Request, name: AccountName) -> dict[str, Any]:
    with acting(request) as me:
        return parties.account_page(me.work, me.subject, name)


@router.get(
    "/contacts/{contact_id}/cases",
    summary="A contact with the cases naming them that I may see",
    response_model=ContactPage,
    response_model_exclude_unset=True,
)
def contact_cases(request: Request, contact_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        return parties.contact_page(me.work, me.subject, contact_id)


@router.post(
    "/contacts/import",
    summary="Import contacts from CSV (administrators): all or nothing, idempotent by email",
    response_model=Imported,
)
def import_contacts(request: Request, body: ContactImport) -> dict[str, Any]:
    with acting(request) as me:
        require_admin(me)
        result = contact_import.import_contacts(me.work, body.csv, actor_id=me.user.id)
        return {k: len(getattr(result, k)) for k in ("created", "updated", "unchanged")}


@router.get(
    "/cases/{number}/parties",
    tags=["cases"],
    summary="A case's account, contacts and lead (the lead for agents)",
    response_model=Parties,
    response_model_exclude_unset=True,
)
def case_parties(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return parties.parties_of(me.work, me.subject, number)


def _after(me: Any, number: str, changed: bool | list[int]) -> dict[str, Any]:
    return {**parties.parties_of(me.work, me.subject, number), "changed": changed}


@router.put(
    "/cases/{number}/account",
    tags=["cases"],
    summary="Link a case to an account, or to none (managers)",
    response_model=Parties,
    response_model_exclude_unset=True,
    responses=errors(409),
)
def link_account(request: Request, number: CaseNumber, body: AccountLink) -> dict[str, Any]:
    with acting(request) as me:
        changed = parties.link_account(me.work, me.subject, number, body.account)
        return _after(me, number, changed)


def _contact(request: Request, number: str, contact_id: int, present: bool) -> dict[str, Any]:
    with acting(request) as me:
        add, remove = ([contact_id], []) if present else ([], [contact_id])
        changed = parties.change_contacts(me.work, me.subject, number, add=add, remove=remove)
        return _after(me, number, changed)


@router.put(
    "/cases/{number}/contacts/{contact_id}",
    tags=["cases"],
    summary="Name a contact on a case (managers)",
    response_model=Parties,
    response_model_exclude_unset=True,
    responses=errors(409),
)
def add_contact(request: Request, number: CaseNumber, contact_id: Id) -> dict[str, Any]:
    return _contact(request, number, contact_id, True)


@router.delete(
    "/cases/{number}/contacts/{contact_id}",
    tags=["cases"],
    summary="Take a contact off a case (managers; not the main contact)",
    response_model=Parties,
    response_model_exclude_unset=True,
    responses=errors(409),
)
def remove_contact(request: Request, number: CaseNumber, contact_id: Id) -> dict[str, Any]:
    return _contact(request, number, contact_id, False)


@router.put(
    "/cases/{number}/lead",
    tags=["cases"],
    summary="Set a case's lead, found by address or created (managers)",
    response_model=Parties,
    response_model_exclude_unset=True,
    responses=errors(409),
)
def set_lead(request: Request, number: CaseNumber, body: LeadLink) -> dict[str, Any]:
    with acting(request) as me:
        changed = parties.link_lead(
            me.work,
            me.subject,
            number,
            email=body.email,
            name=body.name,
            company=body.company,
            status=body.status,
        )
        return _after(me, number, changed)


@router.delete(
    "/cases/{number}/lead",
    tags=["cases"],
    summary="The case has no lead (managers)",
    response_model=Parties,
    response_model_exclude_unset=True,
    responses=errors(409),
)
def clear_lead(request: Request, number: CaseNumber) -> dict[str, Any]:
    with acting(request) as me:
        return _after(me, number, parties.link_lead(me.work, me.subject, number, email=None))
