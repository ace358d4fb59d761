"""Mail to customers: an agent's answer goes out through a real SMTP server with the
threading headers, and the customer's reply to it comes back into the same case."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message

import pytest
from sqlalchemy import select

from engine.run import posts
from engine.store.mailbox import Mailbox
from engine.store.outbox import OutboxMessage
from mail.replies import ACK_LIMIT_PER_DAY
from mail.smtp import SmtpSettings, SmtpTransport, send_due
from people.directory import user_by_name
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, Desk, make_desk
from tests.rules.test_sla_mail import smtp  # noqa: F401 - the aiosmtpd fixture

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(db_url: str) -> Desk:
    desk = make_desk(db_url)
    yield desk
    desk.runtime.close()


def _post(desk: Desk, number: str, author: str, body: str, internal: bool = False) -> None:
    with desk.runtime.unit() as work:
        posts.add_post(
            work, number=number, author=user_by_name(work, author), body=body, internal=internal
        )


def _send(desk: Desk, port: int, inbox) -> list[Message]:  # type: ignore[no-untyped-def]
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))
    send_due(desk.runtime.sessions, transport, now=desk.runtime.clock.now())
    return [message_from_bytes(c, policy=policy.default) for _, _, c in inbox.envelopes]


def _customer_mail(desk: Desk) -> list[OutboxMessage]:
    with desk.runtime.unit() as work:
        return list(
            work.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind.in_(("case_reply", "ack")))
                .order_by(OutboxMessage.id)
            )
        )


def test_an_agents_answer_reaches_the_customer_and_their_reply_threads_back(desk: Desk, smtp):  # noqa: F811
    port, inbox = smtp
    opened = desk.take(
        build("From: Carla <carla@kunden.example>", "Message-ID: <q1@kunden.example>")
    )
    number = opened.case_number
    _post(desk, number, "alice", "Please restart the printer.")
    _post(desk, number, "alice", "Checked the logs: the driver is old.", internal=True)
    [mail] = _send(desk, port, inbox)
    assert inbox.envelopes[0][1] == ["carla@kunden.example"]
    assert mail["From"] == "support@casework.example"
    token_address = mail["Reply-To"]
    assert token_address.startswith("support+") and token_address.endswith("@casework.example")
    token = token_address.split("+")[1].split("@")[0]
    our_id = str(mail["Message-ID"]).strip()  # a long id is folded onto its own line
    assert our_id.startswith(f"<case-{token}.") and our_id.endswith(f"@{DOMAIN}>")
    assert mail["In-Reply-To"] == "<q1@kunden.example>"
    assert "<q1@kunden.example>" in mail["References"]
    assert mail["Subject"] == f"[{number}] Printer broken"
    assert mail["Auto-Submitted"] is None and mail["Precedence"] is None  # a person wrote it
    assert "Please restart the printer." in mail.get_content()
    assert "driver" not in mail.as_string()  # the internal note stays inside
    # the customer answers a minute later from a client that keeps only In-Reply-To
    desk.runtime.clock.advance(timedelta(minutes=1))
    reply = desk.take(
        build(
            "From: carla@kunden.example",
            "Message-ID: <q2@kunden.example>",
            "Subject: Re: printer",
            f"In-Reply-To: {our_id}",
        )
    )
    assert (reply.case_number, reply.matched_by) == (number, "token:in-reply-to")
    # and the next answer carries the whole thread
    desk.runtime.clock.advance(timedelta(minutes=1))
    _post(desk, number, "alice", "Did it help?")
    last = _customer_mail(desk)[-1]
    assert last.headers["In-Reply-To"] == "<q2@kunden.example>"
    assert last.headers["References"].split() == [
        "<q1@kunden.example>",
        our_id,
        "<q2@kunden.example>",
    ]


def test_internal_notes_and_the_customers_own_posts_are_never_mailed_to_them(desk: Desk):
    number = desk.take(build("From: carla@kunden.example")).case_number
    _post(desk, number, "alice", "internal only", internal=True)
    desk.take(build("From: carla@kunden.example", "Message-ID: <more@k>", f"Subject: [{number}]"))
    assert _customer_mail(desk) == []


def test_acknowledgements_are_automatic_and_limited_per_address_and_day(desk: Desk):
    with desk.runtime.unit() as work:
        work.session.scalar(select(Mailbox)).acknowledge = True
    for n in range(ACK_LIMIT_PER_DAY + 2):
        desk.take(build("From: carla@kunden.example", f"Message-ID: <ack{n}@k>"))
    desk.take(build("From: dora@kunden.example", "Message-ID: <dora@k>"))
    acks = _customer_mail(desk)
    assert [a.recipients for a in acks].count(["carla@kunden.example"]) == ACK_LIMIT_PER_DAY
    assert acks[-1].recipients == ["dora@kunden.example"]
    assert acks[0].headers["Auto-Submitted"] == "auto-generated"
    assert acks[0].headers["In-Reply-To"] == "<ack0@k>"
    assert acks[0].headers["Reply-To"].startswith("support+")
    assert desk.cases() == ACK_LIMIT_PER_DAY + 3
