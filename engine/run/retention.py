"""Purging closed cases whose case type's retention period (``[retention]``) is over.

A purged case goes with everything that belongs to it: tasks, timers, posts and their
attachments, SLA clocks and facts, notifications, links (the database's ``ON DELETE
CASCADE``), and the mail it sent or took in (outbox and inbound rows, which only point at
it).  The SLA report's monthly rollup holds counts, not cases, and keeps counting it.
Audit lines stay (the append-only record); one summary line per batch names how many
cases of which type were purged, never their content.  Each call handles one batch in the
caller's unit of work, so a caller loops over short transactions; a second run finds
nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select

from engine import audit
from engine.definitions.retention import retention_period
from engine.runtime import UnitOfWork
from engine.store.mailbox import InboundMessage
from engine.store.models import Case, CaseType, CaseTypeVersion
from engine.store.outbox import OutboxMessage

#: Cases deleted per transaction: short enough never to hold the tables for long.
BATCH = 200


@dataclass(frozen=True)
class Due:
    """Closed cases of one case type that are past its retention period."""

    case_type: str
    period: timedelta
    cases: int


def _policies(work: UnitOfWork) -> list[tuple[int, str, timedelta]]:
    """(case type id, key, period) of every case type whose current version sets one."""
    rows = work.session.execute(
        select(CaseType.id, CaseType.key, CaseTypeVersion.config)
        .join(CaseTypeVersion, CaseTypeVersion.id == CaseType.current_version_id)
        .order_by(CaseType.key)
    )
    found = []
    for type_id, key, config in rows:
        period = retention_period(((config or {}).get("case_type") or {}).get("retention"))
        if period is not None:
            found.append((type_id, key, period))
    return found


def _expired(type_id: int, period: timedelta, now: datetime) -> ColumnElement[bool]:
    return and_(
        Case.case_type_id == type_id,
        Case.status == "closed",
        Case.closed_at < now - period,
    )


def due(work: UnitOfWork) -> list[Due]:
    """What a purge would delete now, per case type (the dry run)."""
    found = []
    for type_id, key, period in _policies(work):
        count = work.session.scalar(
            select(func.count()).select_from(Case).where(_expired(type_id, period, work.now))
        )
        found.append(Due(key, period, count or 0))
    return found


def purge_batch(work: UnitOfWork, *, actor_id: int | None, batch: int = BATCH) -> dict[str, int]:
    """Delete up to ``batch`` expired cases (per case type); what was deleted, by type."""
    purged: dict[str, int] = {}
    for type_id, key, period in _policies(work):
        ids = list(
            work.session.scalars(
                select(Case.id)
                .where(_expired(type_id, period, work.now))
                .order_by(Case.id)
                .limit(batch)
            )
        )
        if not ids:
            continue
        for model in (OutboxMessage, InboundMessage):
            work.session.execute(delete(model).where(model.case_id.in_(ids)))
        work.session.execute(delete(Case).where(Case.id.in_(ids)))
        purged[key] = len(ids)
        audit.record(
            work,
            actor_id=actor_id,
            entity="retention",
            entity_id=key,
            action="purged",
            after={"cases": len(ids), "closed_days": period.total_seconds() / 86400},
        )
    return purged
