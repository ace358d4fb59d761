"""The forms of the case page's parties and child-records cards: link or unlink an account,
add or remove a contact, set or clear the lead, add a note, call or to-do, restrict a record
or lift its restriction.

Each form is one POST with the session's CSRF token and goes through the same rule
functions as the API and the CLI (``rules.parties``, ``rules.child_records``): a case or
record the user may not see is "not found" (404), an act they may not take is refused (403),
and nothing changes.  A refusal the user can act on - bad input, a closed case, a seed-004
conflict that keeps a record from being restricted, a name that is no user - shows the case
page again with one line in the card saying why; nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import child_records as records
from rules import case_acts, child_records, parties

from ..api.params import CASE_NUMBER
from ..auth import Actor, acting
from ..errors import status_of
from ..render import render
from .agents import agent
from .case_cards import PAGE_KINDS
from .common import case_context, read_form

router = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(max_length=40, pattern=CASE_NUMBER)]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Act = Callable[[Actor, dict[str, str]], object]
#: Names typed into one field at most (as the API's lists)
MAX_NAMES = 50


async def card_action(request: Request, number: str, card: str, act: Act) -> Response:
    """Read the form, act as the signed-in agent and go back to the card; a refusal the
    user can act on shows the page again with the reason in the card."""
    form = await read_form(request)

    def work() -> Response:
        with acting(request, form.get("csrf_token")) as me:
            act(agent(me), form)
            visible = case_acts.case_visible(me.work, me.subject, number)
        return RedirectResponse(f"/cases/{number}#{card}" if visible else "/cases", 303)

    try:
        return await run_in_threadpool(work)
    except (InvalidInput, Conflict, NotFound) as exc:
        problems = exc.errors if isinstance(exc, InvalidInput) else {}
        message = "; ".join([str(exc), *(f"{k}: {v}" for k, v in problems.items())])
        status = status_of(exc)

    def again() -> Response:
        # a case the user may not see is "not found" here too, like any forged number
        with acting(request, form.get("csrf_token")) as me:
            context = case_context(agent(me), number, base="/cases", portal=False)
            context["card_error"] = {"card": card, "message": message}
        return render(request, "case.html", context, status=status)

    return await run_in_threadpool(again)


def _names(form: dict[str, str], field: str) -> list[str]:
    """User or group names typed into one field, separated by commas or spaces."""
    names = list(dict.fromkeys(n for n in re.split(r"[\s,]+", form.get(field, "")) if n))
    if len(names) > MAX_NAMES or any(len(n) > 150 for n in names):
        raise InvalidInput("too many names", {field: f"at most {MAX_NAMES} names of 150 letters"})
    return names


def _contact_id(form: dict[str, str]) -> int:
    value = form.get("contact", "").strip()
    if not (value.isascii() and value.isdigit() and 0 < int(value) < 2**31):
        raise InvalidInput("no contact chosen", {"contact": "choose a contact"})
    return int(value)


def _account(form: dict[str, str]) -> str | None:
    if form.get("op") == "clear":
        return None
    name = form.get("account", "").strip()
    if not name:
        raise InvalidInput("no account chosen", {"account": "choose an account"})
    return name


@router.post("/cases/{number}/parties/account")
async def link_account(request: Request, number: Number) -> Response:
    def act(me: Actor, form: dict[str, str]) -> object:
        return parties.link_account(me.work, me.subject, number, _account(form))

    return await card_action(request, number, "parties", act)


@router.post("/cases/{number}/parties/contacts")
async def change_contact(request: Request, number: Number) -> Response:
    def act(me: Actor, form: dict[str, str]) -> object:
        chosen = [_contact_id(form)]
        if form.get("op") == "remove":
            return parties.change_contacts(me.work, me.subject, number, add=[], remove=chosen)
        return parties.change_contacts(me.work, me.subject, number, add=chosen, remove=[])

    return await card_action(request, number, "parties", act)


@router.post("/cases/{number}/parties/lead")
async def set_lead(request: Request, number: Number) -> Response:
    def act(me: Actor, form: dict[str, str]) -> object:
        if form.get("op") == "clear":
            return parties.link_lead(me.work, me.subject, number, email=None)
        return parties.link_lead(
            me.work,
            me.subject,
            number,
            email=form.get("email", ""),
            name=form.get("name") or None,
            company=form.get("company") or None,
            status=form.get("status") or None,
        )

    return await card_action(request, number, "parties", act)


@router.post("/cases/{number}/records")
async def add_record(request: Request, number: Number) -> Response:
    def act(me: Actor, form: dict[str, str]) -> object:
        kind = form.get("kind", "")
        if kind not in PAGE_KINDS:
            raise InvalidInput("cannot add the record", {"kind": f"one of {', '.join(PAGE_KINDS)}"})
        return child_records.add_record(
            me.work,
            me.subject,
            me.user,
            [number],
            kind=kind,
            title=form.get("title", ""),
            ref=form.get("ref", "").strip() or None,
            users=_names(form, "users"),
            groups=_names(form, "groups"),
        )

    return await card_action(request, number, "records", act)


@router.post("/cases/{number}/records/{record_id}/restrict")
async def restrict_record(request: Request, number: Number, record_id: RecordId) -> Response:
    """Restrict a record of this case to the names given (none: administrators only), or
    lift its restriction (``op=lift``)."""

    def act(me: Actor, form: dict[str, str]) -> object:
        item = child_records.record_for(me.work, me.subject, record_id)
        if number not in records.case_numbers_of(me.work, item.id):
            raise NotFound(f"no record {record_id} on {number}")
        if form.get("op") == "lift":
            return child_records.unrestrict_record(me.work, me.subject, record_id)
        return child_records.restrict_record(
            me.work,
            me.subject,
            record_id,
            users=_names(form, "users"),
            groups=_names(form, "groups"),
        )

    return await card_action(request, number, "records", act)
