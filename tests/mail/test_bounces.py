"""A hard bounce stops further mail to the address; a soft one does not; an operator can
clear it.  Store tests run on SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from engine.store.outbox import BouncedAddress, OutboxMessage
from mail import bounces
from mail.outbox import queue_notice
from tests.mail.helpers import build
from tests.mail.test_cli import MailCli
from tests.mail.test_outbox import notice_context
from tests.mail.world import DOMAIN, Desk, make_desk


def dsn(recipient: str, status: str, number: int = 1) -> bytes:
    """A delivery status notification as Postfix writes it."""
    return build(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>",
        "To: support@casework.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Auto-Submitted: auto-replied",
        f"Message-ID: <dsn-{number}@mx.customer.example>",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
        body=(
            "--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--R\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Action: failed\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: user unknown\r\n\r\n"
            "--R--\r\n"
        ),
    )


def notice(desk: Desk, now: datetime, to: list[str], key: str) -> OutboxMessage | None:
    with desk.runtime.unit() as work:
        queued = queue_notice(
            work.session,
            case_id=None,
            kind="breach",
            recipients=to,
            sender="Support <support@casework.example>",
            context=notice_context(),
            dedupe_key=key,
            domain=DOMAIN,
            now=now,
            token="case00000001",
        )
        return queued


@pytest.fixture
def desk(db_url: str):
    made = make_desk(db_url)
    yield made
    made.runtime.close()


def test_a_hard_bounce_stops_mail_to_that_address_only(desk: Desk):
    outcome = desk.take(dsn("Gone@Customer.example", "5.1.1"))
    assert outcome.state == "ignored" and desk.cases() == 0  # a bounce never opens a case
    with desk.runtime.unit() as work:
        [row] = bounces.list_bounced(work.session)
        now = work.now
    assert (row.address, row.status, row.bounces) == ("gone@customer.example", "5.1.1", 1)

    mixed = notice(desk, now, ["Gone <gone@customer.example>", "lee@example.com"], "k1")
    assert mixed is not None and mixed.recipients == ["lee@example.com"]
    assert notice(desk, now, ["gone@customer.example"], "k2") is None
    assert desk.count(OutboxMessage) == 1  # nothing stored for a notice nobody can get

    desk.take(dsn("gone@customer.example", "5.1.1", number=2))  # it bounces again
    with desk.runtime.unit() as work:
        assert work.session.get(BouncedAddress, "gone@customer.example").bounces == 2
        assert bounces.clear(work.session, "GONE@customer.example")
        assert not bounces.clear(work.session, "gone@customer.example")
    again = notice(desk, now, ["gone@customer.example"], "k3")
    assert again is not None and again.recipients == ["gone@customer.example"]


def test_a_temporary_failure_or_an_unusable_address_blocks_nothing(desk: Desk):
    assert desk.take(dsn("busy@customer.example", "4.2.2")).state == "ignored"
    assert desk.take(dsn("not an address", "5.1.1", number=2)).state == "ignored"
    assert desk.take(dsn("x" * 400 + "@customer.example", "5.1.1", number=3)).state == "ignored"
    assert desk.count(BouncedAddress) == 0
    with desk.runtime.unit() as work:
        now = work.now
    assert notice(desk, now, ["busy@customer.example"], "k1") is not None


def test_an_operator_lists_and_clears_blocked_addresses(db_url: str, tmp_path: Path):
    desk = make_desk(db_url)
    try:
        desk.take(dsn("gone@customer.example", "5.1.1"))
    finally:
        desk.runtime.close()
    cli = MailCli(db_url, tmp_path)
    [listed] = cli.json("mail", "bounces", "list")
    assert (listed["address"], listed["status"], listed["bounces"]) == (
        "gone@customer.example",
        "5.1.1",
        1,
    )
    assert "sent there again" in cli("mail", "bounces", "clear", "gone@customer.example").stdout
    assert cli.json("mail", "bounces", "list") == []
    refused = cli("mail", "bounces", "clear", "gone@customer.example", code=3)
    assert "not blocked" in refused.stderr
