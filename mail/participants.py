"""Who takes part in a case, as far as mail is concerned.

A message that names a case joins it only when its sender takes part in that case: its
raiser, assignee, main or additional contact, a collaborator, an agent who may write it
(the rules' access decision), or anyone who was on the case's mail -- From, To or Cc of a
message taken in for the case, or a recipient of one we sent.  So a colleague the customer
copied in can answer in the thread, as every ticket system allows, while a stranger quoting
a case number cannot (zammad#5064): their mail opens a case of its own, or waits for triage.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from sqlalchemy import select

from engine.runtime import UnitOfWork
from engine.store.access import CaseCollaborator
from engine.store.mailbox import InboundMessage
from engine.store.models import Case, CaseContact, User
from engine.store.outbox import OutboxMessage
from mail.senders import Sender
from rules.checks import can
from rules.subject import load_subject

#: How many of a case's latest messages each way are read for their addresses.
THREAD_WINDOW = 200


def is_participant(work: UnitOfWork, case: Case, sender: Sender) -> bool:
    """Raiser, assignee, contact, collaborator, an agent who may write, or on its mail."""
    users, contacts = sender.user_ids, sender.contact_ids
    if case.raiser_id in users or case.assignee_id in users or case.main_contact_id in contacts:
        return True
    session = work.session
    if contacts and session.scalar(
        select(CaseContact.contact_id)
        .where(CaseContact.case_id == case.id, CaseContact.contact_id.in_(contacts))
        .limit(1)
    ):
        return True
    if users and session.scalar(
        select(CaseCollaborator.user_id)
        .where(CaseCollaborator.case_id == case.id, CaseCollaborator.user_id.in_(users))
        .limit(1)
    ):
        return True
    active = (
        session.scalars(select(User).where(User.id.in_(users), User.is_active)) if users else ()
    )
    for user in active:
        subject = load_subject(work, user)
        if subject.portal is None and can(work, subject, "write", case):
            return True
    return sender.address.lower() in thread_addresses(work, case.id)


def thread_addresses(work: UnitOfWork, case_id: int) -> set[str]:
    """Every address on the case's mail: From/To/Cc of what came in, recipients of what went
    out (lower-cased)."""
    found: set[str] = set()
    raws = work.session.scalars(
        select(InboundMessage.raw)
        .where(InboundMessage.case_id == case_id, InboundMessage.kind == "human")
        .order_by(InboundMessage.id.desc())
        .limit(THREAD_WINDOW)
    )
    parser = BytesHeaderParser(policy=compat32)
    for raw in raws:
        head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        headers = parser.parsebytes(head)
        values = [str(v) for name in ("from", "to", "cc") for v in headers.get_all(name, [])]
        found.update(address.lower() for _, address in getaddresses(values) if "@" in address)
    sent = work.session.execute(
        select(OutboxMessage.recipients, OutboxMessage.headers)
        .where(OutboxMessage.case_id == case_id)
        .order_by(OutboxMessage.id.desc())
        .limit(THREAD_WINDOW)
    )
    for recipients, headers in sent:
        values = [*recipients, str((headers or {}).get("Cc", ""))]
        found.update(address.lower() for _, address in getaddresses(values) if "@" in address)
    return found
