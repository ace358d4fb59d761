"""Outgoing mail as the customer's server sees it, through the real SMTP and IMAP servers:
every case type can answer (the default sender stands in for a missing mailbox), each
message is ready for a DKIM signer, and its envelope sender (VERP) brings a bounce back to
the intake, naming the message and recipient even when the report is in no standard form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.run import posts
from engine.store.mailbox import Mailbox
from engine.store.outbox import BouncedAddress
from mail.imap import MailboxPoller
from mail.message.verp import read_verp, verp_address
from mail.outbox import DKIM_HEADERS
from mail.smtp import send_due
from people.directory import user_by_name
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import build
from tests.mail.test_smtp import Server, smtp  # noqa: F401 - the aiosmtpd fixture
from tests.mail.world import DOMAIN, Desk, make_desk

pytestmark = pytest.mark.integration


def _answer(desk: Desk, number: str, body: str) -> None:
    with desk.runtime.unit() as work:
        posts.add_post(work, number=number, author=user_by_name(work, "alice"), body=body)


def test_a_case_type_without_a_mailbox_answers_from_the_default_sender(
    db_url: str,
    smtp: Server,  # noqa: F811
):
    desk = make_desk(db_url, sender="Casework Desk <desk@casework.example>")
    try:
        number = desk.take(build("From: carla@kunden.example")).case_number
        with desk.runtime.unit() as work:  # the type's only mailbox is switched off
            work.session.scalar(select(Mailbox)).active = False
        _answer(desk, number, "We are on it.")
        send_due(desk.runtime.sessions, smtp.transport(), now=desk.runtime.clock.now())
        [envelope] = smtp.handler.envelopes
        [mail] = smtp.handler.messages()
    finally:
        desk.runtime.close()
    assert mail["From"] == "desk@casework.example"
    assert mail["Reply-To"].startswith("desk+") and "We are on it." in mail.get_content()
    assert envelope.rcpt_tos == ["carla@kunden.example"]
    _, recipient = read_verp(envelope.mail_from)
    assert envelope.mail_from.startswith("desk+bounce-") and recipient == "carla@kunden.example"
    assert mail["Return-Path"] is None  # the envelope says it; the receiving side writes it
    for name in DKIM_HEADERS:  # a DKIM signer finds each header it covers exactly once
        assert len(mail.get_all(name, [])) == 1, name
    assert mail["Message-ID"].strip().endswith(f"@{DOMAIN}>")


def test_a_bounce_to_the_verp_address_comes_back_onto_the_case(
    db_url: str,
    dovecot: Dovecot,
    smtp: Server,  # noqa: F811
):
    user = dovecot.new_user()
    desk = make_desk(db_url, port=dovecot.port, tls=False, user=user, password=PASSWORD)
    poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
    try:
        dovecot.append(user, build("From: fred@kunden.example", "Message-ID: <f1@k>"))
        [opened] = poller.poll_once().outcomes
        _answer(desk, opened.case_number, "Try the other tray.")
        send_due(desk.runtime.sessions, smtp.transport(), now=desk.runtime.clock.now())
        [envelope] = smtp.handler.envelopes
        assert envelope.mail_from.startswith("support+bounce-")
        # a server's own form: no report, no original, no daemon sender or bounce subject;
        # only its text and our bounce address
        dovecot.append(
            user,
            build(
                "From: Mail Notifier <notify@mx.kunden.example>",
                f"To: {envelope.mail_from}",
                "Subject: Notification",
                "Message-ID: <nd-1@mx.kunden.example>",
                body="Your message could not be delivered: 550 5.1.1 mailbox unknown.\n",
            ),
        )
        [bounced] = poller.poll_once().outcomes
        assert (bounced.state, bounced.case_number) == ("ignored", opened.case_number)
        assert desk.inbound(bounced.inbound_id).reason.startswith("verp_bounce:")
        note = desk.posts(opened.case_number)[-1]
        assert note.internal and "fred@kunden.example: 5.1.1, hard failure" in note.body
        assert desk.cases() == 1
        with desk.runtime.unit() as work:
            assert work.session.get(BouncedAddress, "fred@kunden.example").hard_bounces == 1
    finally:
        poller.close()
        desk.runtime.close()


def test_a_verp_address_stays_deliverable_and_reads_back():
    long = "a" * 60 + "@kunden.example"
    assert read_verp(verp_address("Support@Casework.Example", 7, "lee@example.com")) == (
        7,
        "lee@example.com",
    )
    assert verp_address("support@casework.example", 7, long) == (
        "support+bounce-7@casework.example"  # a local part over 64 characters would not do
    )
    assert read_verp("support+bounce-7@casework.example") == (7, None)
    assert read_verp("support+abcdefgh12@casework.example") is None
