"""The triage queue: mail held because it names a case its sender takes no part in.

A mailbox set to ``refused_match = "triage"`` does not open a case for such mail (that is
what ``new_case`` does); the message is stored, state ``triage``, with the refused attempt,
and waits for an agent.  The agent either opens a new case for it -- exactly what intake
would have done -- or threads it into a case, which also makes the sender a contact of
that case so their next mail threads by itself.  Either way the decision is audited and
the message row says who decided (``matched_by = "triage:<username>"``).

Whether the agent may open that case type, or post on that case, is the caller's to
check with the permission rules before calling here.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from engine import audit
from engine.errors import Conflict, NotFound
from engine.run import cases
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import User
from mail.intake import Outcome, deliver, outcome_of
from mail.match import Match
from mail.message.parse import parse_message
from mail.senders import find_sender


def held(
    work: UnitOfWork, *, mailbox_id: int | None = None, case_types: Collection[str] | None = None
) -> list[tuple[InboundMessage, Mailbox]]:
    """The messages waiting for a decision with their mailboxes, oldest first; only those of
    mailboxes for ``case_types`` when given (the types the asking agent may work)."""
    query = (
        select(InboundMessage, Mailbox)
        .join(Mailbox, Mailbox.id == InboundMessage.mailbox_id)
        .where(InboundMessage.state == "triage")
        .order_by(InboundMessage.id)
    )
    if mailbox_id is not None:
        query = query.where(InboundMessage.mailbox_id == mailbox_id)
    if case_types is not None:
        query = query.where(Mailbox.case_type_key.in_(sorted(case_types)))
    return [(row, mailbox) for row, mailbox in work.session.execute(query)]


def held_message(work: UnitOfWork, inbound_id: int) -> tuple[InboundMessage, Mailbox]:
    """A message in the queue and its mailbox; refuses one that is not waiting."""
    row = work.session.get(InboundMessage, inbound_id)
    if row is None:
        raise NotFound(f"no inbound message {inbound_id}")
    if row.state != "triage":
        raise Conflict(f"message {inbound_id} is {row.state}, not waiting for triage")
    mailbox = work.session.get(Mailbox, row.mailbox_id)
    assert mailbox is not None  # the row's foreign key
    return row, mailbox


def open_case_for(work: UnitOfWork, inbound_id: int, *, agent: User, domain: str) -> Outcome:
    """Decide that the message starts a case of its own."""
    return _decide(work, inbound_id, agent=agent, domain=domain, into=None)


def thread_into(
    work: UnitOfWork, inbound_id: int, *, number: str, agent: User, domain: str
) -> Outcome:
    """Decide that the message belongs to case ``number``; its sender joins that case."""
    return _decide(work, inbound_id, agent=agent, domain=domain, into=number)


def _decide(
    work: UnitOfWork, inbound_id: int, *, agent: User, domain: str, into: str | None
) -> Outcome:
    row, mailbox = held_message(work, inbound_id)
    parsed = parse_message(row.raw, max_bytes=mailbox.max_bytes)
    assert parsed.from_address  # it was a person's mail when it was held
    target = cases.case_by_number(work, into) if into is not None else None
    decided_by = f"triage:{agent.username}"
    # the refused attempt that held it stays on record, whichever way it is decided
    refused = [row.attempted_match] if row.attempted_match else []
    match = Match(case=target, matched_by=decided_by, attempts=refused)
    sender = deliver(
        work, mailbox, row, parsed, domain, find_sender(work, parsed.from_address), match
    )
    row.matched_by, row.reason = decided_by, None
    if target is not None and sender.contact is not None:
        cases.add_case_contact(work, target, sender.contact.id, actor_id=agent.id)
    audit.record(
        work,
        actor_id=agent.id,
        entity="mail",
        entity_id=row.id,
        case_id=row.case_id,
        action="mail_triaged",
        after={"from": row.from_address, "decision": "thread" if into else "new_case"},
    )
    work.session.flush()
    return outcome_of(work, row)
