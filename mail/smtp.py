"""Send outbox messages: over SMTP, or into a local Maildir when no server is configured.

:func:`send_due` is the worker's loop body.  It claims due messages in one short transaction,
then sends each one and records its outcome in a transaction of its own, so a crash at any
point loses nothing (an unrecorded message is sent again after its lease, with the same
Message-ID) and a slow SMTP server never holds a database transaction open.
"""

from __future__ import annotations

import logging
import mailbox
import os
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from engine.store.files import FileStore
from engine.store.outbox import OutboxMessage
from mail.errors import MailError
from mail.outbox import build_email, claim_due, mark_failed, mark_sent

log = logging.getLogger(__name__)


class TransportError(MailError):
    """Sending failed.  ``permanent``: retrying will not help (a 5xx answer); else try later."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to submit mail.  ``ssl`` is implicit TLS (port 465), ``starttls`` port 587."""

    host: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def _describe(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{exc.smtp_code} {text}".strip()


class SmtpTransport:
    """Submit messages with :mod:`smtplib`, one connection per message."""

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.ssl and settings.starttls:
            raise ValueError("choose ssl (implicit TLS) or starttls, not both")
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            return smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.starttls:
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: EmailMessage) -> None:
        # the VERP envelope sender: bounces come back to the intake, naming the message
        sender = parseaddr(str(message["Return-Path"] or message["From"]))[1]
        del message["Return-Path"]  # the receiving side writes its own
        recipients = [addr for _, addr in getaddresses(message.get_all("To", []))]
        recipients += [addr for _, addr in getaddresses(message.get_all("Cc", []))]
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            with self._connect() as smtp:
                if self.settings.username:
                    smtp.login(self.settings.username, self.settings.password or "")
                refused = smtp.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            answers = {addr: f"{code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()}
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            detail = "; ".join(f"{addr}: {answer}" for addr, answer in answers.items())
            raise TransportError(f"{where} refused every recipient: {detail}", permanent) from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError) as exc:
            # a configuration or availability problem, not this message's fault: try again later
            raise TransportError(f"{where}: {_describe(exc)}", permanent=False) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
            raise TransportError(f"{where}: {_describe(exc)}", exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, dropped
            raise TransportError(f"{where}: {type(exc).__name__}: {exc}", False) from exc
        if refused:  # delivered to the others; resending would duplicate it for them
            log.warning(
                "%s refused some recipients of %s: %s", where, message["Message-ID"], refused
            )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class MaildirTransport:
    """Deliver into a local Maildir (the embedded default when no SMTP server is configured)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def send(self, message: EmailMessage) -> None:
        try:
            box = mailbox.Maildir(self.path, create=True)
            box.add(message)
        except OSError as exc:
            raise TransportError(f"cannot write to the Maildir {self.path}: {exc}", False) from exc


def send_due(
    session_factory: Callable[[], Session],
    transport: Transport,
    *,
    now: datetime,
    limit: int = 50,
    worker: str | None = None,
    files: FileStore | None = None,
) -> tuple[int, int]:
    """Send what is due; ``(sent, failed)`` this round (failed: to retry later or given up).
    ``files``: where the attached files of replies are read from."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    batch: list[tuple[int, EmailMessage]] = []
    unreadable: list[tuple[int, OSError]] = []
    with session_factory() as session, session.begin():
        for message in claim_due(session, now=now, limit=limit, worker=worker):
            try:
                batch.append((message.id, build_email(message, files)))
            except OSError as exc:  # an attached file the store cannot give back
                unreadable.append((message.id, exc))
    sent = failed = 0
    for row_id, error in unreadable:
        log.warning("outbox message %s not sent: attached file unreadable: %s", row_id, error)
        _record(session_factory, row_id, now, error, False)
        failed += 1
    for row_id, email in batch:
        try:
            transport.send(email)
        except TransportError as exc:
            log.warning(
                "outbox message %s to %s not sent (%s): %s",
                row_id,
                email["To"],
                "given up" if exc.permanent else "will be retried",
                exc,
            )
            _record(session_factory, row_id, now, exc, exc.permanent)
            failed += 1
        except Exception as exc:  # a transport bug must not stop the other messages
            log.exception("sending outbox message %s failed unexpectedly", row_id)
            _record(session_factory, row_id, now, exc, False)
            failed += 1
        else:
            with session_factory() as session, session.begin():
                done = session.get(OutboxMessage, row_id)
                if done is not None:
                    mark_sent(session, done, now)
            sent += 1
    return sent, failed


def _record(
    session_factory: Callable[[], Session],
    row_id: int,
    now: datetime,
    exc: Exception,
    permanent: bool,
) -> None:
    with session_factory() as session, session.begin():
        message = session.get(OutboxMessage, row_id)
        if message is not None:
            error = str(exc) if isinstance(exc, TransportError) else f"{type(exc).__name__}: {exc}"
            mark_failed(session, message, now, error, permanent)
