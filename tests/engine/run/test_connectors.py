"""Service tasks as registered connectors: typed inputs, results as variables, retries with
back-off through the worker's job rows, and the case consistent while it waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from designer import deploy
from engine.definitions.compiler import compile_definition
from engine.definitions.connectors import Connector, PermanentFailure, register
from engine.errors import DefinitionError
from engine.run import cases, summaries, task_queries, timers
from engine.runtime import Runtime
from engine.store.models import Timer
from people import directory
from tests.conftest import PROCESSES
from tests.engine.definitions.test_definitions import CONFIG, bpmn
from tests.engine.definitions.test_designer_validation import report

EXAMPLE = PROCESSES / "examples" / "connector.bpmn"


@dataclass(frozen=True)
class Amount:
    amount: int
    note: str | None = None


class Flaky:
    """Fails ``failures`` times, then doubles the amount."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[Amount] = []

    def __call__(self, given: Amount) -> dict[str, Any]:
        self.calls.append(given)
        if len(self.calls) <= self.failures:
            raise ConnectionError("upstream down")
        return {"doubled": given.amount * 2}


def _service(topic: str, inputs: str = "") -> bytes:
    params = f"<camunda:inputOutput>{inputs}</camunda:inputOutput>" if inputs else ""
    return bpmn(
        f"""<bpmn:serviceTask id="call" name="Call" camunda:type="external" camunda:topic="{topic}">
      <bpmn:extensionElements>{params}</bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="next" name="Next"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="next"/>
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end"/>"""
    )


def _deploy(rt: Runtime, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "t.bpmn"
    path.write_bytes(data)
    (tmp_path / "t.toml").write_text(
        '[case_type]\nkey = "T"\nname = "T"\nprefix = "T"\n[roles]\nmanager = ["desk"]\n'
    )
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    with runtime.unit() as work:
        directory.add_group(work, name="desk")
        directory.add_user(work, username="dee")
        directory.add_member(work, username="dee", group="desk")
    return runtime


def _open(rt: Runtime, case_type: str, data: dict[str, Any]) -> int:
    with rt.unit() as work:
        dee = directory.user_by_name(work, "dee")
        return cases.open_case(work, case_type=case_type, subject="Pay", raiser=dee, data=data).id


def _state(rt: Runtime, case_id: int) -> tuple[list[str], dict[str, Any], list[str]]:
    with rt.unit() as work:
        case = cases.case_by_number(work, f"T-{case_id:06d}")
        detail = summaries.case_detail(work, case)
        names = [i.task.name for i in task_queries.case_tasks(work, case_id)]
        history = [h["action"] for h in detail["history"] if h["entity"] == "case"]
        return names, cases.case_data(work, case), history


def _job(rt: Runtime) -> tuple[str, int]:
    with rt.unit() as work:
        row = work.session.execute(
            select(Timer.state, Timer.attempts).where(Timer.source == "connector")
        ).one()
        return row.state, row.attempts


def test_the_shipped_iban_check_runs_on_the_workers_sweep(rt: Runtime, clock):
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=EXAMPLE, config=deploy.resolve_config(EXAMPLE, None, None))
    case_id = _open(rt, "EXAMPLE_CONNECTOR", {"account": "DE89370400440532013000"})
    with rt.unit() as work:
        assert task_queries.case_tasks(work, case_id) == []  # the service task is nobody's
    clock.advance(timedelta(seconds=1))
    timers.sweep(rt)
    with rt.unit() as work:
        assert [i.task.name for i in task_queries.case_tasks(work, case_id)] == ["Pay out"]


def test_a_failing_connector_is_retried_with_back_off_and_the_case_waits(
    rt: Runtime, clock, tmp_path: Path
):
    flaky = Flaky(failures=2)
    register("test.flaky", Connector(inputs=Amount, call=flaky, retries=5,
                                     backoff=timedelta(seconds=30)))  # fmt: skip
    _deploy(rt, tmp_path, _service("test.flaky", '<camunda:inputParameter name="amount">'
                                   "${base + 1}</camunda:inputParameter>"))  # fmt: skip
    case_id = _open(rt, "T", {"base": 20})
    timers.sweep(rt)
    assert _job(rt) == ("waiting", 1) and len(flaky.calls) == 1
    names, data, _ = _state(rt, case_id)  # the case reads and works as before meanwhile
    assert names == [] and data["base"] == 20 and "doubled" not in data
    clock.advance(timedelta(seconds=29))
    timers.sweep(rt)
    assert len(flaky.calls) == 1  # not before its back-off
    clock.advance(timedelta(seconds=2))
    timers.sweep(rt)
    assert _job(rt) == ("waiting", 2)
    clock.advance(timedelta(seconds=59))
    timers.sweep(rt)
    assert len(flaky.calls) == 2  # the wait doubled
    clock.advance(timedelta(seconds=2))
    timers.sweep(rt)
    assert flaky.calls[-1] == Amount(amount=21)
    names, data, history = _state(rt, case_id)
    assert names == ["Next"] and data["doubled"] == 42 and "connector_ran" in history
    assert _job(rt) == ("fired", 3)


def test_retries_used_up_or_a_permanent_failure_leave_the_reason_in_the_history(
    rt: Runtime, clock, tmp_path: Path
):
    def refuse(given: Amount) -> dict[str, Any]:
        raise PermanentFailure(f"account closed for {given.amount}")

    register("test.refuse", Connector(inputs=Amount, call=refuse))
    _deploy(rt, tmp_path, _service("test.refuse"))
    case_id = _open(rt, "T", {"amount": 5})
    timers.sweep(rt)
    assert _job(rt) == ("failed", 1)
    names, _, history = _state(rt, case_id)
    assert names == [] and history[-1] == "connector_failed"
    with rt.unit() as work:
        detail = summaries.case_detail(work, cases.case_by_number(work, f"T-{case_id:06d}"))
    assert detail["history"][-1]["after"] == {"reason": "test.refuse: account closed for 5"}


def test_inputs_of_the_wrong_type_are_refused_before_the_call(rt: Runtime, tmp_path: Path):
    flaky = Flaky(failures=0)
    register("test.typed", Connector(inputs=Amount, call=flaky))
    _deploy(rt, tmp_path, _service("test.typed"))
    case_id = _open(rt, "T", {"amount": "five"})
    timers.sweep(rt)
    assert flaky.calls == [] and _job(rt) == ("failed", 0)  # never called
    with rt.unit() as work:
        detail = summaries.case_detail(work, cases.case_by_number(work, f"T-{case_id:06d}"))
    assert "inputs refused: amount: 'five' is not int" in detail["history"][-1]["after"]["reason"]


def test_deploy_warns_of_an_unknown_connector_and_refuses_an_input_it_does_not_take():
    register("test.typed", Connector(inputs=Amount, call=Flaky(0)))
    problems = report(_service("test.nothing"))
    assert [p for p in problems if ": error: " in p] == []
    [unknown] = [p for p in problems if "test.nothing" in p]
    assert ": warning: call: service task 'Call' names connector 'test.nothing', which is " in (
        unknown
    )
    assert "a case that reaches it stops there with an incident until it is" in unknown
    wrong = _service("test.typed", '<camunda:inputParameter name="sum">1</camunda:inputParameter>')
    found = [p for p in report(wrong) if ": error: " in p]
    assert len(found) == 1
    assert "connector 'test.typed' takes no input 'sum'; its inputs: amount, note" in found[0]
    with pytest.raises(DefinitionError):
        compile_definition(wrong, CONFIG, source="t.bpmn")


def test_a_connector_job_given_up_on_is_a_failed_job_an_operator_retries(
    rt: Runtime, clock, tmp_path: Path
):
    from casework import jobs

    flaky = Flaky(failures=2)
    register("test.down", Connector(inputs=Amount, call=flaky, retries=1))
    _deploy(rt, tmp_path, _service("test.down"))
    case_id = _open(rt, "T", {"amount": 4})
    timers.sweep(rt)
    assert _job(rt) == ("failed", 1)
    with rt.unit() as work:
        [failed] = jobs.failed_jobs(work, None, kind="timer")
    assert failed["what"] == "connector task call" and failed["case"] == f"T-{case_id:06d}"
    assert failed["error"] == "test.down: ConnectionError: upstream down (after 1 attempts)"
    with rt.unit() as work:
        job = jobs.parse_job_id(failed["id"])
        jobs.retry(work, None, job, actor_id=None, domain="casework.example")
    timers.sweep(rt)  # still down: given up again after its one attempt, and listed again
    assert _job(rt) == ("failed", 1) and len(flaky.calls) == 2
    with rt.unit() as work:
        jobs.retry(work, None, job, actor_id=None, domain="casework.example")
    timers.sweep(rt)
    names, data, _ = _state(rt, case_id)
    assert names == ["Next"] and data["doubled"] == 8


JAVA = bpmn(
    """<bpmn:serviceTask id="call" name="Archive" camunda:class="org.acme.Archive">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="next" name="Next"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="next"/>
    <bpmn:sequenceFlow id="f3" sourceRef="next" targetRef="end"/>"""
)


def _incidents(rt: Runtime) -> list[dict[str, Any]]:
    from engine.run import incidents

    with rt.unit() as work:
        return [incidents.describe(work, i) for i in incidents.open_incidents(work)]


def test_an_unknown_connector_reached_is_an_incident_retried_once_installed(
    rt: Runtime, tmp_path: Path
):
    name = f"test.later.{uuid4().hex[:8]}"  # registered below: a name of this run only
    _deploy(rt, tmp_path, _service(name))
    case_id = _open(rt, "T", {"amount": 4})
    timers.sweep(rt)
    [incident] = _incidents(rt)
    assert (incident["case"], incident["element_id"], incident["action"]) == (
        f"T-{case_id:06d}",
        "call",
        "connector",
    )
    assert incident["reason"] == f"connector '{name}' is not installed"
    assert _job(rt) == ("failed", 0)
    register(name, Connector(inputs=Amount, call=Flaky(0)))
    from engine.run import incidents

    with rt.unit() as work:
        incidents.retry(work, incidents.get(work, incident["id"]), actor=None)
    assert _incidents(rt) == []
    timers.sweep(rt)
    names, data, _ = _state(rt, case_id)
    assert names == ["Next"] and data["doubled"] == 8


def test_a_java_service_task_deploys_with_a_warning_and_stops_its_case_with_an_incident(
    rt: Runtime, tmp_path: Path
):
    [warning] = [p for p in report(JAVA) if "org.acme.Archive" in p]
    assert ": warning: call: service task 'Archive' calls the Java class org.acme.Archive, " in (
        warning
    )
    _deploy(rt, tmp_path, JAVA)
    case_id = _open(rt, "T", {})
    timers.sweep(rt)
    [incident] = _incidents(rt)
    assert incident["element_id"] == "call" and incident["action"] == "connector"
    assert incident["reason"].startswith(
        "service task calls the Java class org.acme.Archive, which Casework cannot run; "
        "declare it a manual step"
    )
    names, _, _ = _state(rt, case_id)
    assert names == []  # the case waits at the step, consistent
