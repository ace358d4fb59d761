"""Call activities that start a linked child case of another deployed case type.

When a case reaches such a call activity (``engine.definitions.call_activities``), the
same transaction opens the child case (raised by the parent's raiser, with the variables
the call passes in), links the two cases both ways, so each lists the other among its
related cases, and records the call.  When the child's process completes and the child
closes, the same transaction completes the parent's waiting task with the child's
variables (those the call maps out) and runs the parent on.  A child closed by hand
(``case close``, the API's close) resumes the parent in exactly the same way: the parent
never waits for a child that can no longer finish.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select, update

from engine.definitions.call_activities import EXTENSION
from engine.errors import NotFound, ProcessError
from engine.run import workflows
from engine.runtime import LoadedVersion, UnitOfWork
from engine.store.calls import CaseCall
from engine.store.fast import Prepared
from engine.store.models import Case, CaseType, CaseTypeVersion, User

#: Variables every case has of its own; a call neither passes them in nor back.
OWN = frozenset({"subject", "priority", "case_number", "raiser"})


def start_children(
    work: UnitOfWork,
    case: workflows.CaseRef,
    version: LoadedVersion,
    workflow: BpmnWorkflow,
    ready_before: Any,
) -> None:
    """Open a child case for each call activity that became ready in this transaction."""
    if EXTENSION not in version.extensions:
        return
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        call = (getattr(task.task_spec, "extensions", None) or {}).get(EXTENSION)
        if call is None or str(task.id) in ready_before:
            continue
        _open_child(work, case, task, call)


def _open_child(work: UnitOfWork, case: workflows.CaseRef, task: Any, call: dict) -> None:
    from engine.run import cases  # opening a case saves it through workflows: import late

    key = _case_type_key(work, call["case_type"])
    if key is None:
        raise ProcessError(
            f"no case type '{call['case_type']}' is deployed (by key or process id)",
            case=case.number or None,
            element_id=task.task_spec.bpmn_id,
            element_name=task.task_spec.bpmn_name,
        )
    parent = work.session.execute(
        select(Case.subject, Case.raiser_id, Case.priority).where(Case.id == case.id)
    ).one()
    data = _mapped(task.data, call["in"])
    start_form = _start_fields(work, key)
    if start_form is not None:
        data = {k: v for k, v in data.items() if k in start_form}
    raiser = work.session.get(User, parent.raiser_id) if parent.raiser_id else None
    child = cases.open_case(
        work,
        case_type=key,
        subject=f"{parent.subject} – {task.task_spec.bpmn_name or task.task_spec.bpmn_id}",
        raiser=raiser,
        data=data,
        priority=parent.priority,
    )
    cases.link_cases(work, case.id, child.id, actor_id=None, reason="call activity")
    work.session.add(
        CaseCall(
            parent_case_id=case.id,
            engine_task_id=str(task.id),
            element_id=task.task_spec.bpmn_id,
            child_case_id=child.id,
            state="waiting",
            created_at=work.now,
        )
    )
    work.session.flush()


def _mapped(variables: dict[str, Any], mappings: dict[str, str]) -> dict[str, Any]:
    """The variables a call passes: by its mappings (source -> target), else all but a
    case's own (subject, priority, number, raiser).  A mapped source the case never set
    passes null (``None``), as in Camunda: a child closed by hand before it set its
    results still answers every mapped variable, so the parent's gateway can test
    ``${serial == null}`` instead of failing on a missing name."""
    if mappings:
        return {target: variables.get(src) for src, target in mappings.items()}
    return {k: v for k, v in variables.items() if k not in OWN and not k.startswith("_")}


def _case_type_key(work: UnitOfWork, called: str) -> str | None:
    """The key of the case type a call names: by key, else by its current process id."""
    if work.session.scalar(select(CaseType.key).where(CaseType.key == called)):
        return called
    return work.session.scalar(
        select(CaseType.key)
        .join(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
        .where(CaseTypeVersion.process_id == called)
    )


def _start_fields(work: UnitOfWork, key: str) -> set[str] | None:
    """The fields the case type's start form declares; None when it has no form."""
    from engine.run.case_types import current_version_id

    try:
        _, version_id = current_version_id(work, key)
    except NotFound:
        return None
    version = work.runtime.version(work.session, version_id)
    return {f.id for f in version.start_form} if version.start_form else None


_WAITING_CALL = Prepared(
    select(CaseCall.id, CaseCall.parent_case_id, CaseCall.engine_task_id)
    .where(CaseCall.child_case_id == bindparam("child_id"), CaseCall.state == "waiting")
    .limit(1)
)


def child_closed(work: UnitOfWork, child_id: int, workflow: BpmnWorkflow) -> None:
    """Complete the parent task waiting for this child, with the child's variables."""
    call = _WAITING_CALL.first(work.session, {"child_id": child_id})  # every close asks
    if call is None:
        return
    call_id, parent_case_id, engine_task_id = call
    work.session.execute(update(CaseCall).where(CaseCall.id == call_id).values(state="done"))
    ref = workflows.case_ref(work, parent_case_id)
    if ref is None or ref.status != "open":
        return
    live = workflows.load(work, ref)
    task = live.workflow.get_task_from_id(UUID(engine_task_id))
    if task is None or task.state != TaskState.READY:
        return
    spec = (task.task_spec.extensions or {}).get(EXTENSION, {})
    variables = dict(workflow.data)
    variables.update(workflow.last_task.data if workflow.last_task is not None else {})
    task.set_data(**_mapped(variables, spec.get("out") or {}))
    workflows.run(work, live, completing=task)
    workflows.save(work, live, actor_id=None)
