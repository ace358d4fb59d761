"""A BPMN timer marked as an SLA sends the breach notice a TOML target sends, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from designer import deploy
from engine.definitions.compiler import compile_definition
from engine.run import cases, task_queries, tasks, timers
from engine.runtime import Runtime
from engine.store.outbox import OutboxMessage
from mail.settings import MailSettings
from people import directory
from tests.conftest import PROCESSES, wired_app
from tests.engine.definitions.test_definitions import bpmn
from tests.engine.definitions.test_designer_validation import report

EXAMPLE = PROCESSES / "examples" / "sla-timer.bpmn"


@pytest.fixture
def rt(db_url: str, clock) -> Iterator[Runtime]:
    settings = MailSettings(domain="example.test", sender="desk@example.test")
    runtime = wired_app(db_url, clock, settings).runtime
    with runtime.unit() as work:
        for group, member in (("desk", "ann"), ("desk-leads", "lee")):
            directory.add_group(work, name=group)
            directory.add_user(work, username=member).email = f"{member}@example.test"
            directory.add_member(work, username=member, group=group)
        directory.add_user(work, username="carol")
        config = deploy.resolve_config(EXAMPLE, None, None)
        deploy.deploy(work, bpmn_path=EXAMPLE, config=config)
    yield runtime
    runtime.close()


def _notices(rt: Runtime) -> list[tuple[str, list[str], str]]:
    with rt.unit() as work:
        rows = work.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.kind, m.recipients, m.dedupe_key) for m in rows]


def test_it_mails_the_breach_to_the_escalation_group_once_when_the_timer_fires(rt, clock):
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        opened = cases.open_case(
            work, case_type="EXAMPLE_SLA_TIMER", subject="Printer on fire", raiser=carol
        )
    clock.advance(timedelta(hours=1, minutes=59))
    timers.sweep(rt)
    assert [n for n in _notices(rt) if n[0] == "breach"] == []
    clock.advance(timedelta(minutes=2))
    assert timers.sweep(rt) == [opened.number]
    clock.advance(timedelta(hours=5))
    timers.sweep(rt)
    breaches = [n for n in _notices(rt) if n[0] == "breach"]
    assert [(kind, to) for kind, to, _ in breaches] == [("breach", ["lee@example.test"])]
    assert breaches[0][2].startswith(f"breach:case={opened.id}:timer=answer:threshold=1.0:")
    with rt.unit() as work:
        subject = work.session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.kind == "breach")
        ).one()
    assert subject == f"[{opened.number}] SLA breached: answer target – Printer on fire"


def test_a_timer_answered_in_time_sends_nothing(rt, clock):
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        opened = cases.open_case(
            work, case_type="EXAMPLE_SLA_TIMER", subject="Quick one", raiser=carol
        )
    with rt.unit() as work:
        (item,) = task_queries.case_tasks(work, opened.id)
        tasks.complete(work, task_id=item.task.id, user=directory.user_by_name(work, "ann"))
    clock.advance(timedelta(hours=3))
    timers.sweep(rt)
    assert [n for n in _notices(rt) if n[0] == "breach"] == []


def test_the_sla_property_anywhere_but_on_a_timer_is_refused_where_written():
    body = """<bpmn:userTask id="work" name="Work">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="sla" value="answer" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>"""
    assert [p for p in report(bpmn(body)) if ": error: " in p] == [
        "t.bpmn:11:11: error: work: 'Work' has the property sla, which only a timer event "
        "(boundary or intermediate) can have: draw a timer on it and put the property there"
    ]


def test_the_example_names_its_sla_timer_and_target():
    config = deploy.resolve_config(EXAMPLE, None, None)
    compiled = compile_definition(EXAMPLE.read_bytes(), config, source="x.bpmn")
    assert compiled.sla_timers == {"Timer_AnswerOverdue": "answer"}
