"""Call activities start a linked child case of another deployed case type and wait for it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from designer import deploy
from engine.errors import ProcessError
from engine.run import cases, task_queries, tasks
from engine.runtime import Runtime
from engine.store.access import CaseLink
from people import directory
from tests.conftest import PROCESSES

EXAMPLES = PROCESSES / "examples"


def _deploy(rt: Runtime, name: str) -> None:
    path = EXAMPLES / name
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=path, config=deploy.resolve_config(path, None, None))


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    with runtime.unit() as work:
        for group, member in (("hr", "hana"), ("it-desk", "ivan")):
            directory.add_group(work, name=group)
            directory.add_user(work, username=member)
            directory.add_member(work, username=member, group=group)
    return runtime


def _open(rt: Runtime) -> str:
    with rt.unit() as work:
        hana = directory.user_by_name(work, "hana")
        return cases.open_case(
            work,
            case_type="EXAMPLE_ONBOARDING",
            subject="Welcome Jo",
            raiser=hana,
            data={"employee": "Jo"},
        ).number


def _inbox(rt: Runtime, name: str) -> list[tuple[str, str]]:
    with rt.unit() as work:
        items = task_queries.inbox(work, directory.user_by_name(work, name))
        return [(i.case_number, i.task.name) for i in items]


def test_the_parent_waits_for_a_linked_child_and_gets_its_output(rt: Runtime):
    _deploy(rt, "call-activity-child.bpmn")
    _deploy(rt, "call-activity.bpmn")
    parent = _open(rt)
    ((child, name),) = _inbox(rt, "ivan")
    assert name == "Hand out laptop" and child.startswith("Q-")
    assert _inbox(rt, "hana") == []  # the parent waits
    with rt.unit() as work:
        parent_row = cases.case_by_number(work, parent)
        child_row = cases.case_by_number(work, child)
        assert child_row.subject == "Welcome Jo – Request equipment"
        assert cases.case_data(work, child_row)["employee"] == "Jo"
        links = set(work.session.execute(select(CaseLink.case_id, CaseLink.other_case_id)))
        assert links == {(parent_row.id, child_row.id), (child_row.id, parent_row.id)}
    with rt.unit() as work:
        (item,) = task_queries.inbox(work, directory.user_by_name(work, "ivan"))
        tasks.complete(
            work,
            task_id=item.task.id,
            user=directory.user_by_name(work, "ivan"),
            data={"serial": "SN-42"},
        )
    assert _inbox(rt, "hana") == [(parent, "Welcome the employee")]
    with rt.unit() as work:
        assert cases.case_by_number(work, child).status == "closed"
        data = cases.case_data(work, cases.case_by_number(work, parent))
        assert data["laptop_serial"] == "SN-42" and "serial" not in data


def test_a_call_to_a_case_type_not_deployed_stops_the_step(rt: Runtime):
    _deploy(rt, "call-activity.bpmn")
    with pytest.raises(ProcessError) as failed:
        _open(rt)
    assert "no case type 'equipment_request' is deployed" in str(failed.value)
