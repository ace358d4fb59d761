"""The outbox: automatic mail (SLA breach and warning notices) waiting to be sent.

A notice is rendered and stored in the same transaction as the change that caused it, then
sent by a worker (``mail.smtp.send_due``).  The row is the single source of truth: its
``dedupe_key`` makes queueing idempotent (the same notice is never queued twice) and its
``message_id`` is fixed when it is queued, so a retry after a crash re-sends the identical
message and the recipient's mail client shows it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

#: The states of an outbox row.  ``held`` is set by an operator and never sent automatically.
#: ``discarded``: a failed message an operator gave up on (``run.py jobs discard``).
STATES = ("pending", "sent", "failed", "held", "discarded")


class OutboxMessage(Base):
    """One message to send: fully rendered, addressed, and with its final Message-ID."""

    __tablename__ = "outbox"
    __table_args__ = (
        # the worker's query: state = 'pending' AND next_attempt_at <= now
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. ``breach:case=12:timer=first_response:threshold=1.0:cycle=0:to=lee@example.com``
    dedupe_key: Mapped[str] = mapped_column(String(500), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # breach, warning, ...
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    #: files sent with the message: ``{"filename", "content_type", "sha256"}`` each, the bytes
    #: read from the file store when it is sent
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the worker may pick the row up; while a worker holds it, the end of its lease.
    next_attempt_at: Mapped[datetime]
    #: The worker that claimed the row last (for operators; the lease is next_attempt_at).
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class BouncedAddress(Base):
    """An address mail servers refused: every failure is counted, hard (``5.1.1``: no such
    user) and soft (``4.x.x``, ``5.2.2``: mailbox full) apart.  Repeated hard failures
    suppress it -- nothing more is queued to it until an operator clears it -- so one dead
    address cannot keep bouncing and no mail server sees us as a source of backscatter."""

    __tablename__ = "bounced_addresses"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower case
    status: Mapped[str] = mapped_column(String(20))  # the last status, e.g. 5.1.1
    reason: Mapped[str] = mapped_column(Text, default="")
    bounces: Mapped[int] = mapped_column(Integer, default=1)
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_bounced_at: Mapped[datetime]
    last_bounced_at: Mapped[datetime]
    #: When repeated hard failures stopped all mail to the address (None: mail still goes).
    suppressed_at: Mapped[datetime | None]
    #: the id of the report that told us last, in ``inbound_messages`` (None: set by hand)
    inbound_message_id: Mapped[int | None]
