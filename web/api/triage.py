"""Mail held for triage over JSON: list it, open a case for a message, or thread it into one.

A message belongs to its mailbox's case type: agents who may write that type see and
decide its mail (administrators all of it); anyone else gets "not found", as for a case.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

import mail.held
from engine.store.mailbox import InboundMessage, Mailbox
from mail.intake import Outcome, post_body
from mail.message.parse import parse_message
from mail.message.quarantine import Quarantine
from rules.case_lists import require_triage_decision, workable_type_keys

from ..answers import HeldMail, TriageOutcome, errors, links
from ..auth import SIGNED_IN, acting
from ..schemas import ThreadInto
from ..unit_routes import UnitRoute
from .params import Id

router = APIRouter(
    route_class=UnitRoute,
    prefix="/api/triage",
    tags=["mail"],
    dependencies=SIGNED_IN,
    responses=errors(401, 403, 422),
)


def held_row(row: InboundMessage, mailbox: Mailbox) -> dict[str, Any]:
    """A held message as agents see it: who wrote, what, and which match was refused."""
    try:
        excerpt = post_body(parse_message(row.raw, max_bytes=mailbox.max_bytes))[:1000]
    except Quarantine:  # it parsed when it was held; say so rather than fail the list
        excerpt = "(the message can no longer be read)"
    return {
        "id": row.id,
        "mailbox": mailbox.name,
        "case_type": mailbox.case_type_key,
        "received_at": row.received_at,
        "from": row.from_address,
        "subject": row.subject,
        "refused": row.attempted_match,
        "excerpt": excerpt,
    }


def outcome_row(outcome: Outcome) -> dict[str, Any]:
    return {
        "id": outcome.inbound_id,
        "state": outcome.state,
        "case": outcome.case_number,
        "matched_by": outcome.matched_by,
    }


@router.get(
    "",
    summary="Mail held because it names a case its sender takes no part in",
    response_model=list[HeldMail],
    responses=links(
        200,
        OpenCase=("open_case_for_held_mail", {"inbound_id": "$response.body#/0/id"}),
        Thread=("thread_held_mail", {"inbound_id": "$response.body#/0/id"}),
    ),
)
def held(request: Request) -> list[dict[str, Any]]:
    with acting(request) as me:
        keys = workable_type_keys(me.work, me.subject)
        return [held_row(row, box) for row, box in mail.held.held(me.work, case_types=keys)]


@router.post(
    "/{inbound_id}/open",
    summary="Open a case of its own for a held message",
    operation_id="open_case_for_held_mail",
    response_model=TriageOutcome,
    responses=errors(404, 409),
)
def open_case(request: Request, inbound_id: Id) -> dict[str, Any]:
    with acting(request) as me:
        require_triage_decision(me.work, me.subject, inbound_id, into=None)
        outcome = mail.held.open_case_for(
            me.work, inbound_id, agent=me.user, domain=request.app.state.mail.domain
        )
        return outcome_row(outcome)


@router.post(
    "/{inbound_id}/thread",
    summary="Add a held message to a case; its sender joins it",
    operation_id="thread_held_mail",
    response_model=TriageOutcome,
    responses=errors(404, 409),
)
def thread(request: Request, inbound_id: Id, body: ThreadInto) -> dict[str, Any]:
    with acting(request) as me:
        require_triage_decision(me.work, me.subject, inbound_id, into=body.case)
        outcome = mail.held.thread_into(
            me.work,
            inbound_id,
            number=body.case,
            agent=me.user,
            domain=request.app.state.mail.domain,
        )
        return outcome_row(outcome)
