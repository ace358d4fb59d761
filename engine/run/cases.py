"""Opening, reading and closing cases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import bindparam, func, select

from engine import audit
from engine.definitions.forms import validate_form
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import workflows
from engine.run.case_types import current_version_id
from engine.runtime import CaseInfo, UnitOfWork
from engine.sla import facts as sla_facts
from engine.store.access import CaseLink
from engine.store.fast import prepared_insert
from engine.store.models import Case, CaseContact, Contact, HumanTask, User

Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[str, ...] = get_args(Priority)
_NUMBER = re.compile(r"^[A-Z][A-Z0-9]*-\d+$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CASE_FIELDS = [
    "subject",
    "status",
    "case_type_id",
    "version_id",
    "customer_group_id",
    "main_contact_id",
    "raiser_id",
    "priority",
    "created_at",
    "updated_at",
    "workflow_state",
    "row_version",
]
_CASE_BY_NUMBER = select(Case).where(Case.number == bindparam("number"))
_INSERT_CASE = prepared_insert(Case.__table__, _CASE_FIELDS, returning=Case.__table__.c.id)


def check_process_data(data: Any) -> dict[str, Any]:
    """Free-form process variables must be a JSON object with plain identifier keys."""
    if not isinstance(data, dict):
        raise InvalidInput("process data must be a JSON object", {"data": "is not an object"})
    bad = {
        str(k): "is not a valid variable name"
        for k in data
        if not isinstance(k, str) or not _IDENTIFIER.match(k)
    }
    if bad:
        raise InvalidInput("process data is not valid", bad)
    return dict(data)


def open_case(
    work: UnitOfWork,
    *,
    case_type: str,
    subject: str,
    raiser: User | None,
    data: dict[str, Any] | None = None,
    priority: str = "normal",
    main_contact_id: int | None = None,
    actor_id: int | None = None,
) -> OpenedCase:
    """Open a case and run its process to the first wait state, all in this transaction."""
    errors = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = "is required"
    elif len(subject) > 500:
        errors["subject"] = "must be at most 500 characters"
    if priority not in PRIORITIES:
        errors["priority"] = f"must be one of {', '.join(PRIORITIES)}"
    if errors:
        raise InvalidInput("cannot open the case", errors)
    kind, version_id = current_version_id(work, case_type)
    version = work.runtime.version(work.session, version_id)
    # A start form, when the process declares one, says which variables a case opens with.
    variables = (
        validate_form(list(version.start_form), data or {})
        if version.start_form
        else check_process_data(data or {})
    )
    customer_group_id = None
    if main_contact_id is not None:
        contact = work.session.get(Contact, main_contact_id)
        if contact is None:
            raise NotFound(f"no contact {main_contact_id}")
        customer_group_id = contact.customer_group_id
    case_id = _INSERT_CASE.insert_id(
        work.session,
        {
            "subject": subject,
            "status": "open",
            "case_type_id": kind.id,
            "version_id": version_id,
            "customer_group_id": customer_group_id,
            "main_contact_id": main_contact_id,
            "raiser_id": raiser.id if raiser else None,
            "priority": priority,
            "created_at": work.now,
            "updated_at": work.now,
            "workflow_state": "",
            "row_version": 1,
        },
    )
    sla_facts.opened(work, case_id, version, priority)
    ref = workflows.CaseRef(
        case_id,
        f"{kind.prefix}-{case_id:06d}",
        version_id,
        1,
        "open",
        stored=dict.fromkeys(c.key for c in workflows.SKIPPABLE),  # inserted as NULL
    )
    live = workflows.start(
        ref,
        version,
        {
            **variables,
            "subject": subject,
            "priority": priority,
            "case_number": ref.number,
            "raiser": raiser.username if raiser else None,
        },
    )
    workflows.run(work, live)
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=ref.number,
        case_id=case_id,
        action="opened",
        after={"subject": subject, "type": case_type, "priority": priority, "data": variables},
    )
    task_ids = workflows.save(work, live, actor_id=actor_id, extra={"number": ref.number})
    info = CaseInfo(case_id, version, raiser.id if raiser else None)
    work.runtime.hooks.case_opened(work, info, actor_id)
    return OpenedCase(case_id, ref.number, ref.status, task_ids)


@dataclass(frozen=True)
class OpenedCase:
    """What opening a case answers: its number and the tasks now waiting."""

    id: int
    number: str
    status: str
    task_ids: list[int]


def case_by_number(work: UnitOfWork, number: str) -> Case:
    """Look a case up by its number (``C-000123``); a malformed number is simply not found."""
    case = None
    if _NUMBER.match(number or ""):
        case = work.session.scalar(_CASE_BY_NUMBER, {"number": number})
    if case is None:
        raise NotFound(f"no case {number}")
    return case


def open_task_count(work: UnitOfWork, case_id: int) -> int:
    return (
        work.session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.case_id == case_id, HumanTask.state == "open")
        )
        or 0
    )


def close_case(work: UnitOfWork, *, number: str, actor_id: int | None, reason: str = "") -> Case:
    """Close a case by hand; refused while any of its tasks is open (they must be done first)."""
    case = case_by_number(work, number)
    if case.status == "closed":
        raise Conflict(f"case {number} is already closed")
    open_tasks = open_task_count(work, case.id)
    if open_tasks:
        raise Conflict(
            f"case {number} has {open_tasks} open task(s); complete them before closing the case"
        )
    live = workflows.load(work, workflows.CaseRef.of(case))
    live.workflow.cancel()
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=number,
        case_id=case.id,
        action="closed",
        before={"status": "open"},
        after={"status": "closed", "reason": reason or "closed by hand"},
    )
    workflows.save(work, live, actor_id=actor_id, extra={"status": "closed", "closed_at": work.now})
    work.session.refresh(case)
    return case


def link_cases(
    work: UnitOfWork, case_id: int, other_id: int, *, actor_id: int | None, reason: str
) -> bool:
    """Relate two cases (both directions); False when they already were."""
    if case_id == other_id:
        raise InvalidInput("cannot relate a case to itself", {"case": "is the same case"})
    known = work.session.get(CaseLink, (case_id, other_id))
    if known is not None:
        return False
    work.session.add_all(
        [
            CaseLink(case_id=case_id, other_case_id=other_id),
            CaseLink(case_id=other_id, other_case_id=case_id),
        ]
    )
    work.session.flush()
    numbers = dict(
        work.session.execute(select(Case.id, Case.number).where(Case.id.in_([case_id, other_id])))
        .tuples()
        .all()
    )
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=numbers.get(case_id) or str(case_id),
        case_id=case_id,
        action="related",
        after={"case": numbers.get(other_id), "reason": reason},
    )
    return True


def case_data(work: UnitOfWork, case: Case) -> dict[str, Any]:
    """The process variables of a case as the workflow holds them now."""
    return work.runtime.serializer.case_variables(case.workflow_state)


def add_case_contact(
    work: UnitOfWork, case: Case, contact_id: int, *, actor_id: int | None
) -> bool:
    """Make a contact a participant of the case (its mail then threads there); False when
    it already was, as the main contact or an additional one."""
    if case.main_contact_id == contact_id:
        return False
    if work.session.get(CaseContact, (case.id, contact_id)) is not None:
        return False
    work.session.add(CaseContact(case_id=case.id, contact_id=contact_id))
    work.session.flush()
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="contact_added",
        after={"contact_id": contact_id},
    )
    return True
