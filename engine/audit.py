"""The append-only audit log: who changed what, when, from what to what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from .runtime import UnitOfWork
from .store.models import AuditEntry, Case, User


def record(
    work: UnitOfWork,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: str | int,
    action: str,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the current transaction (it commits or rolls back with the change)."""
    work.audit_rows.append(
        {
            "at": work.now,
            "actor_id": actor_id,
            "case_id": case_id,
            "entity": entity,
            "entity_id": str(entity_id),
            "action": action,
            "before": before,
            "after": after,
        }
    )


PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditQuery:
    """Which entries to show: by case id, acting user id, action, and a time range
    (``since`` inclusive, ``before`` exclusive); pages of :data:`PAGE_SIZE`, newest first."""

    case_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    page: int = 1


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]
    more: bool  # a next page exists


def entries(work: UnitOfWork, query: AuditQuery) -> AuditPage:
    """One page of the audit log under the filters, with the actor's user name and the
    case number (the page is cut in SQL: the log grows without bound)."""
    wanted = (
        select(AuditEntry, User.username, Case.number)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .outerjoin(Case, Case.id == AuditEntry.case_id)
    )
    if query.case_id is not None:
        wanted = wanted.where(AuditEntry.case_id == query.case_id)
    if query.actor_id is not None:
        wanted = wanted.where(AuditEntry.actor_id == query.actor_id)
    if query.action:
        wanted = wanted.where(AuditEntry.action == query.action)
    if query.since is not None:
        wanted = wanted.where(AuditEntry.at >= query.since)
    if query.before is not None:
        wanted = wanted.where(AuditEntry.at < query.before)
    found = work.session.execute(
        wanted.order_by(AuditEntry.id.desc())
        .offset((query.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    rows = [
        {"entry": entry, "actor": username, "case": number}
        for entry, username, number in found[:PAGE_SIZE]
    ]
    return AuditPage(rows, len(found) > PAGE_SIZE)


def actions(work: UnitOfWork) -> list[str]:
    """Every action the log holds, for the filter's choices."""
    return list(work.session.scalars(select(AuditEntry.action).distinct().order_by("action")))
