"""A process step that fails at run time: one ProcessError naming where and why, and a case
left exactly as it was -- also for the live workflow a long-running process keeps cached."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from designer import deploy
from engine.errors import ProcessError
from engine.run import cases, tasks
from engine.runtime import Runtime
from engine.store.models import AuditEntry, Case, HumanTask
from people import directory
from tests.conftest import seed_directory

HERE = Path(__file__).parents[1] / "processes"


@pytest.fixture
def approval(runtime: Runtime) -> Runtime:
    seed_directory(runtime)
    config = deploy.resolve_config(HERE / "approval.bpmn", HERE / "approval.toml", "APPROVAL")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=HERE / "approval.bpmn", config=config)
    return runtime


def _open(rt: Runtime, data: dict[str, object]) -> cases.OpenedCase:
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        return cases.open_case(
            work, case_type="APPROVAL", subject="Laptop", raiser=alice, data=data
        )


def _complete(rt: Runtime, task_id: int, data: dict[str, object]) -> tasks.Completion:
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        return tasks.complete(work, task_id=task_id, user=alice, data=data)


def _state(rt: Runtime) -> tuple[object, ...]:
    with rt.unit() as work:
        case = work.session.scalars(select(Case)).one()
        rows = work.session.execute(
            select(HumanTask.id, HumanTask.state, HumanTask.completed_by_id).order_by(HumanTask.id)
        ).all()
        audit = work.session.scalar(select(func.count()).select_from(AuditEntry))
        return case.status, case.row_version, case.workflow_state, tuple(rows), audit


def test_a_script_that_fails_opens_no_case(approval: Runtime):
    with pytest.raises(ProcessError) as failed:
        _open(approval, {})
    error = failed.value
    assert (error.case, error.element_id, error.element_name) == (
        None,
        "Script_Total",
        "Compute the total",
    )
    assert (error.line, error.code) == (2, "total = amount * items")
    assert error.reason == "NameError: name 'amount' is not defined"
    with approval.unit() as work:
        assert work.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_gateway_that_fails_changes_nothing_and_the_case_goes_on(approval: Runtime):
    opened = _open(approval, {"amount": 900})
    before = _state(approval)
    for _ in range(2):  # the second time from the same runtime, whose cache it must not spoil
        with pytest.raises(ProcessError) as failed:
            _complete(approval, opened.task_ids[0], {"approve": True})
        error = failed.value
        assert (error.case, error.element_id, error.element_name) == (
            opened.number,
            "Gateway_Approved",
            "Approved?",
        )
        assert error.code == "approved == True and total < limit" and error.line is None
        assert error.reason.startswith("NameError: name 'approved' is not defined")
        assert "did you mean 'approve'?" in error.reason
        assert error.details() == {
            "BPMN element": "Gateway_Approved",
            "expression": "approved == True and total < limit",
        }
        assert _state(approval) == before
    # the data the condition needs: false ends the check before it reaches ``limit``
    done = _complete(approval, opened.task_ids[0], {"approved": False})
    assert done.case_status == "closed"
