"""Messages and signals reach waiting cases: catch events, receive tasks, boundary events
(interrupting and not), event-based gateways and message start events -- through the one
door, with "not found" for cases the user may not see and a conflict naming what the
case waits for when it waits for no such message."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from designer import deploy
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import cases, tasks
from engine.run.messages import Delivery
from engine.runtime import Runtime
from engine.store.models import Case, HumanTask
from people import directory
from rules import load_subject, message_acts
from tests.conftest import PROCESSES, seed_directory

EXAMPLES = PROCESSES / "examples"


def deploy_examples(rt: Runtime, *names: str) -> None:
    for name in names:
        path = EXAMPLES / f"{name}.bpmn"
        config = deploy.resolve_config(path, None, None)
        with rt.unit() as work:
            deploy.deploy(work, bpmn_path=path, config=config)


@pytest.fixture
def examples(runtime: Runtime) -> Runtime:
    seed_directory(runtime)
    deploy_examples(runtime, "order", "question", "goods_return")
    return runtime


def open_case(rt: Runtime, case_type: str, data: dict[str, Any] | None = None) -> str:
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        return cases.open_case(
            work, case_type=case_type, subject="Order", raiser=alice, data=data or {}
        ).number


def deliver(
    rt: Runtime,
    number: str,
    name: str,
    data: Any = None,
    *,
    who: str = "alice",
    kind: str = "message",
) -> Delivery:
    with rt.unit() as work:
        user = directory.user_by_name(work, who)
        return message_acts.deliver_to_case(
            work, load_subject(work, user), user, number, kind, name, data
        )


def open_tasks(rt: Runtime, number: str) -> list[str]:
    with rt.unit() as work:
        return list(
            work.session.scalars(
                select(HumanTask.element_id)
                .join(Case, Case.id == HumanTask.case_id)
                .where(Case.number == number, HumanTask.state == "open")
                .order_by(HumanTask.id)
            )
        )


def complete(rt: Runtime, number: str, element: str) -> None:
    with rt.unit() as work:
        task_id = work.session.scalar(
            select(HumanTask.id)
            .join(Case, Case.id == HumanTask.case_id)
            .where(Case.number == number, HumanTask.element_id == element)
        )
        alice = directory.user_by_name(work, "alice")
        tasks.complete(work, task_id=task_id, user=alice)


def status(rt: Runtime, number: str) -> tuple[str, str | None]:
    with rt.unit() as work:
        case = cases.case_by_number(work, number)
        return case.status, case.waits_for


def test_a_receive_task_and_a_catch_event_wait_for_their_messages(examples: Runtime):
    number = open_case(examples, "ORDER")
    complete(examples, number, "Task_Prepare")
    with pytest.raises(Conflict) as refused:
        deliver(examples, number, "goods_shipped")
    assert str(refused.value) == (
        f"case {number} does not wait for message 'goods_shipped'; it waits for message "
        "'payment_received' at 'Wait for payment', message 'order_cancelled' at 'Order cancelled'"
    )
    paid = deliver(examples, number, "payment_received", {"amount": 120})
    assert (paid.caught, paid.case_status) == (["Wait for payment"], "open")
    assert status(examples, number) == ("open", "|message:goods_shipped|")
    deliver(examples, number, "goods_shipped")
    assert open_tasks(examples, number) == ["Task_Close"]
    with examples.unit() as work:
        data = cases.case_data(work, cases.case_by_number(work, number))
    assert data["amount"] == 120  # the message's variables became the case's


def test_a_non_interrupting_boundary_message_adds_work_and_keeps_the_task(examples: Runtime):
    number = open_case(examples, "ORDER")
    deliver(examples, number, "customer_update", {"note": "new address"})
    assert open_tasks(examples, number) == ["Task_Prepare", "Task_Note"]
    with pytest.raises(Conflict, match="it waits for nothing"):  # it catches once
        deliver(examples, number, "customer_update")
    complete(examples, number, "Task_Prepare")
    assert open_tasks(examples, number) == ["Task_Note"]


def test_an_interrupting_boundary_message_cancels_the_wait_and_ends_the_case(examples: Runtime):
    number = open_case(examples, "ORDER")
    complete(examples, number, "Task_Prepare")
    deliver(examples, number, "order_cancelled")
    assert status(examples, number) == ("closed", None)
    with pytest.raises(Conflict, match="is closed"):
        deliver(examples, number, "payment_received")


def test_an_event_based_gateway_takes_the_first_event_and_drops_the_others(examples: Runtime):
    number = open_case(examples, "QUESTION")
    complete(examples, number, "Task_Ask")
    assert status(examples, number) == ("open", "|message:customer_replied|signal:outage_over|")
    deliver(examples, number, "customer_replied", {"answer": "it works"})
    assert open_tasks(examples, number) == ["Task_Read"]
    assert status(examples, number) == ("open", None)
    with examples.unit() as work:  # the gateway's timer went with the branches not taken
        case = cases.case_by_number(work, number)
        assert case.next_timer_due is None


def test_a_signal_reaches_every_waiting_case_of_the_type_the_user_may_change(
    examples: Runtime,
):
    numbers = [open_case(examples, "QUESTION") for _ in range(3)]
    for number in numbers[:2]:
        complete(examples, number, "Task_Ask")
    with examples.unit() as work:
        alice = directory.user_by_name(work, "alice")
        targets = message_acts.signal_targets(
            work, load_subject(work, alice), "QUESTION", "outage_over"
        )
    assert targets == numbers[:2]
    for number in targets:
        deliver(examples, number, "outage_over", kind="signal")
    assert [status(examples, n)[0] for n in numbers] == ["closed", "closed", "open"]
    with examples.unit() as work, pytest.raises(Conflict, match="waits for signal"):
        message_acts.signal_targets(work, load_subject(work, alice), "QUESTION", "outage_over")


def test_who_may_deliver_is_who_may_change_the_case(examples: Runtime):
    number = open_case(examples, "ORDER")
    with pytest.raises(NotFound, match=f"no case {number}"):
        deliver(examples, number, "customer_update", who="sam")  # may not see it
    with pytest.raises(NotFound, match="no case O-999999"):
        deliver(examples, "O-999999", "customer_update")
    with pytest.raises(InvalidInput):
        deliver(examples, number, "customer_update", {"case_number": "X"})
    assert open_tasks(examples, number) == ["Task_Prepare"]


def test_a_message_start_event_opens_a_case_and_correlation_finds_it(examples: Runtime):
    with examples.unit() as work:
        alice = directory.user_by_name(work, "alice")
        opened = message_acts.send_message(
            work,
            load_subject(work, alice),
            alice,
            case_type="RETURN",
            name="return_requested",
            data={"order": "4711"},
        )
    assert opened.caught == ["Return requested"]
    assert open_tasks(examples, opened.case) == ["Task_Inspect"]
    with examples.unit() as work, pytest.raises(NotFound, match="does not start with"):
        message_acts.send_message(
            work, load_subject(work, alice), alice, case_type="ORDER", name="payment_received"
        )


def test_the_event_based_gateways_timer_fires_through_the_worker(examples: Runtime, clock):
    from datetime import timedelta

    from engine.run import timers

    number = open_case(examples, "QUESTION")
    complete(examples, number, "Task_Ask")
    clock.advance(timedelta(days=3, seconds=1))
    assert timers.sweep(examples) == [number]
    assert open_tasks(examples, number) == ["Task_Chase"]
    assert status(examples, number) == ("open", None)


def test_a_creation_rule_opens_a_case_when_an_order_is_cancelled(examples: Runtime):
    from engine.store.access import CaseLink

    number = open_case(examples, "ORDER", {"order_id": "4711"})
    deliver(examples, number, "customer_update")  # ends at "Noted": no rule for that
    complete(examples, number, "Task_Note")
    complete(examples, number, "Task_Prepare")
    deliver(examples, number, "order_cancelled")
    with examples.unit() as work:
        opened = work.session.scalars(select(Case).where(Case.number.like("Q-%"))).all()
        assert [(c.subject, c.status) for c in opened] == [("Why was Order cancelled?", "open")]
        data = cases.case_data(work, opened[0])
        assert (data["order_id"], data["opened_from"]) == ("4711", number)
        closed = cases.case_by_number(work, number)
        assert work.session.get(CaseLink, (opened[0].id, closed.id)) is not None
    assert open_tasks(examples, opened[0].number) == ["Task_Ask"]
