"""Tables behind email-to-case: group mailboxes, their sync state and every message taken in.

The inbound row is the proof that a message was taken in: it holds the raw bytes and is
inserted in the same transaction as the case or post the message creates.  Its unique
key (mailbox, Message-ID, content hash) is what makes intake exactly-once: fetching the
same message again -- after a crash between commit and flagging it on the server, after a
UIDVALIDITY change, or from a second copy in the folder -- finds the row and does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

#: What became of an inbound message.
#: ``discarded``: a quarantined message an operator gave up on (``run.py jobs discard``).
STATES = ("received", "processed", "ignored", "quarantined", "triage", "discarded")

#: What a mailbox does with mail that names a case its sender takes no part in.
REFUSED_MATCH = ("new_case", "triage")


class Mailbox(Base):
    """A group mailbox on an IMAP server whose mail opens cases of one case type."""

    __tablename__ = "mailboxes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    case_type_key: Mapped[str] = mapped_column(String(50))
    #: The address customers write to; replies go out From / Reply-To it (plus a token).
    group_address: Mapped[str] = mapped_column(String(320))
    imap_host: Mapped[str] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    imap_user: Mapped[str] = mapped_column(String(320))
    #: The password or OAuth2 token: encrypted (``fernet:…``) or a reference (``env:NAME``,
    #: ``file:/path``); see ``mail/credentials.py``.
    imap_password: Mapped[str] = mapped_column(String(500))
    #: How to sign in: "password" (LOGIN) or "xoauth2" (an OAuth2 access token).
    imap_auth: Mapped[str] = mapped_column(
        String(10), default="password", server_default="password"
    )
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    #: Where taken-in mail is moved; without one it is flagged \Seen plus a keyword instead.
    processed_folder: Mapped[str | None] = mapped_column(String(255))
    #: Customer group of new contacts whose domain matches no rule.
    default_customer_group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id"))
    max_bytes: Mapped[int] = mapped_column(Integer, default=10 * 1024 * 1024)
    poll_seconds: Mapped[int] = mapped_column(Integer, default=60)
    #: Send the sender of a new case an automatic acknowledgement (rate-limited per address).
    acknowledge: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Mail naming a case its sender takes no part in: "new_case" opens one for it (the
    #: attempt recorded beside it), "triage" holds it until an agent decides.
    refused_match: Mapped[str] = mapped_column(
        String(10), default="new_case", server_default="new_case"
    )
    #: [[name, pattern], ...] finding a case number in a subject; None: the defaults
    #: (``mail.message.thread_keys.DEFAULT_SUBJECT_PATTERNS``).
    subject_patterns: Mapped[list[list[str]] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: Failed polls in a row (0: the last one worked); the worker waits longer after each.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    #: The worker does not poll a failing mailbox before this.
    next_poll_at: Mapped[datetime | None]


class MailDomainRule(Base):
    """New contacts writing from ``domain`` join ``customer_group_id``."""

    __tablename__ = "mail_domain_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    customer_group_id: Mapped[int] = mapped_column(ForeignKey("customer_groups.id"))


class MailFolderState(Base):
    """How far intake got in one IMAP folder: the UIDs below ``last_uid`` are taken in.

    UIDs mean something only together with ``uidvalidity``; when the server reports
    another value, ``last_uid`` restarts at 0 and deduplication keeps the resync safe.
    """

    __tablename__ = "mail_folder_states"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[datetime | None]


class CaseMailToken(Base):
    """The unguessable token of a case in our Message-IDs and Reply-To plus-addresses."""

    __tablename__ = "case_mail_tokens"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)


class InboundMessage(Base):
    """One message taken in, with its raw bytes and what it became (and why)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "message_id", "content_hash"),
        Index("ix_inbound_messages_message_id", "message_id"),
        Index("ix_inbound_messages_state", "state", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str | None] = mapped_column(String(255))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    #: The Message-ID as written (``<id@host>``), "" when the mail has none.
    message_id: Mapped[str] = mapped_column(String(500))
    #: sha256 of the message without its trace headers (Received, Delivered-To, ...).
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    #: False when only the headers were kept (an oversized message stays on the server).
    raw_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    size: Mapped[int] = mapped_column(Integer)
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    #: human, auto_reply, bounce, feedback (ARF), list or loop (None: it could not be parsed).
    kind: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12), default="received")
    reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(ForeignKey("stream_posts.id", ondelete="SET NULL"))
    #: Why it joined its case: "token:in-reply-to", "reference:references", "subject", "new".
    matched_by: Mapped[str | None] = mapped_column(String(100))
    #: A match that was refused (the sender is no participant of that case), for agents to see.
    attempted_match: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
