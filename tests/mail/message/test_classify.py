"""classify: one hand-written message per header rule, priorities, and bounce details."""

from __future__ import annotations

import pytest

from mail.message import classify, make_message_id, parse_message
from mail.message.classify import RULES
from tests.mail.helpers import build

OURS = {"casework.example"}


def kind_of(*headers: str, body: str = "Hello\n") -> tuple[str, str]:
    result = classify(parse_message(build(*headers, body=body)), our_domains=OURS)
    assert result.reason
    return result.kind, result.rule


@pytest.mark.parametrize(
    ("headers", "kind", "rule"),
    [
        (["X-Casework-Loop: 1"], "loop", "own_loop_header"),
        (["Message-ID: <x1@mail.casework.example>"], "loop", "own_message_id"),
        (["X-Loop: support@casework.example"], "loop", "own_x_loop"),
        (["Auto-Submitted: auto-replied"], "auto_reply", "auto_submitted"),
        (["Auto-Submitted: auto-generated"], "auto_reply", "auto_submitted"),
        (["Auto-Submitted: auto-notified"], "auto_reply", "auto_submitted"),
        (["Auto-Submitted: auto-replied (vacation)"], "auto_reply", "out_of_office"),
        (
            ["Auto-Submitted: auto-replied", "Subject: Out of office until Monday"],
            "auto_reply",
            "out_of_office",
        ),
        (
            ["X-Auto-Response-Suppress: All", "X-MS-Exchange-Inbox-Rules-Loop: a@customer.example"],
            "auto_reply",
            "out_of_office",
        ),
        (
            ["X-MS-Exchange-Inbox-Rules-Loop: alice@customer.example"],
            "auto_reply",
            "exchange_rules_loop",
        ),
        (["X-Auto-Response-Suppress: All"], "auto_reply", "auto_response_suppress"),
        (["X-Auto-Response-Suppress: OOF, AutoReply"], "auto_reply", "auto_response_suppress"),
        (["X-Autoreply: yes"], "auto_reply", "x_autoreply"),
        (["X-Autorespond: Printer broken"], "auto_reply", "x_autorespond"),
        (["Precedence: auto_reply"], "auto_reply", "precedence_auto_reply"),
        (["X-FC-Machinegenerated: true"], "auto_reply", "machine_generated"),
        (["Subject: Automatic reply: Printer broken"], "auto_reply", "auto_reply_subject"),
        (["From: MAILER-DAEMON@mx.customer.example"], "auto_reply", "machine_sender"),
        (["From: postmaster@customer.example"], "auto_reply", "machine_sender"),
        (["Return-Path: <>"], "auto_reply", "null_return_path"),
        (["From: undisclosed-recipients:;"], "auto_reply", "no_sender"),
        (["Precedence: bulk"], "list", "precedence_bulk"),
        (["Precedence: junk"], "list", "precedence_bulk"),
        (["Precedence: list"], "list", "precedence_bulk"),
        (["List-Id: Printers <printers.lists.example.org>"], "list", "list_id"),
        (["List-Unsubscribe: <mailto:leave@lists.example.org>"], "list", "list_unsubscribe"),
        (["Mailing-List: contact printers-help@lists.example.org"], "list", "mailing_list"),
        (["X-Loop: printers@lists.example.org"], "list", "x_loop"),
        (["X-Mailman-Version: 2.1.39"], "list", "list_software"),
        (["Auto-Submitted: no"], "human", "none"),
        (["Precedence: first-class"], "human", "none"),
        ([], "human", "none"),
    ],
)
def test_it_applies_each_header_rule(headers: list[str], kind: str, rule: str):
    assert kind_of(*headers) == (kind, rule)


def test_it_has_one_row_per_rule_name():
    names = [name for name, _, _ in RULES]
    assert len(names) == len(set(names))


def test_it_keeps_every_matching_rule_as_a_signal():
    result = classify(
        parse_message(build("Auto-Submitted: auto-replied", "Precedence: bulk", "List-Id: <l>")),
        our_domains=OURS,
    )
    assert result.kind == "auto_reply"
    assert [s.split(":")[0] for s in result.signals] == [
        "auto_submitted",
        "precedence_bulk",
        "list_id",
    ]


def test_it_lets_our_loop_header_beat_everything():
    assert kind_of("X-Casework-Loop: 1", "Auto-Submitted: auto-replied", "Precedence: bulk") == (
        "loop",
        "own_loop_header",
    )
    result = classify(
        parse_message(build("X-Other-Loop: 1")), our_domains=OURS, loop_header="X-Other-Loop"
    )
    assert result.kind == "loop"


def test_it_needs_a_machine_sender_for_a_subject_only_bounce():
    subject = "Subject: Undelivered Mail Returned to Sender"
    assert kind_of(subject) == ("human", "none")  # a person may forward a bounce
    assert kind_of(subject, "From: MAILER-DAEMON@mx.example.org")[0] == "bounce"
    assert kind_of(subject, "Return-Path: <>") == ("bounce", "dsn_heuristic")
    assert kind_of(subject, "From: Mail Delivery System <>") == ("bounce", "dsn_heuristic")
    assert (
        kind_of(
            "Subject: Delivery Status Notification (Failure)",
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        )[0]
        == "bounce"
    )
    assert (
        kind_of(
            "Subject: Mail delivery failed: returning message to sender",
            "From: Mail Delivery System <Mailer-Daemon@mx.example.org>",
        )[0]
        == "bounce"
    )


def test_it_reads_a_heuristic_bounce_from_the_body():
    ours = make_message_id("abcdefgh12", "casework.example", "42")
    result = classify(
        parse_message(
            build(
                "From: MAILER-DAEMON@mx.example.org",
                "Subject: failure notice",
                "X-Failed-Recipients: gone@customer.example",
                body=f"550 5.1.1 no such user\n--- original message ---\nMessage-ID: {ours}\n",
            )
        ),
        our_domains=OURS,
    )
    assert (result.kind, result.original_message_id) == ("bounce", ours)
    assert (result.failed_recipient, result.status) == ("gone@customer.example", "5.1.1")


def _dsn(original_part: str) -> bytes:
    return build(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>",
        "To: support@casework.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Auto-Submitted: auto-replied",
        "Message-ID: <dsn-1@mx.casework.example>",  # our own MTA wrote it: still a bounce
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
        body=(
            "--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--R\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
            "Final-Recipient: rfc822; gone@customer.example\r\n"
            "Original-Recipient: rfc822;gone@customer.example\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: user unknown\r\n\r\n"
            f"--R\r\n{original_part}\r\n--R--\r\n"
        ),
    )


@pytest.mark.parametrize("part_type", ["message/rfc822", "text/rfc822-headers"])
def test_it_extracts_our_original_message_id_from_a_bounce(part_type: str):
    ours = make_message_id("abcdefgh12", "casework.example", "20240102.1")
    original = (
        f"Content-Type: {part_type}\r\n\r\n"
        f"From: support@casework.example\r\nTo: gone@customer.example\r\n"
        f"Message-ID: {ours}\r\nSubject: Your case [C-000123]\r\n\r\nWe fixed it.\r\n"
    )
    result = classify(parse_message(_dsn(original)), our_domains=OURS)
    assert result.kind == "bounce" and result.rule == "delivery_report"
    assert result.original_message_id == ours == "<case-abcdefgh12.20240102.1@casework.example>"
    assert result.failed_recipient == "gone@customer.example"
    assert result.status == "5.1.1"
    assert any(s.startswith("auto_submitted") for s in result.signals)


def test_it_treats_read_receipts_as_automatic():
    raw = build(
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"',
        body="--R\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--R\r\n"
        "Content-Type: message/disposition-notification\r\n\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--R--\r\n",
    )
    result = classify(parse_message(raw), our_domains=OURS)
    assert (result.kind, result.rule) == ("auto_reply", "other_report")
