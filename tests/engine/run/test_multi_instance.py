"""Approval by each member: one task per member named in a list, parallel or in turn, each
only that member's while they belong to a group of the lane."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from designer import deploy
from engine.errors import Forbidden, NotFound, ProcessError
from engine.run import cases, task_queries, tasks
from engine.runtime import Runtime
from people import directory
from tests.conftest import PROCESSES
from tests.engine.definitions.test_definitions import CONFIG, bpmn
from tests.engine.definitions.test_designer_validation import report

EXAMPLE = PROCESSES / "examples" / "approvals.bpmn"


@pytest.fixture
def rt(runtime: Runtime) -> Iterator[Runtime]:
    with runtime.unit() as work:
        for group, members in (("board", ["bea", "ben"]), ("finance", ["fay"]), ("x", ["xi"])):
            directory.add_group(work, name=group)
            for name in members:
                directory.add_user(work, username=name)
                directory.add_member(work, username=name, group=group)
        directory.add_user(work, username="rae")
        deploy.deploy(work, bpmn_path=EXAMPLE, config=deploy.resolve_config(EXAMPLE, None, None))
    yield runtime


def _open(rt: Runtime, approvers: list[str]) -> int:
    with rt.unit() as work:
        rae = directory.user_by_name(work, "rae")
        return cases.open_case(
            work,
            case_type="EXAMPLE_APPROVALS",
            subject="Laptops",
            raiser=rae,
            data={"approvers": approvers},
        ).id


def _inbox(rt: Runtime, name: str) -> list[str]:
    with rt.unit() as work:
        items = task_queries.inbox(work, directory.user_by_name(work, name))
        return [i.task.name for i in items]


def _complete(rt: Runtime, name: str, task_name: str, data: dict | None = None) -> None:
    with rt.unit() as work:
        user = directory.user_by_name(work, name)
        (item,) = [i for i in task_queries.inbox(work, user) if i.task.name == task_name]
        tasks.complete(work, task_id=item.task.id, user=user, data=data)


def _open_tasks(rt: Runtime, case_id: int) -> list[tuple[str, int]]:
    with rt.unit() as work:
        return [(i.task.name, i.task.id) for i in task_queries.case_tasks(work, case_id)]


def test_each_member_gets_their_own_instance_and_only_theirs(rt: Runtime):
    case_id = _open(rt, ["bea", "fay"])
    assert _inbox(rt, "bea") == ["Approve purchase"] and _inbox(rt, "fay") == ["Approve purchase"]
    assert _inbox(rt, "ben") == []  # in the lane's group, but not named
    (bea_task, fay_task) = [task_id for _, task_id in _open_tasks(rt, case_id)]
    with rt.unit() as work, pytest.raises((Forbidden, NotFound)):
        tasks.complete(
            work,
            task_id=fay_task,
            user=directory.user_by_name(work, "bea"),
            data={"approved": True},
        )
    _complete(rt, "bea", "Approve purchase", {"approved": True})
    assert [name for name, _ in _open_tasks(rt, case_id)] == ["Approve purchase"]
    _complete(rt, "fay", "Approve purchase", {"approved": True})
    assert [name for name, _ in _open_tasks(rt, case_id)] == ["Sign order"]
    assert bea_task != fay_task


def test_sequential_instances_come_one_at_a_time_in_list_order(rt: Runtime):
    case_id = _open(rt, ["fay", "bea"])
    _complete(rt, "fay", "Approve purchase", {"approved": True})
    _complete(rt, "bea", "Approve purchase", {"approved": True})
    assert (_inbox(rt, "fay"), _inbox(rt, "bea")) == (["Sign order"], [])
    _complete(rt, "fay", "Sign order")
    assert (_inbox(rt, "fay"), _inbox(rt, "bea")) == ([], ["Sign order"])
    _complete(rt, "bea", "Sign order")
    assert _open_tasks(rt, case_id) == []


def test_a_member_who_leaves_the_lanes_groups_loses_their_instance(rt: Runtime):
    _open(rt, ["bea", "fay"])
    with rt.unit() as work:
        directory.remove_member(work, username="bea", group="board")
    assert _inbox(rt, "bea") == []


def test_a_name_outside_the_lanes_groups_stops_the_step_and_nothing_is_stored(rt: Runtime):
    with pytest.raises(ProcessError) as failed:
        _open(rt, ["bea", "xi"])
    assert "approver = 'xi' names no member of board, finance" in str(failed.value)
    assert _inbox(rt, "bea") == []


def test_a_per_member_task_needs_groups_to_check_members_against():
    body = """<bpmn:userTask id="work" name="Approve" camunda:assignee="${approver}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="${approvers}"
        camunda:elementVariable="approver" /></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>"""
    owner_only = CONFIG.__class__(**{**CONFIG.__dict__, "roles": {}})
    found = [p for p in report(bpmn(body), owner_only) if ": error: " in p]
    assert any("goes to each member in approver, but its lane has no groups" in p for p in found)
