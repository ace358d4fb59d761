"""A customer's reply to a closed case follows its case type's ``[closing]`` policy: with
``replies = "reopen"`` it reopens the case within the grace period (and is posted there);
after the grace period it opens a follow-up case linked to the closed one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.run import case_edits, cases
from engine.store.models import AuditEntry
from tests.conftest import PROCESSES, support_toml
from tests.mail.helpers import build
from tests.mail.world import Desk, make_desk

REOPEN = '\n[closing]\nreplies = "reopen"\ngrace_days = 7\n'


@pytest.fixture
def desk(db_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Desk]:
    desk = make_desk(db_url, clock)
    toml = tmp_path / "support.toml"
    toml.write_text(support_toml(REOPEN).replace('bpmn = "support.bpmn"', ""))
    with desk.runtime.unit() as work:
        config = deploy.resolve_config(PROCESSES / "support.bpmn", toml, "SUPPORT")
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    yield desk
    desk.runtime.close()


def _closed_case(desk: Desk) -> str:
    outcome = desk.take(
        build("From: carla@kunden.example", "Subject: Printer jams", "Message-ID: <a@k>")
    )
    number = outcome.case_number
    assert number is not None
    with desk.runtime.unit() as work:  # the agents withdrew it
        case_edits.cancel(work, cases.case_by_number(work, number), reason="", actor_id=None)
    return number


def _reply(desk: Desk, number: str, n: int) -> tuple[str | None, str | None]:
    outcome = desk.take(
        build(
            "From: carla@kunden.example",
            f"Subject: Re: [{number}] still broken",
            f"Message-ID: <reply{n}@k>",
            body="It jams again.\n",
        )
    )
    assert outcome.state == "processed"
    return outcome.case_number, outcome.matched_by


def test_a_reply_within_the_grace_period_reopens_the_case(desk: Desk, clock: ManualClock):
    number = _closed_case(desk)
    clock.advance(timedelta(days=6))
    assert _reply(desk, number, 1) == (number, "subject:brackets")
    case = desk.case(number)
    assert (case.status, case.outcome, case.closed_at) == ("open", None, None)
    assert desk.posts(number)[-1].body.startswith("It jams again.")
    with desk.runtime.unit() as work:
        [after] = work.session.scalars(
            select(AuditEntry.after).where(
                AuditEntry.case_id == case.id, AuditEntry.action == "reopened"
            )
        ).all()
    assert after == {"status": "open", "by": "reply"}


def test_after_the_grace_period_a_reply_opens_a_follow_up_case(desk: Desk, clock: ManualClock):
    number = _closed_case(desk)
    clock.advance(timedelta(days=8))
    new, how = _reply(desk, number, 2)
    assert how == "new" and new is not None and new != number
    assert desk.case(number).status == "closed"
    assert desk.posts(new)[0].body.startswith("It jams again.")
