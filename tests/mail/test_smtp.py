"""Sending the outbox: a real SMTP server (aiosmtpd) on 127.0.0.1, and the Maildir fallback."""

from __future__ import annotations

import mailbox
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from engine.runtime import Runtime
from engine.store.outbox import OutboxMessage
from mail.outbox import CLAIM_LEASE, queue_notice
from mail.smtp import MaildirTransport, SmtpSettings, SmtpTransport, TransportError, send_due

TOKEN = "k3x9q2m7w1"
CONTEXT = {
    "case_number": "C-000012",
    "case_subject": "Printer on fire",
    "case_url": "https://cases.example.com/cases/C-000012",
    "target": "first_response",
    "threshold": 1.0,
    "due_at": datetime.fromisoformat("2026-01-05T16:00:00+00:00"),
    "time_zone": "Europe/Berlin",
}


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every envelope; refuses addresses in ``refuse``."""

    envelopes: list = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def transport(self) -> SmtpTransport:
        return SmtpTransport(SmtpSettings(host="127.0.0.1", port=self.port, timeout=5))


@pytest.fixture
def smtp() -> Iterator[Server]:
    server = Server(free_port())
    server.start()
    yield server
    server.stop()


def queue(
    runtime: Runtime, *, to: str = "lee@example.com", kind: str = "breach", threshold: float = 1.0
) -> OutboxMessage:
    with runtime.unit() as work:
        message = queue_notice(
            work.session,
            case_id=None,
            kind=kind,
            recipients=[f"Lee Lead <{to}>"],
            sender="Casework <noreply@cases.example.com>",
            context={**CONTEXT, "threshold": threshold},
            dedupe_key=f"{kind}:case=12:timer=first_response:threshold={threshold}:cycle=0:to={to}",
            domain="cases.example.com",
            now=work.now,
            token=TOKEN,
        )
    assert message is not None
    return message


def reload(runtime: Runtime, message: OutboxMessage) -> OutboxMessage:
    with runtime.unit() as work:
        row = work.session.get(OutboxMessage, message.id)
        assert row is not None
        return row


def test_it_sends_a_breach_notice_over_smtp(runtime: Runtime, smtp: Server):
    message = queue(runtime)
    now = runtime.clock.now()

    assert send_due(runtime.sessions, smtp.transport(), now=now) == (1, 0)

    [envelope] = smtp.handler.envelopes
    # the VERP envelope sender: a bounce comes back naming the message and its recipient
    assert envelope.mail_from == f"noreply+bounce-{message.id}-lee=example.com@cases.example.com"
    assert envelope.rcpt_tos == ["lee@example.com"]
    [mail] = smtp.handler.messages()
    assert mail["Subject"] == "[C-000012] SLA breached: first response target – Printer on fire"
    assert mail["To"] == "Lee Lead <lee@example.com>"
    assert mail["Message-ID"] == message.message_id
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Precedence"] == "bulk"
    assert mail["X-Casework-Loop"] == "cases.example.com"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "The first response target of case C-000012 has been breached." in text
    assert "Mon 5 Jan 2026, 17:00 CET" in text
    assert "<strong>first response</strong>" in html and "C-000012" in html
    sent = reload(runtime, message)
    assert sent.state == "sent" and sent.sent_at == now and sent.attempts == 0
    assert send_due(runtime.sessions, smtp.transport(), now=now + timedelta(hours=1)) == (0, 0)


class Crash(BaseException):
    """The process dies (power cut, OOM kill) right after the server accepted the message."""


class CrashAfterSending:
    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise Crash


def test_it_resends_under_the_same_message_id_after_a_crash(runtime: Runtime, smtp: Server):
    message = queue(runtime)
    now = runtime.clock.now()

    with pytest.raises(Crash):
        send_due(runtime.sessions, CrashAfterSending(smtp.transport()), now=now)
    assert reload(runtime, message).state == "pending"  # sent, but not recorded: not lost
    # another worker does not touch it while the lease lasts ...
    assert send_due(runtime.sessions, smtp.transport(), now=now + timedelta(minutes=1)) == (0, 0)
    # ... then sends it again, as the very same message
    assert send_due(runtime.sessions, smtp.transport(), now=now + CLAIM_LEASE) == (1, 0)

    first, second = smtp.handler.messages()
    assert first["Message-ID"] == second["Message-ID"] == message.message_id
    assert first["Date"] == second["Date"]
    assert reload(runtime, message).state == "sent"


def test_it_keeps_the_message_while_smtp_is_down_and_sends_it_later(runtime: Runtime):
    message = queue(runtime)
    now = runtime.clock.now()
    server = Server(free_port())  # nothing listens there yet: connection refused

    assert send_due(runtime.sessions, server.transport(), now=now) == (0, 1)
    waiting = reload(runtime, message)
    assert waiting.state == "pending" and waiting.attempts == 1
    assert waiting.next_attempt_at == now + timedelta(seconds=30)
    assert "refused" in (waiting.last_error or "").lower()
    assert send_due(runtime.sessions, server.transport(), now=now + timedelta(seconds=10)) == (0, 0)

    server.start()
    try:
        later = now + timedelta(seconds=30)
        assert send_due(runtime.sessions, server.transport(), now=later) == (1, 0)
    finally:
        server.stop()
    [mail] = server.handler.messages()
    assert mail["Message-ID"] == message.message_id
    sent = reload(runtime, message)
    assert sent.state == "sent" and sent.attempts == 1 and sent.sent_at == later


def test_it_fails_a_message_the_server_rejects_permanently(runtime: Runtime, smtp: Server):
    smtp.handler.refuse.add("gone@example.com")
    rejected = queue(runtime, to="gone@example.com")
    accepted = queue(runtime, to="lee@example.com")
    now = runtime.clock.now()

    assert send_due(runtime.sessions, smtp.transport(), now=now) == (1, 1)

    failed = reload(runtime, rejected)
    assert failed.state == "failed" and failed.attempts == 1
    assert "550" in (failed.last_error or "") and "gone@example.com" in (failed.last_error or "")
    assert reload(runtime, accepted).state == "sent"
    assert [e.rcpt_tos for e in smtp.handler.envelopes] == [["lee@example.com"]]
    later = now + timedelta(hours=2)
    assert send_due(runtime.sessions, smtp.transport(), now=later) == (0, 0)


def test_it_classifies_smtp_answers():
    with pytest.raises(TransportError) as refused:
        SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)).send(
            _minimal_email()
        )
    assert refused.value.permanent is False
    with pytest.raises(ValueError):
        SmtpTransport(SmtpSettings(host="x", starttls=True, ssl=True))


def _minimal_email() -> EmailMessage:
    email = EmailMessage()
    email["From"] = "noreply@cases.example.com"
    email["To"] = "lee@example.com"
    email["Subject"] = "test"
    email.set_content("test")
    return email


def test_it_writes_a_readable_message_into_a_maildir(runtime: Runtime, tmp_path: Path):
    message = queue(runtime, kind="warning", threshold=0.75)
    now = runtime.clock.now()
    maildir = tmp_path / "Maildir"

    assert send_due(runtime.sessions, MaildirTransport(maildir), now=now) == (1, 0)

    box = mailbox.Maildir(maildir, factory=None, create=False)
    [stored] = list(box)
    mail = message_from_bytes(stored.as_bytes(), policy=policy.default)
    assert mail["Message-ID"] == message.message_id
    assert mail["Subject"].startswith("[C-000012] SLA warning: 75 % of the first response")
    assert "Printer on fire" in mail.get_body(("plain",)).get_content()
    assert reload(runtime, message).state == "sent"
