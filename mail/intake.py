"""Take one raw message in: store it, then parse, classify, thread and call the engine.

Everything for one message happens in one unit of work: the inbound row with the raw bytes
is inserted first, then the case is opened or the post added, and both commit together or
not at all.  The row's unique key (mailbox, Message-ID, content hash) makes a second take
of the same message a no-op, which is what lets the IMAP poller flag mail only *after*
the commit and still never create a duplicate.

What happens to a message:

* unparseable or too large: ``quarantined`` with the reason; nothing else is touched;
* list or bulk mail, our own mail coming back: ``ignored``; never a case;
* an auto-reply, a bounce or an abuse report: ``ignored`` but recorded on the case it
  answers (``mail/machine.py``), so neither the case's state nor its SLA clocks move; a
  bounce counts against the failed address and leaves an internal note on the case;
* a person's mail: a post on the case it threads into (``matched_by`` says why), else a new
  case raised by the sender (a new contact when the address is unknown);
* a person's mail naming a case its sender takes no part in: a new case with the refused
  attempt recorded, or -- when its mailbox says so -- ``triage``, held untouched until an
  agent opens a case for it or threads it into a case (``mail/held.py``).

An unexpected failure while processing rolls the unit back and quarantines the message in a
second transaction with the error as the reason; a lost race or an unreachable database is
raised instead, so the caller retries later and nothing is filed aside by mistake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError

from engine import log_context
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import attachments, case_edits, cases, posts
from engine.run.attachments import NewFile
from engine.runtime import Runtime, UnitOfWork
from engine.store.files import FileRefused
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import Case
from mail.machine import take_machine_mail
from mail.mailboxes import subject_keys
from mail.match import Match, find_case
from mail.message.classify import classify
from mail.message.fingerprint import Fingerprint
from mail.message.parse import ParsedMail, parse_message
from mail.message.quarantine import Quarantine
from mail.outbox import LOOP_HEADER
from mail.replies import queue_acknowledgement
from mail.reply_messages import reply_message
from mail.senders import Sender, create_sender, find_sender

log = logging.getLogger(__name__)
NO_SUBJECT = "(no subject)"


@dataclass(frozen=True)
class Source:
    """Where the bytes came from: an IMAP folder position, or none for an imported file."""

    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    #: False when only the headers were fetched because the message is over the size limit.
    complete: bool = True
    size: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one message; ``duplicate`` means it had been taken in before."""

    inbound_id: int | None
    state: str
    duplicate: bool = False
    case_number: str | None = None
    matched_by: str | None = None
    reason: str | None = None


def take_in(
    rt: Runtime, mailbox_id: int, raw: bytes, *, domain: str, source: Source | None = None
) -> Outcome:
    """Take one message in exactly once; ``domain`` is the domain of our Message-IDs."""
    with log_context.scope():  # the case the message joins names these lines, no others
        return _take_in(rt, mailbox_id, raw, domain=domain, source=source or Source())


def _take_in(rt: Runtime, mailbox_id: int, raw: bytes, *, domain: str, source: Source) -> Outcome:
    print_ = Fingerprint.of(raw)
    try:
        with rt.unit() as work:
            seen = _existing(work, mailbox_id, print_)
            if seen is not None:
                return seen
            row = _insert(work, mailbox_id, raw, print_, source)
            _process(work, row, raw, source, domain)
            return outcome_of(work, row)
    except IntegrityError:  # another worker inserted the same message meanwhile
        with rt.unit() as work:
            seen = _existing(work, mailbox_id, print_)
        if seen is None:
            raise
        return seen
    except (Conflict, OperationalError):
        raise  # transient: leave the message on the server for the next poll
    except Exception as exc:
        log.exception("mail intake failed; quarantining the message")
        reason = f"processing failed: {type(exc).__name__}: {exc}"[:4000]
        with rt.unit() as work:
            seen = _existing(work, mailbox_id, print_)
            if seen is not None:
                return seen
            row = _insert(work, mailbox_id, raw, print_, source)
            _quarantine(work, row, reason)
            return outcome_of(work, row)


_SAME_MESSAGE = select(InboundMessage).where(  # built once: asked for every message
    InboundMessage.mailbox_id == bindparam("mailbox_id"),
    InboundMessage.message_id == bindparam("message_id"),
    InboundMessage.content_hash == bindparam("content_hash"),
)
_CASE_NUMBER = select(Case.number).where(Case.id == bindparam("case_id"))


def _existing(work: UnitOfWork, mailbox_id: int, print_: Fingerprint) -> Outcome | None:
    row = work.session.scalar(
        _SAME_MESSAGE,
        {
            "mailbox_id": mailbox_id,
            "message_id": print_.message_id,
            "content_hash": print_.content_hash,
        },
    )
    if row is None:
        return None
    return Outcome(row.id, row.state, duplicate=True, matched_by=row.matched_by, reason=row.reason)


def _insert(
    work: UnitOfWork, mailbox_id: int, raw: bytes, print_: Fingerprint, source: Source
) -> InboundMessage:
    row = InboundMessage(
        mailbox_id=mailbox_id,
        folder=source.folder,
        uidvalidity=source.uidvalidity,
        uid=source.uid,
        message_id=print_.message_id,
        content_hash=print_.content_hash,
        raw=raw,
        raw_complete=source.complete,
        size=source.size if source.size is not None else len(raw),
        subject="",
        state="received",
        received_at=work.now,
    )
    work.session.add(row)
    work.session.flush()  # the unique key is checked here, before any work is done
    return row


def outcome_of(work: UnitOfWork, row: InboundMessage) -> Outcome:
    """What became of a stored message, as intake answers it."""
    number = None
    if row.case_id is not None:
        number = work.session.scalar(_CASE_NUMBER, {"case_id": row.case_id})
    return Outcome(
        row.id, row.state, case_number=number, matched_by=row.matched_by, reason=row.reason
    )


def _quarantine(work: UnitOfWork, row: InboundMessage, reason: str) -> None:
    # reasons quote broken input: keep them storable (no NUL, no lone surrogates)
    reason = reason.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\0")
    row.state, row.reason, row.processed_at = "quarantined", reason[:4000], work.now
    work.session.flush()


def _process(
    work: UnitOfWork, row: InboundMessage, raw: bytes, source: Source, domain: str
) -> None:
    mailbox = work.session.get(Mailbox, row.mailbox_id)
    if mailbox is None:
        raise NotFound(f"no mailbox {row.mailbox_id}")
    if not source.complete:
        _quarantine(
            work,
            row,
            f"too_large: message is {row.size:,} bytes, over the limit of {mailbox.max_bytes:,}; "
            "only its headers were kept, the message stays on the server",
        )
        return
    try:
        parsed = parse_message(raw, max_bytes=mailbox.max_bytes)
    except Quarantine as exc:
        _quarantine(work, row, f"{exc.code}: {exc.reason}")
        return
    row.from_address = (parsed.from_address or "")[:320] or None
    row.subject = parsed.subject[:500]
    verdict = classify(parsed, our_domains={domain}, loop_header=LOOP_HEADER)
    row.kind = verdict.kind
    row.processed_at = work.now
    if verdict.kind in ("list", "loop"):
        row.state, row.reason = "ignored", f"{verdict.rule}: {verdict.reason}"
    elif verdict.kind in ("auto_reply", "bounce", "feedback"):
        take_machine_mail(work, row, parsed, raw, verdict, domain)
    else:
        _take_human(work, mailbox, row, parsed, domain)
    work.session.flush()


def _take_human(
    work: UnitOfWork, mailbox: Mailbox, row: InboundMessage, parsed: ParsedMail, domain: str
) -> None:
    assert parsed.from_address  # classify() calls mail without a From automatic
    sender = find_sender(work, parsed.from_address)
    # a stranger's mail joins a case only when they were on its mail (copied in)
    match = find_case(work, parsed, sender, token_domain=domain, subject_keys=subject_keys(mailbox))
    if match.case is None and match.attempts and mailbox.refused_match == "triage":
        # it pointed at a case its sender takes no part in: an agent decides, nothing opens
        row.state, row.attempted_match = "triage", "; ".join(match.attempts)
        row.reason = "held for triage: it names a case its sender takes no part in"
        return
    deliver(work, mailbox, row, parsed, domain, sender, match)


def deliver(
    work: UnitOfWork,
    mailbox: Mailbox,
    row: InboundMessage,
    parsed: ParsedMail,
    domain: str,
    sender: Sender,
    match: Match,
) -> Sender:
    """Post the message to ``match.case``, or open a new case with it when there is none;
    an unknown sender becomes a contact first (and is returned, known)."""
    assert parsed.from_address
    files, refused = _storable(work, parsed)  # scanned before this unit writes its case
    if not sender.known:
        sender = create_sender(work, parsed.from_address, parsed.from_name, mailbox)
    assert sender.author is not None
    body = post_body(parsed)
    case_id: int | None
    if match.case is not None:
        number = match.case.number or ""  # a stored case always has its number
        case_id = match.case.id  # loaded already (and held by the match): no second lookup
        row.matched_by = match.matched_by
        if match.reopen:  # the case type's replies reopen its closed cases (grace period)
            case_edits.reopen(work, match.case, actor_id=sender.author.id, by="reply")
        if sender.contact is not None:  # copied in on the thread: now a contact of the case
            cases.add_case_contact(work, match.case, sender.contact.id, actor_id=None)
    else:
        opened = cases.open_case(
            work,
            case_type=mailbox.case_type_key,
            subject=(parsed.subject or NO_SUBJECT)[:500],
            raiser=sender.author,
            main_contact_id=sender.contact.id if sender.contact else None,
            actor_id=sender.author.id,
        )
        # looked up by number below: add_post then holds the loaded case for its hooks
        number, case_id, row.matched_by = opened.number, None, "new"
        row.attempted_match = "; ".join(match.attempts) or None
        if match.closed is not None:  # a follow-up: agents see the earlier case beside it
            cases.link_cases(
                work,
                opened.id,
                match.closed.id,
                actor_id=sender.author.id,
                reason=f"follow-up by mail to {match.closed.number}, which is closed",
            )
    post = posts.add_post(  # its files are readable by whoever may read the post
        work,
        number=number,
        author=sender.author,
        body=body,
        case_id=case_id,
        files=files,
        files_checked=True,
    )
    for name, reason in refused:  # the mail still counts; agents learn what was left out
        posts.add_note(
            work,
            case_id=post.case_id,
            body=f"An attachment of this mail was not stored: {name}: {reason}",
        )
    row.case_id, row.post_id, row.state = post.case_id, post.id, "processed"
    if match.case is not None:  # "wait for the customer": the reply may be a BPMN message
        reply_message(work, match.case, body=body, post_id=post.id, actor_id=sender.author.id)
    if row.matched_by == "new" and mailbox.acknowledge:
        work.session.flush()  # the acknowledgement answers this message (In-Reply-To)
        queue_acknowledgement(work, post.case_id, sender.address, domain)
    return sender


def _storable(work: UnitOfWork, parsed: ParsedMail) -> tuple[list[NewFile], list[tuple[str, str]]]:
    """The mail's attachments the file store accepts, and the refused ones with the reason
    (over the size limit, flagged by the virus scanner)."""
    files: list[NewFile] = []
    refused: list[tuple[str, str]] = []
    for part in parsed.attachments:
        file = NewFile(part.filename or f"attachment.{part.content_type.split('/')[-1]}", part.data)
        try:
            attachments.check(work, [file])
        except FileRefused as exc:
            refused.append((attachments.safe_name(file.filename), exc.reason))
        else:
            files.append(file)
    return files, refused


def post_body(parsed: ParsedMail) -> str:
    """The stream post: what the sender wrote now (quotes and signature folded away; the full
    original stays in the inbound row), and a line per attachment."""
    new = parsed.quoted_folded.new.strip() or parsed.body_text.strip()
    body = new or "(no text in this message; the original is kept with it)"
    files = [
        f"[attachment: {a.filename or a.content_type}, {a.size:,} bytes]"
        for a in parsed.attachments
    ]
    if files:
        body += "\n\n" + "\n".join(files)
    if len(body) > posts.MAX_BODY:
        body = body[: posts.MAX_BODY - 80] + "\n\n[... cut here; the full message is kept]"
    return body


def retry(rt: Runtime, inbound_id: int, *, domain: str, raw: bytes | None = None) -> Outcome:
    """Process a quarantined message again (after a fix or a raised limit).

    ``raw`` replaces headers-only bytes with the full message fetched again.  The retry runs
    in one unit of work: if it fails, the row stays quarantined as it was and the error is
    raised for the operator to read.
    """
    with rt.unit() as work:
        return retry_in(work, inbound_id, domain=domain, raw=raw)


def retry_in(
    work: UnitOfWork, inbound_id: int, *, domain: str, raw: bytes | None = None
) -> Outcome:
    """:func:`retry` in the caller's unit of work."""
    row = work.session.get(InboundMessage, inbound_id)
    if row is None:
        raise NotFound(f"no inbound message {inbound_id}")
    if row.state != "quarantined":
        raise Conflict(f"message {inbound_id} is {row.state}, not quarantined")
    if raw is not None:
        row.raw, row.raw_complete, row.size = raw, True, len(raw)
    if not row.raw_complete:
        raise InvalidInput(
            f"only the headers of message {inbound_id} were kept",
            {"raw": "fetch the full message again (it stays on the mail server)"},
        )
    row.state, row.reason, row.kind, row.matched_by = "received", None, None, None
    source = Source(row.folder, row.uidvalidity, row.uid, True, row.size)
    _process(work, row, row.raw, source, domain)
    return outcome_of(work, row)
