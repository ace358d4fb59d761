"""The triage queue: mail naming a case its sender takes no part in, held for an agent.

Runs on SQLite and PostgreSQL with the real rules.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

import mail.held
from engine.errors import Conflict, InvalidInput
from engine.store.mailbox import InboundMessage
from engine.store.models import AuditEntry, CaseContact, Contact
from mail.mailboxes import add_mailbox
from people import directory
from tests.mail.helpers import build
from tests.mail.world import DOMAIN, Desk, make_desk, support_mailbox


@pytest.fixture
def desk(db_url: str) -> Desk:
    desk = make_desk(db_url, refused_match="triage")
    yield desk
    desk.runtime.close()


def _request(desk: Desk) -> str:
    outcome = desk.take(
        build(
            "From: Carla Kunde <carla@kunden.example>",
            "Subject: Printer jams",
            "Message-ID: <first-carla@kunden.example>",
        )
    )
    assert outcome.matched_by == "new" and outcome.case_number is not None
    return outcome.case_number


def _foreign_reply(desk: Desk, number: str, sender: str = "Erik <erik@partner.example>"):  # type: ignore[no-untyped-def]
    return desk.take(
        build(
            f"From: {sender}",
            "Message-ID: <erik-1@partner.example>",
            f"Subject: Re: [{number}] Printer jams",
            body="I am Carla's colleague: the printer on our floor jams too.\n",
        )
    )


def _agent(desk: Desk, name: str = "alice"):  # type: ignore[no-untyped-def]
    with desk.runtime.unit() as work:
        return directory.user_by_name(work, name)


def test_mail_naming_a_foreign_case_waits_for_triage_and_touches_nothing(desk: Desk):
    number = _request(desk)
    cases_before = desk.cases()
    held = _foreign_reply(desk, number)
    assert held.state == "triage" and held.case_number is None
    assert desk.cases() == cases_before  # no case opened ...
    assert len(desk.posts(number)) == 1  # ... nothing added to the case it named
    with desk.runtime.unit() as work:  # ... and the stranger did not become a contact
        assert (
            work.session.scalar(select(Contact.id).where(Contact.email == "erik@partner.example"))
            is None
        )
        waiting = mail.held.held(work)
    assert [row.id for row, _ in waiting] == [held.inbound_id]
    assert number in (waiting[0][0].attempted_match or "")


def test_an_agent_threads_it_into_the_case_and_the_sender_joins_that_case(desk: Desk):
    number = _request(desk)
    held = _foreign_reply(desk, number)
    with desk.runtime.unit() as work:
        decided = mail.held.thread_into(
            work, held.inbound_id, number=number, agent=_agent(desk), domain=DOMAIN
        )
    assert (decided.state, decided.case_number, decided.matched_by) == (
        "processed",
        number,
        "triage:alice",
    )
    assert desk.posts(number)[-1].body.startswith("I am Carla's colleague")
    row = desk.inbound(held.inbound_id)
    assert number in (row.attempted_match or "")  # why it was held stays on record
    with desk.runtime.unit() as work:
        contact_id = work.session.scalar(
            select(Contact.id).where(Contact.email == "erik@partner.example")
        )
        case_id = desk.case(number).id
        assert work.session.get(CaseContact, (case_id, contact_id)) is not None
        decision = work.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "mail_triaged")
        )
        assert decision is not None and decision.case_id == case_id
    # the sender now takes part in the case: their next mail threads by itself
    follow_up = desk.take(
        build(
            "From: erik@partner.example",
            "Message-ID: <erik-2@partner.example>",
            f"Subject: Re: [{number}] Printer jams",
            body="Fixed on our floor as well.\n",
        )
    )
    assert (follow_up.state, follow_up.case_number) == ("processed", number)
    assert follow_up.matched_by == "subject:brackets"


def test_an_agent_opens_a_case_of_its_own_for_it(desk: Desk):
    number = _request(desk)
    held = _foreign_reply(desk, number)
    with desk.runtime.unit() as work:
        decided = mail.held.open_case_for(work, held.inbound_id, agent=_agent(desk), domain=DOMAIN)
    assert decided.case_number not in (None, number)
    assert decided.matched_by == "triage:alice"
    opened = desk.case(decided.case_number)
    with desk.runtime.unit() as work:
        contact = work.session.get(Contact, opened.main_contact_id)
        assert contact is not None and contact.email == "erik@partner.example"
    assert len(desk.posts(number)) == 1


def test_a_decided_message_cannot_be_decided_again(desk: Desk):
    number = _request(desk)
    held = _foreign_reply(desk, number)
    with desk.runtime.unit() as work:
        mail.held.open_case_for(work, held.inbound_id, agent=_agent(desk), domain=DOMAIN)
    with desk.runtime.unit() as work, pytest.raises(Conflict, match="not waiting for triage"):
        mail.held.thread_into(
            work, held.inbound_id, number=number, agent=_agent(desk), domain=DOMAIN
        )
    assert len(desk.posts(number)) == 1


def test_a_participant_and_a_new_request_are_never_held(desk: Desk):
    number = _request(desk)
    reply = desk.take(
        build(
            "From: carla@kunden.example",
            "Message-ID: <carla-2@kunden.example>",
            f"Subject: Re: [{number}] Printer jams",
        )
    )
    assert (reply.state, reply.case_number) == ("processed", number)
    with desk.runtime.unit() as work:
        assert mail.held.held(work) == []
        assert (
            work.session.scalar(select(InboundMessage.id).where(InboundMessage.state == "triage"))
            is None
        )


def test_a_mailbox_refuses_an_unknown_policy_for_refused_matches(desk: Desk):
    spec = support_mailbox(
        name="other", group_address="other@casework.example", refused_match="drop"
    )
    with desk.runtime.unit() as work, pytest.raises(InvalidInput) as refused:
        add_mailbox(work, spec)
    assert "refused_match" in refused.value.errors
