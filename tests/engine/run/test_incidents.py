"""A failing step becomes an incident on its case -- element, expression, reason, the
action to replay -- while the case stays as it was; after a fix (deploy + migrate) a
retry replays the step and resolves the incident."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer import deploy, migration
from engine.errors import NotFound, ProcessError
from engine.run import cases, task_queries, tasks
from engine.runtime import Runtime
from people import directory
from rules import incident_acts, load_subject, task_acts
from tests.conftest import seed_directory

HERE = Path(__file__).parents[1] / "processes"


@pytest.fixture
def approval(runtime: Runtime) -> Runtime:
    seed_directory(runtime)
    config = deploy.resolve_config(HERE / "approval.bpmn", HERE / "approval.toml", "APPROVAL")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=HERE / "approval.bpmn", config=config)
    return runtime


def _open(rt: Runtime) -> cases.OpenedCase:
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        return cases.open_case(
            work, case_type="APPROVAL", subject="Laptop", raiser=alice, data={"amount": 900}
        )


def _complete(rt: Runtime, task_id: int) -> tasks.Completion:
    with rt.unit() as work:
        alice = directory.user_by_name(work, "alice")
        return task_acts.complete(
            work, load_subject(work, alice), alice, task_id, {"approve": True}
        )


def _listed(rt: Runtime, who: str | None = None) -> list[dict]:
    with rt.unit() as work:
        subject = load_subject(work, directory.user_by_name(work, who)) if who else None
        return incident_acts.list_incidents(work, subject)


def test_a_failing_gateway_is_an_incident_and_a_retry_after_the_fix_resolves_it(
    approval: Runtime, tmp_path: Path
):
    opened = _open(approval)
    with pytest.raises(ProcessError) as failed:
        _complete(approval, opened.task_ids[0])
    assert failed.value.incident == 1
    assert str(failed.value).startswith(
        f"{opened.number}: the process step 'Approved?' failed: NameError: name 'approved' is "
        "not defined (did you mean 'approve'?); nothing was changed; recorded as incident 1"
    )
    [incident] = _listed(approval, "alice")
    assert (incident["case"], incident["element_id"], incident["code"], incident["action"]) == (
        opened.number,
        "Gateway_Approved",
        "approved == True and total < limit",
        "complete",
    )
    assert _listed(approval, "sam") == []  # not a manager of the case: nothing to see
    with approval.unit() as work, pytest.raises(NotFound, match="no incident 1"):
        sam = directory.user_by_name(work, "sam")
        incident_acts.show_incident(work, load_subject(work, sam), 1)
    with pytest.raises(ProcessError):  # the same step again: one incident, two attempts
        _complete(approval, opened.task_ids[0])
    assert [(i["id"], i["attempts"]) for i in _listed(approval)] == [(1, 2)]
    with approval.unit() as work:  # the task is still open: nothing of it was stored
        assert task_queries.get_task(work, opened.task_ids[0]).state == "open"

    fixed = tmp_path / "approval.bpmn"
    fixed.write_text(
        (HERE / "approval.bpmn")
        .read_text()
        .replace("approved == True and total &lt; limit", "approve == True and total &lt; 1000")
    )
    config = deploy.resolve_config(fixed, HERE / "approval.toml", "APPROVAL")
    with approval.unit() as work:
        version = deploy.deploy(work, bpmn_path=fixed, config=config).version
    migration.migrate(approval, key="APPROVAL", to_version=version)
    with approval.unit() as work:
        alice = directory.user_by_name(work, "alice")
        retried = incident_acts.retry_incident(work, load_subject(work, alice), alice, 1)
    assert (retried["state"], retried["attempts"]) == ("resolved", 2)
    assert _listed(approval) == []
    with approval.unit() as work:
        case = cases.case_by_number(work, opened.number)
        assert case.status == "closed"
        assert task_queries.get_task(work, opened.task_ids[0]).state == "completed"
