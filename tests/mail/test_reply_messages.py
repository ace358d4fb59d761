"""A customer's mail reply delivers the case type's reply message: "wait for the customer"
works by mail, and a reply the case does not wait for is a post as ever."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from designer import deploy
from engine.run import cases, tasks
from engine.store.models import HumanTask
from mail.mailboxes import add_mailbox
from people.directory import user_by_name
from tests.conftest import PROCESSES
from tests.mail.helpers import build
from tests.mail.world import Desk, make_desk, support_mailbox

pytestmark = pytest.mark.integration
QUESTION = PROCESSES / "examples" / "question.bpmn"


@pytest.fixture
def desk(db_url: str) -> Desk:
    desk = make_desk(db_url, with_mailbox=False)
    with desk.runtime.unit() as work:
        deploy.deploy(work, bpmn_path=QUESTION, config=deploy.resolve_config(QUESTION, None, None))
    with desk.runtime.unit() as work:
        desk.mailbox_id = add_mailbox(work, support_mailbox(case_type="QUESTION")).id
    yield desk
    desk.runtime.close()


def open_tasks(desk: Desk, number: str) -> list[str]:
    case_id = desk.case(number).id
    with desk.runtime.unit() as work:
        return list(
            work.session.scalars(
                select(HumanTask.element_id).where(
                    HumanTask.case_id == case_id, HumanTask.state == "open"
                )
            )
        )


def test_the_customers_reply_is_the_message_the_case_waits_for(desk: Desk):
    number = desk.take(
        build("From: carla@kunden.example", "Message-ID: <q1@k>", "Subject: Invoice?")
    ).case_number
    early = desk.take(
        build("From: carla@kunden.example", "Message-ID: <q2@k>", f"Subject: [{number}] more")
    )
    assert early.case_number == number  # not awaited yet: a post, nothing more
    assert open_tasks(desk, number) == ["Task_Ask"]
    with desk.runtime.unit() as work:
        task_id = work.session.scalar(
            select(HumanTask.id).where(HumanTask.element_id == "Task_Ask")
        )
        tasks.complete(work, task_id=task_id, user=user_by_name(work, "alice"))
    assert desk.case(number).waits_for == "|message:customer_replied|signal:outage_over|"
    desk.take(
        build(
            "From: carla@kunden.example",
            "Message-ID: <q3@k>",
            f"Subject: Re: [{number}] Invoice?",
            body="Yes, the address is Main Street 1.\n",
        )
    )
    assert open_tasks(desk, number) == ["Task_Read"]
    with desk.runtime.unit() as work:
        data = cases.case_data(work, cases.case_by_number(work, number))
    assert data["reply"].startswith("Yes, the address is Main Street 1.")
    assert [p.body.splitlines()[0] for p in desk.posts(number)][-1] == (
        "Yes, the address is Main Street 1."
    )
