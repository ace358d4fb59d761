"""Deploying a changed process and moving running cases onto it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from designer import deploy, migration
from designer.preview import preview_deploy
from engine.definitions.config import CaseTypeConfig
from engine.run import case_types, cases, task_queries, tasks
from engine.store.models import AuditEntry, Case, HumanTask, Timer
from people.directory import user_by_name
from tests.conftest import Support
from tests.designer.process_variants import renamed_and_added, without_investigation

_WAITING = (
    select(Timer.due_at)
    .join(Case, Case.id == Timer.case_id)
    .where(Timer.source == "bpmn", Timer.state == "waiting")
)


def _deploy(support: Support, tmp_path: Path, data: bytes) -> int:
    path = tmp_path / "support.bpmn"
    path.write_bytes(data)
    config = deploy.resolve_config(Path("processes/support.bpmn"), None, "SUPPORT")
    with support.runtime.unit() as work:
        return deploy.deploy(work, bpmn_path=path, config=config).version


def _open(support: Support) -> str:
    with support.runtime.unit() as work:
        carol = support.users["carol"]
        return cases.open_case(work, case_type="SUPPORT", subject="Printer", raiser=carol).number


def _open_tasks(support: Support, number: str) -> list[HumanTask]:
    with support.runtime.unit() as work:
        case = cases.case_by_number(work, number)
        return [i.task for i in task_queries.case_tasks(work, case.id) if i.task.state == "open"]


def _complete(support: Support, number: str, name: str, user: str, data: dict) -> None:
    task = next(t for t in _open_tasks(support, number) if t.name == name)
    with support.runtime.unit() as work:
        tasks.complete(work, task_id=task.id, user=user_by_name(work, user), data=data)


def test_dry_run_deploy_shows_the_changes_and_the_cases_they_touch(support: Support, tmp_path):
    _open(support)
    compiled_path = tmp_path / "support.bpmn"
    compiled_path.write_bytes(without_investigation())
    config = deploy.resolve_config(Path("processes/support.bpmn"), None, "SUPPORT")
    with support.runtime.unit() as work:
        preview = preview_deploy(work, deploy.compile_for(work, compiled_path, config))
    assert (preview.current, preview.same_as, preview.open_cases) == (1, None, 1)
    assert preview.diff is not None
    assert preview.diff.removed == ["Task_Investigate 'Investigate'"]
    assert "- flow Flow_0q4f5zr Task_Investigate -> Task_ProposeResolution" in preview.diff.lines()
    assert (preview.stuck, preview.config_changes) == (0, [])
    with support.runtime.unit() as work:
        assert work.session.scalar(select(Case.version_id)) is not None
        assert case_types.current_version_id(work, "SUPPORT")[0].current_version_id == 1


def test_running_cases_move_to_a_version_with_a_renamed_and_an_added_task(
    support: Support, tmp_path
):
    at_triage, at_propose = _open(support), _open(support)
    triage_row = _open_tasks(support, at_triage)[0]
    with support.runtime.unit() as work:
        tasks.claim(work, task_id=triage_row.id, user=user_by_name(work, "alice"))
        due_before = work.session.scalar(_WAITING.where(Case.number == at_triage))
    _complete(support, at_propose, "Triage case", "alice", {"needs_investigation": False})
    support.runtime.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    version = _deploy(support, tmp_path, renamed_and_added())
    assert version == 2

    report = migration.migrate(support.runtime, key="SUPPORT", to_version=2)

    assert (report.total, sorted(report.moved), report.blocked) == (
        2,
        sorted([at_triage, at_propose]),
        [],
    )
    renamed = _open_tasks(support, at_triage)
    # the same task row, still claimed, under its new name; its 4-hour timer did not restart
    assert [(t.id, t.name, t.claimed_by_id) for t in renamed] == [
        (triage_row.id, "Triage the case", support.users["alice"].id)
    ]
    with support.runtime.unit() as work:
        timers = work.session.scalars(_WAITING.where(Case.number == at_triage)).all()
        assert list(timers) == [due_before]
        versions = set(work.session.scalars(select(Case.version_id)))
        assert versions == {case_types.current_version_id(work, "SUPPORT")[1]}
        moved = work.session.scalars(select(AuditEntry).where(AuditEntry.action == "migrated"))
        assert len(list(moved)) == 2
    assert [t.element_id for t in _open_tasks(support, at_propose)] == ["Task_Propose"]
    _complete(support, at_propose, "Propose resolution", "bob", {"resolution": "Roller"})
    _complete(support, at_propose, "Confirm resolution", "carol", {"resolved": True})
    assert [t.name for t in _open_tasks(support, at_propose)] == ["Send satisfaction survey"]
    _complete(support, at_propose, "Send satisfaction survey", "alice", {})
    with support.runtime.unit() as work:
        assert cases.case_by_number(work, at_propose).status == "closed"
    # moving again finds nothing left to move
    assert migration.migrate(support.runtime, key="SUPPORT", to_version=2).total == 0


def test_a_case_waiting_in_a_removed_task_is_reported_and_left_untouched(
    support: Support, tmp_path
):
    investigating, at_triage = _open(support), _open(support)
    _complete(support, investigating, "Triage case", "alice", {"needs_investigation": True})
    with support.runtime.unit() as work:
        before = work.session.execute(
            select(Case.workflow_state, Case.row_version).where(Case.number == investigating)
        ).one()
    _deploy(support, tmp_path, without_investigation())

    dry = migration.migrate(support.runtime, key="SUPPORT", to_version=2, dry_run=True)
    assert (dry.moved, len(dry.blocked)) == ([at_triage], 1)
    report = migration.migrate(support.runtime, key="SUPPORT", to_version=2)

    assert report.moved == [at_triage]
    assert [(b.number, b.reason) for b in report.blocked] == [
        (
            investigating,
            "it waits in task 'Investigate' (Task_Investigate), which version 2 removes",
        )
    ]
    with support.runtime.unit() as work:
        case = work.session.scalar(select(Case).where(Case.number == investigating))
        assert (case.workflow_state, case.row_version) == tuple(before)
        assert case.version_id != case_types.current_version_id(work, "SUPPORT")[1]
    assert [t.name for t in _open_tasks(support, investigating)] == ["Investigate"]


def _with_subprocess(inner_name: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D"
    targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="sub" name="Sub"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="s2"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="inner" name="{inner_name}"><bpmn:incoming>g1</bpmn:incoming>
        <bpmn:outgoing>g2</bpmn:outgoing></bpmn:userTask>
      <bpmn:endEvent id="e2"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="inner"/>
      <bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="e2"/>
    </bpmn:subProcess>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_task_inside_a_sub_process_follows_its_new_name(support: Support, tmp_path):
    config = CaseTypeConfig(
        key="SUB", name="Sub", prefix="S", roles={"manager": ["service-desk"]}, source="s.toml"
    )
    rt = support.runtime
    for number, name in ((1, "Check"), (2, "Check twice")):
        path = tmp_path / f"v{number}.bpmn"
        path.write_text(_with_subprocess(name))
        with rt.unit() as work:
            deploy.deploy(work, bpmn_path=path, config=config)
        if number == 1:
            with rt.unit() as work:
                case = cases.open_case(
                    work, case_type="SUB", subject="x", raiser=support.users["carol"]
                )
    assert migration.migrate(rt, key="SUB", to_version=2).moved == [case.number]
    assert [t.name for t in _open_tasks(support, case.number)] == ["Check twice"]
    _complete(support, case.number, "Check twice", "alice", {})
    with rt.unit() as work:
        assert cases.case_by_number(work, case.number).status == "closed"


def test_a_case_that_fails_to_move_is_reported_and_the_others_still_move(
    support: Support, tmp_path
):
    broken, fine = _open(support), _open(support)
    with support.runtime.unit() as work:
        work.session.execute(
            update(Case)
            .where(Case.number == broken)
            .values(workflow_state='{"format": "x"}', row_version=Case.row_version + 1)
        )
    _deploy(support, tmp_path, renamed_and_added())
    report = migration.migrate(support.runtime, key="SUPPORT", to_version=2)
    assert report.moved == [fine]
    assert [(b.number, b.reason) for b in report.blocked] == [
        (
            broken,
            "the new version cannot run it (ValueError: unknown workflow state format 'x')",
        )
    ]
