"""Mail to the customer side of a case: an agent's public answer, and the acknowledgement.

Both are queued in the outbox in the transaction of the post or case that causes them.
They are sent From the case type's group address -- or, for a case type without a mailbox,
the default sender (``CASEWORK_MAIL_FROM``) -- with Reply-To its plus-address carrying
the case's token, a Message-ID carrying the same token, and In-Reply-To / References built
from the case's mail thread, so the customer's reply threads back by the strongest key even
when their client drops References.  Internal posts are never mailed to customers; posts
by the customer side (the raiser, a contact) are not mailed back to them.

An acknowledgement is automatic mail: it carries the RFC 3834 headers and at most
:data:`ACK_LIMIT_PER_DAY` go to one address in 24 hours, so two auto-responders cannot
keep each other busy.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from sqlalchemy import func, select

from engine.run.attachments import attachments_of, served_type
from engine.run.cases import case_data
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import Case, CaseContact, CaseType, Contact, StreamPost, User
from engine.store.outbox import OutboxMessage
from mail.message.thread_keys import reply_address
from mail.outbox import queue_notice
from mail.reply_tokens import case_token
from rules.checks import can
from rules.public import customer_fields, staff_name, version_of
from rules.subject import load_subject

ACK_LIMIT_PER_DAY = 10
#: References keeps the thread's first id and the newest ones (RFC 5322 allows trimming).
MAX_REFERENCES = 20


def queue_case_reply(
    work: UnitOfWork,
    case_id: int,
    post_id: int,
    internal: bool,
    domain: str,
    *,
    default_sender: str | None = None,
) -> set[str]:
    """Mail an agent's public post to the case's raiser and contacts; the addresses queued.
    ``default_sender`` sends it for a case type without a mailbox (None: not at all)."""
    if internal:
        return set()
    case = work.session.get(Case, case_id)
    post = work.session.get(StreamPost, post_id)
    if case is None or post is None or post.author_id is None:
        return set()
    author = work.session.get(User, post.author_id)
    if author is None or not _is_agent(work, author, case):
        return set()
    mailbox = _mailbox_for(work, case)
    sender = mailbox.group_address if mailbox else parseaddr(default_sender or "")[1].lower()
    if "@" not in sender:
        return set()
    recipients = customer_addresses(work, case) - {(author.email or "").lower(), sender}
    context = {
        **_case_context(work, case),
        "body": post.body,
        "author": staff_name(version_of(work, case)),  # customers never see agents' names
    }
    files = [  # the post's files go with it (active content as opaque bytes, as downloaded)
        {
            "filename": f["filename"],
            "content_type": served_type(f["content_type"]),
            "sha256": f["sha256"],
        }
        for f in attachments_of(work, [post.id]).get(post.id, [])
    ]
    for address in sorted(recipients):
        _queue(
            work,
            case,
            sender,
            domain,
            kind="case_reply",
            to=address,
            context=context,
            dedupe=f"case_reply:post={post.id}:to={address}",
            automatic=False,
            attachments=files,
        )
    return recipients


def queue_acknowledgement(work: UnitOfWork, case_id: int, to: str, domain: str) -> bool:
    """Tell a new case's sender it arrived, unless they had too many such mails today."""
    case = work.session.get(Case, case_id)
    mailbox = _mailbox_for(work, case) if case else None
    if case is None or mailbox is None:
        return False
    to = to.strip().lower()
    recent = work.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == "ack",
            OutboxMessage.dedupe_key.startswith(f"ack:to={to}:", autoescape=True),
            OutboxMessage.created_at > work.now - timedelta(days=1),
        )
    )
    if (recent or 0) >= ACK_LIMIT_PER_DAY:
        return False
    _queue(
        work,
        case,
        mailbox.group_address,
        domain,
        kind="ack",
        to=to,
        context=_case_context(work, case),
        dedupe=f"ack:to={to}:case={case.id}",
        automatic=True,
    )
    return True


def customer_addresses(work: UnitOfWork, case: Case) -> set[str]:
    """Addresses of the raiser, the main contact and the additional contacts (lower case)."""
    found: set[str | None] = set()
    if case.raiser_id is not None:
        found.add(work.session.scalar(select(User.email).where(User.id == case.raiser_id)))
    contact_ids = select(CaseContact.contact_id).where(CaseContact.case_id == case.id)
    found.update(
        work.session.scalars(
            select(Contact.email).where(
                (Contact.id == case.main_contact_id) | Contact.id.in_(contact_ids)
            )
        )
    )
    return {a.strip().lower() for a in found if a and "@" in a}


def _is_agent(work: UnitOfWork, user: User, case: Case) -> bool:
    """Someone working the case: not its raiser, not a customer contact or portal user."""
    if user.id == case.raiser_id:
        return False
    if work.session.scalar(select(Contact.id).where(Contact.user_id == user.id).limit(1)):
        return False
    subject = load_subject(work, user)
    return subject.portal is None and can(work, subject, "write", case)


def _mailbox_for(work: UnitOfWork, case: Case) -> Mailbox | None:
    """The case type's group mailbox (the first active one, by name)."""
    key = work.session.scalar(select(CaseType.key).where(CaseType.id == case.case_type_id))
    return work.session.scalar(
        select(Mailbox)
        .where(Mailbox.case_type_key == key, Mailbox.active)
        .order_by(Mailbox.name)
        .limit(1)
    )


def _case_context(work: UnitOfWork, case: Case) -> dict[str, object]:
    """What every mail to a customer may say about the case: its number, subject, type,
    and the case type's public fields (never an internal variable)."""
    type_name = work.session.scalar(select(CaseType.name).where(CaseType.id == case.case_type_id))
    return {
        "case_number": case.number,
        "case_subject": case.subject,
        "case_type_name": type_name or "",
        "fields": customer_fields(version_of(work, case), case_data(work, case)),
    }


def thread_ids(work: UnitOfWork, case_id: int) -> tuple[list[str], str | None]:
    """The case's mail thread so far, oldest first (ids taken in and ids we sent), and the
    customer side's newest message: the one an answer replies to."""
    inbound = work.session.execute(
        select(InboundMessage.received_at, InboundMessage.message_id)
        .where(
            InboundMessage.case_id == case_id,
            InboundMessage.message_id != "",
            InboundMessage.kind == "human",
        )
        .order_by(InboundMessage.id)
    ).all()
    outbound = work.session.execute(
        select(OutboxMessage.created_at, OutboxMessage.message_id).where(
            OutboxMessage.case_id == case_id, OutboxMessage.kind.in_(("case_reply", "ack"))
        )
    ).all()
    ids: list[str] = []
    for _, message_id in sorted([*inbound, *outbound], key=lambda row: row[0]):
        if message_id not in ids:
            ids.append(message_id)
    return ids, (inbound[-1][1] if inbound else None)


def _queue(
    work: UnitOfWork,
    case: Case,
    sender: str,
    domain: str,
    *,
    kind: str,
    to: str,
    context: dict[str, object],
    dedupe: str,
    automatic: bool,
    attachments: list[dict[str, str]] | None = None,
) -> None:
    token = case_token(work.session, case.id)
    headers = {}
    if "+" not in sender.split("@", 1)[0]:  # replies come back with the case's token
        headers["Reply-To"] = reply_address(sender, token)
    thread, answered = thread_ids(work, case.id)
    if thread:
        if len(thread) > MAX_REFERENCES:
            thread = [thread[0], *thread[-(MAX_REFERENCES - 1) :]]
        headers["In-Reply-To"] = answered or thread[-1]
        headers["References"] = " ".join(thread)
    queue_notice(
        work.session,
        case_id=case.id,
        kind=kind,
        recipients=[to],
        sender=sender,
        context=context,
        dedupe_key=dedupe,
        domain=domain,
        now=work.now,
        token=token,
        headers=headers,
        automatic=automatic,
        attachments=attachments,
    )
