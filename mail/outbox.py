"""The durable outbox for automatic mail: queue, claim, build, and record the outcome.

A notice is rendered and inserted in the caller's transaction (:func:`queue_notice`), so it is
stored exactly when the change that caused it is.  ``dedupe_key`` is unique and the insert is
``INSERT ... ON CONFLICT DO NOTHING``: queueing the same notice twice, even from two workers at
once, stores it once.  The Message-ID is fixed when the row is inserted, so every attempt to send
it (including one after a crash between "sent" and "recorded as sent") carries the same id.

Delivery is at least once: :func:`claim_due` leases due rows to one worker (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) by moving ``next_attempt_at`` to the end of the lease; a worker that dies
before recording the outcome leaves the row pending, and it is sent again, with the same
Message-ID, once the lease has run out.  :func:`mark_failed` backs off exponentially.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import engine.store.outbox  # noqa: F401 - registers the outbox table on Base.metadata
from engine.errors import InvalidInput, NotFound
from engine.store.files import FileStore
from engine.store.outbox import OutboxMessage
from mail.bounces import deliverable
from mail.message.verp import verp_address
from mail.render import render_notice

#: How long a claimed message belongs to the worker that claimed it.
CLAIM_LEASE = timedelta(minutes=10)
#: Backoff after the n-th failed attempt: ``BACKOFF_BASE * 2**(n-1)``, at most ``BACKOFF_MAX``.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
#: After this many failed attempts a message is given up (state ``failed``).
MAX_ATTEMPTS = 8

#: Headers on every automatic message: no auto-replies to it, no loops through our own intake.
AUTO_HEADERS = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "All",
    "Precedence": "bulk",
}
LOOP_HEADER = "X-Casework-Loop"

# the same shapes mail.message.thread_keys accepts, so replies to our notices thread by token
_TOKEN = re.compile(r"[a-z0-9]{8,64}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*")
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,29}")


def make_message_id(*, token: str, kind: str, dedupe_key: str, domain: str) -> str:
    """``<case-TOKEN.KIND.HASH@DOMAIN>``: the same dedupe key always gives the same id."""
    problems = {}
    if not _TOKEN.fullmatch(token):
        problems["token"] = f"must match {_TOKEN.pattern}"
    if not _DOMAIN.fullmatch(domain):
        problems["domain"] = "must be a domain name"
    if not _KIND.fullmatch(kind):
        problems["kind"] = f"must match {_KIND.pattern}"
    if problems:
        raise InvalidInput("cannot build a Message-ID for the notice", problems)
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:16]
    return f"<case-{token}.{kind}.{digest}@{domain.lower()}>"


def queue_notice(
    session: Session,
    *,
    case_id: int | None,
    kind: str,
    recipients: Sequence[str],
    sender: str,
    context: dict[str, Any],
    dedupe_key: str,
    domain: str,
    now: datetime,
    token: str,
    override_dir: str | Path | None = None,
    overrides: Mapping[str, str] | None = None,
    send_after: datetime | None = None,
    headers: dict[str, str] | None = None,
    automatic: bool = True,
    attachments: list[dict[str, str]] | None = None,
) -> OutboxMessage | None:
    """Render and store a notice; None (and nothing stored) when ``dedupe_key`` is queued
    already, or when every recipient has bounced for good (see :mod:`mail.bounces`).

    ``headers`` adds threading headers (Reply-To, In-Reply-To, References); ``automatic=False``
    is for a person's answer, which must not be marked auto-submitted or bulk (the loop header
    stays: mail of ours that comes back is still recognised).  ``attachments``: files in the
    file store sent with it (``filename``, ``content_type``, ``sha256`` each).

    ``send_after`` holds the notice back until then (quiet hours); default: now.

    Runs in the caller's transaction and never commits.
    """
    recipients = [r.strip() for r in recipients if r and r.strip()]
    if not recipients:
        raise InvalidInput("cannot queue a notice", {"recipients": "at least one is required"})
    recipients = deliverable(session, recipients)
    if not recipients:
        return None
    if not dedupe_key or len(dedupe_key) > 500:
        raise InvalidInput("cannot queue a notice", {"dedupe_key": "1 to 500 characters"})
    message_id = make_message_id(token=token, kind=kind, dedupe_key=dedupe_key, domain=domain)
    subject, text, html = render_notice(
        kind, context, override_dir=override_dir, overrides=overrides
    )
    values = {
        "dedupe_key": dedupe_key,
        "message_id": message_id,
        "case_id": case_id,
        "kind": kind,
        "sender": sender,
        "recipients": recipients,
        "subject": subject[:500],
        "body_text": text,
        "body_html": html,
        "headers": {
            **(AUTO_HEADERS if automatic else {}),
            LOOP_HEADER: domain.lower(),
            **(headers or {}),
        },
        "attachments": attachments or None,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": max(send_after or now, now),
        "created_at": now,
    }
    new_id = _insert_once(session, values)
    if new_id is None:
        return None
    return session.get(OutboxMessage, new_id)


#: Headers build_email writes itself: a stored copy must never make them appear twice.
_BUILT = {"from", "to", "subject", "date", "message-id", "return-path", "mime-version"}
_TOKEN_IN_ID = re.compile(r"<case-([a-z0-9]{8,64})\.")


def resend_to(
    session: Session,
    original: OutboxMessage,
    address: str,
    *,
    dedupe_key: str,
    domain: str,
    now: datetime,
    send_after: datetime,
) -> OutboxMessage | None:
    """Queue ``original`` once more, to ``address`` only (its delivery failed softly).

    The copy threads like the original (same headers, same case token in its Message-ID);
    None when ``dedupe_key`` is queued already or the address is suppressed meanwhile.
    """
    if not deliverable(session, [address]):
        return None
    found = _TOKEN_IN_ID.match(original.message_id)
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:16]
    message_id = (
        make_message_id(token=found.group(1), kind="resend", dedupe_key=dedupe_key, domain=domain)
        if found
        else f"<resend.{digest}@{domain.lower()}>"
    )
    values = {
        "dedupe_key": dedupe_key[:500],
        "message_id": message_id,
        "case_id": original.case_id,
        "kind": original.kind,
        "sender": original.sender,
        "recipients": [address],
        "subject": original.subject,
        "body_text": original.body_text,
        "body_html": original.body_html,
        "headers": dict(original.headers),
        "attachments": original.attachments,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": max(send_after, now),
        "created_at": now,
    }
    new_id = _insert_once(session, values)
    return session.get(OutboxMessage, new_id) if new_id is not None else None


_INSERT_ONCE = {  # built once: compiled once per dialect and reused from the cache
    name: dialect_insert(OutboxMessage.__table__)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OutboxMessage.__table__.c.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def _insert_once(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id."""
    statement = _INSERT_ONCE.get(session.get_bind().dialect.name)
    if statement is not None:
        return session.execute(statement, values).scalar_one_or_none()
    table = OutboxMessage.__table__
    try:  # any other database: a savepoint around a plain insert
        with session.begin_nested():
            return session.execute(table.insert().values(**values).returning(table.c.id)).scalar()
    except IntegrityError:
        return None


#: Headers a DKIM signer covers: each is written exactly once, final before submission.
DKIM_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
)


def build_email(message: OutboxMessage, files: FileStore | None = None) -> EmailMessage:
    """The message as sent: multipart/alternative with HTML, the stored Message-ID and Date.

    It is ready for a DKIM signer at the submission server: every header the signer covers
    (:data:`DKIM_HEADERS`) appears once and nothing is added after submission; From is the
    sending domain's address, the domain to sign for.  ``Return-Path`` carries the VERP
    envelope sender (:mod:`mail.message.verp`); the SMTP transport uses it as ``MAIL FROM``
    and does not send the header itself.  Attached files are read from ``files``.
    """
    email = EmailMessage()
    email["From"] = message.sender
    email["To"] = ", ".join(message.recipients)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.astimezone(UTC))
    email["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        if name.lower() not in _BUILT:
            email[name] = value
    recipient = message.recipients[0] if len(message.recipients) == 1 else None
    base = parseaddr(message.sender)[1]
    if "@" in base:
        email["Return-Path"] = f"<{verp_address(base, message.id, parseaddr(recipient or '')[1])}>"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for file in message.attachments or ():  # OSError: the store lost it (retried later)
        if files is None:
            raise FileNotFoundError(f"no file store to read {file['filename']!r} from")
        data = files.read(file["sha256"])
        main, _, sub = file["content_type"].partition("/")
        email.add_attachment(data, maintype=main, subtype=sub, filename=file["filename"])
    return email


def claim_due(session: Session, *, now: datetime, limit: int, worker: str) -> list[OutboxMessage]:
    """Lease up to ``limit`` due pending messages to ``worker``, oldest due first.

    On PostgreSQL rows another worker is claiming are skipped (``FOR UPDATE SKIP LOCKED``);
    SQLite has a single writer, so a plain select is enough.  The lease moves
    ``next_attempt_at`` to ``now + CLAIM_LEASE``: commit the claim before sending.
    """
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    claimed = list(session.scalars(statement))
    for message in claimed:
        message.next_attempt_at = now + CLAIM_LEASE
        message.claimed_by = worker[:200]
    session.flush()
    return claimed


def mark_sent(session: Session, message: OutboxMessage, now: datetime) -> None:
    """The transport accepted the message."""
    message.state = "sent"
    message.sent_at = now
    message.last_error = None
    session.flush()


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1 → 30 s, 2 → 60 s, ... at most 1 h)."""
    factor: int = 2 ** max(attempts - 1, 0)  # an int: the exponent is never negative
    return min(BACKOFF_BASE * factor, BACKOFF_MAX)


def mark_failed(
    session: Session, message: OutboxMessage, now: datetime, error: str, permanent: bool
) -> None:
    """An attempt failed: retry later with backoff, or give up (permanent or too many tries)."""
    if message.state == "sent":  # a late report about a message another attempt delivered
        return
    message.attempts += 1
    message.last_error = error[:4000]
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.state = "failed"
    else:
        message.state = "pending"
        message.next_attempt_at = now + backoff(message.attempts)
    session.flush()


def list_messages(session: Session, state: str | None = None) -> list[OutboxMessage]:
    """Messages, newest first, optionally only those in ``state``."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if state is not None:
        statement = statement.where(OutboxMessage.state == state)
    return list(session.scalars(statement))


def retry(session: Session, message_id: int | str, *, now: datetime | None = None) -> OutboxMessage:
    """Put a failed (or held) message back in line now; by row id or by its Message-ID."""
    if isinstance(message_id, int):
        message = session.get(OutboxMessage, message_id)
    else:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).one_or_none()
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    if message.state not in ("failed", "held"):
        raise InvalidInput(
            f"outbox message {message_id} is {message.state}; only failed or held ones are retried"
        )
    message.state = "pending"
    message.attempts = 0
    message.next_attempt_at = now or datetime.now(UTC)
    session.flush()
    return message
