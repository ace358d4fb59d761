"""Firing due BPMN timers.

Each case row carries the earliest due time of the timers its workflow waits on,
in an indexed column, so the sweep reads only cases that are due and never loads
one that is not.  On PostgreSQL several workers sweep at once: ``FOR UPDATE SKIP
LOCKED`` hands each due case to exactly one of them.
"""

from __future__ import annotations

from sqlalchemy import select

from . import workflows
from .runtime import UnitOfWork
from .store.models import Case


def fire_due_timers(work: UnitOfWork, *, limit: int = 100) -> list[str]:
    """Advance every case whose earliest timer is due; return their case numbers."""
    query = (
        select(Case.id, Case.number, Case.version_id, Case.row_version, Case.status)
        .where(Case.status == "open", Case.next_timer_due <= work.now)
        .order_by(Case.next_timer_due)
        .limit(limit)
    )
    if work.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Case)
    fired = []
    for row in work.session.execute(query).all():
        live = workflows.load(work, workflows.CaseRef(*row))
        workflows.run(work, live.workflow, refresh_timers=True)
        workflows.save(work, live, actor_id=None)
        fired.append(live.ref.number)
    return fired
