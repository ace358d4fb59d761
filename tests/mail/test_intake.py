"""Intake end to end below IMAP: raw bytes in, cases, posts and inbound rows out.

Runs on SQLite and PostgreSQL with the real rules (participants, followers, SLA clocks).
"""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import select

from engine.run import attachments, cases
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import (
    AuditEntry,
    Case,
    CaseContact,
    Contact,
    CustomerGroup,
    PostAttachment,
)
from mail.mailboxes import add_domain_rule
from mail.reply_tokens import case_token
from people import directory
from rules import load_subject, related_cases_query
from tests.mail.helpers import build
from tests.mail.world import Desk, make_desk


@pytest.fixture
def desk(db_url: str) -> Desk:
    desk = make_desk(db_url)
    yield desk
    desk.runtime.close()


def _new_request(desk: Desk, sender: str = "Carla Kunde <carla@kunden.example>") -> str:
    outcome = desk.take(
        build(
            f"From: {sender}",
            "Subject: Printer jams",
            f"Message-ID: <first-{sender.split('<')[1].split('@')[0]}@kunden.example>",
        )
    )
    assert outcome.state == "processed" and outcome.matched_by == "new"
    assert outcome.case_number is not None
    return outcome.case_number


def test_a_new_request_opens_a_case_raised_by_a_new_contact_with_the_mail_as_first_post(
    desk: Desk,
):
    number = _new_request(desk)
    case = desk.case(number)
    assert case.subject == "Printer jams"
    with desk.runtime.unit() as work:
        contact = work.session.get(Contact, case.main_contact_id)
        assert contact is not None and contact.email == "carla@kunden.example"
        assert contact.name == "Carla Kunde"
        assert contact.user_id == case.raiser_id
        group = work.session.get(CustomerGroup, contact.customer_group_id)
        assert group is not None and group.name == "customers"
    [post] = desk.posts(number)
    assert post.body.startswith("Hello, my printer is broken.")
    assert post.author_id == case.raiser_id and not post.internal


def test_a_domain_rule_files_the_new_contact_under_its_customer(desk: Desk):
    with desk.runtime.unit() as work:
        add_domain_rule(work, domain="kunden.example", customer_group="acme")
    case = desk.case(_new_request(desk))
    with desk.runtime.unit() as work:
        group = work.session.get(CustomerGroup, case.customer_group_id)
        assert group is not None and group.name == "acme"


def test_the_same_message_twice_is_taken_in_once(desk: Desk):
    raw = build("From: carla@kunden.example", "Message-ID: <twice@kunden.example>")
    first = desk.take(raw)
    # a second delivery differs only in trace headers and line endings
    again = desk.take(b"Received: from mx by mx2\r\nDelivered-To: x@y\r\n" + raw)
    assert again.duplicate and again.inbound_id == first.inbound_id
    assert desk.cases() == 1
    assert desk.count(InboundMessage) == 1


def _reply(desk: Desk, number: str, *headers: str, sender: str = "carla@kunden.example") -> str:
    outcome = desk.take(
        build(
            f"From: {sender}",
            f"Message-ID: <reply-{len(headers)}-{abs(hash(headers))}@kunden.example>",
            *headers,
            body="Thanks, it works now.\n\nOn Mon, 1 Jan 2024 Support wrote:\n> old text\n",
        )
    )
    assert outcome.state == "processed"
    return f"{outcome.case_number}|{outcome.matched_by}"


def test_replies_thread_by_token_reference_and_subject_and_say_why(desk: Desk):
    number = _new_request(desk)
    with desk.runtime.unit() as work:
        token = case_token(work.session, desk.case(number).id)
    assert _reply(desk, number, f"In-Reply-To: <case-{token}.abc@casework.example>") == (
        f"{number}|token:in-reply-to"
    )
    assert _reply(desk, number, f"To: support+{token}@casework.example") == f"{number}|token:to"
    assert _reply(desk, number, "References: <x@y> <first-carla@kunden.example>") == (
        f"{number}|reference:references"
    )
    subject = f"Subject: Re: [{number}] Printer jams"
    assert _reply(desk, number, subject) == f"{number}|subject:brackets"
    posts = desk.posts(number)
    assert len(posts) == 5
    assert posts[-1].body == "Thanks, it works now."  # the quote is folded away
    assert desk.cases() == 1


def test_a_mailbox_with_its_own_subject_patterns_threads_by_them_only(db_url: str):
    desk = make_desk(db_url, subject_patterns=(("legacy", r"\{(C-\d{6})\}"),))
    try:
        number = _new_request(desk)
        assert _reply(desk, number, f"Subject: Re: {{{number}}} jams") == (
            f"{number}|subject:legacy"
        )
        outcome = desk.take(
            build("From: carla@kunden.example", f"Subject: [{number}]", "Message-ID: <x@k>")
        )
        assert outcome.matched_by == "new"  # the default form is not on its list
    finally:
        desk.runtime.close()


def test_a_stranger_quoting_a_case_number_opens_a_new_case_and_the_attempt_is_kept(desk: Desk):
    number = _new_request(desk)
    known_other = _new_request(desk, "Dora <dora@kunden.example>")
    for sender in ("mallory@evil.example", "dora@kunden.example"):
        outcome = desk.take(
            build(
                f"From: {sender}",
                f"Message-ID: <{sender}.quote@evil.example>",
                f"Subject: Re: [{number}] Printer jams",
                "References: <first-carla@kunden.example>",
            )
        )
        assert outcome.matched_by == "new"
        assert outcome.case_number not in (number, known_other)
        row = desk.inbound(outcome.inbound_id)
        assert number in (row.attempted_match or "")
    assert len(desk.posts(number)) == 1


def test_an_agent_answering_by_mail_joins_the_case(desk: Desk):
    number = _new_request(desk)
    outcome = desk.take(
        build(
            "From: alice@casework.example",
            "Message-ID: <agent-answer@mua.example>",
            f"Subject: Re: [{number}] Printer jams",
        )
    )
    assert (outcome.case_number, outcome.matched_by) == (number, "subject:brackets")


def test_a_reply_to_a_closed_case_opens_a_new_one(desk: Desk):
    number = _new_request(desk)
    with desk.runtime.unit() as work:
        case = desk.case(number)
        work.session.get(Case, case.id).status = "closed"
    outcome = desk.take(
        build("From: carla@kunden.example", f"Subject: Re: [{number}] again", "Message-ID: <c@k>")
    )
    assert outcome.matched_by == "new" and outcome.case_number != number
    assert "closed" in (desk.inbound(outcome.inbound_id).attempted_match or "")
    # the new case follows the closed one up: an agent sees each among the other's related cases
    with desk.runtime.unit() as work:
        alice = load_subject(work, directory.user_by_name(work, "alice"))
        new = desk.case(outcome.case_number)
        related_to_new = [
            c.number for c in work.session.scalars(related_cases_query(alice, new.id))
        ]
        related_to_old = [
            c.number for c in work.session.scalars(related_cases_query(alice, case.id))
        ]
        history = work.session.scalars(
            select(AuditEntry.action).where(AuditEntry.case_id == new.id)
        ).all()
    assert related_to_new == [number] and related_to_old == [outcome.case_number]
    assert "related" in history


def test_auto_replies_and_bounces_are_noted_on_their_case_without_touching_it(desk: Desk):
    number = _new_request(desk)
    with desk.runtime.unit() as work:
        token = case_token(work.session, desk.case(number).id)
    before = desk.case(number)
    ooo = desk.take(
        build(
            "From: carla@kunden.example",
            "Subject: Out of office: Printer jams",
            "Auto-Submitted: auto-replied",
            f"In-Reply-To: <case-{token}.n1@casework.example>",
            "Message-ID: <ooo@kunden.example>",
        )
    )
    bounce = desk.take(
        build(
            "From: MAILER-DAEMON@mx.kunden.example",
            "Subject: Undelivered Mail Returned to Sender",
            "Return-Path: <>",
            "Message-ID: <bounce@mx.kunden.example>",
            body="Your message could not be delivered.\n\n"
            f"Message-ID: <case-{token}.n2@casework.example>\n",
        )
    )
    for outcome, kind in ((ooo, "auto_reply"), (bounce, "bounce")):
        assert outcome.state == "ignored" and outcome.case_number == number
        assert desk.inbound(outcome.inbound_id).kind == kind
    after = desk.case(number)
    assert (after.status, after.row_version, after.updated_at) == (
        before.status,
        before.row_version,
        before.updated_at,
    )
    assert len(desk.posts(number)) == 1
    assert desk.cases() == 1
    with desk.runtime.unit() as work:
        actions = set(
            work.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "mail"))
        )
    assert actions == {"mail_auto_reply", "mail_bounce"}


@pytest.mark.parametrize(
    "header",
    ["List-Id: <users.lists.example>", "Precedence: bulk", "X-Casework-Loop: casework.example"],
)
def test_lists_bulk_and_our_own_loop_never_open_cases(desk: Desk, header: str):
    outcome = desk.take(build(header, "Message-ID: <list@lists.example>"))
    assert outcome.state == "ignored" and outcome.case_number is None
    assert desk.cases() == 0


def test_oversized_and_malformed_mail_is_quarantined_and_the_next_message_still_goes_in(
    db_url: str,
):
    desk = make_desk(db_url, max_bytes=2048)
    try:
        big = desk.take(build("Message-ID: <big@x>", body="x" * 4000))
        broken = desk.take(b"\x00\x01 this is not mail at all")
        good = desk.take(build("Message-ID: <good@x>"))
        assert big.state == broken.state == "quarantined"
        assert "too_large" in (big.reason or "") and "no_headers" in (broken.reason or "")
        assert desk.inbound(big.inbound_id).raw.endswith(b"x" * 100)  # nothing is lost
        assert good.state == "processed" and desk.cases() == 1
    finally:
        desk.runtime.close()


def test_a_failure_inside_processing_quarantines_with_the_error_and_stores_nothing_else(
    db_url: str,
):
    desk = make_desk(db_url)
    try:
        with desk.runtime.unit() as work:  # the mailbox's case type is gone
            work.session.get(Mailbox, desk.mailbox_id).case_type_key = "NOPE"
        outcome = desk.take(build("Message-ID: <m@x>"))
        assert outcome.state == "quarantined"
        assert "NotFound" in (outcome.reason or "") and "NOPE" in (outcome.reason or "")
        assert desk.cases() == 0 and desk.count(Contact) == 0
        assert desk.inbound(outcome.inbound_id).raw.startswith(b"From:")
    finally:
        desk.runtime.close()


def test_opening_cases_still_works_for_agents(desk: Desk):
    """Intake adds nothing the plain engine path needs (a guard for the shared hooks)."""
    with desk.runtime.unit() as work:
        opened = cases.open_case(work, case_type="SUPPORT", subject="by hand", raiser=None)
    assert opened.number.startswith("C-")


def test_an_out_of_office_quoting_a_case_number_is_noted_only_from_a_participant(desk: Desk):
    number = _new_request(desk)
    noted, stranger = (
        desk.take(
            build(
                f"From: {sender}",
                f"Subject: Out of office: Re: [{number}] Printer jams",
                "Auto-Submitted: auto-replied",
                f"Message-ID: <ooo-{sender}>",
            )
        )
        for sender in ("carla@kunden.example", "mallory@evil.example")
    )
    assert (noted.case_number, noted.matched_by) == (number, "subject:brackets")
    assert stranger.case_number is None and stranger.state == "ignored"
    assert desk.cases() == 1 and desk.count(Contact) == 1  # nobody new was created


def test_two_workers_taking_the_same_messages_at_once_store_each_once(desk: Desk):
    raws = [
        build(f"From: p{i}@kunden.example", f"Message-ID: <race{i}@k>", f"Subject: race {i}")
        for i in range(12)
    ]
    outcomes: list[list[object]] = [[], []]

    def worker(slot: int) -> None:
        outcomes[slot] = [desk.take(raw) for raw in raws]

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for first, second in zip(*outcomes, strict=True):
        assert first.inbound_id == second.inbound_id
        assert sorted([first.duplicate, second.duplicate]) == [False, True]
    assert desk.cases() == len(raws) == desk.count(InboundMessage)


def test_an_additional_contact_of_the_case_may_reply_by_case_number(desk: Desk):
    number = _new_request(desk)
    with desk.runtime.unit() as work:
        colleague = directory.add_contact(
            work, name="Colleague", customer_group="customers", email="Kollege@Kunden.example"
        )
        work.session.add(CaseContact(case_id=desk.case(number).id, contact_id=colleague.id))
    outcome = desk.take(
        build(
            "From: kollege@kunden.example",
            "Message-ID: <colleague@k>",
            f"Subject: Re: [{number}] Printer jams",
        )
    )
    assert (outcome.case_number, outcome.matched_by) == (number, "subject:brackets")
    assert desk.posts(number)[-1].body.startswith("Hello")


def test_nul_bytes_and_broken_encodings_anywhere_never_block_intake(desk: Desk):
    nasty = [
        b"From: a\x00b@kunden.example\r\nMessage-ID: <n\x00ul@k>\r\nSubject: \xff\xfe\x00x\r\n"
        b"\r\nbody \x00 with \xc3\x28 bytes\r\n",
        b"Message-ID: <\x00>\r\nContent-Type: text/plain; charset=\x00\r\n\r\n\x00\x00",
    ]
    for raw in nasty:
        outcome = desk.take(raw)
        assert outcome.state in ("processed", "ignored", "quarantined")
        assert outcome.state == "processed" or outcome.reason
    assert desk.take(build("Message-ID: <after@k>")).state == "processed"


def test_attachments_are_kept_with_the_post_they_came_with(desk: Desk):
    pdf = b"%PDF-1.4 the invoice\n"
    outcome = desk.take(
        build(
            "From: carla@kunden.example",
            "Message-ID: <with-file@k>",
            'Content-Type: multipart/mixed; boundary="B"',
            body=(
                b"--B\r\nContent-Type: text/plain\r\n\r\nThe invoice is attached.\r\n"
                b"--B\r\nContent-Type: application/pdf\r\n"
                b'Content-Disposition: attachment; filename="../../invoice 42.pdf"\r\n'
                b"Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(pdf)
                + b"--B--\r\n"
            ),
        )
    )
    [post] = desk.posts(outcome.case_number or "")
    with desk.runtime.unit() as work:
        [listed] = attachments.attachments_of(work, [post.id])[post.id]
        stored = work.session.get(PostAttachment, listed["id"])
        assert stored is not None and stored.content is None  # the bytes are in the file store
        assert attachments.content(work, stored) == pdf
    assert (listed["filename"], listed["content_type"], listed["size"]) == (
        "invoice 42.pdf",  # the path it claimed is dropped
        "application/pdf",
        len(pdf),
    )
    assert "[attachment: invoice 42.pdf, 21 bytes]" in post.body  # the post names it
