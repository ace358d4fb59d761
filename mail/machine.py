"""Mail written by machines: bounces, abuse reports and auto-replies.

None of them opens a case, gets an acknowledgement or changes a case's state or SLA clocks.
Each is recorded on the case whose mail it answers (an audit entry and the stored message's
link to the case).  A bounce also tells agents and the outbox what went wrong:

* every failed recipient is counted on its address (:mod:`mail.bounces`): hard failures
  suppress it once they repeat, soft ones never do;
* a soft failure of a message we keep in the outbox is sent again to that recipient, later
  and at most :data:`SOFT_RETRIES` times;
* the case gets an internal note naming each recipient, its status and what follows.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parseaddr

from sqlalchemy import func, select

from engine import audit
from engine.run import posts
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage
from engine.store.outbox import OutboxMessage
from mail import bounces
from mail.match import find_case, original_keys
from mail.message.bounce_scan import Failure, failures
from mail.message.classify import Classification
from mail.message.parse import ParsedMail
from mail.message.verp import verp_of
from mail.outbox import resend_to
from mail.senders import find_sender

#: How often a soft-bounced message is sent again to one recipient, and the first wait.
SOFT_RETRIES = 3
SOFT_RETRY_WAIT = timedelta(hours=1)
_RESEND_KEY = re.compile(r"resend:(\d+):")


def take_machine_mail(
    work: UnitOfWork,
    row: InboundMessage,
    parsed: ParsedMail,
    raw: bytes,
    verdict: Classification,
    domain: str,
) -> None:
    """Record an auto-reply, bounce or abuse report (``row.kind`` is set already);
    ``domain`` is the domain of our Message-IDs."""
    row.state, row.reason = "ignored", f"{verdict.rule}: {verdict.reason}"
    original = _sent(work, verdict.original_message_id)
    verp = verp_of(parsed) if verdict.kind == "bounce" else None
    if original is None and verp is not None:  # it came back to the message's own address
        original = work.session.get(OutboxMessage, verp[0])
    _record_on_case(work, row, parsed, domain, verdict.original_message_id, original)
    if verdict.kind == "bounce":
        _delivery_failed(
            work, row, failures(parsed, raw, verp[1] if verp else None), original, domain
        )


def _sent(work: UnitOfWork, message_id: str | None) -> OutboxMessage | None:
    if not message_id:
        return None
    return work.session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == message_id))


def _record_on_case(
    work: UnitOfWork,
    row: InboundMessage,
    parsed: ParsedMail,
    domain: str,
    original_id: str | None,
    original: OutboxMessage | None,
) -> None:
    extra = original_keys(original_id, domain) if original_id else ()
    match = find_case(work, parsed, None, token_domain=domain, extra=extra)
    if match.case is None and row.kind == "auto_reply" and parsed.from_address:
        # an out-of-office quoting [C-...]: only from someone taking part in that case
        sender = find_sender(work, parsed.from_address, for_post=False)
        if sender.user_ids or sender.contact_ids:
            match = find_case(work, parsed, sender, token_domain=domain)
    if match.case is not None:
        row.case_id, row.matched_by = match.case.id, match.matched_by
    elif original is not None and original.case_id is not None:
        row.case_id, row.matched_by = original.case_id, "reference:bounced message"
    if row.case_id is None:
        return
    audit.record(
        work,
        actor_id=None,
        entity="mail",
        entity_id=row.id,
        case_id=row.case_id,
        action=f"mail_{row.kind}",
        after={"from": row.from_address, "subject": row.subject, "reason": row.reason},
    )


def _delivery_failed(
    work: UnitOfWork,
    row: InboundMessage,
    failed: tuple[Failure, ...],
    original: OutboxMessage | None,
    domain: str,
) -> None:
    lines = []
    for failure in failed:
        counted = bounces.record_failure(
            work.session,
            address=failure.address,
            status=failure.status,
            reason=failure.diagnostic or row.subject or "",
            at=work.now,
            inbound_message_id=row.id,
        )
        if counted is None:
            continue
        if counted.severity == "soft":
            follows = _send_again(work, original, failure, domain)
        elif counted.suppressed_now:
            follows = (
                f"{counted.row.hard_bounces} hard failures: nothing more is sent there "
                f"(undo: run.py mail bounces clear {counted.row.address})"
            )
        elif counted.row.suppressed_at is not None:
            follows = "the address was suppressed already"
        else:
            follows = (
                f"hard failure {counted.row.hard_bounces} of "
                f"{bounces.HARD_BOUNCES_TO_SUPPRESS} before the address is suppressed"
            )
        audit.record(
            work,
            actor_id=None,
            entity="mail_address",
            entity_id=counted.row.address,
            case_id=row.case_id,
            action="suppressed" if counted.suppressed_now else "bounced",
            after={
                "status": failure.status,
                "severity": counted.severity,
                "hard_bounces": counted.row.hard_bounces,
                "soft_bounces": counted.row.soft_bounces,
            },
        )
        why = f" ({failure.diagnostic[:300]})" if failure.diagnostic else ""
        lines.append(
            f"- {failure.address}: {failure.status}, {counted.severity} failure{why}; {follows}"
        )
    if row.case_id is not None and lines:
        posts.add_note(
            work,
            case_id=row.case_id,
            body="Delivery failure: mail could not be delivered.\n" + "\n".join(lines),
        )


def _send_again(
    work: UnitOfWork, original: OutboxMessage | None, failure: Failure, domain: str
) -> str:
    """Queue the bounced message once more for the one recipient that failed softly."""
    if original is None:
        return "the bounced message is not in our outbox, so it is not sent again"
    if failure.address not in {parseaddr(r)[1].lower() for r in original.recipients}:
        return "it was not a recipient of the bounced message, so nothing is sent again"
    found = _RESEND_KEY.match(original.dedupe_key)
    root = int(found.group(1)) if found else original.id
    prefix = f"resend:{root}:{failure.address}:"
    tries = (
        work.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
        )
        or 0
    )
    if tries >= SOFT_RETRIES:
        return f"sent {tries} times again already: given up"
    when = work.now + SOFT_RETRY_WAIT * 2**tries
    queued = resend_to(
        work.session,
        original,
        failure.address,
        dedupe_key=f"{prefix}{tries + 1}",
        domain=domain,
        now=work.now,
        send_after=when,
    )
    if queued is None:
        return "the address is suppressed, so nothing is sent again"
    return f"sent again after {when:%Y-%m-%d %H:%M} UTC (try {tries + 1} of {SOFT_RETRIES})"
