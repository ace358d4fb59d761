"""Account and contact pages, for agents (``/accounts``, ``/contacts/{id}``) and in the
customer portal (``/portal/accounts``): ``rules.parties`` decides every row, so an account,
contact or case the reader may not see is "not found" or simply not listed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from rules import parties

from ..auth import acting
from ..render import render
from ..unit_routes import UnitRoute
from .agents import agent
from .common import base_context
from .portal import customer

router = APIRouter(route_class=UnitRoute, include_in_schema=False)
Name = Annotated[str, Path(min_length=1, max_length=200)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _page(request: Request, portal: bool, name: str | None, contact: int | None) -> Response:
    with acting(request) as me:
        (customer if portal else agent)(me)
        context = {
            **base_context(me, portal),
            "accounts": parties.list_accounts(me.work, me.subject) if name is None else None,
            "account": parties.account_page(me.work, me.subject, name) if name else None,
            "contact": parties.contact_page(me.work, me.subject, contact) if contact else None,
            "home": "/portal/accounts" if portal else "/accounts",
            "base": "/portal/cases" if portal else "/cases",
        }
    return render(request, "parties.html", context)


@router.get("/accounts")
def accounts_page(request: Request) -> Response:
    return _page(request, False, None, None)


@router.get("/accounts/{name}")
def account_page(request: Request, name: Name) -> Response:
    return _page(request, False, name, None)


@router.get("/contacts/{contact_id}")
def contact_page(request: Request, contact_id: Id) -> Response:
    return _page(request, False, "", contact_id)


@router.get("/portal/accounts")
def portal_accounts_page(request: Request) -> Response:
    return _page(request, True, None, None)


@router.get("/portal/accounts/{name}")
def portal_account_page(request: Request, name: Name) -> Response:
    return _page(request, True, name, None)
