"""Delivering BPMN messages and signals to waiting cases.

SpiffWorkflow catches an event only when asked (``send_event``) and does not route it to
a process instance: that is ours.  A case waits for a message or a signal at an
intermediate catch event, a receive task, a boundary event (interrupting or not), a
branch of an event-based gateway or a message start event.  After each save the case
row says what it waits for (``waits_for``, ``|message:paid|signal:outage|``) and the
value of its type's correlation property (``correlation_key``), so a message finds its
case, and a signal every case of a type that waits for it, without loading any other.

A message nobody waits for is never dropped in silence: :func:`deliver` refuses it with
:class:`~engine.errors.Conflict`, naming what the case does wait for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import audit
from engine.clock import engine_time
from engine.errors import Conflict, InvalidInput
from engine.run import incidents, workflows
from engine.run.process_errors import process_error
from engine.run.waits import waiting, waits
from engine.run.workflow_timers import FixedNow
from engine.runtime import LoadedVersion, UnitOfWork
from engine.store.models import Case

#: variables the engine sets when a case opens; a message may not overwrite them
RESERVED = frozenset({"case_number", "raiser"})
MAX_NAME = 200


def check_delivery(kind: str, name: str, data: Any) -> dict[str, Any]:
    """A message's name and payload as the engine takes them: a JSON object of plain
    variable names, none of those the engine sets itself."""
    from engine.run.cases import check_process_data

    if kind not in ("message", "signal"):
        raise InvalidInput(f"unknown event kind '{kind}'", {"kind": "message or signal"})
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"cannot deliver the {kind}", {"name": f"1 to {MAX_NAME} characters"})
    values = check_process_data(data if data is not None else {})
    reserved = sorted(RESERVED & values.keys())
    if reserved:
        raise InvalidInput(
            f"cannot deliver the {kind}",
            {key: "is set by Casework and cannot come with a message" for key in reserved},
        )
    return values


@dataclass(frozen=True)
class Delivery:
    """What delivering answers: the case, the elements that caught it, its status now."""

    case: str
    kind: str
    name: str
    caught: list[str]
    case_status: str
    new_task_ids: list[int]


def deliver(
    work: UnitOfWork,
    case: Case,
    kind: str,
    name: str,
    data: dict[str, Any],
    *,
    actor_id: int | None,
) -> Delivery:
    """Deliver one message or signal to a case that waits for it, and run the case on.

    Refused with :class:`Conflict` when the case is closed or does not wait for it; a
    step that then fails is a :class:`~engine.errors.ProcessError` and nothing changes.
    """
    with incidents.attempt("message", event=kind, name=name, data=data, actor_id=actor_id):
        return _deliver(work, case, kind, name, data, actor_id=actor_id)


def _deliver(
    work: UnitOfWork,
    case: Case,
    kind: str,
    name: str,
    data: dict[str, Any],
    *,
    actor_id: int | None,
) -> Delivery:
    number = case.number or str(case.id)
    ref = workflows.case_ref(work, case.id)  # fresh: this unit may have changed the row
    if ref is None or ref.status != "open":
        raise Conflict(f"case {number} is closed: it waits for no {kind}")
    live = workflows.load(work, ref)
    catching = [c for c in waiting(live.workflow) if c.kind == kind and c.name == name]
    if not catching:
        labels = [w.label() for w in waits(live.workflow)]
        now = "; it waits for " + ", ".join(labels) if labels else "; it waits for nothing"
        raise Conflict(f"case {number} does not wait for {kind} '{name}'{now}")
    definition = catching[0].definition
    try:
        with engine_time(FixedNow(work.now)):
            live.workflow.send_event(BpmnEvent(definition, payload=dict(data)))
    except SpiffWorkflowException as exc:
        raise process_error(exc, number) from exc
    except NameError as exc:  # the process correlates on a property the payload lacks
        missing = exc.name or str(exc)
        raise InvalidInput(
            f"cannot deliver {kind} '{name}' to {number}: the process correlates on "
            f"'{missing}', which the {kind} must carry",
            {missing: "is required by the process's correlation property"},
        ) from None
    caught = [c.task for c in catching if c.task.state == TaskState.READY]
    for task in caught:  # Camunda files name no variable for the payload: it becomes data
        task.set_data(**data)
    workflows.run(work, live)
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=number,
        case_id=case.id,
        action=f"{kind}_received",
        after={"name": name, "at": [t.task_spec.bpmn_id for t in caught], "data": data},
    )
    created = workflows.save(work, live, actor_id=actor_id)
    return Delivery(
        number,
        kind,
        name,
        [t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in caught],
        live.ref.status,
        created,
    )


def case_by_correlation(work: UnitOfWork, case_type_id: int, key: str) -> Case | None:
    """The open case of a type whose correlation property has this value (newest first)."""
    return work.session.scalars(
        select(Case)
        .where(
            Case.case_type_id == case_type_id,
            Case.correlation_key == key,
            Case.status == "open",
        )
        .order_by(Case.id.desc())
        .limit(1)
    ).first()


def cases_waiting(
    work: UnitOfWork, case_type_id: int, kind: str, name: str, *, limit: int = 1000
) -> list[Case]:
    """Open cases of a type that wait for this message or signal, oldest first."""
    pattern = f"%|{kind}:{_like(name)}|%"
    return list(
        work.session.scalars(
            select(Case)
            .where(
                Case.case_type_id == case_type_id,
                Case.status == "open",
                Case.waits_for.like(pattern, escape="\\"),
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def start_messages(version: LoadedVersion) -> set[str]:
    """The names of the messages that open a case of this version (message start events)."""
    names = set()
    for spec in version.spec.task_specs.values():
        definition = getattr(spec, "event_definition", None)
        if isinstance(spec, StartEvent) and isinstance(definition, MessageEventDefinition):
            names.add(str(definition.name))
    return names


#: the variables a mail reply delivers with the case type's ``mail_reply`` message
REPLY_TEXT_LIMIT = 10_000


def deliver_mail_reply(
    work: UnitOfWork, case: Case, *, body: str, post_id: int, actor_id: int | None
) -> Delivery | None:
    """A mail reply threaded to ``case`` delivers its type's ``mail_reply`` message when the
    case waits for it (``reply`` and ``reply_post_id`` become case variables); otherwise
    it is a post as ever, and ``None`` is answered."""
    version = work.runtime.version(work.session, case.version_id)
    name = version.config.events.get("mail_reply")
    if not name or case.status != "open" or f"|message:{name}|" not in (case.waits_for or ""):
        return None
    data = {"reply": body[:REPLY_TEXT_LIMIT], "reply_post_id": post_id}
    return deliver(work, case, "message", name, data, actor_id=actor_id)
