"""Who sees and retries incidents: the people who may change the case (its managers and
administrators); the operator at the command line (no ``--as``) sees them all.  An
incident of a case type (a timer start event that could not open its case) is for those
who may change the type's cases: its managers and administrators.

An incident of a case the user may not change answers "not found", like one that does
not exist, so an incident number reveals nothing about cases one cannot see.
"""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from engine.run import incidents
from engine.runtime import UnitOfWork
from engine.store.models import Case, User

from .case_acts import case_for_action
from .decision import decide
from .facts import load_facts
from .subject import Subject


def _may_manage(work: UnitOfWork, subject: Subject | None, case: Case) -> bool:
    return subject is None or decide(subject, load_facts(work, case, subject), "write").allowed


def _manages_type(subject: Subject | None, case_type_id: int | None) -> bool:
    if subject is None or subject.is_admin:
        return True
    if case_type_id is None or subject.portal is not None:
        return False
    return subject.writes_type(case_type_id) and not subject.denies_type(case_type_id)


def _visible(work: UnitOfWork, subject: Subject | None, row: Any) -> bool:
    if row.case_id is None:
        return _manages_type(subject, row.case_type_id)
    case = work.session.get(Case, row.case_id)
    return case is not None and _may_manage(work, subject, case)


def list_incidents(
    work: UnitOfWork, subject: Subject | None, *, number: str | None = None
) -> list[dict[str, Any]]:
    """Open incidents the subject may see, oldest first (of one case when ``number``)."""
    case_id = None
    if number is not None:
        case_id = (
            case_for_action(work, subject, number, "write")[0].id
            if subject is not None
            else _case(work, number).id
        )
    seen: dict[tuple[int | None, int | None], bool] = {}
    found = []
    for row in incidents.open_incidents(work, case_id=case_id):
        key = (row.case_id, row.case_type_id)
        if key not in seen:
            seen[key] = _visible(work, subject, row)
        if seen[key]:
            found.append(incidents.describe(work, row))
    return found


def _case(work: UnitOfWork, number: str) -> Case:
    from engine.run.cases import case_by_number

    return case_by_number(work, number)


def _incident(work: UnitOfWork, subject: Subject | None, incident_id: int) -> Any:
    row = incidents.get(work, incident_id)
    if not _visible(work, subject, row):
        raise NotFound(f"no incident {incident_id}")
    return row


def show_incident(work: UnitOfWork, subject: Subject | None, incident_id: int) -> dict[str, Any]:
    return incidents.describe(work, _incident(work, subject, incident_id))


def retry_incident(
    work: UnitOfWork, subject: Subject | None, user: User | None, incident_id: int
) -> dict[str, Any]:
    """Replay the failed step; the incident answered resolved, or the step fails again."""
    row = _incident(work, subject, incident_id)
    number = incidents.retry(work, row, actor=user)
    opened = number or None if row.case_id is None else None  # a start event's new case
    return {**incidents.describe(work, row), "opened": opened}
