"""Mail after a merge: a reply to a merged case (by its number, its reply token or the message
it answers) lands in the case it was merged into, along a chain of merges; a stranger quoting
the merged case's number still joins nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.clock import ManualClock
from mail.reply_tokens import case_token
from people import directory
from rules import load_subject
from rules.case_links import merge_case
from tests.mail.helpers import build
from tests.mail.world import Desk, make_desk


@pytest.fixture
def desk(db_url: str, clock: ManualClock) -> Iterator[Desk]:
    desk = make_desk(db_url, clock)
    yield desk
    desk.runtime.close()


def _mail(desk: Desk, sender: str, subject: str, message_id: str, *more: str) -> str | None:
    outcome = desk.take(
        build(
            f"From: {sender}",
            f"Subject: {subject}",
            f"Message-ID: {message_id}",
            *more,
            body=f"{subject}\n",
        )
    )
    assert outcome.state == "processed", outcome.reason
    return outcome.case_number


def _merge(desk: Desk, source: str, target: str) -> None:
    with desk.runtime.unit() as work:
        subject = load_subject(work, directory.user_by_name(work, "alice"))
        merge_case(work, subject, source, target)


def test_replies_to_a_merged_case_land_in_the_case_it_was_merged_into(desk: Desk):
    first = _mail(desk, "carla@kunden.example", "Printer jams", "<p1@k>")
    again = _mail(desk, "carla@kunden.example", "Printer jams (sent twice)", "<p2@k>")
    other = _mail(desk, "otto@kunden.example", "Scanner broken", "<s1@k>")
    assert first and again and other and len({first, again, other}) == 3
    _merge(desk, again, first)
    assert desk.case(again).outcome == f"merged into {first}"
    # the number of the merged case in the subject, and an answer to its first message
    by_number = desk.take(
        build(
            "From: carla@kunden.example",
            f"Subject: Re: [{again}] any news?",
            "Message-ID: <r1@k>",
            body="Any news?\n",
        )
    )
    assert (by_number.case_number, by_number.matched_by) == (
        first,
        f"subject:brackets (merged into {first})",
    )
    by_reference = desk.take(
        build(
            "From: carla@kunden.example",
            "Subject: Re: Printer jams (sent twice)",
            "Message-ID: <r2@k>",
            "In-Reply-To: <p2@k>",
            body="Still jams.\n",
        )
    )
    assert by_reference.case_number == first
    with desk.runtime.unit() as work:  # the reply address of a notice about the duplicate
        token = case_token(work.session, desk.case(again).id)
    by_token = _mail(desk, "carla@kunden.example", "Re: your case", "<r0@k>",
                     f"To: support+{token}@casework.example")  # fmt: skip
    assert by_token == first
    bodies = [p.body for p in desk.posts(first)]
    assert "Any news?" in bodies[-3] and "Still jams." in bodies[-2]
    assert bodies[-1].startswith("Re: your case")
    assert desk.posts(again) == []  # the merged case's stream is the target's now
    # a chain: the target merged on into another case, replies follow to its end
    _merge(desk, first, other)
    assert _mail(desk, "carla@kunden.example", f"Re: [{again}] hello?", "<r3@k>") == other
    # a stranger quoting the merged number joins neither case: a case of their own
    stranger = _mail(desk, "eve@elsewhere.example", f"Re: [{again}] let me in", "<e1@k>")
    assert stranger not in (again, first, other)
